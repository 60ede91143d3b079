//! Login, logout, and who is logged in.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum_extra::extract::cookie::{Cookie, CookieJar};
use serde::Deserialize;

use super::error::ErrorBody;
use super::{ApiError, ApiJson, ApiState, ClientIp, CurrentUser, SESSION_COOKIE};
use crate::accounts::{self, User, password, sessions};
use crate::audit::AuditEntry;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// A hash to check against when the account does not exist, so that the answer takes as long either way.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| password::hash("no account has this password").unwrap_or_default())
}

/// Log in with email and password; sets the session cookie. Audited as `login` (with the client's address).
#[utoipa::path(post, path = "/api/v1/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = User), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "account_disabled: an admin disabled the account"),
        (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<ApiState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let email = accounts::normalize_email(&req.email);
    if let Err(wait) = state.limiter.check(&email, ip, Instant::now()) {
        return Err(ApiError::TooManyRequests(wait.as_secs()));
    }
    let found = accounts::find_by_email(&state.db, &email).await?;
    let stored = found.as_ref().and_then(|(_, hash)| hash.clone()).unwrap_or_else(|| dummy_hash().to_owned());
    let given = req.password;
    let matches = tokio::task::spawn_blocking(move || password::verify(&given, &stored))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match found {
        Some((user, Some(_))) if matches => user,
        _ => {
            state.limiter.failed(&email, ip, Instant::now());
            tracing::info!(%ip, "failed login");
            return Err(ApiError::Unauthenticated);
        }
    };
    state.limiter.succeeded(&email, ip);
    if user.disabled {
        // Said only to someone who knows the password; audited with the client's address.
        tracing::info!(%ip, "login to a disabled account");
        let entry = AuditEntry::new(user.actor(), "login.refused", "user", &user.id, &user.name)
            .with_details(serde_json::json!({"reason": "account_disabled", "ip": ip.to_string()}));
        state.audit.record(entry).await?;
        return Err(ApiError::AccountDisabled);
    }
    let token = sessions::create(&state.db, &user.id).await?;
    let entry = AuditEntry::new(user.actor(), "login", "user", &user.id, &user.name)
        .with_details(serde_json::json!({"method": "password", "ip": ip.to_string()}));
    state.audit.record(entry).await?;
    let jar = jar.add(state.cookie(SESSION_COOKIE, token, true));
    Ok((jar, Json(user)))
}

/// End the session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(state): State<ApiState>, jar: CookieJar) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) {
        sessions::delete(&state.db, &token).await?;
    }
    let mut gone = Cookie::from(SESSION_COOKIE);
    gone.set_path("/");
    Ok((jar.remove(gone), StatusCode::NO_CONTENT))
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn me(CurrentUser(user): CurrentUser) -> Json<User> {
    Json(user)
}

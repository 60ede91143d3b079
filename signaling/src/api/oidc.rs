//! Login with OpenID Connect: `GET /api/v1/auth/options` (which logins the server offers),
//! `GET /api/v1/auth/oidc/login` (off to the provider) and `GET /api/v1/auth/oidc/callback` (back from it, with
//! the session cookie of a password login). Problems the browser meets on the way back are not JSON but a
//! redirect to the login page with `?oidc_error=CODE`, which the page explains.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiState, ClientIp, SESSION_COOKIE};
use crate::accounts::{AccountError, oidc_link, sessions};
use crate::oidc::pending::{self, PendingError};

/// Where the provider's redirect comes back to, and the path of the login-in-progress cookie.
const OIDC_PATH: &str = "/api/v1/auth/oidc";
/// The login page; errors are added as `?oidc_error=CODE`.
const LOGIN_PAGE: &str = "/login";
/// Where a login without `return_to` ends.
const DEFAULT_RETURN: &str = "/meetings";
const MAX_RETURN_TO: usize = 512;

/// The logins this server offers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginOptions {
    /// Email and password (local accounts): always offered.
    pub password: bool,
    /// OpenID Connect, when configured.
    pub oidc: Option<OidcOption>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OidcOption {
    /// The provider's name for the button ("Log in with NAME").
    pub name: String,
    /// Where the button leads (add `?return_to=/path`).
    pub login_url: String,
}

/// Which logins the server offers.
#[utoipa::path(get, path = "/api/v1/auth/options", tag = "auth", responses((status = 200, body = LoginOptions)))]
pub async fn options(State(state): State<ApiState>) -> Json<LoginOptions> {
    let oidc = state.oidc.as_ref().map(|o| OidcOption {
        name: o.settings().display_name.clone(),
        login_url: format!("{OIDC_PATH}/login"),
    });
    Json(LoginOptions { password: true, oidc })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LoginQuery {
    /// A path on this server to show after the login (default `/meetings`); other origins are refused.
    pub return_to: Option<String>,
}

/// A path on this origin (`/x`, never `//host` or `/\host`), printable ASCII, not too long.
fn same_origin_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.len() <= MAX_RETURN_TO
        && path.chars().all(|c| c.is_ascii_graphic())
}

fn to_login_page(code: &str) -> Response {
    Redirect::to(&format!("{LOGIN_PAGE}?oidc_error={code}")).into_response()
}

fn pending_cookie(state: &ApiState, value: String) -> Cookie<'static> {
    let mut c = Cookie::new(pending::COOKIE, value);
    c.set_path(OIDC_PATH);
    c.set_http_only(true);
    // Lax, not Strict: the provider's redirect back is a cross-site navigation that must carry the cookie.
    c.set_same_site(SameSite::Lax);
    c.set_secure(state.secure_cookies());
    c
}

/// Start a login at the OpenID provider: redirects there (303) and sets the short-lived login cookie.
#[utoipa::path(get, path = "/api/v1/auth/oidc/login", tag = "auth", params(LoginQuery),
    responses(
        (status = 303, description = "To the provider's authorization endpoint; or to /login?oidc_error=oidc_unavailable"),
        (status = 404, body = super::error::ErrorBody, description = "OpenID Connect is not configured"),
        (status = 422, body = super::error::ErrorBody, description = "return_to is not a path on this server")))]
pub async fn login(
    State(state): State<ApiState>,
    jar: CookieJar,
    Query(query): Query<LoginQuery>,
) -> Result<Response, ApiError> {
    let oidc = state.oidc.clone().ok_or(ApiError::NotFound("OpenID Connect login is not configured"))?;
    let return_to = query.return_to.unwrap_or_else(|| DEFAULT_RETURN.to_owned());
    if !same_origin_path(&return_to) {
        return Err(ApiError::field("return_to", "must be a path on this server, like /meetings"));
    }
    match oidc.begin(&return_to).await {
        Ok((url, cookie)) => Ok((jar.add(pending_cookie(&state, cookie)), Redirect::to(&url)).into_response()),
        Err(e) => {
            tracing::warn!("OpenID Connect login cannot start: {e}");
            Ok(to_login_page(e.code()))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The issuer (RFC 9207), when the provider names itself.
    pub iss: Option<String>,
    /// Set by the provider when the login did not succeed (e.g. `access_denied`).
    pub error: Option<String>,
}

/// Back from the provider: check state, exchange the code, validate the ID token, map the role, create or update
/// the linked account, set the session cookie and redirect to where the login began. Problems redirect to
/// `/login?oidc_error=CODE` with CODE one of `oidc_state`, `oidc_denied`, `oidc_unavailable`, `oidc_failed`,
/// `oidc_no_role`, `oidc_no_email`, `oidc_email_taken`, `oidc_disabled`.
#[utoipa::path(get, path = "/api/v1/auth/oidc/callback", tag = "auth", params(CallbackQuery),
    responses(
        (status = 303, description = "Logged in: to return_to with the session cookie; else to /login?oidc_error=CODE"),
        (status = 404, body = super::error::ErrorBody, description = "OpenID Connect is not configured")))]
pub async fn callback(
    State(state): State<ApiState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let oidc = state.oidc.clone().ok_or(ApiError::NotFound("OpenID Connect login is not configured"))?;
    let cookie = jar.get(pending::COOKIE).map(|c| c.value().to_owned());
    // The login cookie is good for one try, whatever happens.
    let jar = jar.remove(pending_cookie(&state, String::new()));
    let checked = match (&cookie, &query.state) {
        (Some(cookie), Some(s)) => oidc.keys().verify(cookie, s),
        _ => Err(PendingError::Invalid),
    };
    let pending = match checked {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(%ip, "OpenID Connect callback refused: {e}");
            return Ok((jar, to_login_page("oidc_state")).into_response());
        }
    };
    let code = match (&query.error, &query.code) {
        (None, Some(code)) => code,
        (error, _) => {
            tracing::info!(%ip, error = error.as_deref().unwrap_or("no code"), "the OpenID provider did not log the user in");
            return Ok((jar, to_login_page("oidc_denied")).into_response());
        }
    };
    let who = match oidc.finish(&pending, code, query.iss.as_deref()).await {
        Ok(who) => who,
        Err(e) => {
            tracing::warn!(%ip, "OpenID Connect login failed: {e}");
            return Ok((jar, to_login_page(e.code())).into_response());
        }
    };
    let role = who.role_values.as_deref().and_then(|values| oidc.settings().role_for(values));
    let user = match oidc_link::login(&state.db, &who, role, ip).await {
        Ok(Ok(user)) => user,
        Ok(Err(refusal)) => return Ok((jar, to_login_page(refusal.code())).into_response()),
        Err(AccountError::DuplicateEmail) => return Ok((jar, to_login_page("oidc_email_taken")).into_response()),
        Err(e) => {
            tracing::error!("OpenID Connect login: {e}");
            return Ok((jar, to_login_page("oidc_failed")).into_response());
        }
    };
    let token = sessions::create(&state.db, &user.id).await?;
    let jar = jar.add(state.cookie(SESSION_COOKIE, token, true));
    Ok((jar, Redirect::to(&pending.return_to)).into_response())
}

#[cfg(test)]
mod tests {
    use super::same_origin_path;

    #[test]
    fn only_same_origin_paths_return() {
        for ok in ["/meetings", "/m/abc123", "/login?next=/m/x", "/"] {
            assert!(same_origin_path(ok), "{ok}");
        }
        for bad in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "meetings", "", "/a b", "/\u{e9}"] {
            assert!(!same_origin_path(bad), "{bad}");
        }
        assert!(!same_origin_path(&format!("/{}", "a".repeat(600))));
    }
}

//! Account management (admins), and the directory of accounts (anyone logged in, to pick moderators).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{Admin, ApiError, ApiJson, ApiState, CurrentUser, FieldErrors};
use crate::accounts::{self, NewUser, Role, User, UserChanges, password};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Required when creating (unless the account logs in only through OpenID Connect); omit to keep it.
    #[serde(default)]
    pub password: Option<String>,
    /// Updating: disable (true) or enable (false) the account; omit to keep it. A disabled account cannot log in
    /// and its sessions end. Admins cannot disable themselves.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Required when updating: the `version` last read.
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DirectoryEntry {
    pub id: String,
    pub name: String,
    pub email: String,
}

fn validate(input: &UserInput, creating: bool) -> Result<(), ApiError> {
    let mut fields = FieldErrors::new();
    if let Some(msg) = accounts::check_email(&input.email) {
        fields.insert("email".into(), msg.into());
    }
    if let Some(msg) = accounts::check_user_name(&input.name) {
        fields.insert("name".into(), msg);
    }
    match &input.password {
        Some(pw) => {
            if let Some(msg) = password::check_strength(pw) {
                fields.insert("password".into(), msg);
            }
        }
        None if creating => {
            fields.insert("password".into(), "a password is required".into());
        }
        None => {}
    }
    if !creating && input.version.is_none() {
        fields.insert("version".into(), "send the version you last read".into());
    }
    if fields.is_empty() { Ok(()) } else { Err(ApiError::Validation(fields)) }
}

async fn hash_optional(password: Option<String>) -> Result<Option<String>, ApiError> {
    match password {
        None => Ok(None),
        Some(pw) => tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map(Some)
            .map_err(|e| ApiError::Internal(e.to_string())),
    }
}

/// Every account.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<ApiState>, _admin: Admin) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(accounts::list_users(&state.db).await?))
}

/// Names and emails of all accounts, for choosing moderators.
#[utoipa::path(get, path = "/api/v1/directory", tag = "users",
    responses((status = 200, body = Vec<DirectoryEntry>), (status = 401, body = ErrorBody)))]
pub async fn directory(State(state): State<ApiState>, _user: CurrentUser) -> Result<Json<Vec<DirectoryEntry>>, ApiError> {
    let users = accounts::list_users(&state.db).await?;
    Ok(Json(users.into_iter().map(|u| DirectoryEntry { id: u.id, name: u.name, email: u.email }).collect()))
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<ApiState>,
    Admin(admin): Admin,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    validate(&input, true)?;
    let password_hash = hash_optional(input.password).await?;
    let new = NewUser { email: input.email, name: input.name, role: input.role, password_hash };
    let user = accounts::create_user(&state.db, new, &admin.actor()).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn read(State(state): State<ApiState>, _admin: Admin, Path(id): Path<String>) -> Result<Json<User>, ApiError> {
    accounts::get_user(&state.db, &id).await?.map(Json).ok_or(ApiError::NotFound("no such account"))
}

/// Change an account (409 if it changed since `version`): name, email, role, password, disabled (which also sends
/// the account out of the meetings it is in, with the error `account_disabled`). Admins cannot take
/// the admin role from themselves or disable themselves (422 with the field).
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", request_body = UserInput,
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<ApiState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<Json<User>, ApiError> {
    validate(&input, false)?;
    if id == admin.id {
        let mut fields = FieldErrors::new();
        if input.role != Role::Admin {
            fields.insert("role".into(), "you cannot take the admin role from yourself".into());
        }
        if input.disabled == Some(true) {
            fields.insert("disabled".into(), "you cannot disable your own account".into());
        }
        if !fields.is_empty() {
            return Err(ApiError::Validation(fields));
        }
    }
    let version = input.version.unwrap_or_default();
    let password_hash = hash_optional(input.password).await?;
    let changes =
        UserChanges { email: input.email, name: input.name, role: input.role, password_hash, disabled: input.disabled };
    let disabling = input.disabled == Some(true);
    let user = accounts::update_user(&state.db, &id, version, changes, &admin.actor()).await?;
    if disabling && let Some(shared) = &state.sessions {
        // Not only future joins: whoever is in a meeting with this account now is sent out, and told why.
        let told = shared.registry.expel_identity(&user.id);
        tracing::info!(user = %user.id, sessions = told, "account disabled; its meeting sessions end");
    }
    Ok(Json(user))
}

/// Delete an account; its meetings pass to the admin who deletes it.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<ApiState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id == admin.id {
        return Err(ApiError::Conflict { code: "cannot_delete_self", message: "you cannot delete your own account".into() });
    }
    accounts::delete_user(&state.db, &id, &admin.id, &admin.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

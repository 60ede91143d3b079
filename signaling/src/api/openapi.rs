//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use super::{audit_log, auth, bans, error, join, meetings, oidc, users};

#[derive(OpenApi)]
#[openapi(
    info(title = "Plenum API", version = "1", description = "Accounts, scheduled meetings, links and the audit log. \
        Sessions are the HttpOnly cookie plenum_session (POST /api/v1/login, or the OpenID Connect login \
        GET /api/v1/auth/oidc/login). State-changing requests need the \
        header X-CSRF-Token equal to the plenum_csrf cookie. Errors: {\"error\": {\"code\", \"message\", \"fields\"}}."),
    paths(
        auth::login, auth::logout, auth::me, oidc::options, oidc::login, oidc::callback,
        users::list, users::directory, users::create, users::read, users::update, users::delete,
        meetings::list, meetings::create, meetings::read, meetings::update, meetings::delete, meetings::invite_ics,
        meetings::time_zones, bans::list, bans::lift,
        join::staff, join::guest_info, join::guest,
        audit_log::list,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

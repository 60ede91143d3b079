//! The audit log for admins.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::error::ErrorBody;
use super::{Admin, ApiError, ApiState};
use crate::audit::AuditRecord;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// At most this many entries (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Entries older than this (RFC 3339), for paging back.
    #[serde(default)]
    pub before: Option<String>,
}

/// The newest audit entries first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditRecord>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    _admin: Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    let before = match q.before.as_deref() {
        None => None,
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|_| ApiError::field("before", "expected an RFC 3339 time"))?
                .timestamp_micros(),
        ),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(state.audit.list(limit, before).await?))
}

//! A meeting's bans: its moderators (and admins) list them and lift one, so the person can join again.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::error::ErrorBody;
use super::{ApiError, ApiState, CurrentUser};
use crate::accounts::User;
use crate::audit::AuditEntry;
use crate::meetings::{self, Meeting, room_store};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BanList {
    pub bans: Vec<room_store::StoredBan>,
}

/// The meeting, if it exists and `user` moderates it (or is an admin); 404 / 403 otherwise.
async fn moderated(state: &ApiState, user: &User, id: &str) -> Result<Meeting, ApiError> {
    let meeting = meetings::get(&state.db, id)
        .await?
        .filter(|m| m.deleted_at.is_none())
        .ok_or(ApiError::NotFound("no such meeting"))?;
    if !(user.is_admin() || meeting.is_moderator(&user.id)) {
        return Err(ApiError::Forbidden("only the meeting's moderators and admins may see and lift its bans"));
    }
    Ok(meeting)
}

/// The people banned from a meeting (its moderators and admins), oldest first.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/bans", tag = "meetings",
    responses((status = 200, body = BanList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<BanList>, ApiError> {
    let meeting = moderated(&state, &user, &id).await?;
    Ok(Json(BanList { bans: room_store::list_bans(&state.db, &meeting.id).await? }))
}

/// Lift a ban (the meeting's moderators and admins): the person can join again through the links. Audited as
/// `ban.lifted`.
#[utoipa::path(delete, path = "/api/v1/meetings/{id}/bans/{identity}", tag = "meetings",
    params(("id" = String, Path, description = "the meeting"), ("identity" = String, Path, description = "the ban's identity")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lift(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    Path((id, identity)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let meeting = moderated(&state, &user, &id).await?;
    let lifted = room_store::lift_ban(&state.db, &meeting.id, &identity).await?.ok_or(ApiError::NotFound("no such ban"))?;
    if let Some(shared) = &state.sessions {
        shared.registry.lift_ban(&plenum_sfu::RoomId(meeting.id.clone()), &identity);
    }
    let entry = AuditEntry::new(user.actor(), "ban.lifted", "participant", &lifted.identity, &lifted.name)
        .in_meeting(&meeting.id)
        .with_details(serde_json::json!({"banned_by": lifted.banned_by_name, "banned_at": lifted.created_at}));
    state.audit.record(entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

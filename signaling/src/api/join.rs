//! Joining by link: the staff link (`/m/{id}`, login required) and the guest link (`/g/{id}/{secret}`, a name
//! is asked) lead here and get a normal signed join token for the meeting's room (the meeting id).

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::ErrorBody;
use super::{ApiError, ApiJson, ApiState, CurrentUser};
use crate::db::{now_secs, random_id};
use crate::meetings::room_store;
use crate::meetings::schedule::{self, JoinWindow, Occurrence};
use crate::meetings::{self, LobbyMode, Meeting};
use crate::session::MAX_NAME_CHARS;
use crate::token::Claims;

/// How long a join token stays valid after the occurrence's scheduled end.
const TOKEN_GRACE_SECS: i64 = 3600;
/// The guest's browser: a random value from which each meeting's guest identity is derived (so that a ban holds
/// when the same browser comes back).
const GUEST_COOKIE: &str = "plenum_guest";
const GUEST_COOKIE_PATH: &str = "/api/v1/guest";
/// How long a browser keeps its guest cookie.
const GUEST_COOKIE_DAYS: i64 = 90;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JoinGrant {
    /// The room (the meeting id).
    pub room: String,
    /// The signed join token.
    pub token: String,
    /// Where the web client joins: `/r/{room}#token={token}`.
    pub path: String,
    pub name: String,
    pub moderator: bool,
    pub guest: bool,
    /// Whether this person waits in the lobby.
    pub lobby: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GuestInfo {
    pub title: String,
    /// Local `YYYY-MM-DDTHH:MM` of the next occurrence (or the last one when over), in `time_zone`.
    pub start: String,
    pub end: String,
    pub time_zone: String,
    /// `open`, `not_open` or `over`.
    pub status: String,
    /// When the link opens (RFC 3339, UTC), if not open yet.
    pub opens_at: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GuestJoinRequest {
    /// The name others will see.
    pub name: String,
}

async fn load(state: &ApiState, id: &str) -> Result<Meeting, ApiError> {
    let meeting = meetings::get(&state.db, id).await?.ok_or(ApiError::NotFound("no such meeting"))?;
    if let Some(at) = meeting.deleted_at {
        return Err(ApiError::Gone {
            code: "meeting_deleted",
            message: "this meeting was deleted".into(),
            at: Some(schedule::format_utc(at)),
        });
    }
    Ok(meeting)
}

/// The occurrence that may be joined now, or why not.
pub(crate) fn open_occurrence(meeting: &Meeting, now: i64) -> Result<Occurrence, ApiError> {
    let opens_before = meeting.join_opens_minutes * 60;
    match schedule::join_window(&meeting.schedule, opens_before, now) {
        JoinWindow::Over => Err(ApiError::Gone {
            code: "meeting_over",
            message: "this meeting is over".into(),
            at: meeting.schedule.last_end().map(schedule::format_utc),
        }),
        JoinWindow::NotYet { opens_at, starts_at } => Err(ApiError::NotOpen {
            message: format!(
                "this meeting is not open yet: it starts at {} ({}), the link opens {} minutes before",
                schedule::format_local(starts_at, meeting.schedule.tz).replace('T', " "),
                meeting.schedule.tz.name(),
                meeting.join_opens_minutes
            ),
            opens_at: schedule::format_utc(opens_at),
            starts_at: schedule::format_utc(starts_at),
        }),
        JoinWindow::Open(o) => {
            if let Some(ended) = meeting.ended_at
                && ended >= o.start - opens_before
            {
                return Err(ApiError::Gone {
                    code: "meeting_ended",
                    message: "a moderator ended this meeting".into(),
                    at: Some(schedule::format_utc(ended)),
                });
            }
            Ok(o)
        }
    }
}

/// Whether the meeting's links work now: `open`, `not_open` (with when they open), `ended` (a moderator ended
/// this occurrence) or `over`.
pub(crate) fn join_status(meeting: &Meeting, now: i64) -> (&'static str, Option<String>) {
    match open_occurrence(meeting, now) {
        Ok(_) => ("open", None),
        Err(ApiError::NotOpen { opens_at, .. }) => ("not_open", Some(opens_at)),
        Err(ApiError::Gone { code: "meeting_ended", .. }) => ("ended", None),
        Err(_) => ("over", None),
    }
}

fn grant(state: &ApiState, meeting: &Meeting, o: Occurrence, mut claims: Claims, now: i64) -> Result<JoinGrant, ApiError> {
    let ttl = (o.end + TOKEN_GRACE_SECS - now).max(600);
    claims.exp = claims.iat.saturating_add(ttl as u64);
    let token = state.keys.sign(&claims).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(JoinGrant {
        room: meeting.id.clone(),
        path: format!("/r/{}#token={token}", meeting.id),
        token,
        name: claims.name,
        moderator: claims.moderator,
        guest: claims.guest,
        lobby: claims.lobby,
    })
}

fn token_name(name: &str) -> String {
    name.trim().chars().take(MAX_NAME_CHARS).collect()
}

/// Join with an account (the staff link). Moderators: the owner, the meeting's moderators and admins.
#[utoipa::path(post, path = "/api/v1/join/{id}", tag = "join",
    responses((status = 200, body = JoinGrant), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn staff(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<JoinGrant>, ApiError> {
    let meeting = load(&state, &id).await?;
    let now = now_secs();
    let o = open_occurrence(&meeting, now)?;
    refuse_banned(&state, &meeting.id, &user.id).await?;
    let moderator = user.is_admin() || meeting.is_moderator(&user.id);
    let mut claims = Claims::new(&meeting.id, &user.id, &token_name(&user.name), moderator, Duration::ZERO);
    claims.lobby = !moderator && meeting.lobby == LobbyMode::Everyone;
    Ok(Json(grant(&state, &meeting, o, claims, now)?))
}

async fn refuse_banned(state: &ApiState, meeting_id: &str, identity: &str) -> Result<(), ApiError> {
    if room_store::is_banned(&state.db, meeting_id, identity).await? { Err(ApiError::Banned) } else { Ok(()) }
}

/// The guest's identity in `meeting_id`: derived from the browser's guest cookie (made now if it has none), one
/// per meeting, so the same browser is the same guest in a meeting but cannot be followed across meetings.
fn guest_identity(state: &ApiState, jar: CookieJar, meeting_id: &str) -> (CookieJar, String) {
    let existing = jar.get(GUEST_COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() >= 16 && v.len() <= 64);
    let (jar, value) = match existing {
        Some(value) => (jar, value),
        None => {
            let value = random_id(32);
            // Parsed rather than built: the builder's Max-Age wants the `time` crate.
            let max_age = GUEST_COOKIE_DAYS * 24 * 3600;
            let raw = format!("{GUEST_COOKIE}={value}; Path={GUEST_COOKIE_PATH}; Max-Age={max_age}; HttpOnly");
            let mut c = Cookie::parse(raw).unwrap_or_else(|_| Cookie::new(GUEST_COOKIE, value.clone()));
            c.set_same_site(SameSite::Strict);
            c.set_secure(state.secure_cookies());
            (jar.add(c), value)
        }
    };
    let digest = Sha256::digest(format!("{meeting_id}:{value}").as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    (jar, format!("guest-{hex}"))
}

async fn load_for_guest(state: &ApiState, id: &str, secret: &str) -> Result<Meeting, ApiError> {
    let meeting = load(state, id).await?;
    if meeting.guest_secret != secret {
        return Err(ApiError::NotFound("no such meeting"));
    }
    if !meeting.guests_allowed {
        return Err(ApiError::Conflict { code: "guests_not_allowed", message: "this meeting does not admit guests".into() });
    }
    Ok(meeting)
}

/// What a guest link leads to (no account needed).
#[utoipa::path(get, path = "/api/v1/guest/{id}/{secret}", tag = "join",
    responses((status = 200, body = GuestInfo), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 410, body = ErrorBody)))]
pub async fn guest_info(
    State(state): State<ApiState>,
    Path((id, secret)): Path<(String, String)>,
) -> Result<Json<GuestInfo>, ApiError> {
    let meeting = load_for_guest(&state, &id, &secret).await?;
    let now = now_secs();
    let tz = meeting.schedule.tz;
    let shown = meeting.schedule.next_after(now).unwrap_or(Occurrence {
        start: meeting.schedule.start_utc,
        end: meeting.schedule.last_end().unwrap_or(meeting.schedule.end_utc),
    });
    let (status, opens_at) = join_status(&meeting, now);
    Ok(Json(GuestInfo {
        title: meeting.title.clone(),
        start: schedule::format_local(shown.start, tz),
        end: schedule::format_local(shown.end, tz),
        time_zone: tz.name().to_owned(),
        status: status.into(),
        opens_at,
    }))
}

/// Join as a guest with a name (the guest link). Guests wait in the lobby unless the meeting has none. The guest's
/// identity comes from the `plenum_guest` cookie (set here when missing): a ban holds for this browser.
#[utoipa::path(post, path = "/api/v1/guest/{id}/{secret}", tag = "join", request_body = GuestJoinRequest,
    responses((status = 200, body = JoinGrant), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn guest(
    State(state): State<ApiState>,
    Path((id, secret)): Path<(String, String)>,
    jar: CookieJar,
    ApiJson(req): ApiJson<GuestJoinRequest>,
) -> Result<(CookieJar, Json<JoinGrant>), ApiError> {
    let name = req.name.trim();
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::field("name", format!("the name must have 1-{MAX_NAME_CHARS} characters")));
    }
    let meeting = load_for_guest(&state, &id, &secret).await?;
    let now = now_secs();
    let o = open_occurrence(&meeting, now)?;
    let (jar, identity) = guest_identity(&state, jar, &meeting.id);
    refuse_banned(&state, &meeting.id, &identity).await?;
    let mut claims = Claims::new(&meeting.id, &identity, name, false, Duration::ZERO);
    claims.guest = true;
    claims.lobby = meeting.lobby != LobbyMode::Off;
    Ok((jar, Json(grant(&state, &meeting, o, claims, now)?)))
}

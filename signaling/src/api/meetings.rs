//! Meetings: create, list (upcoming / past, mine or all), read, update, delete, and the iCalendar invitation.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{ApiError, ApiJson, ApiState, CurrentUser, FieldErrors};
use crate::accounts::{self, User};
use crate::db::now_secs;
use crate::meetings::schedule::{self, Schedule};
use crate::meetings::{self, LobbyMode, MAX_DESCRIPTION_CHARS, MAX_INVITEES, MAX_MODERATORS, MAX_TITLE_CHARS};
use crate::meetings::{Meeting, MeetingFields, UserRef, ics};

/// Longest meeting (one occurrence), in seconds.
const MAX_DURATION_SECS: i64 = 24 * 3600;
/// Longest a link may open before the start, in minutes.
const MAX_JOIN_OPENS_MINUTES: i64 = 24 * 60;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recurrence {
    /// Only `weekly`.
    pub frequency: String,
    /// The last day (local, `YYYY-MM-DD`) of the series; absent or null: no end.
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MeetingInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Local date-time `YYYY-MM-DDTHH:MM` in `time_zone`, or RFC 3339 with an offset.
    pub start: String,
    pub end: String,
    /// IANA time zone; default `Europe/Berlin`.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    /// Account ids of the moderators (the owner always is one).
    #[serde(default)]
    pub moderators: Vec<String>,
    /// Email addresses of the invitees.
    #[serde(default)]
    pub invitees: Vec<String>,
    /// Whether the guest link works; default true.
    #[serde(default)]
    pub guests_allowed: Option<bool>,
    /// Who waits in the lobby; default `guests`.
    #[serde(default)]
    pub lobby: Option<LobbyMode>,
    /// Minutes before the start from which the links work; default: the server's setting (15).
    #[serde(default)]
    pub join_opens_minutes: Option<i64>,
    /// Required when updating: the `version` last read.
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Local `YYYY-MM-DDTHH:MM` in `time_zone`.
    pub start: String,
    pub end: String,
    pub time_zone: String,
    /// RFC 3339, UTC.
    pub start_utc: String,
    pub end_utc: String,
    pub recurrence: Option<Recurrence>,
    /// The next occurrence that has not ended (null when the meeting is over), RFC 3339 UTC.
    pub next_start_utc: Option<String>,
    pub next_end_utc: Option<String>,
    pub owner: UserRef,
    pub moderators: Vec<UserRef>,
    pub invitees: Vec<String>,
    pub guests_allowed: bool,
    pub lobby: LobbyMode,
    pub join_opens_minutes: i64,
    /// For people with an account (login required).
    pub staff_link: String,
    /// For guests; only shown to the owner, moderators and admins, and only when guests are allowed.
    pub guest_link: Option<String>,
    /// Whether the caller may edit and delete it.
    pub can_edit: bool,
    /// Whether its links work now: `open`, `not_open`, `ended` (a moderator ended this occurrence for all) or
    /// `over`.
    pub status: String,
    /// When a moderator last ended it for all (RFC 3339, UTC), if ever.
    pub ended_at: Option<String>,
    pub version: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeetingList {
    pub meetings: Vec<MeetingView>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `upcoming` (default) or `past`.
    #[serde(default)]
    pub scope: Option<String>,
    /// Admins only: every meeting, not only their own.
    #[serde(default)]
    pub all: Option<bool>,
}

pub(crate) fn can_edit(user: &User, meeting: &Meeting) -> bool {
    user.is_admin() || meeting.owner.id == user.id
}

fn can_read(user: &User, meeting: &Meeting) -> bool {
    user.is_admin() || meeting.is_moderator(&user.id) || meeting.invitees.iter().any(|e| *e == user.email)
}

fn view(state: &ApiState, user: &User, m: &Meeting, now: i64) -> MeetingView {
    let tz = m.schedule.tz;
    let next = m.schedule.next_after(now);
    let privileged = user.is_admin() || m.is_moderator(&user.id);
    MeetingView {
        id: m.id.clone(),
        title: m.title.clone(),
        description: m.description.clone(),
        start: schedule::format_local(m.schedule.start_utc, tz),
        end: schedule::format_local(m.schedule.end_utc, tz),
        time_zone: tz.name().to_owned(),
        start_utc: schedule::format_utc(m.schedule.start_utc),
        end_utc: schedule::format_utc(m.schedule.end_utc),
        recurrence: m.schedule.weekly.then(|| Recurrence {
            frequency: "weekly".into(),
            until: m.schedule.until.map(|d| d.format("%Y-%m-%d").to_string()),
        }),
        next_start_utc: next.map(|o| schedule::format_utc(o.start)),
        next_end_utc: next.map(|o| schedule::format_utc(o.end)),
        owner: m.owner.clone(),
        moderators: m.moderators.clone(),
        invitees: m.invitees.clone(),
        guests_allowed: m.guests_allowed,
        lobby: m.lobby,
        join_opens_minutes: m.join_opens_minutes,
        staff_link: state.staff_link(&m.id),
        guest_link: (privileged && m.guests_allowed).then(|| state.guest_link(&m.id, &m.guest_secret)),
        can_edit: can_edit(user, m),
        status: super::join::join_status(m, now).0.to_owned(),
        ended_at: m.ended_at.map(schedule::format_utc),
        version: m.version,
    }
}

/// Check `input`; every problem becomes a field error.
async fn validate(state: &ApiState, input: MeetingInput, updating: bool) -> Result<MeetingFields, ApiError> {
    let mut fields = FieldErrors::new();
    let title = input.title.trim().to_owned();
    let title_len = title.chars().count();
    if title_len == 0 {
        fields.insert("title".into(), "the title must not be empty".into());
    } else if title_len > MAX_TITLE_CHARS {
        fields.insert("title".into(), format!("the title must have at most {MAX_TITLE_CHARS} characters"));
    }
    if input.description.chars().count() > MAX_DESCRIPTION_CHARS {
        fields.insert("description".into(), format!("at most {MAX_DESCRIPTION_CHARS} characters"));
    }
    let tz_name = input.time_zone.unwrap_or_else(|| schedule::DEFAULT_TIME_ZONE.to_owned());
    let tz = schedule::parse_tz(&tz_name);
    if tz.is_none() {
        fields.insert("time_zone".into(), "unknown time zone (choose one of GET /api/v1/time-zones, e.g. Europe/Berlin)".into());
    }
    let tz = tz.unwrap_or(chrono_tz::Tz::Europe__Berlin);
    let start = schedule::parse_moment(&input.start, tz).map_err(|e| fields.insert("start".into(), e.into())).ok();
    let end = schedule::parse_moment(&input.end, tz).map_err(|e| fields.insert("end".into(), e.into())).ok();
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            fields.insert("end".into(), "the end must be after the start".into());
        } else if (e - s).num_seconds() > MAX_DURATION_SECS {
            fields.insert("end".into(), "a meeting can last at most 24 hours".into());
        }
    }
    let mut weekly = false;
    let mut until = None;
    if let Some(rec) = &input.recurrence {
        if rec.frequency != "weekly" {
            fields.insert("recurrence.frequency".into(), "only weekly recurrence is supported".into());
        }
        weekly = true;
        if let Some(text) = rec.until.as_deref().filter(|t| !t.is_empty()) {
            match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(d) => {
                    if let Some(s) = start
                        && d < s.with_timezone(&tz).date_naive()
                    {
                        fields.insert("recurrence.until".into(), "the series cannot end before it starts".into());
                    }
                    until = Some(d);
                }
                Err(_) => {
                    fields.insert("recurrence.until".into(), "expected a date like 2027-03-31".into());
                }
            }
        }
    }
    let join_opens_minutes = input.join_opens_minutes.unwrap_or(state.join_opens_minutes);
    if !(0..=MAX_JOIN_OPENS_MINUTES).contains(&join_opens_minutes) {
        fields.insert("join_opens_minutes".into(), format!("between 0 and {MAX_JOIN_OPENS_MINUTES}"));
    }
    let mut moderators = input.moderators.clone();
    moderators.sort();
    moderators.dedup();
    if moderators.len() > MAX_MODERATORS {
        fields.insert("moderators".into(), format!("at most {MAX_MODERATORS} moderators"));
    } else {
        let unknown = meetings::unknown_users(&state.db, &moderators).await?;
        if !unknown.is_empty() {
            fields.insert("moderators".into(), format!("unknown account: {}", unknown.join(", ")));
        }
    }
    let mut invitees: Vec<String> = input.invitees.iter().map(|e| accounts::normalize_email(e)).collect();
    invitees.sort();
    invitees.dedup();
    if invitees.len() > MAX_INVITEES {
        fields.insert("invitees".into(), format!("at most {MAX_INVITEES} invitees"));
    } else if let Some(bad) = invitees.iter().find(|e| accounts::check_email(e).is_some()) {
        fields.insert("invitees".into(), format!("not an email address: {bad}"));
    }
    if updating && input.version.is_none() {
        fields.insert("version".into(), "send the version you last read".into());
    }
    if !fields.is_empty() {
        return Err(ApiError::Validation(fields));
    }
    let (Some(start), Some(end)) = (start, end) else { return Err(ApiError::Validation(fields)) };
    Ok(MeetingFields {
        title,
        description: input.description,
        schedule: Schedule { start_utc: start.timestamp(), end_utc: end.timestamp(), tz, weekly, until },
        guests_allowed: input.guests_allowed.unwrap_or(true),
        lobby: input.lobby.unwrap_or(LobbyMode::Guests),
        join_opens_minutes,
        moderators,
        invitees,
    })
}

/// The meetings of the caller (owned, moderated or invited to), upcoming or past; admins may ask for all.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings", params(ListQuery),
    responses((status = 200, body = MeetingList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<MeetingList>, ApiError> {
    let past = match q.scope.as_deref() {
        None | Some("upcoming") => false,
        Some("past") => true,
        Some(_) => return Err(ApiError::field("scope", "upcoming or past")),
    };
    let all = q.all.unwrap_or(false);
    if all && !user.is_admin() {
        return Err(ApiError::Forbidden("only admins may list all meetings"));
    }
    let now = now_secs();
    let mut found: Vec<(i64, MeetingView)> = meetings::list(&state.db, &user.id, &user.email, all)
        .await?
        .iter()
        .filter_map(|m| {
            let next = m.schedule.next_after(now);
            match (past, next) {
                (false, Some(o)) => Some((o.start, view(&state, &user, m, now))),
                (true, None) => Some((-m.schedule.last_end().unwrap_or(m.schedule.end_utc), view(&state, &user, m, now))),
                _ => None,
            }
        })
        .collect();
    found.sort_by_key(|(key, _)| *key);
    Ok(Json(MeetingList { meetings: found.into_iter().map(|(_, v)| v).collect() }))
}

/// Schedule a meeting; the caller owns it.
#[utoipa::path(post, path = "/api/v1/meetings", tag = "meetings", request_body = MeetingInput,
    responses((status = 201, body = MeetingView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    ApiJson(input): ApiJson<MeetingInput>,
) -> Result<(StatusCode, Json<MeetingView>), ApiError> {
    let fields = validate(&state, input, false).await?;
    let meeting = meetings::create(&state.db, &user.id, fields, &user.actor()).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &user, &meeting, now_secs()))))
}

async fn load_visible(state: &ApiState, user: &User, id: &str) -> Result<Meeting, ApiError> {
    let meeting = meetings::get(&state.db, id)
        .await?
        .filter(|m| m.deleted_at.is_none())
        .ok_or(ApiError::NotFound("no such meeting"))?;
    if !can_read(user, &meeting) {
        return Err(ApiError::Forbidden("this is not your meeting"));
    }
    Ok(meeting)
}

/// One meeting (its owner, moderators, invitees and admins).
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings",
    responses((status = 200, body = MeetingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>, ApiError> {
    let meeting = load_visible(&state, &user, &id).await?;
    Ok(Json(view(&state, &user, &meeting, now_secs())))
}

/// Replace a meeting's settings (owner or admin; 409 if it changed since `version`).
#[utoipa::path(put, path = "/api/v1/meetings/{id}", tag = "meetings", request_body = MeetingInput,
    responses((status = 200, body = MeetingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MeetingInput>,
) -> Result<Json<MeetingView>, ApiError> {
    let meeting = load_visible(&state, &user, &id).await?;
    if !can_edit(&user, &meeting) {
        return Err(ApiError::Forbidden("only the meeting's owner and admins may change it"));
    }
    let version = input.version.unwrap_or_default();
    let fields = validate(&state, input, true).await?;
    let updated = meetings::update(&state.db, &id, version, fields, &user.actor()).await?;
    Ok(Json(view(&state, &user, &updated, now_secs())))
}

/// Delete a meeting (owner or admin); its links then say that it was deleted.
#[utoipa::path(delete, path = "/api/v1/meetings/{id}", tag = "meetings",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let meeting = load_visible(&state, &user, &id).await?;
    if !can_edit(&user, &meeting) {
        return Err(ApiError::Forbidden("only the meeting's owner and admins may delete it"));
    }
    meetings::delete(&state.db, &id, &user.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The invitation as iCalendar (RFC 5545), for Outlook, Thunderbird and others.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/invite.ics", tag = "meetings",
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ErrorBody)))]
pub async fn invite_ics(
    State(state): State<ApiState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let meeting = load_visible(&state, &user, &id).await?;
    let staff = state.staff_link(&meeting.id);
    let privileged = user.is_admin() || meeting.is_moderator(&user.id);
    let guest = (privileged && meeting.guests_allowed).then(|| state.guest_link(&meeting.id, &meeting.guest_secret));
    let text = ics::invitation(&meeting, &ics::InviteLinks { staff: &staff, guest: guest.as_deref() }, &state.host());
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"invite.ics\""));
    Ok(response)
}

/// The time zones a meeting may be scheduled in (IANA names; `Europe/Berlin` first), for the meeting form's list.
/// Other IANA names the server knows (old aliases) are accepted too.
#[utoipa::path(get, path = "/api/v1/time-zones", tag = "meetings",
    responses((status = 200, body = Vec<String>), (status = 401, body = ErrorBody)))]
pub async fn time_zones(_user: CurrentUser) -> Json<Vec<&'static str>> {
    Json(schedule::zone_names())
}

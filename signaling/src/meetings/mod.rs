//! Scheduled meetings: storage, with optimistic concurrency (a `version` column) and an audit entry for every
//! change in the same transaction.
//!
//! A meeting's room name (in join tokens and on the WebSocket) is its id.

pub mod ics;
pub mod room_store;
pub mod schedule;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::audit::{self, Actor, AuditEntry};
use crate::db::{Db, DbError, flag, now_secs, random_id};
use schedule::Schedule;

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
/// Most invitees of one meeting.
pub const MAX_INVITEES: usize = 500;
/// Most moderators of one meeting.
pub const MAX_MODERATORS: usize = 50;

/// Who waits in the lobby.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LobbyMode {
    /// Nobody.
    Off,
    /// Guests (people without an account).
    Guests,
    /// Everyone except moderators.
    Everyone,
}

impl LobbyMode {
    fn as_str(self) -> &'static str {
        match self {
            LobbyMode::Off => "off",
            LobbyMode::Guests => "guests",
            LobbyMode::Everyone => "everyone",
        }
    }

    fn parse(text: &str) -> LobbyMode {
        match text {
            "off" => LobbyMode::Off,
            "everyone" => LobbyMode::Everyone,
            _ => LobbyMode::Guests,
        }
    }
}

/// An account as a meeting refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// A meeting as stored.
#[derive(Debug, Clone)]
pub struct Meeting {
    pub id: String,
    pub owner: UserRef,
    pub title: String,
    pub description: String,
    pub schedule: Schedule,
    pub guests_allowed: bool,
    pub lobby: LobbyMode,
    pub join_opens_minutes: i64,
    pub guest_secret: String,
    pub ended_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub moderators: Vec<UserRef>,
    pub invitees: Vec<String>,
    pub version: i64,
    pub updated_at: i64,
}

impl Meeting {
    pub fn is_moderator(&self, user_id: &str) -> bool {
        self.owner.id == user_id || self.moderators.iter().any(|m| m.id == user_id)
    }
}

/// A meeting's settings, validated.
#[derive(Debug, Clone)]
pub struct MeetingFields {
    pub title: String,
    pub description: String,
    pub schedule: Schedule,
    pub guests_allowed: bool,
    pub lobby: LobbyMode,
    pub join_opens_minutes: i64,
    /// Account ids, all existing.
    pub moderators: Vec<String>,
    /// Lowercased email addresses.
    pub invitees: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MeetingError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("no such meeting")]
    NotFound,
    #[error("the meeting was changed by someone else meanwhile; reload and try again")]
    Conflict,
}

impl From<sqlx::Error> for MeetingError {
    fn from(e: sqlx::Error) -> Self {
        MeetingError::Db(e.into())
    }
}

const MEETING_COLUMNS: &str = "m.id, m.owner_id, u.name AS owner_name, u.email AS owner_email, m.title, \
     m.description, m.start_utc, m.end_utc, m.time_zone, m.weekly, m.recurrence_until, m.guests_allowed, m.lobby, \
     m.join_opens_minutes, m.guest_secret, m.ended_at, m.deleted_at, m.version, m.updated_at";

fn meeting_from_row(row: &AnyRow) -> Result<Meeting, sqlx::Error> {
    let tz_name: String = row.try_get("time_zone")?;
    let until: Option<String> = row.try_get("recurrence_until")?;
    let lobby: String = row.try_get("lobby")?;
    let owner_name: Option<String> = row.try_get("owner_name")?;
    let owner_email: Option<String> = row.try_get("owner_email")?;
    Ok(Meeting {
        id: row.try_get("id")?,
        owner: UserRef {
            id: row.try_get("owner_id")?,
            name: owner_name.unwrap_or_default(),
            email: owner_email.unwrap_or_default(),
        },
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        schedule: Schedule {
            start_utc: row.try_get("start_utc")?,
            end_utc: row.try_get("end_utc")?,
            tz: schedule::parse_tz(&tz_name).unwrap_or(Tz::Europe__Berlin),
            weekly: flag(row.try_get("weekly")?),
            until: until.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        },
        guests_allowed: flag(row.try_get("guests_allowed")?),
        lobby: LobbyMode::parse(&lobby),
        join_opens_minutes: row.try_get("join_opens_minutes")?,
        guest_secret: row.try_get("guest_secret")?,
        ended_at: row.try_get("ended_at")?,
        deleted_at: row.try_get("deleted_at")?,
        moderators: Vec::new(),
        invitees: Vec::new(),
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The ids among `ids` that are no account.
pub async fn unknown_users(db: &Db, ids: &[String]) -> Result<Vec<String>, DbError> {
    let mut unknown = Vec::new();
    for id in ids {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
            .bind(id.clone())
            .fetch_one(db.pool())
            .await?;
        if n == 0 {
            unknown.push(id.clone());
        }
    }
    Ok(unknown)
}

/// Create a meeting owned by `owner_id`; audited.
pub async fn create(db: &Db, owner_id: &str, fields: MeetingFields, actor: &Actor) -> Result<Meeting, MeetingError> {
    let id = random_id(12);
    let now = now_secs();
    let mut tx = db.pool().begin().await.map_err(DbError::from)?;
    sqlx::query(
        "INSERT INTO meetings (id, owner_id, title, description, start_utc, end_utc, time_zone, weekly, \
         recurrence_until, guests_allowed, lobby, join_opens_minutes, guest_secret, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14)",
    )
    .bind(id.clone())
    .bind(owner_id.to_owned())
    .bind(fields.title.clone())
    .bind(fields.description.clone())
    .bind(fields.schedule.start_utc)
    .bind(fields.schedule.end_utc)
    .bind(fields.schedule.tz.name().to_owned())
    .bind(i64::from(fields.schedule.weekly))
    .bind(fields.schedule.until.map(|d| d.format("%Y-%m-%d").to_string()))
    .bind(i64::from(fields.guests_allowed))
    .bind(fields.lobby.as_str())
    .bind(fields.join_opens_minutes)
    .bind(random_id(24))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    write_people(&mut tx, &id, &fields).await?;
    let entry = AuditEntry::new(actor.clone(), "meeting.created", "meeting", &id, &fields.title)
        .in_meeting(&id)
        .with_details(summary(&fields));
    audit::record_in(&mut tx, &entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    get(db, &id).await?.ok_or(MeetingError::NotFound)
}

fn summary(fields: &MeetingFields) -> serde_json::Value {
    serde_json::json!({
        "start": schedule::format_utc(fields.schedule.start_utc),
        "end": schedule::format_utc(fields.schedule.end_utc),
        "time_zone": fields.schedule.tz.name(),
        "weekly": fields.schedule.weekly,
        "guests_allowed": fields.guests_allowed,
        "lobby": fields.lobby,
        "moderators": fields.moderators,
        "invitees": fields.invitees.len(),
    })
}

async fn write_people(tx: &mut Transaction<'_, Any>, id: &str, fields: &MeetingFields) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM meeting_moderators WHERE meeting_id = $1").bind(id.to_owned()).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM meeting_invitees WHERE meeting_id = $1").bind(id.to_owned()).execute(&mut **tx).await?;
    for user_id in &fields.moderators {
        sqlx::query("INSERT INTO meeting_moderators (meeting_id, user_id) VALUES ($1, $2)")
            .bind(id.to_owned())
            .bind(user_id.clone())
            .execute(&mut **tx)
            .await?;
    }
    for email in &fields.invitees {
        sqlx::query("INSERT INTO meeting_invitees (meeting_id, email) VALUES ($1, $2)")
            .bind(id.to_owned())
            .bind(email.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn load_people(db: &Db, meeting: &mut Meeting) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT u.id, u.name, u.email FROM meeting_moderators mm JOIN users u ON u.id = mm.user_id \
         WHERE mm.meeting_id = $1 ORDER BY u.name",
    )
    .bind(meeting.id.clone())
    .fetch_all(db.pool())
    .await?;
    meeting.moderators = rows
        .iter()
        .map(|r| Ok(UserRef { id: r.try_get("id")?, name: r.try_get("name")?, email: r.try_get("email")? }))
        .collect::<Result<_, sqlx::Error>>()?;
    meeting.invitees = sqlx::query_scalar("SELECT email FROM meeting_invitees WHERE meeting_id = $1 ORDER BY email")
        .bind(meeting.id.clone())
        .fetch_all(db.pool())
        .await?;
    Ok(())
}

/// A meeting, deleted ones included (so links can say that it was deleted).
pub async fn get(db: &Db, id: &str) -> Result<Option<Meeting>, DbError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MEETING_COLUMNS} FROM meetings m LEFT JOIN users u ON u.id = m.owner_id WHERE m.id = $1"
    )))
    .bind(id.to_owned())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut meeting = meeting_from_row(&row)?;
    load_people(db, &mut meeting).await?;
    Ok(Some(meeting))
}

/// The meetings (not deleted) that `user_id` owns, moderates or is invited to (by email); with `all`, every one.
pub async fn list(db: &Db, user_id: &str, email: &str, all: bool) -> Result<Vec<Meeting>, DbError> {
    let rows = if all {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m LEFT JOIN users u ON u.id = m.owner_id \
             WHERE m.deleted_at IS NULL ORDER BY m.start_utc"
        )))
        .fetch_all(db.pool())
        .await?
    } else {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m LEFT JOIN users u ON u.id = m.owner_id \
             WHERE m.deleted_at IS NULL AND (m.owner_id = $1 \
             OR m.id IN (SELECT meeting_id FROM meeting_moderators WHERE user_id = $1) \
             OR m.id IN (SELECT meeting_id FROM meeting_invitees WHERE email = $2)) ORDER BY m.start_utc"
        )))
        .bind(user_id.to_owned())
        .bind(email.to_owned())
        .fetch_all(db.pool())
        .await?
    };
    let mut meetings = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut meeting = meeting_from_row(row)?;
        load_people(db, &mut meeting).await?;
        meetings.push(meeting);
    }
    Ok(meetings)
}

/// Replace a meeting's settings if it is still at `version`; audited with what changed.
pub async fn update(
    db: &Db,
    id: &str,
    version: i64,
    fields: MeetingFields,
    actor: &Actor,
) -> Result<Meeting, MeetingError> {
    let before = get(db, id).await?.filter(|m| m.deleted_at.is_none()).ok_or(MeetingError::NotFound)?;
    let mut tx = db.pool().begin().await.map_err(DbError::from)?;
    let done = sqlx::query(
        "UPDATE meetings SET title = $1, description = $2, start_utc = $3, end_utc = $4, time_zone = $5, weekly = $6, \
         recurrence_until = $7, guests_allowed = $8, lobby = $9, join_opens_minutes = $10, version = version + 1, \
         updated_at = $11 WHERE id = $12 AND version = $13 AND deleted_at IS NULL",
    )
    .bind(fields.title.clone())
    .bind(fields.description.clone())
    .bind(fields.schedule.start_utc)
    .bind(fields.schedule.end_utc)
    .bind(fields.schedule.tz.name().to_owned())
    .bind(i64::from(fields.schedule.weekly))
    .bind(fields.schedule.until.map(|d| d.format("%Y-%m-%d").to_string()))
    .bind(i64::from(fields.guests_allowed))
    .bind(fields.lobby.as_str())
    .bind(fields.join_opens_minutes)
    .bind(now_secs())
    .bind(id.to_owned())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(MeetingError::Conflict);
    }
    write_people(&mut tx, id, &fields).await?;
    let entry = AuditEntry::new(actor.clone(), "meeting.updated", "meeting", id, &fields.title)
        .in_meeting(id)
        .with_details(changes(&before, &fields));
    audit::record_in(&mut tx, &entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    get(db, id).await?.ok_or(MeetingError::NotFound)
}

/// What an update changed, for the audit log.
fn changes(before: &Meeting, after: &MeetingFields) -> serde_json::Value {
    let mut changed = serde_json::Map::new();
    let mut note = |field: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            changed.insert(field.into(), serde_json::json!({"from": from, "to": to}));
        }
    };
    note("title", before.title.clone().into(), after.title.clone().into());
    note("description", before.description.len().into(), after.description.len().into());
    note("start", schedule::format_utc(before.schedule.start_utc).into(), schedule::format_utc(after.schedule.start_utc).into());
    note("end", schedule::format_utc(before.schedule.end_utc).into(), schedule::format_utc(after.schedule.end_utc).into());
    note("time_zone", before.schedule.tz.name().into(), after.schedule.tz.name().into());
    note("weekly", before.schedule.weekly.into(), after.schedule.weekly.into());
    note("guests_allowed", before.guests_allowed.into(), after.guests_allowed.into());
    note("lobby", before.lobby.as_str().into(), after.lobby.as_str().into());
    let before_mods: Vec<String> = before.moderators.iter().map(|m| m.id.clone()).collect();
    let mut after_mods = after.moderators.clone();
    after_mods.sort();
    let mut sorted_before = before_mods;
    sorted_before.sort();
    note("moderators", sorted_before.into(), after_mods.into());
    note("invitees", before.invitees.clone().into(), after.invitees.clone().into());
    serde_json::Value::Object(changed)
}

/// Delete a meeting (kept as deleted, so its links say so); audited.
pub async fn delete(db: &Db, id: &str, actor: &Actor) -> Result<(), MeetingError> {
    let meeting = get(db, id).await?.filter(|m| m.deleted_at.is_none()).ok_or(MeetingError::NotFound)?;
    let mut tx = db.pool().begin().await.map_err(DbError::from)?;
    let done = sqlx::query(
        "UPDATE meetings SET deleted_at = $1, version = version + 1 WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(now_secs())
    .bind(id.to_owned())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(MeetingError::NotFound);
    }
    let entry = AuditEntry::new(actor.clone(), "meeting.deleted", "meeting", id, &meeting.title).in_meeting(id);
    audit::record_in(&mut tx, &entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

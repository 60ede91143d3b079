//! The audit log: who did what, when, to whom. Every admin and moderator action appends one entry.
//!
//! Other code appends with [`AuditLog::record`] (its own transaction) or [`record_in`] (inside the caller's
//! transaction, so the entry commits or rolls back with the change it describes).

use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::db::{Db, DbError, now_micros, random_id};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The account id or the join-token identity; `None` for the command line.
    pub id: Option<String>,
    /// A display name, kept as it was at the time.
    pub name: String,
}

impl Actor {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Actor {
        Actor { id: Some(id.into()), name: name.into() }
    }

    /// The `plenum admin` command line.
    pub fn command_line() -> Actor {
        Actor { id: None, name: "plenum admin (command line)".into() }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Actor,
    /// What happened, dotted: `user.created`, `meeting.updated`, `participant.muted`, ...
    pub action: String,
    /// What kind of thing it happened to: `user`, `meeting`, `participant`, `room`.
    pub target_type: String,
    pub target_id: String,
    /// The target's name at the time (a user's name, a meeting's title).
    pub target_name: String,
    /// The meeting (or room) it happened in, if any.
    pub meeting_id: Option<String>,
    /// More about it, as a JSON object (e.g. the changed fields); `{}` when nothing.
    pub details: serde_json::Value,
}

impl AuditEntry {
    pub fn new(actor: Actor, action: &str, target_type: &str, target_id: &str, target_name: &str) -> AuditEntry {
        AuditEntry {
            actor,
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_owned(),
            target_name: target_name.to_owned(),
            meeting_id: None,
            details: serde_json::json!({}),
        }
    }

    pub fn in_meeting(mut self, meeting_id: &str) -> AuditEntry {
        self.meeting_id = Some(meeting_id.to_owned());
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> AuditEntry {
        self.details = details;
        self
    }
}

/// A stored entry, as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub target_name: String,
    pub meeting_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Appends to the audit log. Cheap to clone; hand one to any code that performs moderator or admin actions.
#[derive(Debug, Clone)]
pub struct AuditLog {
    db: Db,
    /// Writes started in the background ([`AuditLog::record_later`]), awaited by [`AuditLog::flush`].
    pending: tokio_util::task::TaskTracker,
}

impl AuditLog {
    pub fn new(db: Db) -> AuditLog {
        AuditLog { db, pending: tokio_util::task::TaskTracker::new() }
    }

    /// Append `entry` on a background task, so the caller never waits for the database; a write that fails is
    /// logged. [`AuditLog::flush`] waits for these writes (the server does on shutdown).
    pub fn record_later(&self, entry: AuditEntry, runtime: &tokio::runtime::Handle) {
        let log = self.clone();
        self.pending.spawn_on(
            async move {
                if let Err(e) = log.record(entry.clone()).await {
                    tracing::error!(action = %entry.action, "cannot write the audit log: {e}");
                }
            },
            runtime,
        );
    }

    /// Wait until every background write has finished.
    pub async fn flush(&self) {
        self.pending.close();
        self.pending.wait().await;
        self.pending.reopen();
    }

    /// Append `entry` in its own transaction.
    pub async fn record(&self, entry: AuditEntry) -> Result<(), DbError> {
        let mut tx = self.db.pool().begin().await?;
        record_in(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest entries first; `before_micros` pages back.
    pub async fn list(&self, limit: u32, before_micros: Option<i64>) -> Result<Vec<AuditRecord>, DbError> {
        let rows = sqlx::query(
            "SELECT id, at_micros, actor_id, actor_name, action, target_type, target_id, target_name, meeting_id, \
             details FROM audit_log WHERE at_micros < $1 ORDER BY at_micros DESC, id DESC LIMIT $2",
        )
        .bind(before_micros.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(|row| Ok(AuditRow::from_row(row)?.into_record())).collect()
    }
}

/// Append `entry` inside `tx`.
pub async fn record_in(tx: &mut Transaction<'_, Any>, entry: &AuditEntry) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (id, at_micros, actor_id, actor_name, action, target_type, target_id, target_name, \
         meeting_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(random_id(20))
    .bind(now_micros())
    .bind(entry.actor.id.clone())
    .bind(entry.actor.name.clone())
    .bind(entry.action.clone())
    .bind(entry.target_type.clone())
    .bind(entry.target_id.clone())
    .bind(entry.target_name.clone())
    .bind(entry.meeting_id.clone())
    .bind(entry.details.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

struct AuditRow {
    id: String,
    at_micros: i64,
    actor_id: Option<String>,
    actor_name: String,
    action: String,
    target_type: String,
    target_id: String,
    target_name: String,
    meeting_id: Option<String>,
    details: String,
}

impl AuditRow {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
        use sqlx::Row;
        Ok(AuditRow {
            id: row.try_get("id")?,
            at_micros: row.try_get("at_micros")?,
            actor_id: row.try_get("actor_id")?,
            actor_name: row.try_get("actor_name")?,
            action: row.try_get("action")?,
            target_type: row.try_get("target_type")?,
            target_id: row.try_get("target_id")?,
            target_name: row.try_get("target_name")?,
            meeting_id: row.try_get("meeting_id")?,
            details: row.try_get("details")?,
        })
    }

    fn into_record(self) -> AuditRecord {
        let at = chrono::DateTime::from_timestamp_micros(self.at_micros)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        AuditRecord {
            id: self.id,
            at,
            actor_id: self.actor_id,
            actor_name: self.actor_name,
            action: self.action,
            target_type: self.target_type,
            target_id: self.target_id,
            target_name: self.target_name,
            meeting_id: self.meeting_id,
            details: serde_json::from_str(&self.details).unwrap_or_else(|_| serde_json::json!({})),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flush_waits_for_every_background_write() {
        let dir = std::env::temp_dir().join(format!("plenum-audit-flush-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = AuditLog::new(Db::open(None, &dir).await.unwrap());
        let runtime = tokio::runtime::Handle::current();
        const N: usize = 200;
        for i in 0..N {
            log.record_later(AuditEntry::new(Actor::new("chair", "Chair"), "room.lock", "room", &format!("r{i}"), "R"), &runtime);
        }
        log.flush().await;
        assert_eq!(log.list(1000, None).await.unwrap().len(), N, "all written once flush returns");
        // The log takes background writes again after a flush.
        log.record_later(AuditEntry::new(Actor::new("chair", "Chair"), "room.unlock", "room", "r", "R"), &runtime);
        log.flush().await;
        assert_eq!(log.list(1000, None).await.unwrap().len(), N + 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

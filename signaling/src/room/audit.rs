//! Where moderator actions are recorded: who did what to whom, in which room, when.
//!
//! [`AuditSink`] is the hook; [`LogAudit`] writes each record as a structured log line (target `plenum::audit`),
//! and the server's database audit log ([`crate::audit::AuditLog`]) implements it too (the server uses that one,
//! through [`crate::session::Shared::with_audit`]).

use std::time::{SystemTime, UNIX_EPOCH};

/// One moderator action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    pub room: String,
    /// The moderator: token identity (`sub`) and name, and the session's sid.
    pub actor_identity: String,
    pub actor_name: String,
    pub actor_sid: String,
    /// What was done: `admit`, `deny`, `mute`, `mute_all`, `ask_unmute`, `stop_video`, `stop_screen`, `remove`,
    /// `ban`, `lock`, `unlock`, `end`.
    pub action: &'static str,
    /// Whom it was done to (identity and name), for actions on one person.
    pub target_identity: Option<String>,
    pub target_name: Option<String>,
}

impl AuditRecord {
    pub fn now(room: &str, actor: (&str, &str, &str), action: &'static str, target: Option<(&str, &str)>) -> Self {
        let at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        AuditRecord {
            at,
            room: room.to_owned(),
            actor_identity: actor.0.to_owned(),
            actor_name: actor.1.to_owned(),
            actor_sid: actor.2.to_owned(),
            action,
            target_identity: target.map(|t| t.0.to_owned()),
            target_name: target.map(|t| t.1.to_owned()),
        }
    }
}

/// Receives every moderator action. Called on the moderator's session task: must not block for long.
pub trait AuditSink: Send + Sync + 'static {
    fn record(&self, record: AuditRecord);
}

/// Writes audit records to the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogAudit;

impl AuditSink for LogAudit {
    fn record(&self, r: AuditRecord) {
        tracing::info!(
            target: "plenum::audit",
            at = r.at,
            room = %r.room,
            actor = %r.actor_identity,
            actor_sid = %r.actor_sid,
            action = r.action,
            target = r.target_identity.as_deref().unwrap_or("-"),
            "moderator action"
        );
    }
}

/// Keeps records in memory (tests, and a base for other sinks).
#[derive(Debug, Default)]
pub struct MemoryAudit {
    records: std::sync::Mutex<Vec<AuditRecord>>,
}

impl MemoryAudit {
    pub fn records(&self) -> Vec<AuditRecord> {
        self.records.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl AuditSink for MemoryAudit {
    fn record(&self, record: AuditRecord) {
        self.records.lock().unwrap_or_else(|p| p.into_inner()).push(record);
    }
}

/// Moderator actions go to the database audit log: `participant.<action>` on a person (target: their identity),
/// `room.<action>` on the room. Written on a spawned task, so the session never waits for the database; a write
/// that fails is logged.
impl AuditSink for crate::audit::AuditLog {
    fn record(&self, r: AuditRecord) {
        use crate::audit::{Actor, AuditEntry};
        let actor = Actor::new(r.actor_identity.clone(), r.actor_name.clone());
        let entry = match (&r.target_identity, &r.target_name) {
            (Some(id), Some(name)) => AuditEntry::new(actor, &format!("participant.{}", r.action), "participant", id, name),
            _ => AuditEntry::new(actor, &format!("room.{}", r.action), "room", &r.room, &r.room),
        }
        .in_meeting(&r.room)
        .with_details(serde_json::json!({ "room": r.room, "actor_sid": r.actor_sid }));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return LogAudit.record(r);
        };
        self.record_later(entry, &runtime);
    }
}

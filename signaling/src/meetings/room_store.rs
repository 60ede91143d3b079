//! What a room keeps in the database, so that it survives a restart and holds on every signaling node sharing the
//! database: who a moderator banned from it, and whether its meeting was ended or deleted.
//!
//! Sessions are synchronous and never wait for the database: a ban or an end is applied to the in-memory
//! [`crate::room::Registry`] at once and written here on a background task ([`RoomStore::ban_later`],
//! [`RoomStore::end_later`]; [`RoomStore::flush`] waits for them at shutdown). Before a `join` is handled, the
//! session driver reads the room's record ([`RoomStore::load`]) into the registry.

use sqlx::Row;

use crate::audit::Actor;
use crate::db::{Db, DbError, now_secs};
use crate::room::{Closed, MAX_BANS_PER_ROOM, StoredRoom};

/// The database side of rooms. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RoomStore {
    db: Db,
    pending: tokio_util::task::TaskTracker,
}

/// What a joining person's room and account look like in the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinRecord {
    pub room: StoredRoom,
    /// The joining identity is an account an admin disabled.
    pub account_disabled: bool,
}

impl RoomStore {
    pub fn new(db: Db) -> RoomStore {
        RoomStore { db, pending: tokio_util::task::TaskTracker::new() }
    }

    /// The room's bans and state, and whether `identity` (who joins, if the token says) is a disabled account.
    pub async fn load(&self, room: &str, identity: Option<&str>) -> Result<JoinRecord, DbError> {
        let room_state = StoredRoom { bans: bans(&self.db, room).await?, closed: closed(&self.db, room).await? };
        let account_disabled = match identity {
            Some(id) => crate::accounts::is_disabled(&self.db, id).await?,
            None => false,
        };
        Ok(JoinRecord { room: room_state, account_disabled })
    }

    /// Store a ban in the background (the registry already holds it).
    pub fn ban_later(&self, room: &str, identity: &str, name: &str, by: Actor) {
        let (store, room, identity, name) = (self.clone(), room.to_owned(), identity.to_owned(), name.to_owned());
        self.spawn(async move {
            if let Err(e) = ban(&store.db, &room, &identity, &name, &by).await {
                tracing::error!(room = %room, "cannot store a ban: {e}");
            }
        });
    }

    /// Store that a moderator ended `room`'s meeting at `at` (seconds), if it is a meeting.
    pub fn end_later(&self, room: &str, at: i64) {
        let (store, room) = (self.clone(), room.to_owned());
        self.spawn(async move {
            if let Err(e) = mark_ended(&store.db, &room, at).await {
                tracing::error!(room = %room, "cannot store the end of the meeting: {e}");
            }
        });
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                self.pending.spawn_on(task, &runtime);
            }
            Err(_) => tracing::error!("no runtime: a room change is not stored"),
        }
    }

    /// Wait for the writes started so far.
    pub async fn flush(&self) {
        self.pending.close();
        self.pending.wait().await;
        self.pending.reopen();
    }
}

/// Ban `identity` from `room` (a second ban of the same person changes nothing).
pub async fn ban(db: &Db, room: &str, identity: &str, name: &str, by: &Actor) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO room_bans (room, identity, name, banned_by_identity, banned_by_name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (room, identity) DO NOTHING",
    )
    .bind(room.to_owned())
    .bind(identity.to_owned())
    .bind(name.to_owned())
    .bind(by.id.clone().unwrap_or_default())
    .bind(by.name.clone())
    .bind(now_secs())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Whether `identity` is banned from `room`.
pub async fn is_banned(db: &Db, room: &str, identity: &str) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM room_bans WHERE room = $1 AND identity = $2")
        .bind(room.to_owned())
        .bind(identity.to_owned())
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// The identities banned from `room` (the first [`MAX_BANS_PER_ROOM`]).
pub async fn bans(db: &Db, room: &str) -> Result<Vec<String>, DbError> {
    let rows = sqlx::query("SELECT identity FROM room_bans WHERE room = $1 ORDER BY created_at LIMIT $2")
        .bind(room.to_owned())
        .bind(MAX_BANS_PER_ROOM as i64)
        .fetch_all(db.pool())
        .await?;
    Ok(rows.iter().map(|r| r.try_get("identity")).collect::<Result<_, _>>()?)
}

/// A stored ban, as moderators see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredBan {
    /// Who is banned (an account id, a guest's per-meeting identity, or a token's identity); lifting takes it.
    pub identity: String,
    /// The name the person had in the meeting.
    pub name: String,
    pub banned_by_id: String,
    pub banned_by_name: String,
    /// Seconds since the epoch.
    pub created_at: i64,
}

/// The bans of `room`, oldest first.
pub async fn list_bans(db: &Db, room: &str) -> Result<Vec<StoredBan>, DbError> {
    let rows = sqlx::query(
        "SELECT identity, name, banned_by_identity, banned_by_name, created_at FROM room_bans WHERE room = $1 \
         ORDER BY created_at, identity LIMIT $2",
    )
    .bind(room.to_owned())
    .bind(MAX_BANS_PER_ROOM as i64)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredBan {
                identity: r.try_get("identity")?,
                name: r.try_get("name")?,
                banned_by_id: r.try_get("banned_by_identity")?,
                banned_by_name: r.try_get("banned_by_name")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Lift the ban of `identity` from `room`; returns it, or `None` if there was none.
pub async fn lift_ban(db: &Db, room: &str, identity: &str) -> Result<Option<StoredBan>, DbError> {
    let found = list_bans(db, room).await?.into_iter().find(|b| b.identity == identity);
    if found.is_none() {
        return Ok(None);
    }
    let done = sqlx::query("DELETE FROM room_bans WHERE room = $1 AND identity = $2")
        .bind(room.to_owned())
        .bind(identity.to_owned())
        .execute(db.pool())
        .await?;
    Ok(found.filter(|_| done.rows_affected() > 0))
}

/// Whether `room` is a meeting that was deleted or ended.
pub async fn closed(db: &Db, room: &str) -> Result<Option<Closed>, DbError> {
    let row = sqlx::query("SELECT ended_at, deleted_at FROM meetings WHERE id = $1")
        .bind(room.to_owned())
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let ended: Option<i64> = row.try_get("ended_at")?;
    let deleted: Option<i64> = row.try_get("deleted_at")?;
    Ok(match (deleted, ended) {
        (Some(at), _) => Some(Closed::Deleted { at }),
        (None, Some(at)) => Some(Closed::Ended { at }),
        (None, None) => None,
    })
}

/// Mark `room`'s meeting as ended at `at`: its links refuse to join until the next occurrence opens, and join
/// tokens issued before `at` are refused. Nothing happens for a room that is no meeting. (The moderator's action is
/// audited by the session as `room.end`.)
pub async fn mark_ended(db: &Db, room: &str, at: i64) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE meetings SET ended_at = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(at)
        .bind(room.to_owned())
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bans_and_ends_are_stored_and_read_back() {
        let dir = std::env::temp_dir().join(format!("plenum-room-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = Db::open(None, &dir).await.unwrap();
        let store = RoomStore::new(db.clone());
        let by = Actor::new("mod-1", "Moni Moderatorin");
        store.ban_later("raum-1", "guest-abc", "Gabi", by.clone());
        // Background writes run in any order: the second ban is made after the first is stored.
        store.flush().await;
        store.ban_later("raum-1", "guest-abc", "Gabi again", by);
        store.end_later("raum-1", 1_000); // no such meeting: nothing to mark
        store.flush().await;
        let record = store.load("raum-1", Some("guest-abc")).await.unwrap();
        assert_eq!(record.room.bans, vec!["guest-abc".to_owned()]);
        assert_eq!(record.room.closed, None);
        assert!(!record.account_disabled, "a guest is no account");
        assert!(is_banned(&db, "raum-1", "guest-abc").await.unwrap());
        assert!(!is_banned(&db, "raum-2", "guest-abc").await.unwrap());
        let listed = list_bans(&db, "raum-1").await.unwrap();
        assert_eq!((listed.len(), listed[0].name.as_str(), listed[0].banned_by_name.as_str()), (1, "Gabi", "Moni Moderatorin"));
        assert_eq!(lift_ban(&db, "raum-1", "guest-abc").await.unwrap().map(|b| b.identity), Some("guest-abc".to_owned()));
        assert_eq!(lift_ban(&db, "raum-1", "guest-abc").await.unwrap(), None, "already lifted");
        assert!(!is_banned(&db, "raum-1", "guest-abc").await.unwrap());
        db.pool().close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

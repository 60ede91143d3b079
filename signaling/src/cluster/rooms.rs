//! Room events between signaling nodes: each room has a log in Redis (stream `plenum:room:{room}:log`, entries
//! `{origin, op}` with a [`RoomOp`]). A node appends the changes its registry hands to the bus, in order; before a
//! session of this node first enters a room (join or lobby), [`RoomSync::ensure`] replays the room's log into the
//! registry, and from then on the node follows the log and applies the other nodes' changes. A room this node has
//! had no session in for [`UNFOLLOW_AFTER`] is dropped from the registry and no longer followed.
//!
//! Signaling nodes keep `plenum:signaling:{id}` alive (heartbeat every second, 5 s expiry); the members and lobby
//! entries of a node whose key expired leave the rooms (`participant_left`, reason `disconnected`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use plenum_sfu::RoomId;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::JoinHandle;

use super::{ClusterError, Redis};
use crate::room::{Registry, RoomOp};
use crate::session::Shared;

/// A room without sessions on this node is forgotten after this long.
pub const UNFOLLOW_AFTER: Duration = Duration::from_secs(10);
/// Longest wait of one log read (new rooms to follow are picked up after it).
const READ_BLOCK: Duration = Duration::from_millis(200);
/// A room log lives this long after its last write or refresh.
const LOG_TTL: Duration = Duration::from_secs(3600);
/// Room logs are trimmed to about this many entries.
const LOG_MAXLEN: usize = 50_000;

pub fn signaling_key(node: &str) -> String {
    format!("plenum:signaling:{node}")
}

pub fn room_log(room: &str) -> String {
    format!("plenum:room:{room}:log")
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    origin: String,
    #[serde(flatten)]
    op: RoomOp,
}

struct Followed {
    last: String,
    idle_since: Option<Instant>,
}

/// The room log reader and writer of one signaling node.
pub struct RoomSync {
    node: String,
    redis: Redis,
    shared: Weak<Shared>,
    followed: Mutex<HashMap<RoomId, Followed>>,
    /// Serializes replays (two first joins into one room).
    replay: tokio::sync::Mutex<()>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl RoomSync {
    /// Hook into `shared`'s registry and start the log tasks.
    pub async fn start(redis: Redis, node: String, shared: &Arc<Shared>) -> Result<Arc<RoomSync>, ClusterError> {
        let (bus, ops) = unbounded_channel();
        shared.registry.set_bus(bus);
        let reader = redis.dedicated().await?;
        let sync = Arc::new(RoomSync {
            node,
            redis,
            shared: Arc::downgrade(shared),
            followed: Mutex::default(),
            replay: tokio::sync::Mutex::new(()),
            tasks: Mutex::default(),
        });
        let mut conn = sync.redis.conn.clone();
        alive(&mut conn, &sync.node).await?;
        let tasks = vec![
            tokio::spawn(write(sync.clone(), ops)),
            tokio::spawn(follow(Arc::downgrade(&sync), reader)),
            tokio::spawn(watch_origins(Arc::downgrade(&sync))),
        ];
        *lock(&sync.tasks) = tasks;
        Ok(sync)
    }

    /// Stop the tasks and say at once that this node is gone.
    pub fn stop(&self) {
        for task in lock(&self.tasks).iter() {
            task.abort();
        }
        let (mut conn, key) = (self.redis.conn.clone(), signaling_key(&self.node));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _: Result<(), _> = conn.del(key).await;
            });
        }
    }

    /// Make sure this node has the room as the cluster sees it, and follows it: replay its log the first time.
    pub async fn ensure(&self, room: &RoomId) {
        if self.touch(room) {
            return;
        }
        let _one = self.replay.lock().await;
        if self.touch(room) {
            return;
        }
        let Some(shared) = self.shared.upgrade() else { return };
        // A replica left from an earlier time is rebuilt from the log.
        shared.registry.drop_replica(room);
        let mut conn = self.redis.conn.clone();
        let mut last = "0-0".to_owned();
        // Page through the log (XRANGE with an exclusive start after the first page).
        loop {
            let start = if last == "0-0" { "-".to_owned() } else { format!("({last}") };
            let page: Result<redis::streams::StreamRangeReply, _> =
                conn.xrange_count(room_log(&room.0), start, "+", 1000).await;
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(room = %room, "cannot read the room log: {e}");
                    break;
                }
            };
            let n = page.ids.len();
            for entry in page.ids {
                apply(&shared.registry, room, &entry, None);
                last = entry.id;
            }
            if n < 1000 {
                break;
            }
        }
        lock(&self.followed).insert(room.clone(), Followed { last, idle_since: Some(Instant::now()) });
    }
}

async fn alive(conn: &mut ConnectionManager, node: &str) -> Result<(), ClusterError> {
    let _: () = conn.set_ex(signaling_key(node), 1, super::EXPIRY.as_secs()).await?;
    Ok(())
}

/// Every second: this node's heartbeat, and the members of signaling nodes that are gone leave.
async fn watch_origins(sync: Weak<RoomSync>) {
    let mut tick = tokio::time::interval(super::HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(sync) = sync.upgrade() else { return };
        let Some(shared) = sync.shared.upgrade() else { return };
        let mut conn = sync.redis.conn.clone();
        if let Err(e) = alive(&mut conn, &sync.node).await {
            tracing::warn!("signaling heartbeat failed: {e}");
            continue;
        }
        let origins: Vec<String> = shared.registry.remote_origins().into_iter().collect();
        if origins.is_empty() {
            continue;
        }
        let mut pipe = redis::pipe();
        for origin in &origins {
            pipe.exists(signaling_key(origin));
        }
        let Ok(exists) = pipe.query_async::<Vec<bool>>(&mut conn).await else { continue };
        for (origin, _) in origins.iter().zip(exists).filter(|(_, alive)| !alive) {
            let gone = shared.registry.forget_origin(origin);
            tracing::warn!(node = %origin, participants = gone, "signaling node gone; its participants left");
        }
    }
}

impl RoomSync {
    /// Whether the room is followed; if so, it stays followed for [`UNFOLLOW_AFTER`] from now even without a
    /// session (the join that asked is about to add one).
    fn touch(&self, room: &RoomId) -> bool {
        match lock(&self.followed).get_mut(room) {
            Some(f) => {
                f.idle_since = Some(Instant::now());
                true
            }
            None => false,
        }
    }
}

/// Apply one log entry (skipping `skip_origin`'s own).
fn apply(registry: &Registry, room: &RoomId, entry: &redis::streams::StreamId, skip_origin: Option<&str>) {
    let Some(body) = entry.get::<String>("m") else { return };
    match serde_json::from_str::<Entry>(&body) {
        Ok(e) if Some(e.origin.as_str()) == skip_origin => {}
        Ok(e) => registry.apply_remote(room, &e.origin, e.op),
        Err(e) => tracing::warn!(room = %room, "bad room log entry: {e}"),
    }
}

/// Append this node's changes to the room logs, in order.
async fn write(sync: Arc<RoomSync>, mut ops: UnboundedReceiver<(RoomId, RoomOp)>) {
    let mut conn = sync.redis.conn.clone();
    while let Some((room, op)) = ops.recv().await {
        let body = match serde_json::to_string(&Entry { origin: sync.node.clone(), op }) {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!("cannot encode a room change: {e}");
                continue;
            }
        };
        let key = room_log(&room.0);
        let written = redis::pipe()
            .cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(LOG_MAXLEN)
            .arg("*")
            .arg("m")
            .arg(body)
            .ignore()
            .expire(&key, LOG_TTL.as_secs() as i64)
            .ignore()
            .query_async::<()>(&mut conn)
            .await;
        if let Err(e) = written {
            tracing::warn!(room = %room, "room change not shared: {e}");
        }
    }
}

/// Read the logs of the followed rooms and apply the other nodes' changes.
async fn follow(sync: Weak<RoomSync>, mut conn: ConnectionManager) {
    loop {
        let Some(sync) = sync.upgrade() else { return };
        let Some(shared) = sync.shared.upgrade() else { return };
        let (keys, ids): (Vec<String>, Vec<String>) = {
            let mut followed = lock(&sync.followed);
            let now = Instant::now();
            followed.retain(|room, f| {
                if shared.registry.has_local(room) {
                    f.idle_since = None;
                    return true;
                }
                let since = *f.idle_since.get_or_insert(now);
                !(now.duration_since(since) >= UNFOLLOW_AFTER && shared.registry.drop_replica(room))
            });
            followed.iter().map(|(room, f)| (room_log(&room.0), f.last.clone())).unzip()
        };
        if keys.is_empty() {
            drop((sync, shared));
            tokio::time::sleep(READ_BLOCK).await;
            continue;
        }
        let opts = redis::streams::StreamReadOptions::default().block(READ_BLOCK.as_millis() as usize).count(500);
        let reply: Result<Option<redis::streams::StreamReadReply>, _> = conn.xread_options(&keys, &ids, &opts).await;
        match reply {
            Ok(reply) => {
                for key in reply.map(|r| r.keys).unwrap_or_default() {
                    let Some(room) = key.key.strip_prefix("plenum:room:").and_then(|k| k.strip_suffix(":log")) else {
                        continue;
                    };
                    let room = RoomId(room.to_owned());
                    // Unfollowed meanwhile: its replica is gone and must not come back from a partial read.
                    let mut followed = lock(&sync.followed);
                    let Some(f) = followed.get_mut(&room) else { continue };
                    for entry in &key.ids {
                        apply(&shared.registry, &room, entry, Some(&sync.node));
                    }
                    if let Some(last) = key.ids.last() {
                        f.last = last.id.clone();
                    }
                }
            }
            Err(e) => {
                tracing::warn!("reading room logs: {e}");
                tokio::time::sleep(READ_BLOCK).await;
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

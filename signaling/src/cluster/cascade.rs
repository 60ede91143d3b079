//! Cascading: one room served by its home SFU node and an *edge* node that relays the home node's tracks to more
//! viewers (`docs/operations.md`, "Cascading").
//!
//! - Seats ([`seat`]): every SFU node writes how many participants of each room it holds (`plenum:room:{room}:seats`,
//!   a hash node → count, [`report_seats`]). A receive-only join whose room's home node holds `cascade_after` or more
//!   of the room (the home node's setting, in its registration) is seated on one of the room's edge nodes instead
//!   (`plenum:room:{room}:edges`): a recorded live one below its own `cascade_after`, else the node with the most
//!   headroom that is not an edge of the room yet, recorded now. A Lua script does this atomically, so concurrent
//!   joins agree on the edge nodes; it counts the seat at once, so joins placed within the same second see each
//!   other.
//! - The edge node ([`Edges`]) opens one relay leg per room: it joins the home node like a receive-only participant
//!   (`join` with `reply_to` its own id: the home node's events for the leg come to `plenum:sig:{edge}:in`), feeds
//!   the home node's subscriber offers to its local leg (`RelayOffer`) and sends the leg's answers back
//!   (`SubscriberAnswer`). The leg closes when the room's last viewer on the edge leaves, or when the home node drops
//!   it (then the next viewer's join opens a new one).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use plenum_sfu::{CloseReason, ParticipantCommand, ParticipantId, RoomId, Sfu, SfuEvent};
use redis::aio::ConnectionManager;
use tokio::sync::mpsc::UnboundedSender;

use super::wire::ToSfu;
use super::{ClusterError, EXPIRY, NODE_KEY_PREFIX};

pub fn seats_key(room: &str) -> String {
    format!("plenum:room:{room}:seats")
}

pub fn edges_key(room: &str) -> String {
    format!("plenum:room:{room}:edges")
}

/// How long seat counts live without a report (reported on every join and leave and each heartbeat).
const SEATS_TTL_MS: u64 = 60_000;

// KEYS: seats hash, edges sorted set (member: node, score: expiry in ms on Redis's clock).
// ARGV: home, home's limit, viewer (1/0), node key prefix, edge expiry ms, seats expiry ms, then the candidate edge
// nodes best first as pairs (node, its limit).
const SEAT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local function seats(n) return tonumber(redis.call('HGET', KEYS[1], n) or '0') end
local function take(n, edge)
  redis.call('HINCRBY', KEYS[1], n, 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  return {n, edge}
end
local limit = tonumber(ARGV[2])
if ARGV[3] == '1' and limit > 0 and seats(ARGV[1]) >= limit then
  local limits = {}
  for i = 7, #ARGV, 2 do limits[ARGV[i]] = tonumber(ARGV[i + 1]) end
  local edges = redis.call('ZRANGE', KEYS[2], 0, -1)
  -- A recorded live edge node with a free seat (limit 0: no limit).
  for _, e in ipairs(edges) do
    local l = limits[e]
    if l and redis.call('EXISTS', ARGV[4] .. e) == 1 and (l == 0 or seats(e) < l) then return take(e, 1) end
  end
  -- Else the best candidate that is not an edge of the room yet.
  for i = 7, #ARGV, 2 do
    local c = ARGV[i]
    if not redis.call('ZSCORE', KEYS[2], c) then
      redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), c)
      redis.call('PEXPIRE', KEYS[2], ARGV[6])
      return take(c, 1)
    end
  end
  -- Every edge node is full: the one with the fewest of the room.
  local best, fewest = nil, nil
  for _, e in ipairs(edges) do
    if limits[e] and (not fewest or seats(e) < fewest) then best, fewest = e, seats(e) end
  end
  if best then return take(best, 1) end
end
return take(ARGV[1], 0)
"#;

/// Where a join is seated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seat {
    Home(String),
    /// On one of the room's edge nodes, relayed from `home`.
    Edge { node: String, home: String },
}

/// Seat a join of `room` whose home node is `home` (holding at most `limit` of the room; 0: no limit).
/// `viewer`: the participant cannot publish. `candidates`: the live, non-draining nodes other than `home`, best
/// first, with their own limits: a room's edge nodes fill up to their limit before another is added.
pub async fn seat(
    conn: &mut ConnectionManager,
    room: &str,
    home: &str,
    limit: u32,
    viewer: bool,
    candidates: &[(String, u32)],
) -> Result<Seat, ClusterError> {
    let script = redis::Script::new(SEAT);
    let mut invocation = script.prepare_invoke();
    invocation
        .key(seats_key(room))
        .key(edges_key(room))
        .arg(home)
        .arg(limit)
        .arg(if viewer { "1" } else { "0" })
        .arg(NODE_KEY_PREFIX)
        .arg(EXPIRY.as_millis() as u64)
        .arg(SEATS_TTL_MS);
    for (node, limit) in candidates {
        invocation.arg(node).arg(*limit);
    }
    let (node, edge): (String, u8) = invocation.invoke_async(conn).await?;
    Ok(if edge == 1 { Seat::Edge { node, home: home.to_owned() } } else { Seat::Home(node) })
}

/// An SFU node's count of a room's participants (0 removes it).
pub async fn report_seats(conn: &mut ConnectionManager, node: &str, room: &str, count: usize) -> Result<(), ClusterError> {
    let key = seats_key(room);
    let mut pipe = redis::pipe();
    if count == 0 {
        pipe.hdel(&key, node).ignore();
    } else {
        pipe.hset(&key, node, count).ignore().pexpire(&key, SEATS_TTL_MS as i64).ignore();
    }
    pipe.query_async::<()>(conn).await?;
    Ok(())
}

/// Keep `node` recorded as an edge of `rooms` (expiring [`EXPIRY`] after the last refresh); with `release`, remove
/// it.
pub async fn keep_edges(conn: &mut ConnectionManager, node: &str, rooms: &[String], release: bool) -> Result<(), ClusterError> {
    const KEEP: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  if ARGV[3] == '1' then
    redis.call('ZREM', key, ARGV[1])
  else
    redis.call('ZADD', key, now + tonumber(ARGV[2]), ARGV[1])
    redis.call('PEXPIRE', key, 60000)
  end
end
return 0
"#;
    if rooms.is_empty() {
        return Ok(());
    }
    let script = redis::Script::new(KEEP);
    let mut invocation = script.prepare_invoke();
    for room in rooms {
        invocation.key(edges_key(room));
    }
    invocation.arg(node).arg(EXPIRY.as_millis() as u64).arg(if release { "1" } else { "0" });
    invocation.invoke_async::<()>(conn).await?;
    Ok(())
}

/// A message for the home node of a relay leg (sent by the SFU node's outgoing task).
#[derive(Debug)]
pub struct ToHome {
    pub home: String,
    pub msg: ToSfu,
}

struct Leg {
    relay: ParticipantId,
    home: String,
}

/// The relay legs of an edge node, one per room.
pub struct Edges {
    node: String,
    /// Relay ids: `(1 << 62) | (node number << 40) | n`, apart from participant ids (`signaling number << 40`).
    next_id: Mutex<u64>,
    legs: Arc<Mutex<HashMap<RoomId, Leg>>>,
}

impl Edges {
    pub fn new(node: &str, number: u64) -> Edges {
        Edges { node: node.to_owned(), next_id: Mutex::new((1 << 62) | (number << 40)), legs: Arc::default() }
    }

    /// Rooms this node serves as an edge.
    pub fn rooms(&self) -> Vec<String> {
        lock(&self.legs).keys().map(|r| r.0.clone()).collect()
    }

    pub fn is_edge_of(&self, room: &RoomId) -> bool {
        lock(&self.legs).contains_key(room)
    }

    /// Open the leg of `room` from `home` unless one is open: locally, then `join` on the home node. The leg's
    /// answers go to `to_home`.
    pub fn ensure(&self, sfu: &Sfu, room: &RoomId, home: &str, to_home: &UnboundedSender<ToHome>) {
        let mut legs = lock(&self.legs);
        if legs.get(room).is_some_and(|l| l.home == home) {
            return;
        }
        if let Some(old) = legs.remove(room) {
            let _ = sfu.command(old.relay, ParticipantCommand::Leave);
        }
        let relay = {
            let mut next = lock(&self.next_id);
            *next += 1;
            ParticipantId(*next)
        };
        let tx = to_home.clone();
        let home_node = home.to_owned();
        let (all_legs, leg_room) = (self.legs.clone(), room.clone());
        let sink = Box::new(move |event: SfuEvent| {
            let msg = match event {
                SfuEvent::RelayAnswer(sdp) => {
                    ToSfu::Command { participant: relay, cmd: ParticipantCommand::SubscriberAnswer(sdp) }
                }
                // The leg is gone here: the home node lets it go too.
                SfuEvent::Closed(_) => {
                    let mut legs = lock(&all_legs);
                    if legs.get(&leg_room).is_some_and(|l| l.relay == relay) {
                        legs.remove(&leg_room);
                    }
                    ToSfu::Command { participant: relay, cmd: ParticipantCommand::Leave }
                }
                SfuEvent::Error { message, .. } => {
                    tracing::warn!(%relay, "relay leg: {message}");
                    return;
                }
                _ => return,
            };
            let _ = tx.send(ToHome { home: home_node.clone(), msg });
        });
        if let Err(e) = sfu.open_relay(room, relay, sink) {
            tracing::warn!(node = %self.node, room = %room, "cannot open a relay leg: {e}");
            return;
        }
        legs.insert(room.clone(), Leg { relay, home: home.to_owned() });
        tracing::info!(node = %self.node, room = %room, %home, %relay, "relay leg opening");
        metrics::counter!("plenum_cluster_cascade_legs_opened_total").increment(1);
        let join = ToSfu::Join { room: room.clone(), participant: relay, reply_to: self.node.clone(), home: None };
        let _ = to_home.send(ToHome { home: home.to_owned(), msg: join });
    }

    /// The room's last viewer here left: close its leg (the leg's `Closed` tells the home node).
    pub fn close(&self, sfu: &Sfu, room: &RoomId) {
        if let Some(leg) = lock(&self.legs).remove(room) {
            tracing::info!(node = %self.node, room = %room, relay = %leg.relay, "relay leg closing: no viewers left");
            let _ = sfu.command(leg.relay, ParticipantCommand::Leave);
        }
    }

    /// An event of the home node for one of the legs (from `plenum:sig:{this node}:in`).
    pub fn from_home(&self, sfu: &Sfu, relay: ParticipantId, event: SfuEvent) {
        let room = lock(&self.legs).iter().find(|(_, l)| l.relay == relay).map(|(r, _)| r.clone());
        let Some(room) = room else { return };
        match event {
            SfuEvent::SubscriberOffer(sdp) => {
                if let Err(e) = sfu.command(relay, ParticipantCommand::RelayOffer(sdp)) {
                    tracing::warn!(%relay, "relay offer not applied: {e}");
                }
            }
            SfuEvent::Closed(reason) => {
                if !matches!(reason, CloseReason::Left) {
                    tracing::warn!(%relay, room = %room, ?reason, "the home node dropped the relay leg");
                }
                lock(&self.legs).remove(&room);
                let _ = sfu.command(relay, ParticipantCommand::Leave);
            }
            _ => {}
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

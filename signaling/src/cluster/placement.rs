//! Room → SFU node records, set atomically in Redis (Lua scripts run alone), so concurrent first joins through
//! different signaling nodes end on the same node.
//!
//! - [`place`]: the room's recorded node if it is still registered; otherwise record the candidate (the node with
//!   the most headroom, picked by the caller) and return it. A record whose node's registration has expired is
//!   replaced: that is how the rooms of a dead node move. A new placement counts in `plenum:node:{id}:recent`
//!   (expires [`super::nodes::RATE_WINDOW`] after the last one), see [`super::nodes::NEW_ROOM_COST`].
//! - The SFU node hosting a room refreshes its record every heartbeat ([`refresh`]) and deletes it when the room's
//!   last participant leaves ([`release`]); without refreshes it expires after [`super::EXPIRY`].

use redis::aio::ConnectionManager;

use super::{ClusterError, EXPIRY, NODE_KEY_PREFIX, room_key};

/// Whether [`place`] found the room placed or placed it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Recorded before on this live node.
    Existing(String),
    /// Placed on the candidate now (`replaced`: the old record pointed at a node that is gone).
    New { node: String, replaced: bool },
}

impl Placed {
    pub fn node(&self) -> &str {
        match self {
            Placed::Existing(node) | Placed::New { node, .. } => node,
        }
    }
}

const PLACE: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur and redis.call('EXISTS', ARGV[3] .. cur) == 1 then
  return {cur, 0}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if cur then return {ARGV[1], 2} end
return {ARGV[1], 1}
"#;

const REFRESH: &str = r#"
for i, key in ipairs(KEYS) do
  local cur = redis.call('GET', key)
  if not cur or cur == ARGV[1] then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  end
end
return 0
"#;

const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// The room's node: the recorded one if alive, else `candidate` (recorded now).
pub async fn place(conn: &mut ConnectionManager, room: &str, candidate: &str) -> Result<Placed, ClusterError> {
    let (node, how): (String, u8) = redis::Script::new(PLACE)
        .key(room_key(room))
        .key(super::nodes::recent_key(candidate))
        .arg(candidate)
        .arg(EXPIRY.as_millis() as u64)
        .arg(NODE_KEY_PREFIX)
        .arg(super::nodes::RATE_WINDOW.as_millis() as u64)
        .invoke_async(conn)
        .await?;
    Ok(match how {
        0 => Placed::Existing(node),
        n => Placed::New { node, replaced: n == 2 },
    })
}

/// The recorded node of a room, if any (alive or not).
pub async fn recorded(conn: &mut ConnectionManager, room: &str) -> Result<Option<String>, ClusterError> {
    Ok(redis::cmd("GET").arg(room_key(room)).query_async(conn).await?)
}

/// Keep the records of `rooms` pointing at `node` (where nobody else took them over).
pub async fn refresh(conn: &mut ConnectionManager, node: &str, rooms: &[String]) -> Result<(), ClusterError> {
    if rooms.is_empty() {
        return Ok(());
    }
    let script = redis::Script::new(REFRESH);
    let mut invocation = script.prepare_invoke();
    for room in rooms {
        invocation.key(room_key(room));
    }
    invocation.arg(node).arg(EXPIRY.as_millis() as u64);
    invocation.invoke_async::<()>(conn).await?;
    Ok(())
}

/// Delete the room's record if it still points at `node`.
pub async fn release(conn: &mut ConnectionManager, node: &str, room: &str) -> Result<(), ClusterError> {
    redis::Script::new(RELEASE).key(room_key(room)).arg(node).invoke_async::<()>(conn).await?;
    Ok(())
}

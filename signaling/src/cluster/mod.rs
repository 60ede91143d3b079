//! Scale-out through Redis: SFU nodes register themselves ([`nodes`]), the first join of a room places it on the
//! node with the most headroom ([`placement`]), signaling drives remote SFU nodes through per-node Redis streams
//! ([`remote`] on the signaling side, [`sfu_node`] on the media side, messages in [`wire`]); signaling nodes share
//! rooms through per-room logs ([`rooms`]).
//!
//! Without a Redis URL none of this runs: the server drives its in-process SFU directly, as before.
//!
//! Keys (all under `plenum:`; see `docs/operations.md`, "Cluster"):
//! - `plenum:node:{id}`: the node's registration (JSON [`nodes::NodeInfo`]), expires 5 s after the last heartbeat;
//! - `plenum:nodes`: the set of node ids ever registered (entries without a live registration are skipped);
//! - `plenum:room:{room}:node`: the room's SFU node, refreshed by that node while the room has participants;
//! - `plenum:sfu:{id}:in`: stream of commands to an SFU node; `plenum:sig:{id}:in`: stream of events to a
//!   signaling node;
//! - `plenum:room:{room}:log`: the room's changes, shared by the signaling nodes ([`rooms`]);
//! - `plenum:signaling:{id}`: a signaling node's heartbeat (5 s expiry);
//! - `plenum:room:{room}:seats`, `plenum:room:{room}:edges`: cascading ([`cascade`]);
//! - `plenum:seq:sfu`, `plenum:seq:signaling`: counters that number the nodes.

pub mod cascade;
pub mod nodes;
pub mod placement;
pub mod remote;
pub mod rooms;
pub mod sfu_main;
pub mod sfu_node;
pub mod wire;

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// How often an SFU node refreshes its registration and room records.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long a registration or room record lives without a refresh.
pub const EXPIRY: Duration = Duration::from_secs(5);
/// Response timeout of the connections that block in `XREAD` (at most [`HEARTBEAT`]).
const BLOCKING_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Streams are trimmed to about this many entries.
const STREAM_MAXLEN: usize = 10_000;
/// Streams of nodes that are gone expire after this long without a write.
const STREAM_TTL: Duration = Duration::from_secs(600);

/// What a `plenum serve` with Redis runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Role {
    /// Signaling and an SFU node in one process (the default).
    #[default]
    Both,
    /// Signaling only: media goes to `plenum sfu` nodes.
    Signaling,
}

/// Cluster settings of a server.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub redis_url: String,
    pub role: Role,
    /// Zone label of this node (placement prefers SFU nodes of the signaling node's zone).
    pub zone: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("bad Redis URL: {0}")]
    Url(redis::RedisError),
    #[error("cannot reach Redis: {0}")]
    Connect(redis::RedisError),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("no SFU node is registered (start `plenum sfu --redis-url ...`)")]
    NoNode,
    #[error("cannot encode a cluster message: {0}")]
    Encode(#[from] serde_json::Error),
}

/// A Redis connection that reconnects by itself, and a client for dedicated (blocking) connections.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    pub conn: ConnectionManager,
}

impl Redis {
    pub async fn connect(url: &str) -> Result<Redis, ClusterError> {
        let client = redis::Client::open(url).map_err(ClusterError::Url)?;
        let conn = ConnectionManager::new(client.clone()).await.map_err(ClusterError::Connect)?;
        Ok(Redis { client, conn })
    }

    /// A connection of its own, for blocking reads (`XREAD BLOCK`) that must not hold up other commands. Its
    /// response timeout is longer than any block (the client's default, 500 ms, would cut idle reads short).
    pub async fn dedicated(&self) -> Result<ConnectionManager, ClusterError> {
        let config = redis::aio::ConnectionManagerConfig::new().set_response_timeout(Some(BLOCKING_READ_TIMEOUT));
        ConnectionManager::new_with_config(self.client.clone(), config).await.map_err(ClusterError::Connect)
    }

    /// The next number of a node counter (`kind`: `sfu` or `signaling`).
    pub async fn next_number(&self, kind: &str) -> Result<u64, ClusterError> {
        let mut conn = self.conn.clone();
        Ok(conn.incr(format!("plenum:seq:{kind}"), 1u64).await?)
    }
}

pub fn node_key(id: &str) -> String {
    format!("plenum:node:{id}")
}

pub const NODE_KEY_PREFIX: &str = "plenum:node:";
pub const NODES_SET: &str = "plenum:nodes";

pub fn room_key(room: &str) -> String {
    format!("plenum:room:{room}:node")
}

pub fn sfu_inbox(node: &str) -> String {
    format!("plenum:sfu:{node}:in")
}

pub fn signaling_inbox(node: &str) -> String {
    format!("plenum:sig:{node}:in")
}

/// Append one JSON message to a stream (trimmed, expiring when nobody writes any more).
pub async fn xadd_json<T: serde::Serialize>(
    conn: &mut ConnectionManager,
    stream: &str,
    msg: &T,
) -> Result<(), ClusterError> {
    let body = serde_json::to_string(msg)?;
    redis::pipe()
        .cmd("XADD")
        .arg(stream)
        .arg("MAXLEN")
        .arg("~")
        .arg(STREAM_MAXLEN)
        .arg("*")
        .arg("m")
        .arg(body)
        .ignore()
        .expire(stream, STREAM_TTL.as_secs() as i64)
        .ignore()
        .query_async::<()>(conn)
        .await?;
    Ok(())
}

/// Read a stream from `last` on, blocking up to `block`: (id, JSON body) in order.
pub async fn xread(
    conn: &mut ConnectionManager,
    stream: &str,
    last: &str,
    block: Duration,
) -> Result<Vec<(String, String)>, ClusterError> {
    let opts = redis::streams::StreamReadOptions::default().block(block.as_millis() as usize).count(500);
    let reply: Option<redis::streams::StreamReadReply> = conn.xread_options(&[stream], &[last], &opts).await?;
    let mut out = Vec::new();
    for key in reply.map(|r| r.keys).unwrap_or_default() {
        for entry in key.ids {
            if let Some(body) = entry.get::<String>("m") {
                out.push((entry.id.clone(), body));
            }
        }
    }
    Ok(out)
}

/// The id of a stream's newest entry (`0-0` when empty): read from there to see only what comes next.
pub async fn stream_end(conn: &mut ConnectionManager, stream: &str) -> Result<String, ClusterError> {
    let reply: redis::streams::StreamRangeReply = conn.xrevrange_count(stream, "+", "-", 1).await?;
    Ok(reply.ids.first().map_or_else(|| "0-0".to_owned(), |e| e.id.clone()))
}

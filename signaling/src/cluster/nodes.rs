//! The SFU node registry: each node writes its [`NodeInfo`] under `plenum:node:{id}` every second with a 5 s expiry;
//! readers list the live ones and rank them by [`NodeInfo::headroom`].

use std::net::SocketAddr;
use std::time::Instant;

use plenum_sfu::SfuLoad;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use super::{ClusterError, EXPIRY, NODES_SET, node_key};

/// Forwarded packets per second one worker (core) carries at full load: about 20 µs of CPU per forwarded packet
/// with SRTP and congestion control (`docs/performance.md`).
pub const PACKETS_PER_WORKER: f64 = 50_000.0;
/// What a room placed in the last few seconds is assumed to cost (workers), until the node's measured load shows
/// it: without it, every room placed within one heartbeat would go to the same node.
pub const NEW_ROOM_COST: f64 = 0.1;

/// What an SFU node tells the cluster about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: String,
    /// The UDP addresses its workers advertise.
    pub media_addrs: Vec<SocketAddr>,
    /// Capacity: worker threads (one per core).
    pub workers: usize,
    /// Cores' worth of CPU its workers used over the last few seconds (0..=workers).
    pub cpu: f64,
    /// RTP packets forwarded per second over the last few seconds.
    pub packets_per_sec: f64,
    pub participants: u64,
    pub rooms: u64,
    pub zone: Option<String>,
    /// A draining node takes no new room.
    pub draining: bool,
    /// Cascading: receive-only joins beyond this many participants of one room on this node (its home) go to
    /// an edge node (0: never).
    #[serde(default)]
    pub cascade_after: u32,
    /// Rooms placed on it in the last few seconds (read from `plenum:node:{id}:recent`, not part of the
    /// registration).
    #[serde(default, skip_serializing)]
    pub recent_rooms: u64,
}

impl NodeInfo {
    /// Free capacity in workers' worth: the smaller of what CPU and packet rate leave (never negative).
    pub fn headroom(&self) -> f64 {
        let workers = self.workers.max(1) as f64;
        let by_cpu = workers - self.cpu;
        let by_packets = workers - self.packets_per_sec / PACKETS_PER_WORKER;
        by_cpu.min(by_packets).max(0.0)
    }

    /// Headroom less the assumed cost of the rooms placed here in the last few seconds (may be negative).
    pub fn placement_headroom(&self) -> f64 {
        self.headroom() - self.recent_rooms as f64 * NEW_ROOM_COST
    }
}

pub fn recent_key(id: &str) -> String {
    format!("plenum:node:{id}:recent")
}

/// The node a new room goes to: not draining, in `zone` if any such node is live, most
/// [`NodeInfo::placement_headroom`] (ties: fewer participants, then id).
pub fn pick<'a>(nodes: &'a [NodeInfo], zone: Option<&str>) -> Option<&'a NodeInfo> {
    let open = nodes.iter().filter(|n| !n.draining);
    let in_zone: Vec<&NodeInfo> = open.clone().filter(|n| zone.is_some() && n.zone.as_deref() == zone).collect();
    let pool: Vec<&NodeInfo> = if in_zone.is_empty() { open.collect() } else { in_zone };
    pool.into_iter().max_by(|a, b| {
        a.placement_headroom()
            .total_cmp(&b.placement_headroom())
            .then(b.participants.cmp(&a.participants))
            .then(b.id.cmp(&a.id))
    })
}

/// Turns the SFU's monotonic counters into rates over the last [`RATE_WINDOW`]. The workers store their counters
/// about once a second, on their own clocks: a window of several seconds keeps heartbeats that fall between two
/// such flushes from reading as idle.
#[derive(Debug, Default)]
pub struct LoadRates {
    samples: std::collections::VecDeque<(Instant, SfuLoad)>,
}

/// Window of [`LoadRates`].
pub const RATE_WINDOW: std::time::Duration = std::time::Duration::from_secs(3);

impl LoadRates {
    /// (cores of CPU, packets/s) from the oldest sample in the window to this one (zeros on the first call).
    pub fn update(&mut self, now: Instant, load: SfuLoad) -> (f64, f64) {
        let expired = |at: &Instant| now.saturating_duration_since(*at) >= RATE_WINDOW;
        // Keep the newest sample that is at least a window old as the base.
        while self.samples.get(1).is_some_and(|(at, _)| expired(at)) {
            self.samples.pop_front();
        }
        let rates = match self.samples.front() {
            Some((at, prev)) => {
                let secs = now.saturating_duration_since(*at).as_secs_f64();
                if secs <= 0.0 {
                    (0.0, 0.0)
                } else {
                    let cpu = (load.cpu_seconds - prev.cpu_seconds).max(0.0) / secs;
                    let pps = load.packets_forwarded.saturating_sub(prev.packets_forwarded) as f64 / secs;
                    (cpu, pps)
                }
            }
            None => (0.0, 0.0),
        };
        self.samples.push_back((now, load));
        rates
    }
}

/// Write (or refresh) a registration.
pub async fn register(conn: &mut ConnectionManager, info: &NodeInfo) -> Result<(), ClusterError> {
    let body = serde_json::to_string(info)?;
    redis::pipe()
        .set_ex(node_key(&info.id), body, EXPIRY.as_secs())
        .ignore()
        .sadd(NODES_SET, &info.id)
        .ignore()
        .query_async::<()>(conn)
        .await?;
    Ok(())
}

/// Remove a registration at once (clean shutdown).
pub async fn deregister(conn: &mut ConnectionManager, id: &str) -> Result<(), ClusterError> {
    redis::pipe().del(node_key(id)).ignore().srem(NODES_SET, id).ignore().query_async::<()>(conn).await?;
    Ok(())
}

/// The live nodes (registrations that have not expired); ids whose registration is gone leave the set.
pub async fn live(conn: &mut ConnectionManager) -> Result<Vec<NodeInfo>, ClusterError> {
    let ids: Vec<String> = conn.smembers(NODES_SET).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = ids.iter().map(|id| node_key(id)).chain(ids.iter().map(|id| recent_key(id))).collect();
    let values: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(conn).await?;
    let (infos, recent) = values.split_at(ids.len());
    let mut nodes = Vec::new();
    let mut gone = Vec::new();
    for ((id, value), recent) in ids.into_iter().zip(infos).zip(recent) {
        match value.as_deref().and_then(|v| serde_json::from_str::<NodeInfo>(v).ok()) {
            Some(mut info) => {
                info.recent_rooms = recent.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0);
                nodes.push(info)
            }
            None => gone.push(id),
        }
    }
    if !gone.is_empty() {
        let _: Result<(), _> = conn.srem(NODES_SET, gone).await;
    }
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, workers: usize, cpu: f64, pps: f64) -> NodeInfo {
        NodeInfo {
            id: id.into(),
            media_addrs: vec![],
            workers,
            cpu,
            packets_per_sec: pps,
            participants: 0,
            rooms: 0,
            zone: None,
            draining: false,
            cascade_after: 0,
            recent_rooms: 0,
        }
    }

    #[test]
    fn headroom_is_the_tighter_of_cpu_and_packets() {
        assert_eq!(node("a", 2, 0.0, 0.0).headroom(), 2.0);
        assert_eq!(node("a", 2, 0.5, 0.0).headroom(), 1.5);
        assert_eq!(node("a", 2, 0.1, 75_000.0).headroom(), 0.5);
        assert_eq!(node("a", 1, 1.3, 0.0).headroom(), 0.0, "never negative");
    }

    #[test]
    fn pick_prefers_headroom_skips_draining_and_keeps_to_the_zone() {
        let mut nodes = vec![node("busy", 2, 1.5, 10_000.0), node("idle", 2, 0.1, 100.0), node("big", 4, 3.9, 0.0)];
        assert_eq!(pick(&nodes, None).unwrap().id, "idle");
        nodes[1].draining = true;
        assert_eq!(pick(&nodes, None).unwrap().id, "busy");
        nodes[0].zone = Some("b".into());
        nodes[2].zone = Some("a".into());
        assert_eq!(pick(&nodes, Some("a")).unwrap().id, "big", "the zone first");
        assert_eq!(pick(&nodes, Some("x")).unwrap().id, "busy", "no node in the zone: any");
        assert!(pick(&[], None).is_none());
    }

    #[test]
    fn rooms_placed_a_moment_ago_count_until_the_load_shows_them() {
        let mut nodes = vec![node("a", 1, 0.0, 0.0), node("b", 1, 0.05, 0.0)];
        assert_eq!(pick(&nodes, None).unwrap().id, "a");
        nodes[0].recent_rooms = 1;
        assert_eq!(pick(&nodes, None).unwrap().id, "b", "a burst of new rooms spreads");
        nodes[1].recent_rooms = 1;
        assert_eq!(pick(&nodes, None).unwrap().id, "a");
        let text = serde_json::to_string(&nodes[0]).unwrap();
        assert!(!text.contains("recent"), "not part of the registration: {text}");
    }

    #[test]
    fn rates_from_counters() {
        let mut rates = LoadRates::default();
        let t0 = Instant::now();
        let load =
            |cpu, fwd| SfuLoad { workers: 1, cpu_seconds: cpu, packets_forwarded: fwd, participants: 0, rooms: 0 };
        assert_eq!(rates.update(t0, load(1.0, 100)), (0.0, 0.0));
        let (cpu, pps) = rates.update(t0 + std::time::Duration::from_secs(2), load(2.0, 2100));
        assert!((cpu - 0.5).abs() < 1e-9 && (pps - 1000.0).abs() < 1e-9, "{cpu} {pps}");
        // A heartbeat between two flushes (same counters) still shows the rate over the window.
        let (cpu, pps) = rates.update(t0 + std::time::Duration::from_secs(3), load(2.0, 2100));
        assert!(cpu > 0.3 && pps > 600.0, "{cpu} {pps}");
        // Older samples leave the window.
        let (_, pps) = rates.update(t0 + std::time::Duration::from_secs(10), load(2.0, 2100));
        assert_eq!(pps, 0.0);
    }
}

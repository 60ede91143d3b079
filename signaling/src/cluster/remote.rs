//! The signaling side of a cluster: [`RemoteMedia`] implements [`Media`] for SFU nodes reached through Redis.
//!
//! A join places the room (see [`super::placement`]) and then sends `join` and every later command of that
//! participant, in order, to the node's stream; one task per participant keeps that order while placement waits
//! for Redis. Events come back on this signaling node's stream and go to the participant's sink. Once a second the
//! live nodes are read: their load goes into the metrics, and the participants of a node whose registration has
//! expired get `Closed(MediaLost)` (their clients join again and the room is placed on a live node).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use metrics::{counter, gauge};
use plenum_sfu::{CloseReason, EventSink, ParticipantCommand, ParticipantId, RoomId, SfuError, SfuEvent};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::cascade::{self, Seat};
use super::nodes::{self, NodeInfo};
use super::placement::{self, Placed};
use super::wire::{ToSfu, ToSignaling};
use super::{ClusterError, HEARTBEAT, Redis, sfu_inbox, signaling_inbox, xadd_json, xread};
use crate::media::Media;

struct Entry {
    ops: UnboundedSender<ParticipantCommand>,
    sink: EventSink,
    /// The SFU node, once placed.
    node: Option<String>,
    /// Seated on an edge node (cascading): the room's home node it relays from.
    home: Option<String>,
}

struct Inner {
    /// This signaling node's id (`sig-N`).
    id: String,
    redis: Redis,
    zone: Option<String>,
    runtime: tokio::runtime::Handle,
    participants: Mutex<HashMap<ParticipantId, Entry>>,
}

/// [`Media`] over Redis.
#[derive(Clone)]
pub struct RemoteMedia {
    inner: Arc<Inner>,
    tasks: Arc<Vec<JoinHandle<()>>>,
}

impl RemoteMedia {
    /// Start reading this node's event stream and watching the SFU nodes. `id` names this signaling node.
    pub async fn start(redis: Redis, id: String, zone: Option<String>) -> Result<RemoteMedia, ClusterError> {
        let inbox = redis.dedicated().await?;
        let inner = Arc::new(Inner {
            id,
            redis,
            zone,
            runtime: tokio::runtime::Handle::current(),
            participants: Mutex::default(),
        });
        let tasks = vec![tokio::spawn(dispatch(inner.clone(), inbox)), tokio::spawn(watch_nodes(inner.clone()))];
        Ok(RemoteMedia { inner, tasks: Arc::new(tasks) })
    }

    /// For `/readyz`: Redis answers and at least one SFU node takes new rooms.
    pub async fn check_ready(&self) -> Result<(), String> {
        let mut conn = self.inner.redis.conn.clone();
        let live = nodes::live(&mut conn).await.map_err(|e| format!("Redis: {e}"))?;
        if live.iter().any(|n| !n.draining) {
            Ok(())
        } else {
            Err(format!("no SFU node takes new rooms ({} live, all draining)", live.len()))
        }
    }

    /// Stop the background tasks.
    pub fn stop(&self) {
        for task in self.tasks.iter() {
            task.abort();
        }
    }
}

impl RemoteMedia {
    fn join_as(&self, room: &RoomId, participant: ParticipantId, sink: EventSink, viewer: bool) -> Result<(), SfuError> {
        let (ops, rx) = unbounded_channel();
        {
            let mut parts = lock(&self.inner.participants);
            if parts.contains_key(&participant) {
                return Err(SfuError::AlreadyJoined(participant));
            }
            parts.insert(participant, Entry { ops, sink, node: None, home: None });
        }
        self.inner.runtime.spawn(drive(self.inner.clone(), room.clone(), participant, viewer, rx));
        Ok(())
    }
}

impl Media for RemoteMedia {
    fn join(&self, room: &RoomId, participant: ParticipantId, sink: EventSink) -> Result<(), SfuError> {
        self.join_as(room, participant, sink, false)
    }

    fn join_viewer(&self, room: &RoomId, participant: ParticipantId, sink: EventSink) -> Result<(), SfuError> {
        self.join_as(room, participant, sink, true)
    }

    fn command(&self, participant: ParticipantId, cmd: ParticipantCommand) -> Result<(), SfuError> {
        let parts = lock(&self.inner.participants);
        let entry = parts.get(&participant).ok_or(SfuError::UnknownParticipant(participant))?;
        entry.ops.send(cmd).map_err(|_| SfuError::UnknownParticipant(participant))
    }
}

impl Inner {
    /// Hand an event to the participant's sink; its last event (`Closed`) forgets it.
    fn deliver(&self, participant: ParticipantId, event: SfuEvent) {
        let mut parts = lock(&self.participants);
        let closed = matches!(event, SfuEvent::Closed(_));
        if let Some(entry) = parts.get_mut(&participant) {
            (entry.sink)(event);
        }
        if closed {
            parts.remove(&participant);
        }
    }

    /// The node of a join: the room's home node (as recorded if that node lives, else the live, non-draining node
    /// with the most headroom), or for a `viewer` beyond the home node's `cascade_after` the room's edge node
    /// (`Some(home)` with it).
    async fn place(&self, room: &RoomId, viewer: bool) -> Result<(String, Option<String>), ClusterError> {
        let mut conn = self.redis.conn.clone();
        let live = nodes::live(&mut conn).await?;
        let home = self.place_home(room, &live, &mut conn).await?;
        let limit = live.iter().find(|n| n.id == home).map_or(0, |n| n.cascade_after);
        let mut others: Vec<NodeInfo> = live.iter().filter(|n| n.id != home && !n.draining).cloned().collect();
        let mut candidates = Vec::with_capacity(others.len());
        while let Some(best) = nodes::pick(&others, self.zone.as_deref()).map(|n| n.id.clone()) {
            others.retain(|n| {
                if n.id == best {
                    candidates.push((n.id.clone(), n.cascade_after));
                }
                n.id != best
            });
        }
        match cascade::seat(&mut conn, &room.0, &home, limit, viewer, &candidates).await? {
            Seat::Home(node) => Ok((node, None)),
            Seat::Edge { node, home } => {
                counter!("plenum_cluster_cascade_seats_total", "node" => node.clone()).increment(1);
                Ok((node, Some(home)))
            }
        }
    }

    async fn place_home(&self, room: &RoomId, live: &[NodeInfo], conn: &mut redis::aio::ConnectionManager) -> Result<String, ClusterError> {
        let candidate = nodes::pick(live, self.zone.as_deref()).map(|n| n.id.clone());
        let placed = match candidate {
            Some(candidate) => placement::place(conn, &room.0, &candidate).await?,
            // Every node drains: a room that runs somewhere may still get newcomers.
            None => match placement::recorded(conn, &room.0).await? {
                Some(node) if live.iter().any(|n| n.id == node) => Placed::Existing(node),
                _ => return Err(ClusterError::NoNode),
            },
        };
        let outcome = match &placed {
            Placed::Existing(_) => "existing",
            Placed::New { replaced: false, .. } => "new",
            Placed::New { replaced: true, .. } => "replaced",
        };
        counter!("plenum_cluster_placements_total", "node" => placed.node().to_owned(), "outcome" => outcome)
            .increment(1);
        if !matches!(placed, Placed::Existing(_)) {
            tracing::info!(room = %room, node = placed.node(), outcome, "room placed");
        }
        Ok(placed.node().to_owned())
    }
}

/// One participant: place its room, then send `join` and its commands in order.
async fn drive(
    inner: Arc<Inner>,
    room: RoomId,
    participant: ParticipantId,
    viewer: bool,
    mut ops: UnboundedReceiver<ParticipantCommand>,
) {
    let (node, home) = match inner.place(&room, viewer).await {
        Ok(node) => node,
        Err(e) => {
            tracing::warn!(%participant, room = %room, "cannot place the room: {e}");
            inner.deliver(participant, SfuEvent::Closed(CloseReason::Isolated(format!("no media node: {e}"))));
            return;
        }
    };
    if let Some(entry) = lock(&inner.participants).get_mut(&participant) {
        entry.node = Some(node.clone());
        entry.home = home.clone();
    } else {
        return;
    }
    let stream = sfu_inbox(&node);
    let mut conn = inner.redis.conn.clone();
    let mut msg = ToSfu::Join { room, participant, reply_to: inner.id.clone(), home };
    loop {
        let leave = matches!(msg, ToSfu::Command { cmd: ParticipantCommand::Leave, .. });
        if let Err(e) = xadd_json(&mut conn, &stream, &msg).await {
            tracing::warn!(%participant, %node, "cannot reach the media node: {e}");
            inner.deliver(participant, SfuEvent::Closed(CloseReason::MediaLost));
            return;
        }
        if leave {
            return;
        }
        match ops.recv().await {
            Some(cmd) => msg = ToSfu::Command { participant, cmd },
            None => return,
        }
    }
}

/// Events from SFU nodes to this node's participants.
async fn dispatch(inner: Arc<Inner>, mut conn: redis::aio::ConnectionManager) {
    let stream = signaling_inbox(&inner.id);
    let mut last = "0-0".to_owned();
    loop {
        match xread(&mut conn, &stream, &last, HEARTBEAT).await {
            Ok(entries) => {
                for (id, body) in entries {
                    last = id;
                    match serde_json::from_str::<ToSignaling>(&body) {
                        Ok(ToSignaling { participant, node, event }) => {
                            let event = match event {
                                // A remote node that stops: its rooms go on elsewhere.
                                SfuEvent::Closed(CloseReason::Shutdown) => SfuEvent::Closed(CloseReason::MediaLost),
                                other => other,
                            };
                            let current = lock(&inner.participants).get(&participant).and_then(|e| e.node.clone());
                            if current.as_deref() == Some(node.as_str()) {
                                inner.deliver(participant, event);
                            }
                        }
                        Err(e) => tracing::warn!("bad message in {stream}: {e}"),
                    }
                }
            }
            Err(e) => {
                tracing::warn!("reading {stream}: {e}");
                tokio::time::sleep(HEARTBEAT).await;
            }
        }
    }
}

/// Once a second: node metrics, and participants on nodes that are gone are told.
async fn watch_nodes(inner: Arc<Inner>) {
    let mut conn = inner.redis.conn.clone();
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = HashSet::new();
    loop {
        tick.tick().await;
        let live = match nodes::live(&mut conn).await {
            Ok(live) => live,
            Err(e) => {
                tracing::warn!("cannot read the SFU nodes: {e}");
                continue;
            }
        };
        record_node_metrics(&live, &mut seen);
        let alive: HashSet<&str> = live.iter().map(|n| n.id.as_str()).collect();
        let lost: Vec<(ParticipantId, String, Option<String>)> = lock(&inner.participants)
            .iter()
            .filter_map(|(id, e)| {
                // On an edge node, losing the home node loses the media too: join again (the room is re-placed).
                let gone = e.node.iter().chain(e.home.iter()).find(|n| !alive.contains(n.as_str()))?;
                let edge = e.node.clone().filter(|n| n != gone);
                Some((*id, gone.clone(), edge))
            })
            .collect();
        for (participant, node, edge) in lost {
            tracing::warn!(%participant, %node, "media node lost");
            counter!("plenum_cluster_media_lost_total").increment(1);
            inner.deliver(participant, SfuEvent::Closed(CloseReason::MediaLost));
            // The edge node still runs: it lets the participant go.
            if let Some(edge) = edge {
                let leave = ToSfu::Command { participant, cmd: ParticipantCommand::Leave };
                if let Err(e) = xadd_json(&mut conn, &sfu_inbox(&edge), &leave).await {
                    tracing::warn!(%participant, %edge, "cannot tell the edge node: {e}");
                }
            }
        }
    }
}

/// Gauges per live node; a node that went away (in `seen` before) drops to zero.
fn record_node_metrics(live: &[NodeInfo], seen: &mut HashSet<String>) {
    gauge!("plenum_cluster_nodes").set(live.len() as f64);
    let now: HashSet<String> = live.iter().map(|n| n.id.clone()).collect();
    for gone in seen.difference(&now) {
        for name in [
            "plenum_cluster_node_headroom",
            "plenum_cluster_node_cpu",
            "plenum_cluster_node_packets_per_second",
            "plenum_cluster_node_participants",
            "plenum_cluster_node_workers",
            "plenum_cluster_node_draining",
        ] {
            gauge!(name, "node" => gone.clone()).set(0.0);
        }
    }
    *seen = now;
    for n in live {
        let node = n.id.clone();
        gauge!("plenum_cluster_node_headroom", "node" => node.clone()).set(n.headroom());
        gauge!("plenum_cluster_node_cpu", "node" => node.clone()).set(n.cpu);
        gauge!("plenum_cluster_node_packets_per_second", "node" => node.clone()).set(n.packets_per_sec);
        gauge!("plenum_cluster_node_participants", "node" => node.clone()).set(n.participants as f64);
        gauge!("plenum_cluster_node_workers", "node" => node.clone()).set(n.workers as f64);
        gauge!("plenum_cluster_node_draining", "node" => node).set(if n.draining { 1.0 } else { 0.0 });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

//! The media side of a cluster: an [`Sfu`] driven through Redis. It registers itself (heartbeat every second with
//! its load), reads commands from its stream `plenum:sfu:{id}:in`, sends each participant's events to the stream
//! of the signaling node that joined it, keeps the records of the rooms it hosts alive and releases them when they
//! empty. As a cascading edge it also runs the rooms' relay legs ([`super::cascade`]).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use metrics::{counter, gauge};
use plenum_sfu::{CloseReason, ErrorCode, ParticipantCommand, ParticipantId, RoomId, Sfu, SfuEvent};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::cascade::{self, Edges, ToHome};
use super::nodes::{self, LoadRates, NodeInfo};
use super::wire::{ToSfu, ToSignaling};
use super::{ClusterError, HEARTBEAT, Redis, placement, sfu_inbox, signaling_inbox, xadd_json, xread};

/// A participant's event on its way to its signaling node.
struct Outgoing {
    reply_to: String,
    room: RoomId,
    participant: ParticipantId,
    event: SfuEvent,
}

struct Inner {
    id: String,
    sfu: Sfu,
    redis: Redis,
    zone: Option<String>,
    /// See [`NodeInfo::cascade_after`].
    cascade_after: u32,
    edges: Edges,
    draining: AtomicBool,
    /// Rooms hosted here and their participants.
    rooms: Mutex<HashMap<RoomId, HashSet<ParticipantId>>>,
    /// Where each participant's events go.
    reply_to: Mutex<HashMap<ParticipantId, String>>,
}

/// A running SFU node. [`SfuNode::stop`] deregisters it.
pub struct SfuNode {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

impl SfuNode {
    /// Number the node, register it and start serving its stream.
    /// `cascade_after`: see [`NodeInfo::cascade_after`].
    pub async fn start(redis: Redis, sfu: Sfu, zone: Option<String>, cascade_after: u32) -> Result<SfuNode, ClusterError> {
        let number = redis.next_number("sfu").await?;
        let id = format!("sfu-{number}");
        let inner = Arc::new(Inner {
            edges: Edges::new(&id, number),
            id,
            sfu,
            redis,
            zone,
            cascade_after,
            draining: AtomicBool::new(false),
            rooms: Mutex::default(),
            reply_to: Mutex::default(),
        });
        let mut rates = LoadRates::default();
        let mut conn = inner.redis.conn.clone();
        nodes::register(&mut conn, &inner.info(&mut rates)).await?;
        let inbox_conn = inner.redis.dedicated().await?;
        let relay_conn = inner.redis.dedicated().await?;
        let (events_tx, events_rx) = unbounded_channel();
        let (home_tx, home_rx) = unbounded_channel();
        let tasks = vec![
            tokio::spawn(serve_inbox(inner.clone(), inbox_conn, events_tx, home_tx)),
            tokio::spawn(send_events(inner.clone(), events_rx)),
            tokio::spawn(serve_relay_events(inner.clone(), relay_conn)),
            tokio::spawn(send_to_home(inner.clone(), home_rx)),
            tokio::spawn(heartbeat(inner.clone(), rates)),
        ];
        tracing::info!(node = %inner.id, media = ?inner.sfu.media_addrs(), "SFU node registered");
        Ok(SfuNode { inner, tasks })
    }

    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Take no new rooms (running ones go on). Written with the next heartbeat.
    pub fn set_draining(&self) {
        self.inner.draining.store(true, Ordering::Relaxed);
    }

    /// Rooms with participants on this node.
    pub fn room_count(&self) -> usize {
        lock(&self.inner.rooms).len()
    }

    /// Stop serving and remove the registration (the rooms' records expire or are re-placed).
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        let mut conn = self.inner.redis.conn.clone();
        if let Err(e) = nodes::deregister(&mut conn, &self.inner.id).await {
            tracing::warn!(node = %self.inner.id, "cannot deregister: {e}");
        }
    }
}

impl Drop for SfuNode {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Inner {
    fn info(&self, rates: &mut LoadRates) -> NodeInfo {
        let load = self.sfu.load();
        let (cpu, packets_per_sec) = rates.update(Instant::now(), load);
        NodeInfo {
            id: self.id.clone(),
            media_addrs: self.sfu.media_addrs(),
            workers: load.workers,
            cpu,
            packets_per_sec,
            participants: load.participants,
            rooms: load.rooms,
            zone: self.zone.clone(),
            draining: self.draining.load(Ordering::Relaxed),
            cascade_after: self.cascade_after,
            recent_rooms: 0,
        }
    }

    /// Apply one message; a join returns its room and whether this node hosts it (not an edge of it).
    fn handle(&self, msg: ToSfu, events: &UnboundedSender<Outgoing>, to_home: &UnboundedSender<ToHome>) -> Option<(RoomId, bool)> {
        match msg {
            ToSfu::Join { room, participant, reply_to, home } => {
                let edge_of = home.filter(|h| *h != self.id);
                if let Some(home) = &edge_of {
                    self.edges.ensure(&self.sfu, &room, home, to_home);
                }
                let tx = events.clone();
                let (sink_room, sink_reply) = (room.clone(), reply_to.clone());
                let sink = Box::new(move |event: SfuEvent| {
                    let _ =
                        tx.send(Outgoing { reply_to: sink_reply.clone(), room: sink_room.clone(), participant, event });
                });
                lock(&self.reply_to).insert(participant, reply_to.clone());
                lock(&self.rooms).entry(room.clone()).or_default().insert(participant);
                if let Err(e) = self.sfu.join(&room, participant, sink) {
                    tracing::warn!(node = %self.id, %participant, "join refused: {e}");
                    for event in [
                        SfuEvent::Error { code: ErrorCode::Internal, message: e.to_string() },
                        SfuEvent::Closed(CloseReason::Isolated(e.to_string())),
                    ] {
                        let _ = events.send(Outgoing {
                            reply_to: reply_to.clone(),
                            room: room.clone(),
                            participant,
                            event,
                        });
                    }
                    return None;
                }
                counter!("plenum_cluster_node_joins_total").increment(1);
                let hosted = edge_of.is_none() && !self.edges.is_edge_of(&room);
                Some((room, hosted))
            }
            ToSfu::Command { participant, cmd } => {
                let leave = matches!(cmd, ParticipantCommand::Leave);
                if let Err(e) = self.sfu.command(participant, cmd)
                    && !leave
                {
                    tracing::debug!(node = %self.id, %participant, "command not applied: {e}");
                }
                None
            }
        }
    }

    /// A participant's last event went out: forget it; release its room's record if that was the last one.
    fn closed(&self, room: &RoomId, participant: ParticipantId) -> bool {
        lock(&self.reply_to).remove(&participant);
        let mut rooms = lock(&self.rooms);
        let Some(members) = rooms.get_mut(room) else { return false };
        members.remove(&participant);
        if members.is_empty() {
            rooms.remove(room);
            return true;
        }
        false
    }

    /// Rooms hosted here (not those this node is an edge of).
    fn hosted_rooms(&self) -> Vec<String> {
        let edges = self.edges.rooms();
        lock(&self.rooms).keys().map(|r| r.0.clone()).filter(|r| !edges.contains(r)).collect()
    }

    fn seats(&self, room: &RoomId) -> usize {
        lock(&self.rooms).get(room).map_or(0, |m| m.len())
    }
}

async fn serve_inbox(
    inner: Arc<Inner>,
    mut conn: redis::aio::ConnectionManager,
    events: UnboundedSender<Outgoing>,
    to_home: UnboundedSender<ToHome>,
) {
    let stream = sfu_inbox(&inner.id);
    let mut last = "0-0".to_owned();
    let mut records = inner.redis.conn.clone();
    loop {
        match xread(&mut conn, &stream, &last, HEARTBEAT).await {
            Ok(entries) => {
                for (id, body) in entries {
                    last = id;
                    match serde_json::from_str::<ToSfu>(&body) {
                        Ok(msg) => {
                            let Some((room, hosted)) = inner.handle(msg, &events, &to_home) else { continue };
                            if hosted && let Err(e) = placement::refresh(&mut records, &inner.id, &[room.0.clone()]).await {
                                tracing::warn!(node = %inner.id, "cannot record the room: {e}");
                            }
                            let seats = inner.seats(&room);
                            if let Err(e) = cascade::report_seats(&mut records, &inner.id, &room.0, seats).await {
                                tracing::warn!(node = %inner.id, "cannot report seats: {e}");
                            }
                        }
                        Err(e) => tracing::warn!(node = %inner.id, "bad message in {stream}: {e}"),
                    }
                }
            }
            Err(e) => {
                tracing::warn!(node = %inner.id, "reading {stream}: {e}");
                tokio::time::sleep(HEARTBEAT).await;
            }
        }
    }
}

async fn send_events(inner: Arc<Inner>, mut rx: UnboundedReceiver<Outgoing>) {
    let mut conn = inner.redis.conn.clone();
    while let Some(out) = rx.recv().await {
        let closed = matches!(out.event, SfuEvent::Closed(_));
        let msg = ToSignaling { participant: out.participant, node: inner.id.clone(), event: out.event };
        if let Err(e) = xadd_json(&mut conn, &signaling_inbox(&out.reply_to), &msg).await {
            tracing::warn!(node = %inner.id, participant = %out.participant, "cannot send an event: {e}");
        }
        if !closed {
            continue;
        }
        let emptied = inner.closed(&out.room, out.participant);
        let seats = inner.seats(&out.room);
        if let Err(e) = cascade::report_seats(&mut conn, &inner.id, &out.room.0, seats).await {
            tracing::warn!(node = %inner.id, "cannot report seats: {e}");
        }
        if !emptied {
            continue;
        }
        let released = if inner.edges.is_edge_of(&out.room) {
            // The last viewer of a relayed room left: the leg goes, and with it the edge record.
            inner.edges.close(&inner.sfu, &out.room);
            cascade::keep_edges(&mut conn, &inner.id, &[out.room.0.clone()], true).await
        } else {
            placement::release(&mut conn, &inner.id, &out.room.0).await
        };
        if let Err(e) = released {
            tracing::warn!(node = %inner.id, room = %out.room, "cannot release the room: {e}");
        }
    }
}

async fn heartbeat(inner: Arc<Inner>, mut rates: LoadRates) {
    let mut conn = inner.redis.conn.clone();
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let info = inner.info(&mut rates);
        let node = inner.id.clone();
        gauge!("plenum_cluster_local_node_cpu", "node" => node.clone()).set(info.cpu);
        gauge!("plenum_cluster_local_node_packets_per_second", "node" => node.clone()).set(info.packets_per_sec);
        gauge!("plenum_cluster_local_node_rooms", "node" => node).set(lock(&inner.rooms).len() as f64);
        if let Err(e) = nodes::register(&mut conn, &info).await {
            tracing::warn!(node = %inner.id, "heartbeat failed: {e}");
            continue;
        }
        if let Err(e) = placement::refresh(&mut conn, &inner.id, &inner.hosted_rooms()).await {
            tracing::warn!(node = %inner.id, "room records not refreshed: {e}");
        }
        if let Err(e) = cascade::keep_edges(&mut conn, &inner.id, &inner.edges.rooms(), false).await {
            tracing::warn!(node = %inner.id, "edge records not refreshed: {e}");
        }
        let counts: Vec<(String, usize)> = lock(&inner.rooms).iter().map(|(r, m)| (r.0.clone(), m.len())).collect();
        for (room, count) in counts {
            if let Err(e) = cascade::report_seats(&mut conn, &inner.id, &room, count).await {
                tracing::warn!(node = %inner.id, "seats not reported: {e}");
                break;
            }
        }
    }
}

/// Cascading: the home nodes' events for this node's relay legs (`plenum:sig:{this node}:in`).
async fn serve_relay_events(inner: Arc<Inner>, mut conn: redis::aio::ConnectionManager) {
    let stream = signaling_inbox(&inner.id);
    let mut last = "0-0".to_owned();
    loop {
        match xread(&mut conn, &stream, &last, HEARTBEAT).await {
            Ok(entries) => {
                for (id, body) in entries {
                    last = id;
                    match serde_json::from_str::<ToSignaling>(&body) {
                        Ok(msg) => inner.edges.from_home(&inner.sfu, msg.participant, msg.event),
                        Err(e) => tracing::warn!(node = %inner.id, "bad message in {stream}: {e}"),
                    }
                }
            }
            Err(e) => {
                tracing::warn!(node = %inner.id, "reading {stream}: {e}");
                tokio::time::sleep(HEARTBEAT).await;
            }
        }
    }
}

/// Cascading: this node's relay legs' joins and answers to their home nodes.
async fn send_to_home(inner: Arc<Inner>, mut rx: UnboundedReceiver<ToHome>) {
    let mut conn = inner.redis.conn.clone();
    while let Some(ToHome { home, msg }) = rx.recv().await {
        if let Err(e) = xadd_json(&mut conn, &sfu_inbox(&home), &msg).await {
            tracing::warn!(node = %inner.id, %home, "cannot reach the home node: {e}");
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

//! The Shard: all rooms of one worker, driven sans-IO.
//!
//! Driving rules (the driver, or a simulation, must follow them):
//! - feed every datagram that arrived on the shard's socket to [`Shard::handle_datagram`];
//! - feed control with [`Shard::join`] and [`Shard::handle_command`];
//! - call [`Shard::handle_timeout`] once [`Shard::poll_timeout`] has passed;
//! - every call may hand datagrams to the [`Transmitter`]; send them;
//! - after every call drain [`Shard::poll_event`] and route each event to its participant.
//!
//! Nothing here blocks, sleeps, reads a clock or allocates per forwarded packet (str0m itself allocates the
//! payload `Arc` once per incoming packet; the forward path shares it with every DownTrack).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use str0m::bwe::{Bitrate, BweKind};
use str0m::media::{Direction, MediaKind, Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpPacket;
use str0m::{Event, IceConnectionState, Input, Output, Rtc};

use super::allocator::{Decision, Demand};
use super::index::{ConnKey, DatagramIndex, Route};
use super::participant::Participant;
use super::room::Room;
use super::speaker::TICK;
use super::stats::{LinkQuality, ShardStats};
use super::tracks::UpTrackKey;
use super::types::*;

/// Where the shard's datagrams go: over UDP, or as one RFC 4571 frame on the ICE-TCP connection from
/// `destination` (framing and the connection are the driver's).
pub trait Transmitter {
    fn transmit(&mut self, transport: Transport, destination: SocketAddr, data: &[u8]);
}

/// Consecutive undecodable inputs after which a connection is considered hostile and dropped.
const MAX_INPUT_ERRORS: u32 = 1000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoinError {
    #[error("participant {0} already joined")]
    AlreadyJoined(ParticipantId),
    #[error("cannot set up connections: {0}")]
    Setup(String),
}

/// What a drain noted, handled after the drain (no re-entrancy into str0m while draining).
#[derive(Debug)]
pub(crate) enum Note {
    Connected,
    Disconnected,
    /// New media with the rids of its simulcast layers (empty without simulcast).
    MediaAdded(Mid, MediaKind, Direction, Vec<Rid>),
    MediaChanged(Mid, Direction),
    KeyframeRequest(Mid),
    /// The subscriber connection's bandwidth estimate, bit/s.
    Estimate(u64),
    /// Cumulative NACKs of one mid: received (egress) or sent (ingress).
    Nacks(Mid, u64, bool),
    /// The subscriber connection's cumulative sent bytes and egress loss over the last second.
    Delivery(u64, Option<f32>),
    /// Fraction lost of one outgoing stream, from the receiver's report (RTCP RR).
    ReceiverLoss(f32),
}

/// What one drain of a connection saw in str0m's stats events.
#[derive(Default)]
struct LinkSample {
    rtt: Option<std::time::Duration>,
    loss_in: Option<f32>,
    loss_out: Option<f32>,
    /// (mid, jitter in RTP timestamp units)
    jitter: Option<(Mid, u32)>,
}

pub struct Shard {
    pub(crate) local: SocketAddr,
    /// Offer a passive ICE-TCP candidate at `local` (same IP and port number) besides UDP.
    pub(crate) ice_tcp: bool,
    pub(crate) participants: HashMap<ParticipantId, Participant>,
    pub(crate) rooms: HashMap<RoomId, Room>,
    pub(crate) index: DatagramIndex,
    pub(crate) events: VecDeque<(ParticipantId, SfuEvent)>,
    pub(crate) stats: ShardStats,
    pub(crate) rng: u64,
    /// The participant whose connection is being worked on, blamed if a panic escapes.
    pub(crate) current: Option<ParticipantId>,
    pub(crate) notes: Vec<(ParticipantId, PcTarget, Note)>,
    pub(crate) rtp_in: Vec<(ParticipantId, RtpPacket)>,
    /// Keyframes wanted: (track, spatial layer).
    pub(crate) keyframe_wants: Vec<(UpTrackKey, u8)>,
    pub(crate) failed: Vec<(ParticipantId, CloseReason)>,
    /// Subscribers whose connection needs a new offer (see [`Shard::renegotiate`]).
    pub(crate) offers_due: Vec<ParticipantId>,
    /// Subscribers whose layers must be allocated again.
    pub(crate) alloc_due: Vec<ParticipantId>,
    /// Periodic work (speakers, allocation, publisher layers).
    pub(crate) next_tick: Option<Instant>,
    pub(crate) ticks: u64,
    pub(crate) scratch_ids: Vec<ParticipantId>,
    pub(crate) scratch_demands: Vec<Demand>,
    pub(crate) scratch_dts: Vec<usize>,
    pub(crate) scratch_order: Vec<usize>,
    pub(crate) scratch_decisions: Vec<Decision>,
    /// Cascading: relay legs from home nodes and the ghosts they feed (`relay.rs`).
    pub(crate) relays: super::relay::Relays,
}

impl Shard {
    /// `local` is the address advertised in ICE candidates and the destination of every datagram fed in.
    pub fn new(local: SocketAddr, seed: u64) -> Self {
        Shard {
            local,
            ice_tcp: false,
            participants: HashMap::new(),
            rooms: HashMap::new(),
            index: DatagramIndex::new(),
            events: VecDeque::new(),
            stats: ShardStats::default(),
            rng: seed | 1,
            current: None,
            notes: Vec::with_capacity(16),
            rtp_in: Vec::with_capacity(64),
            keyframe_wants: Vec::with_capacity(16),
            failed: Vec::new(),
            offers_due: Vec::new(),
            alloc_due: Vec::new(),
            next_tick: None,
            ticks: 0,
            scratch_ids: Vec::new(),
            scratch_demands: Vec::new(),
            scratch_dts: Vec::new(),
            scratch_order: Vec::new(),
            scratch_decisions: Vec::new(),
            relays: Default::default(),
        }
    }

    /// Offer a passive ICE-TCP candidate (same address as UDP) to participants joining from now on; the driver
    /// must then accept TCP connections there and feed their frames to [`Shard::handle_tcp_frame`].
    pub fn set_ice_tcp(&mut self, on: bool) {
        self.ice_tcp = on;
    }

    // ------------------------------------------------------------------ input

    /// Add a participant to a room (creating the room on first join).
    pub fn join(&mut self, now: Instant, room: RoomId, id: ParticipantId) -> Result<(), JoinError> {
        if self.participants.contains_key(&id) {
            return Err(JoinError::AlreadyJoined(id));
        }
        let mut p = Participant::new(id, room.clone(), self.local, self.ice_tcp, now).map_err(JoinError::Setup)?;
        for target in [PcTarget::Publisher, PcTarget::Subscriber] {
            let ufrag = p.ufrag(target);
            self.index.insert_ufrag(&ufrag, ConnKey { participant: id, target });
        }
        self.participants.insert(id, p);
        let members = &mut self.rooms.entry(room).or_default().members;
        let others: Vec<ParticipantId> = members.clone();
        members.push(id);
        if self.next_tick.is_none() {
            self.next_tick = Some(now + TICK);
        }
        // Subscribe the newcomer to everything already published.
        for other in others {
            let tracks: Vec<(Mid, TrackKind)> = match self.participants.get(&other) {
                Some(o) => o.uptracks.iter().map(|u| (u.mid, u.kind)).collect(),
                None => continue,
            };
            for (mid, kind) in tracks {
                self.add_subscription(id, UpTrackKey { publisher: other, mid }, kind);
            }
        }
        self.renegotiate(id);
        self.flush_offers();
        Ok(())
    }

    /// Apply a control command for one participant.
    pub fn handle_command(
        &mut self,
        now: Instant,
        id: ParticipantId,
        cmd: ParticipantCommand,
        tx: &mut impl Transmitter,
    ) {
        if self.relays.is_leg(id) {
            return self.relay_command(now, id, cmd, tx);
        }
        if !self.participants.contains_key(&id) {
            self.events.push_back((id, error(ErrorCode::NotInRoom, "not in a room on this SFU")));
            return;
        }
        self.guarded(id, now, tx, |shard, tx| shard.command(now, id, cmd, tx));
    }

    /// One UDP datagram that arrived from `source`.
    pub fn handle_datagram(&mut self, now: Instant, source: SocketAddr, data: &[u8], tx: &mut impl Transmitter) {
        self.receive(now, Transport::Udp, source, data, tx);
    }

    /// One RFC 4571 frame (without its length prefix) from the ICE-TCP connection whose peer is `source`.
    pub fn handle_tcp_frame(&mut self, now: Instant, source: SocketAddr, frame: &[u8], tx: &mut impl Transmitter) {
        self.receive(now, Transport::Tcp, source, frame, tx);
    }

    fn receive(&mut self, now: Instant, transport: Transport, source: SocketAddr, data: &[u8], tx: &mut impl Transmitter) {
        self.stats.datagrams_in += 1;
        self.stats.bytes_in += data.len() as u64;
        let key = match self.index.route(transport, source, self.local, data) {
            Route::Known(k) | Route::Learned(k) => k,
            Route::Unknown => {
                self.stats.dropped_unknown_source += 1;
                return;
            }
        };
        let Ok(contents) = data.try_into() else {
            self.stats.dropped_malformed += 1;
            return;
        };
        let proto = match transport {
            Transport::Udp => Protocol::Udp,
            Transport::Tcp => Protocol::Tcp,
        };
        let input = Input::Receive(now, Receive { proto, source, destination: self.local, contents });
        if self.relays.is_leg(key.participant) {
            return self.relay_input(key.participant, input, now, tx);
        }
        self.guarded(key.participant, now, tx, |shard, tx| shard.input(key, input, now, tx));
    }

    /// Time has passed: run every connection whose deadline is due.
    pub fn handle_timeout(&mut self, now: Instant, tx: &mut impl Transmitter) {
        if self.next_tick.is_some_and(|t| t <= now) {
            self.next_tick = if self.participants.is_empty() { None } else { Some(now + TICK) };
            let _ = catch_unwind(AssertUnwindSafe(|| self.tick(now, tx)));
        }
        let mut due = std::mem::take(&mut self.scratch_ids);
        due.clear();
        due.extend(self.participants.values().filter(|p| p.next_deadline() <= now).map(|p| p.id));
        for &id in &due {
            self.guarded(id, now, tx, |shard, tx| {
                for target in [PcTarget::Publisher, PcTarget::Subscriber] {
                    let Some(p) = shard.participants.get_mut(&id) else { return };
                    let deadline = match target {
                        PcTarget::Publisher => p.pub_deadline,
                        PcTarget::Subscriber => p.sub_deadline,
                    };
                    if deadline <= now {
                        shard.current = Some(id);
                        if p.rtc(target).handle_input(Input::Timeout(now)).is_err() {
                            shard.failed.push((id, CloseReason::ConnectionFailed));
                        }
                        shard.drain_conn(id, target, now, tx);
                    }
                }
                shard.process_pending(now, tx);
            });
        }
        self.scratch_ids = due;
        self.relay_timeouts(now, tx);
    }

    /// Remove everyone (shutdown).
    pub fn close_all(&mut self, now: Instant, tx: &mut impl Transmitter) {
        for id in self.relays.leg_ids() {
            self.close_relay(id, CloseReason::Shutdown, now, tx);
        }
        let ids: Vec<ParticipantId> = self.participants.keys().copied().collect();
        for id in ids {
            self.remove_participant(id, CloseReason::Shutdown, now, tx);
        }
        self.offers_due.clear();
    }

    // ----------------------------------------------------------------- output

    /// The earliest time [`Shard::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conns = self.participants.values().map(|p| p.next_deadline()).min();
        // Periodic work only matters while someone is here.
        let tick = if self.participants.is_empty() { None } else { self.next_tick };
        [conns, tick, self.relays.next_deadline()].into_iter().flatten().min()
    }

    pub fn poll_event(&mut self) -> Option<(ParticipantId, SfuEvent)> {
        self.events.pop_front()
    }

    pub fn stats(&self) -> &ShardStats {
        &self.stats
    }

    /// Each participant's current bandwidth estimate towards it (bit/s).
    pub fn estimates(&self) -> impl Iterator<Item = (ParticipantId, u64)> + '_ {
        self.participants.values().map(|p| (p.id, p.estimate_bps))
    }

    /// What the Allocator last gave `id`'s subscriber connection (audio plus the chosen video layers), bit/s.
    pub fn allocated_bps(&self, id: ParticipantId) -> Option<u64> {
        self.participants.get(&id).map(|p| p.allocated_bps)
    }

    /// Each participant's latest RTT, loss and jitter.
    pub fn link_quality(&self) -> impl Iterator<Item = LinkQuality> + '_ {
        self.participants.values().map(|p| p.link)
    }

    /// Tracks published, and forwarded (one per subscriber of each published track), in this shard.
    pub fn track_counts(&self) -> (usize, usize) {
        let tracks = self.participants.values().flat_map(|p| p.uptracks.iter());
        tracks.fold((0, 0), |(up, down), t| (up + 1, down + t.subscribers.len()))
    }

    pub fn participant_count(&self) -> usize {
        self.participants.len()
    }

    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    // -------------------------------------------------------------- internals

    /// Run `f`; if it panics, drop the participant it was working on and keep the shard alive.
    fn guarded<T: Transmitter>(
        &mut self,
        id: ParticipantId,
        now: Instant,
        tx: &mut T,
        f: impl FnOnce(&mut Shard, &mut T),
    ) {
        self.current = Some(id);
        let result = catch_unwind(AssertUnwindSafe(|| f(self, tx)));
        if let Err(panic) = result {
            let culprit = self.current.unwrap_or(id);
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(participant = %culprit, panic = %what, "panic while handling a connection; participant isolated");
            self.stats.isolated += 1;
            self.clear_scratch();
            let reason = CloseReason::Isolated("internal error while handling this connection".into());
            let _ = catch_unwind(AssertUnwindSafe(|| self.remove_participant(culprit, reason, now, tx)));
            // Even if removal panicked, make sure the culprit is gone.
            self.participants.remove(&culprit);
            self.index.remove_participant(culprit);
            for room in self.rooms.values_mut() {
                room.members.retain(|m| *m != culprit);
                room.speakers.remove(culprit);
            }
            self.rooms.retain(|_, r| !r.members.is_empty());
        }
        // Failures noted along the way (ICE/DTLS gone, hostile input).
        while let Some((id, reason)) = self.failed.pop() {
            self.remove_participant(id, reason, now, tx);
        }
        self.flush_offers();
        self.flush_allocations(now);
        self.current = None;
    }

    fn clear_scratch(&mut self) {
        self.notes.clear();
        self.rtp_in.clear();
        self.keyframe_wants.clear();
    }

    fn input(&mut self, key: ConnKey, input: Input<'_>, now: Instant, tx: &mut impl Transmitter) {
        let Some(p) = self.participants.get_mut(&key.participant) else { return };
        match p.rtc(key.target).handle_input(input) {
            Ok(()) => p.input_errors = 0,
            Err(_) => {
                self.stats.dropped_input_error += 1;
                p.input_errors += 1;
                if p.input_errors >= MAX_INPUT_ERRORS {
                    let reason = CloseReason::Isolated("too many undecodable packets".into());
                    self.failed.push((key.participant, reason));
                    return;
                }
            }
        }
        self.drain_conn(key.participant, key.target, now, tx);
        self.process_pending(now, tx);
    }

    /// Drain one connection's output: datagrams go out, everything else is noted for [`Shard::process_pending`].
    pub(crate) fn drain_conn(&mut self, id: ParticipantId, target: PcTarget, now: Instant, tx: &mut impl Transmitter) {
        self.drain_conn_with(id, target, now, tx, false)
    }

    /// [`Shard::drain_conn`]; `lazy`: see [`drain`].
    pub(crate) fn drain_conn_with(
        &mut self,
        id: ParticipantId,
        target: PcTarget,
        now: Instant,
        tx: &mut impl Transmitter,
        lazy: bool,
    ) {
        let Shard { participants, notes, rtp_in, stats, failed, .. } = self;
        let Some(p) = participants.get_mut(&id) else { return };
        let rtc = p.rtc(target);
        let mut link = LinkSample::default();
        let res = drain(rtc, now, tx, stats, lazy, |e| match e {
            Event::RtpPacket(pkt)
                if target == PcTarget::Publisher => {
                    rtp_in.push((id, pkt));
                }
            Event::Connected => notes.push((id, target, Note::Connected)),
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                notes.push((id, target, Note::Disconnected))
            }
            Event::MediaAdded(m) => {
                let rids = m
                    .simulcast
                    .map(|s| if s.recv.is_empty() { s.send } else { s.recv })
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| l.rid)
                    .collect();
                notes.push((id, target, Note::MediaAdded(m.mid, m.kind, m.direction, rids)))
            }
            Event::MediaChanged(m) => notes.push((id, target, Note::MediaChanged(m.mid, m.direction))),
            Event::KeyframeRequest(k) => notes.push((id, target, Note::KeyframeRequest(k.mid))),
            Event::MediaEgressStats(st) => {
                link.rtt = st.rtt.or(link.rtt);
                link.loss_out = st.loss.or(link.loss_out);
                if let (PcTarget::Subscriber, Some(l)) = (target, st.loss) {
                    notes.push((id, target, Note::ReceiverLoss(l)));
                }
                notes.push((id, target, Note::Nacks(st.mid, st.nacks, true)))
            }
            Event::MediaIngressStats(st) => {
                link.rtt = st.rtt.or(link.rtt);
                link.loss_in = st.loss.or(link.loss_in);
                link.jitter = Some((st.mid, st.jitter));
                notes.push((id, target, Note::Nacks(st.mid, st.nacks, false)))
            }
            Event::PeerStats(st) if target == PcTarget::Subscriber => {
                notes.push((id, target, Note::Delivery(st.peer_bytes_tx, st.egress_loss_fraction)))
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                notes.push((id, target, Note::Estimate(estimate.as_u64())))
            }
            _ => {}
        });
        let jitter = link.jitter.and_then(|(mid, units)| {
            let rate = if rtc.media(mid)?.kind() == MediaKind::Audio { 48_000.0 } else { 90_000.0 };
            Some(f64::from(units) / rate)
        });
        let alive = rtc.is_alive();
        let q = &mut p.link;
        q.rtt = link.rtt.map(|d| d.as_secs_f64()).or(q.rtt);
        q.loss_in = link.loss_in.or(q.loss_in);
        q.loss_out = link.loss_out.or(q.loss_out);
        q.jitter = jitter.or(q.jitter);
        match res {
            Ok(deadline) => match target {
                PcTarget::Publisher => p.pub_deadline = deadline,
                PcTarget::Subscriber => p.sub_deadline = deadline,
            },
            Err(_) => failed.push((id, CloseReason::ConnectionFailed)),
        }
        if !alive {
            failed.push((id, CloseReason::ConnectionFailed));
        }
    }

    /// Handle what drains noted, until nothing is left (forwarding may note more).
    pub(crate) fn process_pending(&mut self, now: Instant, tx: &mut impl Transmitter) {
        loop {
            if !self.rtp_in.is_empty() {
                let mut batch = std::mem::take(&mut self.rtp_in);
                for (publisher, pkt) in batch.drain(..) {
                    self.forward_packet(publisher, &pkt, now, tx);
                }
                // Keep the allocation for the next batch.
                if self.rtp_in.is_empty() {
                    self.rtp_in = batch;
                }
                continue;
            }
            if let Some((id, target, note)) = self.notes.pop() {
                self.handle_note(id, target, note, now, tx);
                continue;
            }
            if let Some((key, spatial)) = self.keyframe_wants.pop() {
                self.request_keyframe(key, spatial, now, tx);
                continue;
            }
            break;
        }
    }

    fn handle_note(&mut self, id: ParticipantId, target: PcTarget, note: Note, now: Instant, tx: &mut impl Transmitter) {
        match (target, note) {
            (_, Note::Connected) => self.events.push_back((id, SfuEvent::Connected(target))),
            (_, Note::Disconnected) => {
                tracing::debug!(participant = %id, ?target, "ICE disconnected");
            }
            (PcTarget::Publisher, Note::MediaAdded(mid, kind, dir, rids))
                if dir.is_receiving() => {
                    self.publish_track(id, mid, kind, &rids, now);
                }
            (PcTarget::Publisher, Note::MediaChanged(mid, dir)) => {
                let exists = self.participants.get_mut(&id).is_some_and(|p| p.uptrack_mut(mid).is_some());
                if exists && !dir.is_receiving() {
                    self.unpublish_track(id, mid);
                } else if !exists && dir.is_receiving() {
                    let media = self.participants.get(&id).and_then(|p| p.publisher.media(mid));
                    let found = media.map(|m| {
                        let rids = match m.rids_rx() {
                            str0m::media::Rids::Specific(r) => r.clone(),
                            _ => Vec::new(),
                        };
                        (m.kind(), rids)
                    });
                    if let Some((kind, rids)) = found {
                        self.publish_track(id, mid, kind, &rids, now);
                    }
                }
            }
            (PcTarget::Subscriber, Note::KeyframeRequest(mid)) => {
                let source = self
                    .participants
                    .get(&id)
                    .and_then(|p| p.downtracks.iter().find(|d| d.mid == Some(mid)))
                    .and_then(|d| Some((d.source, d.current?)));
                if let Some((source, spatial)) = source {
                    self.request_keyframe(source, spatial, now, tx);
                }
            }
            (_, Note::Nacks(mid, total, egress)) => {
                let Some(p) = self.participants.get_mut(&id) else { return };
                let entry = match p.nack_counts.iter_mut().find(|(m, _, _)| *m == mid) {
                    Some(e) => e,
                    None => {
                        p.nack_counts.push((mid, 0, 0));
                        p.nack_counts.last_mut().expect("just pushed")
                    }
                };
                let last = if egress { &mut entry.1 } else { &mut entry.2 };
                let delta = total.saturating_sub(*last);
                *last = total.max(*last);
                if egress {
                    self.stats.nacks_received += delta;
                } else {
                    self.stats.nacks_sent += delta;
                }
            }
            (PcTarget::Subscriber, Note::Delivery(bytes_tx, loss)) => {
                if let Some(p) = self.participants.get_mut(&id) {
                    if let Some(bps) = p.delivery.on_stats(now, bytes_tx, loss, p.estimate_bps) {
                        tracing::debug!(participant = %id, from = p.estimate_bps, to = bps, "estimate restarted after heavy loss");
                        p.subscriber.bwe().reset(Bitrate::bps(bps));
                        p.estimate_bps = bps;
                        self.stats.estimate_restarts += 1;
                    }
                    self.allocate_soon(id);
                }
            }
            (PcTarget::Subscriber, Note::ReceiverLoss(loss)) => {
                if let Some(p) = self.participants.get_mut(&id) {
                    p.delivery.on_receiver_loss(now, loss);
                }
            }
            (PcTarget::Subscriber, Note::Estimate(bps)) => {
                if let Some(p) = self.participants.get_mut(&id) {
                    p.estimate_bps = bps;
                    self.allocate_soon(id);
                }
            }
            _ => {}
        }
    }

}

pub(crate) fn error(code: ErrorCode, message: &str) -> SfuEvent {
    SfuEvent::Error { code, message: message.to_string() }
}

/// Drain an `Rtc` until it wants to be woken in the future. Returns that time.
///
/// After `write_rtp` str0m may report a deadline that already passed; the packet leaves only after a
/// `Timeout(now)`, so those are fed back right away (bounded, to never spin).
///
/// `lazy` (the forward path, right after `write_rtp`): once a datagram went out, a deadline that already passed
/// is returned instead of fed back. str0m's pacer asks for a timeout after every packet it releases; when the
/// next packet of the same burst is written a moment later, its own timeout serves both, and the worker's timer
/// run at the end of the receive batch serves the last one: one full timeout per forwarded packet, not two.
pub(crate) fn drain(
    rtc: &mut Rtc,
    now: Instant,
    tx: &mut impl Transmitter,
    stats: &mut ShardStats,
    lazy: bool,
    mut on_event: impl FnMut(Event),
) -> Result<Instant, str0m::RtcError> {
    let mut spins = 0;
    let mut sent = false;
    loop {
        match rtc.poll_output()? {
            Output::Timeout(t) => {
                if t <= now && spins < 8 && !(lazy && sent) {
                    spins += 1;
                    rtc.handle_input(Input::Timeout(now))?;
                    continue;
                }
                return Ok(t.max(now));
            }
            Output::Transmit(t) => {
                sent = true;
                stats.datagrams_out += 1;
                stats.bytes_out += t.contents.len() as u64;
                if super::participant::is_rtx(&t.contents) {
                    stats.rtx_sent += 1;
                }
                match t.proto {
                    Protocol::Udp => tx.transmit(Transport::Udp, t.destination, &t.contents),
                    Protocol::Tcp => tx.transmit(Transport::Tcp, t.destination, &t.contents),
                    // Only host candidates over UDP and passive TCP are offered: nothing else can be selected.
                    _ => stats.dropped_malformed += 1,
                }
            }
            Output::Event(e) => on_event(e),
        }
    }
}

#[cfg(test)]
mod tests;

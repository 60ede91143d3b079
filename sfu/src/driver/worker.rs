//! One worker thread: a UDP socket, optionally an ICE-TCP listener on the same port ([`super::tcp`]), a
//! [`Shard`], a command queue. Sleeps until a datagram, a TCP event, a command or the shard's next deadline.
//! Datagrams go in and out in batches ([`super::udp`]): the shard's output is queued during each step and sent
//! with one `sendmmsg` (and the TCP writes) at its end.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Registry, Token};

use super::metrics::{StatsFlusher, WorkerLoad};
use super::placement::Placement;
use super::tcp::{TcpMedia, TcpOutbox};
use super::udp::{RxBatch, TxBatch};
use super::EventSink;
use crate::core::types::{CloseReason, ErrorCode, ParticipantCommand, ParticipantId, RoomId, SfuEvent};
use crate::core::{Shard, Transmitter};
use crate::core::types::Transport;

pub(crate) const SOCKET: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);
pub(crate) const TCP_LISTENER: Token = Token(2);

/// Longest sleep when nothing is due, so metrics keep flowing on an idle worker.
const MAX_SLEEP: Duration = Duration::from_millis(500);
/// Receive batches (`recvmmsg` calls of up to `quinn_udp::BATCH_SIZE` datagrams) per wake-up before commands
/// and timers get a turn.
const RECV_CALLS: usize = 16;

pub(crate) enum WorkerCmd {
    Join { room: RoomId, id: ParticipantId, sink: EventSink },
    Command { id: ParticipantId, cmd: ParticipantCommand },
    /// Cascading: open a relay leg of `room` (see `core::relay`).
    OpenRelay { room: RoomId, id: ParticipantId, sink: EventSink },
    Shutdown,
}

pub(crate) struct Worker {
    pub index: usize,
    pub shard: Shard,
    /// See [`super::SfuConfig::initial_estimate_bps`].
    pub initial_estimate_bps: Option<u64>,
    pub socket: UdpSocket,
    /// Passive ICE-TCP on the UDP socket's address, when enabled.
    pub tcp: Option<TcpMedia>,
    pub poll: Poll,
    pub commands: Receiver<WorkerCmd>,
    pub sinks: HashMap<ParticipantId, EventSink>,
    pub placement: Arc<Mutex<Placement>>,
    pub load: Arc<WorkerLoad>,
}

impl Worker {
    pub fn run(mut self) {
        let mut events = Events::with_capacity(64);
        let mut rx = match RxBatch::new(&self.socket) {
            Ok(rx) => rx,
            Err(e) => {
                tracing::error!(worker = self.index, error = %e, "cannot set up the media socket; worker stops");
                return;
            }
        };
        let mut tx = Out { udp: TxBatch::new(&self.socket, rx.max_gso_segments()), tcp: TcpOutbox::default() };
        let mut flusher = StatsFlusher::new(self.index, self.load.clone());
        loop {
            // 1. Control.
            while let Ok(cmd) = self.commands.try_recv() {
                let now = Instant::now();
                match cmd {
                    WorkerCmd::Join { room, id, mut sink } => match self.shard.join(now, room, id) {
                        Ok(()) => {
                            if let Some(bps) = self.initial_estimate_bps {
                                set_initial_estimate(&mut self.shard, id, bps);
                            }
                            self.sinks.insert(id, sink);
                        }
                        Err(e) => {
                            sink(SfuEvent::Error { code: ErrorCode::Internal, message: e.to_string() });
                            sink(SfuEvent::Closed(CloseReason::Isolated(e.to_string())));
                            self.placement.lock().unwrap_or_else(|p| p.into_inner()).left(id);
                        }
                    },
                    WorkerCmd::Command { id, cmd } => self.shard.handle_command(now, id, cmd, &mut tx),
                    WorkerCmd::OpenRelay { room, id, mut sink } => match self.shard.open_relay(now, room, id) {
                        Ok(()) => {
                            self.sinks.insert(id, sink);
                        }
                        Err(e) => {
                            sink(SfuEvent::Closed(CloseReason::Isolated(e.to_string())));
                            self.placement.lock().unwrap_or_else(|p| p.into_inner()).left(id);
                        }
                    },
                    WorkerCmd::Shutdown => {
                        self.shard.close_all(now, &mut tx);
                        tx.flush(&mut self.tcp, self.poll.registry());
                        self.dispatch();
                        return;
                    }
                }
                tx.flush(&mut self.tcp, self.poll.registry());
                self.dispatch();
            }
            // 2. Timers.
            let now = Instant::now();
            if self.shard.poll_timeout().is_some_and(|t| t <= now) {
                self.shard.handle_timeout(now, &mut tx);
                tx.flush(&mut self.tcp, self.poll.registry());
                self.dispatch();
            }
            if let Some(tcp) = &mut self.tcp {
                tcp.sweep(self.poll.registry(), now);
            }
            flusher.maybe_flush(now, &self.shard, tx.udp.errors, self.tcp.as_ref().map(|t| (t.connections(), t.stats)));
            // 3. Sleep until something happens.
            let now = Instant::now();
            let wait = self.shard.poll_timeout().map(|t| t.saturating_duration_since(now)).unwrap_or(MAX_SLEEP);
            if let Err(e) = self.poll.poll(&mut events, Some(wait.min(MAX_SLEEP)))
                && e.kind() != ErrorKind::Interrupted {
                    tracing::error!(worker = self.index, error = %e, "poll failed; worker stops");
                    return;
                }
            // 4. ICE-TCP: new connections, frames in, backlogs out.
            if let Some(tcp) = &mut self.tcp {
                let registry = self.poll.registry();
                for ev in events.iter() {
                    let now = Instant::now();
                    match ev.token() {
                        SOCKET | WAKER => {}
                        TCP_LISTENER => tcp.accept(registry, now),
                        token => {
                            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                                let shard = &mut self.shard;
                                tcp.read(registry, token, now, |peer, frame| shard.handle_tcp_frame(now, peer, frame, &mut tx));
                            }
                            if ev.is_writable() {
                                tcp.writable(registry, token);
                            }
                        }
                    }
                }
                tx.flush(&mut self.tcp, self.poll.registry());
            }
            // 5. UDP media: every batch read is handled, then its output sent together.
            for _ in 0..RECV_CALLS {
                match rx.recv(&self.socket) {
                    Ok(_) => {
                        for (source, data) in rx.datagrams() {
                            self.shard.handle_datagram(Instant::now(), source, data, &mut tx);
                        }
                        tx.flush(&mut self.tcp, self.poll.registry());
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    // ICMP errors surface on the next recv of an unconnected UDP socket; nothing to do.
                    Err(_) => continue,
                }
            }
            self.dispatch();
        }
    }

    /// Route the shard's events to the participants' sinks.
    fn dispatch(&mut self) {
        while let Some((id, event)) = self.shard.poll_event() {
            let closed = matches!(event, SfuEvent::Closed(_));
            if let Some(sink) = self.sinks.get_mut(&id) {
                sink(event);
            }
            if closed {
                self.sinks.remove(&id);
                self.placement.lock().unwrap_or_else(|p| p.into_inner()).left(id);
            }
        }
    }
}

/// The shard's output during one step: UDP datagrams batched for `sendmmsg`, ICE-TCP packets for framing.
struct Out {
    udp: TxBatch,
    tcp: TcpOutbox,
}

impl Out {
    fn flush(&mut self, tcp: &mut Option<TcpMedia>, registry: &Registry) {
        self.udp.flush();
        if !self.tcp.is_empty() {
            match tcp {
                Some(media) => media.send(registry, &mut self.tcp),
                None => self.tcp = TcpOutbox::default(),
            }
        }
    }
}

impl Transmitter for Out {
    fn transmit(&mut self, transport: Transport, destination: std::net::SocketAddr, data: &[u8]) {
        match transport {
            Transport::Udp => self.udp.transmit(destination, data),
            Transport::Tcp => self.tcp.push(destination, data),
        }
    }
}

/// Restart a new participant's subscriber bandwidth estimation from `bps` (congestion control adapts it from
/// the first feedback on).
fn set_initial_estimate(shard: &mut Shard, id: ParticipantId, bps: u64) {
    if let Some(p) = shard.participants.get_mut(&id) {
        p.subscriber.bwe().reset(str0m::bwe::Bitrate::bps(bps));
        p.estimate_bps = bps;
    }
}

pub(crate) fn register(poll: &Poll, socket: &mut UdpSocket, tcp: Option<&mut TcpMedia>) -> std::io::Result<()> {
    poll.registry().register(socket, SOCKET, Interest::READABLE)?;
    if let Some(tcp) = tcp {
        poll.registry().register(tcp.listener(), TCP_LISTENER, Interest::READABLE)?;
    }
    Ok(())
}

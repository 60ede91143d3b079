//! One worker thread: a UDP socket, a [`Shard`], a command queue. Sleeps until a datagram, a command or the
//! shard's next deadline.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

use super::metrics::StatsFlusher;
use super::placement::Placement;
use super::EventSink;
use crate::core::types::{CloseReason, ErrorCode, ParticipantCommand, ParticipantId, RoomId, SfuEvent};
use crate::core::{Shard, Transmitter};

pub(crate) const SOCKET: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);

/// Longest sleep when nothing is due, so metrics keep flowing on an idle worker.
const MAX_SLEEP: Duration = Duration::from_millis(500);
/// Datagrams read per wake-up before commands and timers get a turn.
const RECV_BATCH: usize = 512;

pub(crate) enum WorkerCmd {
    Join { room: RoomId, id: ParticipantId, sink: EventSink },
    Command { id: ParticipantId, cmd: ParticipantCommand },
    Shutdown,
}

pub(crate) struct Worker {
    pub index: usize,
    pub shard: Shard,
    pub socket: UdpSocket,
    pub poll: Poll,
    pub commands: Receiver<WorkerCmd>,
    pub sinks: HashMap<ParticipantId, EventSink>,
    pub placement: Arc<Mutex<Placement>>,
}

struct SocketTx<'a> {
    socket: &'a UdpSocket,
    errors: &'a mut u64,
}

impl Transmitter for SocketTx<'_> {
    fn transmit(&mut self, destination: SocketAddr, data: &[u8]) {
        if self.socket.send_to(data, destination).is_err() {
            *self.errors += 1;
        }
    }
}

impl Worker {
    pub fn run(mut self) {
        let mut events = Events::with_capacity(64);
        let mut buf = vec![0u8; 2048];
        let mut send_errors = 0u64;
        let mut flusher = StatsFlusher::new(self.index);
        loop {
            // 1. Control.
            while let Ok(cmd) = self.commands.try_recv() {
                let mut tx = SocketTx { socket: &self.socket, errors: &mut send_errors };
                let now = Instant::now();
                match cmd {
                    WorkerCmd::Join { room, id, mut sink } => match self.shard.join(now, room, id) {
                        Ok(()) => {
                            self.sinks.insert(id, sink);
                        }
                        Err(e) => {
                            sink(SfuEvent::Error { code: ErrorCode::Internal, message: e.to_string() });
                            sink(SfuEvent::Closed(CloseReason::Isolated(e.to_string())));
                            self.placement.lock().unwrap_or_else(|p| p.into_inner()).left(id);
                        }
                    },
                    WorkerCmd::Command { id, cmd } => self.shard.handle_command(now, id, cmd, &mut tx),
                    WorkerCmd::Shutdown => {
                        self.shard.close_all(now, &mut tx);
                        self.dispatch();
                        return;
                    }
                }
                self.dispatch();
            }
            // 2. Timers.
            let now = Instant::now();
            if self.shard.poll_timeout().is_some_and(|t| t <= now) {
                let mut tx = SocketTx { socket: &self.socket, errors: &mut send_errors };
                self.shard.handle_timeout(now, &mut tx);
                self.dispatch();
            }
            flusher.maybe_flush(now, &self.shard, send_errors);
            // 3. Sleep until something happens.
            let now = Instant::now();
            let wait = self.shard.poll_timeout().map(|t| t.saturating_duration_since(now)).unwrap_or(MAX_SLEEP);
            if let Err(e) = self.poll.poll(&mut events, Some(wait.min(MAX_SLEEP)))
                && e.kind() != ErrorKind::Interrupted {
                    tracing::error!(worker = self.index, error = %e, "poll failed; worker stops");
                    return;
                }
            // 4. Media.
            let mut tx = SocketTx { socket: &self.socket, errors: &mut send_errors };
            for _ in 0..RECV_BATCH {
                match self.socket.recv_from(&mut buf) {
                    Ok((n, source)) => self.shard.handle_datagram(Instant::now(), source, &buf[..n], &mut tx),
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

pub(crate) fn register(poll: &Poll, socket: &mut UdpSocket) -> std::io::Result<()> {
    poll.registry().register(socket, SOCKET, Interest::READABLE)
}

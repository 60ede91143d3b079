//! The thin I/O layer: worker threads, each owning a UDP socket and a shard of rooms.
//!
//! [`Sfu`] is the handle signaling uses. It only queues commands: a room is pinned to one worker, and
//! commands for its participants go through that worker's queue, drained between datagram batches.

mod metrics;
mod placement;
mod tcp;
mod udp;
mod worker;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use crate::core::Shard;
use crate::core::types::{ParticipantCommand, ParticipantId, RoomId, SfuEvent};
use metrics::WorkerLoad;
use placement::Placement;
use worker::{Worker, WorkerCmd};

/// Where the SFU listens and what it advertises.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// Base UDP address; worker `i` binds `port + i` (port 0: every worker binds an ephemeral port).
    pub media_addr: SocketAddr,
    /// Address advertised in ICE candidates. `None`: the bind address if specific, else 127.0.0.1.
    pub public_ip: Option<IpAddr>,
    /// Number of worker threads (0 = one per core).
    pub workers: usize,
    /// Also accept passive ICE-TCP (RFC 6544, RFC 4571 framing) on each worker's port, for clients whose firewall
    /// blocks UDP. Candidates over TCP get a lower priority than UDP, so clients use UDP where they can.
    pub ice_tcp: bool,
    /// Initial bandwidth estimate of every subscriber connection (bit/s); `None`: the default
    /// (`core::participant::INITIAL_ESTIMATE_BPS`). Congestion control adapts it from the first feedback on.
    pub initial_estimate_bps: Option<u64>,
}

/// Receives the events of one participant, called on the worker thread: keep it cheap (send to a channel).
pub type EventSink = Box<dyn FnMut(SfuEvent) + Send>;

#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("cannot bind media socket {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot listen for ICE-TCP on {addr} (the UDP media port's number over TCP): {source}")]
    BindTcp { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start worker thread: {0}")]
    Spawn(std::io::Error),
    #[error("participant {0} is not known to the SFU")]
    UnknownParticipant(ParticipantId),
    #[error("participant {0} already joined")]
    AlreadyJoined(ParticipantId),
    #[error("the SFU is shutting down")]
    ShuttingDown,
}

struct WorkerHandle {
    commands: Sender<WorkerCmd>,
    waker: Arc<mio::Waker>,
    addr: SocketAddr,
}

struct Inner {
    workers: Vec<WorkerHandle>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    placement: Arc<Mutex<Placement>>,
    loads: Vec<Arc<WorkerLoad>>,
}

/// The SFU's load, summed over its workers (figures as of each worker's last flush, about once a second).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SfuLoad {
    pub workers: usize,
    /// CPU time the worker threads have used since they started (monotonic).
    pub cpu_seconds: f64,
    /// RTP packets forwarded since the start (monotonic).
    pub packets_forwarded: u64,
    pub participants: u64,
    pub rooms: u64,
}

/// Handle to the running SFU. Cheap to clone; all methods only queue work.
#[derive(Clone)]
pub struct Sfu {
    inner: Arc<Inner>,
}

impl Sfu {
    /// Bind the sockets and start the workers.
    pub fn start(cfg: SfuConfig) -> Result<Sfu, SfuError> {
        let n = if cfg.workers == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) } else { cfg.workers };
        let public_ip = cfg.public_ip.unwrap_or(if cfg.media_addr.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            cfg.media_addr.ip()
        });
        let placement = Arc::new(Mutex::new(Placement::new(n)));
        let mut workers = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        let mut loads = Vec::with_capacity(n);
        for i in 0..n {
            let port = if cfg.media_addr.port() == 0 { 0 } else { cfg.media_addr.port() + i as u16 };
            let (std_sock, bound, tcp) = bind_media(SocketAddr::new(cfg.media_addr.ip(), port), cfg.ice_tcp)?;
            let mut tcp = tcp.map(|l| tcp::TcpMedia::new(mio::net::TcpListener::from_std(l)));
            let sref = socket2::SockRef::from(&std_sock);
            // Best effort: the kernel caps these at net.core.{r,w}mem_max.
            let _ = sref.set_recv_buffer_size(4 << 20);
            let _ = sref.set_send_buffer_size(4 << 20);
            let mut socket = mio::net::UdpSocket::from_std(std_sock);
            let poll = mio::Poll::new().map_err(SfuError::Spawn)?;
            worker::register(&poll, &mut socket, tcp.as_mut()).map_err(SfuError::Spawn)?;
            let waker = Arc::new(mio::Waker::new(poll.registry(), worker::WAKER).map_err(SfuError::Spawn)?);
            let advertised = SocketAddr::new(public_ip, bound.port());
            let (tx, rx) = crossbeam_channel::unbounded();
            let load = Arc::new(WorkerLoad::default());
            loads.push(load.clone());
            let mut shard = Shard::new(advertised, 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1) ^ rand_seed());
            shard.set_ice_tcp(tcp.is_some());
            let w = Worker {
                load,
                index: i,
                shard,
                initial_estimate_bps: cfg.initial_estimate_bps,
                socket,
                tcp,
                poll,
                commands: rx,
                sinks: HashMap::new(),
                placement: placement.clone(),
            };
            let t = std::thread::Builder::new()
                .name(format!("sfu-worker-{i}"))
                .spawn(move || w.run())
                .map_err(SfuError::Spawn)?;
            tracing::info!(worker = i, bind = %bound, advertised = %advertised, ice_tcp = cfg.ice_tcp, "SFU worker started");
            workers.push(WorkerHandle { commands: tx, waker, addr: advertised });
            threads.push(t);
        }
        Ok(Sfu { inner: Arc::new(Inner { workers, threads: Mutex::new(threads), placement, loads }) })
    }

    /// Add a participant to a room. Its events go to `sink`, ending with `SfuEvent::Closed`.
    pub fn join(&self, room: &RoomId, participant: ParticipantId, sink: EventSink) -> Result<(), SfuError> {
        let worker = self
            .inner
            .placement
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .place(room, participant)
            .ok_or(SfuError::AlreadyJoined(participant))?;
        self.send(worker, WorkerCmd::Join { room: room.clone(), id: participant, sink })
    }

    /// Cascading: open a relay leg `id` of `room` on the room's worker. It receives the room from its home node
    /// (drive it with [`ParticipantCommand::RelayOffer`], close it with [`ParticipantCommand::Leave`]) and
    /// republishes the tracks locally under their publishers' ids. Its events go to `sink`: `RelayAnswer` for the
    /// home node, ending with `Closed`.
    pub fn open_relay(&self, room: &RoomId, id: ParticipantId, sink: EventSink) -> Result<(), SfuError> {
        let worker = self
            .inner
            .placement
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .place(room, id)
            .ok_or(SfuError::AlreadyJoined(id))?;
        self.send(worker, WorkerCmd::OpenRelay { room: room.clone(), id, sink })
    }

    /// Queue a command for a participant.
    pub fn command(&self, participant: ParticipantId, cmd: ParticipantCommand) -> Result<(), SfuError> {
        let worker = self
            .inner
            .placement
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .worker_of(participant)
            .ok_or(SfuError::UnknownParticipant(participant))?;
        self.send(worker, WorkerCmd::Command { id: participant, cmd })
    }

    /// The UDP addresses the workers advertise.
    pub fn media_addrs(&self) -> Vec<SocketAddr> {
        self.inner.workers.iter().map(|w| w.addr).collect()
    }

    /// How many worker threads are still running (a worker whose thread ended, e.g. after a poll failure, is lost).
    pub fn workers_running(&self) -> usize {
        let threads = self.inner.threads.lock().unwrap_or_else(|p| p.into_inner());
        threads.iter().filter(|t| !t.is_finished()).count()
    }

    /// The load figures of all workers together.
    pub fn load(&self) -> SfuLoad {
        use std::sync::atomic::Ordering::Relaxed;
        let mut load = SfuLoad { workers: self.inner.loads.len(), ..SfuLoad::default() };
        for w in &self.inner.loads {
            load.cpu_seconds += w.cpu_micros.load(Relaxed) as f64 / 1e6;
            load.packets_forwarded += w.forwarded.load(Relaxed);
            load.participants += w.participants.load(Relaxed);
            load.rooms += w.rooms.load(Relaxed);
        }
        load
    }

    /// The number of workers started.
    pub fn worker_count(&self) -> usize {
        self.inner.workers.len()
    }

    /// Stop all workers (participants get `Closed(Shutdown)`) and wait for them.
    pub fn shutdown(&self) {
        for (i, _) in self.inner.workers.iter().enumerate() {
            let _ = self.send(i, WorkerCmd::Shutdown);
        }
        let threads = std::mem::take(&mut *self.inner.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }

    fn send(&self, worker: usize, cmd: WorkerCmd) -> Result<(), SfuError> {
        let w = &self.inner.workers[worker];
        w.commands.send(cmd).map_err(|_| SfuError::ShuttingDown)?;
        w.waker.wake().map_err(|_| SfuError::ShuttingDown)
    }
}

/// Bind a worker's UDP socket and, with `ice_tcp`, a TCP listener on the same address and port number. With port 0
/// the kernel picks the UDP port; if that number is taken over TCP, try again with another.
fn bind_media(addr: SocketAddr, ice_tcp: bool) -> Result<(UdpSocket, SocketAddr, Option<TcpListener>), SfuError> {
    let mut attempts = 0;
    loop {
        let udp = UdpSocket::bind(addr).map_err(|source| SfuError::Bind { addr, source })?;
        let bound = udp.local_addr().map_err(|source| SfuError::Bind { addr, source })?;
        udp.set_nonblocking(true).map_err(|source| SfuError::Bind { addr, source })?;
        if !ice_tcp {
            return Ok((udp, bound, None));
        }
        match TcpListener::bind(bound) {
            Ok(l) => {
                l.set_nonblocking(true).map_err(|source| SfuError::BindTcp { addr: bound, source })?;
                return Ok((udp, bound, Some(l)));
            }
            Err(_) if addr.port() == 0 && attempts < 16 => attempts += 1,
            Err(source) => return Err(SfuError::BindTcp { addr: bound, source }),
        }
    }
}

/// Seed for initial sequence numbers: differs per process start (no need for cryptographic quality).
fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}

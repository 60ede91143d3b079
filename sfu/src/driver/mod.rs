//! The thin I/O layer: worker threads, each owning a UDP socket and a shard of rooms.

use std::net::{IpAddr, SocketAddr};

use crate::core::types::{ParticipantCommand, ParticipantId, RoomId, SfuEvent};

/// Where the SFU listens and what it advertises.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// Base UDP address; worker `i` binds `port + i`.
    pub media_addr: SocketAddr,
    /// Address advertised in ICE candidates. `None`: the bind address if specific, else 127.0.0.1.
    pub public_ip: Option<IpAddr>,
    /// Number of worker threads (0 = one per core).
    pub workers: usize,
}

/// Receives the events of one participant, called on the worker thread: keep it cheap (send to a channel).
pub type EventSink = Box<dyn FnMut(SfuEvent) + Send>;

#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("cannot bind media socket {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start worker thread: {0}")]
    Spawn(std::io::Error),
    #[error("participant {0} is not known to the SFU")]
    UnknownParticipant(ParticipantId),
    #[error("participant {0} already joined")]
    AlreadyJoined(ParticipantId),
    #[error("the SFU is shutting down")]
    ShuttingDown,
}

/// Handle to the running SFU. Cheap to clone; all methods only queue work.
#[derive(Clone)]
pub struct Sfu {}

impl Sfu {
    pub fn start(_cfg: SfuConfig) -> Result<Sfu, SfuError> {
        todo!()
    }
    /// Add a participant to a room. Its events go to `sink`, ending with `SfuEvent::Closed`.
    pub fn join(&self, _room: &RoomId, _participant: ParticipantId, _sink: EventSink) -> Result<(), SfuError> {
        todo!()
    }
    pub fn command(&self, _participant: ParticipantId, _cmd: ParticipantCommand) -> Result<(), SfuError> {
        todo!()
    }
    /// The UDP addresses the workers listen on.
    pub fn media_addrs(&self) -> Vec<SocketAddr> {
        todo!()
    }
    /// Stop all workers (participants get `Closed(Shutdown)`).
    pub fn shutdown(&self) {
        todo!()
    }
}

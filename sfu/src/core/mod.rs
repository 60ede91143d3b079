//! The sans-IO core: rooms, participants, UpTrack → Forwarder → DownTrack. No sockets, threads or clocks.

pub mod codec;
mod forward;
pub mod forwarder;
pub mod index;
pub mod participant;
pub mod sdp;
pub mod shard;
pub mod stats;
pub mod stun;
pub mod tracks;
pub mod types;

pub use shard::{JoinError, Shard, Transmitter};
pub use stats::ShardStats;

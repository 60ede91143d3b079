//! The sans-IO core: rooms, participants, UpTrack → Forwarder → DownTrack. No sockets, threads or clocks.

mod allocate;
pub mod allocator;
pub mod codec;
mod commands;
pub mod delivery;
mod forward;
pub mod forwarder;
pub mod index;
pub mod layers;
pub mod lipsync;
mod membership;
pub mod participant;
pub mod probe;
pub mod red;
pub mod redundancy;
pub mod relay;
pub mod room;
pub mod sdp;
pub mod shard;
pub mod speaker;
pub mod stats;
pub mod stun;
pub mod temporal;
pub mod tracks;
pub mod types;
pub mod vp8;

pub use shard::{JoinError, Shard, Transmitter};
pub use stats::{LinkQuality, ShardStats};

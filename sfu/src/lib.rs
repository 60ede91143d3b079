//! # plenum-sfu
//!
//! The media forwarding core of Plenum.
//!
//! - [`core`] is sans-IO: rooms, participants, UpTrack → Forwarder → DownTrack. Every call takes `now`;
//!   it owns no sockets, threads or timers. The driving rules: feed datagrams with
//!   [`core::Shard::handle_datagram`], commands with [`core::Shard::handle_command`], call
//!   [`core::Shard::handle_timeout`] when [`core::Shard::poll_timeout`] is reached, send everything the
//!   [`core::Transmitter`] is handed, and drain [`core::Shard::poll_event`] after each call.
//! - [`driver`] is the thin I/O layer: worker threads, each owning one UDP socket and one [`core::Shard`].

pub mod core;
pub mod driver;

pub use crate::core::types::*;
pub use driver::{EventSink, Sfu, SfuConfig, SfuError, SfuLoad};

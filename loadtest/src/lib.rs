//! # plenum-loadtest
//!
//! Many real WebRTC participants (webrtc-rs's sans-IO core `rtc`, a different stack from the SFU's str0m) from
//! one thread, joining a Plenum server through its normal signaling protocol; reports that say what the users
//! would have seen; and the forwarding benchmark against a naive UDP forwarder.
//!
//! - [`client`]: one participant (WebSocket signaling, publisher and subscriber peers, media).
//! - [`run`]: scenarios, ramp-up, sampling, limits. [`report`]: JSON, HTML and the terminal summary.
//! - [`bench`]: `bench-forward` (the real SFU driver in-process vs a naive forwarder).
//! - [`stats`]: percentiles, loss, jitter and freezes; [`shim`]: user-space network impairment.

pub mod bench;
pub mod client;
pub mod error;
pub mod media;
pub mod peer;
pub mod probe;
pub mod report;
pub mod run;
pub mod shim;
pub mod stats;

use std::sync::OnceLock;
use std::time::Instant;

pub use error::LoadError;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// The process's load-test epoch (first use).
pub fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds since [`epoch`] (0 before it).
pub fn now_us(now: Instant) -> u64 {
    now.saturating_duration_since(epoch()).as_micros() as u64
}

/// Milliseconds since [`epoch`].
pub fn now_ms(now: Instant) -> f64 {
    now.saturating_duration_since(epoch()).as_secs_f64() * 1000.0
}

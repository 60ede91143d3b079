//! Simulcast layers of an UpTrack as they arrive at the SFU: which rid is which spatial layer, how much each
//! sends, whether it is arriving, and whether the SFU asked the publisher to pause it.

use std::time::{Duration, Instant};

use str0m::media::Rid;
use str0m::rtp::Ssrc;

/// At most this many spatial layers per track.
pub const MAX_LAYERS: usize = 3;
/// A layer with no packet for this long is not arriving (the publisher cannot send it, or it is paused).
pub const LAYER_TIMEOUT: Duration = Duration::from_millis(1500);
/// Bitrate assumed for a layer until it has been measured (lowest to highest).
pub const DEFAULT_LAYER_BPS: [u64; MAX_LAYERS] = [150_000, 500_000, 1_500_000];
/// Measurement window of the per-layer bitrate.
const WINDOW: Duration = Duration::from_millis(1000);
/// Minimum time between two keyframe requests for one layer.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// The spatial index of a rid. The web client sends `l`, `m`, `h` (also accepted: `q`/`h`/`f` as LiveKit names
/// them, and `0`/`1`/`2`); anything else is ordered as the publisher listed it.
pub fn spatial_of(rid: &str, listed_at: usize) -> u8 {
    match rid {
        "l" | "q" | "0" | "low" => 0,
        "m" | "1" | "mid" => 1,
        "h" | "f" | "2" | "high" | "hi" => 2,
        _ => listed_at.min(MAX_LAYERS - 1) as u8,
    }
}

#[derive(Debug)]
pub struct LayerRx {
    pub rid: Option<Rid>,
    pub spatial: u8,
    pub ssrc: Option<Ssrc>,
    pub last_packet: Option<Instant>,
    window_start: Option<Instant>,
    window_bytes: u64,
    /// Measured bitrate over the last complete window (0: not measured yet).
    pub bps: u64,
    last_keyframe_request: Option<Instant>,
    /// The SFU asked the publisher to stop sending this layer.
    pub paused_by_sfu: bool,
    /// Someone used this layer at this time (for pausing unused layers).
    pub last_wanted: Option<Instant>,
}

impl LayerRx {
    pub fn new(rid: Option<Rid>, spatial: u8) -> Self {
        LayerRx {
            rid,
            spatial,
            ssrc: None,
            last_packet: None,
            window_start: None,
            window_bytes: 0,
            bps: 0,
            last_keyframe_request: None,
            paused_by_sfu: false,
            last_wanted: None,
        }
    }

    /// Account one packet's payload.
    pub fn on_packet(&mut self, now: Instant, bytes: usize) {
        self.last_packet = Some(now);
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= WINDOW {
            self.bps = self.window_bytes * 8 * 1000 / (elapsed.as_millis().max(1) as u64);
            self.window_start = Some(now);
            self.window_bytes = 0;
        }
        self.window_bytes += bytes as u64;
    }

    pub fn arriving(&self, now: Instant) -> bool {
        self.last_packet.is_some_and(|t| now.saturating_duration_since(t) < LAYER_TIMEOUT)
    }

    /// Can the allocator plan with this layer? Arriving, or paused by us (it comes back when asked).
    pub fn usable(&self, now: Instant) -> bool {
        self.arriving(now) || self.paused_by_sfu
    }

    /// Bitrate to plan with.
    pub fn planned_bps(&self) -> u64 {
        if self.bps > 0 { self.bps } else { DEFAULT_LAYER_BPS[(self.spatial as usize).min(MAX_LAYERS - 1)] }
    }

    /// Whether a keyframe request may go upstream now (and note that it does).
    pub fn take_keyframe_slot(&mut self, now: Instant) -> bool {
        match self.last_keyframe_request {
            Some(t) if now.saturating_duration_since(t) < KEYFRAME_REQUEST_INTERVAL => false,
            _ => {
                self.last_keyframe_request = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rids_map_to_spatial_layers() {
        assert_eq!((spatial_of("l", 2), spatial_of("m", 0), spatial_of("h", 0)), (0, 1, 2));
        assert_eq!((spatial_of("q", 1), spatial_of("f", 0)), (0, 2));
        assert_eq!((spatial_of("a", 0), spatial_of("b", 1), spatial_of("c", 7)), (0, 1, 2));
    }

    #[test]
    fn bitrate_is_measured_per_window_and_arrival_times_out() {
        let t0 = Instant::now();
        let mut l = LayerRx::new(None, 1);
        assert_eq!(l.planned_bps(), DEFAULT_LAYER_BPS[1]);
        for i in 0..=50u64 {
            l.on_packet(t0 + Duration::from_millis(i * 20), 1000);
        }
        // 50 packets of 1000 bytes in 1 s = 400 kbit/s.
        assert_eq!(l.bps, 400_000);
        assert!(l.arriving(t0 + Duration::from_millis(1100)));
        assert!(!l.arriving(t0 + Duration::from_millis(1000) + LAYER_TIMEOUT));
        assert!(!l.usable(t0 + Duration::from_secs(5)));
        l.paused_by_sfu = true;
        assert!(l.usable(t0 + Duration::from_secs(5)));
    }

    #[test]
    fn keyframe_requests_are_throttled_per_layer() {
        let t0 = Instant::now();
        let mut l = LayerRx::new(None, 0);
        assert!(l.take_keyframe_slot(t0));
        assert!(!l.take_keyframe_slot(t0 + Duration::from_millis(499)));
        assert!(l.take_keyframe_slot(t0 + KEYFRAME_REQUEST_INTERVAL));
    }
}

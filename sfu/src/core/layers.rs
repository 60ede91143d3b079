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
/// At most this many temporal layers per spatial layer (VP8's TID has two bits).
pub const MAX_TEMPORAL: usize = 4;
/// Share of a spatial layer's bitrate up to each temporal layer, by number of temporal layers, until measured:
/// libwebrtc's VP8 rate split (2 layers 60/40, 3 layers 40/20/40; 4 layers 25/15/20/40).
pub const DEFAULT_TEMPORAL_SHARE: [[f64; MAX_TEMPORAL]; MAX_TEMPORAL] =
    [[1.0, 1.0, 1.0, 1.0], [0.6, 1.0, 1.0, 1.0], [0.4, 0.6, 1.0, 1.0], [0.25, 0.4, 0.6, 1.0]];
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

/// Bitrate of one spatial layer at each temporal subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// Number of temporal layers (at least 1).
    pub temporal: u8,
    /// Cumulative: `bps[t]` is what temporal layers `0..=t` take together; entries from `temporal` on equal the
    /// full rate.
    pub bps: [u64; MAX_TEMPORAL],
}

impl Rates {
    /// A layer without temporal layers.
    pub fn single(bps: u64) -> Self {
        Rates { temporal: 1, bps: [bps; MAX_TEMPORAL] }
    }

    /// `bps` split over `temporal` layers by [`DEFAULT_TEMPORAL_SHARE`].
    pub fn split(bps: u64, temporal: u8) -> Self {
        let n = temporal.clamp(1, MAX_TEMPORAL as u8);
        let share = DEFAULT_TEMPORAL_SHARE[n as usize - 1];
        Rates { temporal: n, bps: share.map(|s| (bps as f64 * s) as u64) }
    }

    /// The highest temporal layer.
    pub fn top(&self) -> u8 {
        self.temporal.max(1) - 1
    }

    /// Bitrate of temporal layers `0..=t` (`t` above the top: the full rate).
    pub fn cost(&self, t: u8) -> u64 {
        self.bps[(t.min(self.top()) as usize).min(MAX_TEMPORAL - 1)]
    }

    pub fn full(&self) -> u64 {
        self.cost(u8::MAX)
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
    window_packets: u64,
    /// Measured bitrate over the last complete window (0: not measured yet).
    pub bps: u64,
    /// Measured packets per second over the last complete window.
    pub pps: u64,
    /// Bytes per temporal layer in the current window, and the highest temporal layer seen in it.
    window_temporal: [u64; MAX_TEMPORAL],
    window_max_tid: u8,
    /// Measured over the last complete window: cumulative bitrate per temporal layer and their number.
    temporal_bps: [u64; MAX_TEMPORAL],
    temporal_layers: u8,
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
            window_packets: 0,
            bps: 0,
            pps: 0,
            window_temporal: [0; MAX_TEMPORAL],
            window_max_tid: 0,
            temporal_bps: [0; MAX_TEMPORAL],
            temporal_layers: 1,
            last_keyframe_request: None,
            paused_by_sfu: false,
            last_wanted: None,
        }
    }

    /// Account one packet's payload; `tid` is its temporal layer (0 without temporal layers).
    pub fn on_packet(&mut self, now: Instant, bytes: usize, tid: u8) {
        self.last_packet = Some(now);
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= WINDOW {
            let ms = elapsed.as_millis().max(1) as u64;
            self.bps = self.window_bytes * 8 * 1000 / ms;
            self.pps = self.window_packets * 1000 / ms;
            let mut sum = 0;
            for (t, b) in self.window_temporal.iter().enumerate() {
                sum += b;
                self.temporal_bps[t] = sum * 8 * 1000 / ms;
            }
            self.temporal_layers = self.window_max_tid + 1;
            self.window_start = Some(now);
            self.window_bytes = 0;
            self.window_packets = 0;
            self.window_temporal = [0; MAX_TEMPORAL];
            self.window_max_tid = 0;
        }
        self.window_bytes += bytes as u64;
        self.window_packets += 1;
        let t = (tid as usize).min(MAX_TEMPORAL - 1);
        self.window_temporal[t] += bytes as u64;
        self.window_max_tid = self.window_max_tid.max(t as u8);
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

    /// Bitrates to plan with per temporal subset: measured once a window has passed (keyframes, always layer 0,
    /// count in the base layer), else the default for the spatial layer without temporal layers.
    pub fn planned_rates(&self) -> Rates {
        if self.bps == 0 || self.temporal_layers <= 1 {
            return Rates::single(self.planned_bps());
        }
        let mut r = Rates { temporal: self.temporal_layers, bps: self.temporal_bps };
        // A layer that sent next to nothing in the window (just resumed) plans with the default split.
        if r.cost(0) == 0 {
            r = Rates::split(self.planned_bps(), self.temporal_layers);
        }
        r
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
            l.on_packet(t0 + Duration::from_millis(i * 20), 1000, 0);
        }
        // 50 packets of 1000 bytes in 1 s = 400 kbit/s.
        assert_eq!((l.bps, l.pps), (400_000, 50));
        assert!(l.arriving(t0 + Duration::from_millis(1100)));
        assert!(!l.arriving(t0 + Duration::from_millis(1000) + LAYER_TIMEOUT));
        assert!(!l.usable(t0 + Duration::from_secs(5)));
        l.paused_by_sfu = true;
        assert!(l.usable(t0 + Duration::from_secs(5)));
    }

    #[test]
    fn temporal_subsets_are_measured_cumulatively() {
        let t0 = Instant::now();
        let mut l = LayerRx::new(None, 0);
        assert_eq!(l.planned_rates(), Rates::single(DEFAULT_LAYER_BPS[0]));
        // 40 frames/s in the pattern 0-2-1-2, the TL0 frames twice as large: 10 × 2000 + 10 × 1000 + 20 × 1000
        // bytes per second.
        let pattern = [(0, 2000), (2, 1000), (1, 1000), (2, 1000)];
        for i in 0..=40u64 {
            let (tid, bytes) = pattern[i as usize % 4];
            l.on_packet(t0 + Duration::from_millis(i * 25), bytes, tid);
        }
        let r = l.planned_rates();
        assert_eq!(r.temporal, 3);
        assert_eq!((r.cost(0), r.cost(1), r.cost(2), r.full()), (160_000, 240_000, 400_000, 400_000));
        assert_eq!(l.bps, 400_000);
    }

    #[test]
    fn default_split_follows_libwebrtc() {
        let r = Rates::split(1_000_000, 3);
        assert_eq!((r.cost(0), r.cost(1), r.cost(2), r.cost(7)), (400_000, 600_000, 1_000_000, 1_000_000));
        assert_eq!(Rates::split(1_000, 0), Rates::single(1_000));
        assert_eq!(Rates::single(5).top(), 0);
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

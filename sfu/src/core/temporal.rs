//! Temporal-layer selection of one DownTrack: which frames of the forwarded spatial layer pass.
//!
//! A VP8 encoder with temporal scalability (Chrome: three temporal layers per simulcast stream, pattern
//! 0-2-1-2) tags every frame with its temporal layer (TID). Frames of layer `t` reference only frames of layers
//! `<= t`, so dropping every frame above a limit leaves a decodable stream at a half or a quarter of the frame
//! rate. The Allocator sets the limit ([`TemporalFilter::set_target`]); the filter applies it at frame
//! boundaries:
//!
//! - **down** at the start of the next frame (never in the middle of one);
//! - **up** only where the receiver can decode the higher layer: at a frame of a higher layer with the layer
//!   sync (Y) bit — it references temporal layer 0 only — or at a keyframe. Frames of the higher layer before
//!   such a point may reference frames the subscriber never got, so they keep being dropped. A frame of layer 0
//!   alone is no switch point: the next layer-1 frame may still reference an earlier layer-1 frame.
//!
//! Packets without temporal information (no TID: H.264, VP8 without temporal layers) count as layer 0 and always
//! pass.

/// The limit meaning "every temporal layer" (full frame rate, whatever the publisher sends).
pub const ALL_TEMPORAL: u8 = u8::MAX;

/// What the filter needs of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TemporalInfo {
    /// First packet of a frame.
    pub frame_start: bool,
    pub keyframe: bool,
    /// Temporal layer (0 without temporal information).
    pub tid: u8,
    /// Layer sync (VP8 Y bit).
    pub layer_sync: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemporalFilter {
    /// The highest temporal layer forwarded now.
    current: u8,
    /// The highest temporal layer the Allocator wants forwarded.
    target: u8,
}

impl Default for TemporalFilter {
    fn default() -> Self {
        TemporalFilter { current: ALL_TEMPORAL, target: ALL_TEMPORAL }
    }
}

impl TemporalFilter {
    pub fn current(&self) -> u8 {
        self.current
    }

    pub fn target(&self) -> u8 {
        self.target
    }

    pub fn set_target(&mut self, target: u8) {
        self.target = target;
    }

    /// A keyframe starts forwarding (a spatial switch or the first frame): every layer up to the target can be
    /// decoded from here.
    pub fn on_keyframe(&mut self) {
        self.current = self.target;
    }

    /// Whether this packet of the forwarded spatial layer passes.
    pub fn admit(&mut self, p: TemporalInfo) -> bool {
        if p.frame_start {
            // A keyframe starts everything afresh; going down needs no sync point.
            if p.keyframe || self.target < self.current {
                self.current = self.target;
            } else if self.target > self.current && p.tid > self.current && p.tid <= self.target && p.layer_sync {
                // Step up to this frame's layer; layers above it wait for their own sync frames.
                self.current = p.tid;
            }
        }
        p.tid <= self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(tid: u8, sync: bool) -> TemporalInfo {
        TemporalInfo { frame_start: true, keyframe: false, tid, layer_sync: sync }
    }

    #[test]
    fn everything_passes_by_default_and_without_temporal_information() {
        let mut f = TemporalFilter::default();
        for tid in [0, 2, 1, 2, 3] {
            assert!(f.admit(frame(tid, false)));
        }
        f.set_target(0);
        assert!(f.admit(frame(0, false)), "no TID counts as layer 0");
    }

    #[test]
    fn down_at_the_next_frame_start_not_mid_frame() {
        let mut f = TemporalFilter::default();
        assert!(f.admit(frame(2, false)));
        f.set_target(0);
        // The rest of the TL2 frame already started still passes.
        assert!(f.admit(TemporalInfo { frame_start: false, tid: 2, ..Default::default() }));
        assert!(!f.admit(frame(1, true)));
        assert!(f.admit(frame(0, false)));
        assert!(!f.admit(frame(2, true)));
        assert_eq!(f.current(), 0);
    }

    #[test]
    fn up_only_at_a_layer_sync_frame_or_a_keyframe() {
        let mut f = TemporalFilter::default();
        f.set_target(0);
        f.on_keyframe();
        f.set_target(ALL_TEMPORAL);
        // A TL0 frame and unsynced higher frames do not switch up.
        assert!(f.admit(frame(0, false)));
        assert!(!f.admit(frame(2, false)));
        assert!(!f.admit(frame(1, false)));
        assert_eq!(f.current(), 0);
        // TL1 with Y: up to 1; TL2 still waits for its own sync frame.
        assert!(f.admit(frame(1, true)));
        assert_eq!(f.current(), 1);
        assert!(!f.admit(frame(2, false)));
        assert!(f.admit(frame(0, false)));
        assert!(f.admit(frame(2, true)));
        assert_eq!(f.current(), 2);
        assert!(f.admit(frame(2, false)));
        // A keyframe jumps straight to the target.
        f.set_target(0);
        assert!(!f.admit(frame(2, false)));
        f.set_target(1);
        assert!(f.admit(TemporalInfo { keyframe: true, ..frame(0, false) }));
        assert_eq!(f.current(), 1);
        assert!(f.admit(frame(1, false)));
        assert!(!f.admit(frame(2, true)), "above the target");
    }
}

//! Which simulcast layer a subscriber receives on one video stream: frames per picture size (from the VP8
//! keyframes: a decoder keeps a keyframe's size until the next one), and how often that size changed.

use std::collections::BTreeMap;

use crate::media::vp8::Vp8Start;

/// `1280x720`.
pub fn resolution_name((w, h): (u16, u16)) -> String {
    format!("{w}x{h}")
}

#[derive(Debug, Clone, Default)]
pub struct LayerCount {
    /// The size of the last keyframe (what a decoder would show now).
    pub current: Option<(u16, u16)>,
    /// Frames received by picture size (frame starts; frames before the first keyframe are not counted).
    pub frames: BTreeMap<(u16, u16), u64>,
    /// Frames that arrived before any keyframe (undecodable for a real receiver).
    pub frames_before_keyframe: u64,
    /// Keyframes that changed the picture size: the SFU switched the layer.
    pub switches: u64,
    /// The sender's layer (from the load test's trailer) of the last keyframe.
    layer: Option<u8>,
    /// Delta frames from another layer than the last keyframe's: a switch without a keyframe, which a real
    /// decoder would show as garbage. Should stay 0.
    pub foreign_frames: u64,
}

impl LayerCount {
    /// Account one received packet: `start` is its parsed VP8 payload start, `sent_layer` the layer the
    /// publisher sent it on (trailer), if known.
    pub fn on_packet(&mut self, start: Vp8Start, sent_layer: Option<u8>) {
        if !start.frame_start {
            return;
        }
        if let Some(size) = start.keyframe_size {
            if self.current.is_some_and(|c| c != size) {
                self.switches += 1;
            }
            self.current = Some(size);
            self.layer = sent_layer;
        } else if let (Some(mine), Some(sent)) = (self.layer, sent_layer)
            && mine != sent
        {
            self.foreign_frames += 1;
        }
        match self.current {
            Some(size) => *self.frames.entry(size).or_insert(0) += 1,
            None => self.frames_before_keyframe += 1,
        }
    }

    /// Add another stream's figures (a receiver's total over its video streams).
    pub fn merge(&mut self, o: &LayerCount) {
        for (size, n) in &o.frames {
            *self.frames.entry(*size).or_insert(0) += n;
        }
        self.frames_before_keyframe += o.frames_before_keyframe;
        self.switches += o.switches;
        self.foreign_frames += o.foreign_frames;
    }

    /// The picture size most frames had.
    pub fn main_size(&self) -> Option<(u16, u16)> {
        self.frames.iter().max_by_key(|(_, n)| **n).map(|(s, _)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(w: u16, h: u16) -> Vp8Start {
        Vp8Start { frame_start: true, keyframe_size: Some((w, h)) }
    }
    const DELTA: Vp8Start = Vp8Start { frame_start: true, keyframe_size: None };
    const MIDDLE: Vp8Start = Vp8Start { frame_start: false, keyframe_size: None };

    #[test]
    fn frames_count_at_the_last_keyframes_size_and_switches_are_size_changes() {
        let mut c = LayerCount::default();
        c.on_packet(DELTA, Some(0));
        assert_eq!(c.frames_before_keyframe, 1);
        c.on_packet(key(320, 180), Some(0));
        c.on_packet(MIDDLE, Some(0));
        c.on_packet(DELTA, Some(0));
        c.on_packet(DELTA, Some(0));
        // A keyframe of the same size (periodic) is no switch.
        c.on_packet(key(320, 180), Some(0));
        assert_eq!(c.switches, 0);
        c.on_packet(key(1280, 720), Some(2));
        c.on_packet(DELTA, Some(2));
        // A delta frame of another layer after the switch: forwarded without a keyframe.
        c.on_packet(DELTA, Some(0));
        c.on_packet(key(320, 180), None);
        assert_eq!(c.switches, 2);
        assert_eq!(c.frames[&(320, 180)], 5);
        assert_eq!(c.frames[&(1280, 720)], 3);
        assert_eq!(c.foreign_frames, 1);
        assert_eq!(c.main_size(), Some((320, 180)));
        let mut total = LayerCount::default();
        total.merge(&c);
        total.merge(&c);
        assert_eq!((total.frames[&(1280, 720)], total.switches, total.frames_before_keyframe), (6, 4, 2));
        assert_eq!(resolution_name((640, 360)), "640x360");
    }
}

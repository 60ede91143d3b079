//! UpTrack (a published track as the SFU receives it, with its simulcast layers) and DownTrack (one subscriber's
//! copy: which layer it gets, and the rewriting that keeps it one continuous stream).

use std::time::Instant;

use str0m::media::{Mid, Pt, Rid};
use str0m::rtp::Ssrc;

use super::codec::MediaCodec;
use super::forwarder::Forwarder;
use super::layers::{LayerRx, MAX_LAYERS, Rates, spatial_of};
use super::temporal::{TemporalFilter, TemporalInfo};
use super::types::{ParticipantId, TrackKind};
use super::vp8::{Vp8Info, Vp8Munger};

/// Identifies an UpTrack across the shard: publisher and the mid on its publisher connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UpTrackKey {
    pub publisher: ParticipantId,
    pub mid: Mid,
}

/// Where one subscriber's DownTrack of an UpTrack sits: the subscriber and the index in its DownTrack list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownTrackRef {
    pub subscriber: ParticipantId,
    pub index: usize,
}

/// What must match for a subscriber's payload type to carry this codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecMatch {
    pub codec: str0m::format::Codec,
    pub packetization_mode: Option<u8>,
    /// The payload is RFC 2198 RED around this codec.
    pub red: bool,
}

/// A published track.
#[derive(Debug)]
pub struct UpTrack {
    pub mid: Mid,
    pub kind: TrackKind,
    /// A screen share (served before cameras).
    pub screen: bool,
    /// One entry per simulcast layer (a single entry without rid when not simulcast).
    pub layers: Vec<LayerRx>,
    /// Codec of the last seen payload type.
    pub codec: Option<(Pt, MediaCodec, CodecMatch)>,
    pub subscribers: Vec<DownTrackRef>,
    pub published_at: Instant,
    /// Layer activity last asked of the publisher (by spatial index).
    pub layers_requested: [bool; MAX_LAYERS],
    /// A moderator stopped forwarding this track (`BlockMedia`).
    pub blocked: bool,
}

impl UpTrack {
    /// `rids` as the publisher listed them (empty: no simulcast).
    pub fn new(mid: Mid, kind: TrackKind, rids: &[Rid], now: Instant) -> Self {
        let layers = if rids.is_empty() {
            vec![LayerRx::new(None, 0)]
        } else {
            rids.iter().take(MAX_LAYERS).enumerate().map(|(i, r)| LayerRx::new(Some(*r), spatial_of(r, i))).collect()
        };
        UpTrack {
            mid,
            kind,
            screen: false,
            layers,
            codec: None,
            subscribers: Vec::new(),
            published_at: now,
            layers_requested: [true; MAX_LAYERS],
            blocked: false,
        }
    }

    pub fn track_id(&self) -> String {
        self.mid.to_string()
    }

    pub fn is_simulcast(&self) -> bool {
        self.layers.len() > 1
    }

    /// The layer a packet on `ssrc` belongs to; learns SSRCs by rid (or the only layer) on first sight.
    pub fn layer_for(&mut self, ssrc: Ssrc, rid: Option<Rid>) -> Option<usize> {
        if let Some(i) = self.layers.iter().position(|l| l.ssrc == Some(ssrc)) {
            return Some(i);
        }
        let i = match rid {
            Some(r) => self.layers.iter().position(|l| l.rid == Some(r))?,
            None if self.layers.len() == 1 => 0,
            None => return None,
        };
        self.layers[i].ssrc = Some(ssrc);
        Some(i)
    }

    pub fn layer_by_spatial(&mut self, spatial: u8) -> Option<&mut LayerRx> {
        self.layers.iter_mut().find(|l| l.spatial == spatial)
    }

    /// Planned bitrates (per temporal subset) of every spatial layer that can be had now.
    pub fn usable_layers(&self, now: Instant) -> [Option<Rates>; MAX_LAYERS] {
        let mut out = [None; MAX_LAYERS];
        for l in &self.layers {
            if l.usable(now) {
                out[l.spatial as usize] = Some(l.planned_rates());
            }
        }
        out
    }
}

/// Negotiation state of a DownTrack's m-line on the subscriber connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownState {
    /// Needs an m-line in the next offer.
    ToAdd,
    /// In the outstanding offer.
    Offered,
    /// Negotiated: packets flow.
    Active,
    /// The source is gone: set inactive in the next offer.
    ToRemove,
    /// Done; the index stays so that references remain valid.
    Removed,
}

/// One subscriber's copy of an UpTrack.
#[derive(Debug)]
pub struct DownTrack {
    pub source: UpTrackKey,
    pub kind: TrackKind,
    pub state: DownState,
    /// The m-line on the subscriber connection, once offered.
    pub mid: Option<Mid>,
    pub ssrc: Option<Ssrc>,
    /// (incoming payload type, outgoing payload type, strip RED to the primary block), cached.
    pub pt_map: Option<(Pt, Pt, bool)>,
    pub forwarder: Forwarder,
    pub vp8: Vp8Munger,
    /// Spatial layer being forwarded; `None` before the first keyframe and while paused.
    pub current: Option<u8>,
    /// Spatial layer the Allocator chose; `None`: forward nothing.
    pub target: Option<u8>,
    /// Temporal layers forwarded of the current spatial layer (the Allocator sets the target).
    pub temporal: TemporalFilter,
    /// The subscriber's wish (from its tile size): highest spatial layer, `None` for a hidden tile.
    pub wanted: Option<u8>,
    /// The subscriber was told this video is paused for bandwidth.
    pub paused_for_bandwidth: bool,
}

impl DownTrack {
    pub fn new(source: UpTrackKey, kind: TrackKind, initial_seq: u16, initial_ts: u32) -> Self {
        let clock = match kind {
            TrackKind::Audio => 48_000,
            TrackKind::Video => 90_000,
        };
        DownTrack {
            source,
            kind,
            state: DownState::ToAdd,
            mid: None,
            ssrc: None,
            pt_map: None,
            forwarder: Forwarder::new(clock, initial_seq, initial_ts),
            vp8: Vp8Munger::default(),
            // Audio has one layer and needs no keyframe.
            current: if kind == TrackKind::Audio { Some(0) } else { None },
            target: Some(0),
            temporal: TemporalFilter::default(),
            // Until the subscriber says otherwise: the best layer.
            wanted: Some(MAX_LAYERS as u8 - 1),
            paused_for_bandwidth: false,
        }
    }

    /// Whether a packet of the spatial layer being forwarded passes the temporal limit. One left out is skipped in
    /// the sequence and PictureID numbering, so the subscriber sees no gap.
    pub fn admit_temporal(&mut self, t: TemporalInfo, vp8: Option<&Vp8Info>, in_seq: u64) -> bool {
        if self.temporal.admit(t) {
            return true;
        }
        self.forwarder.skip(in_seq);
        if let Some(v) = vp8 {
            self.vp8.drop_frame(v);
        }
        false
    }

    /// Start forwarding `spatial` from its keyframe: the stream continues seamlessly.
    pub fn switch_to(&mut self, spatial: u8) {
        if self.forwarder.started() {
            self.forwarder.switch_source();
        }
        self.vp8.switch_source();
        self.temporal.on_keyframe();
        self.current = Some(spatial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_learned_by_rid_then_by_ssrc() {
        let now = Instant::now();
        let rids = [Rid::from("l"), Rid::from("m"), Rid::from("h")];
        let mut u = UpTrack::new(Mid::from("1"), TrackKind::Video, &rids, now);
        assert!(u.is_simulcast());
        assert_eq!(u.layer_for(Ssrc::from(7), Some(Rid::from("m"))), Some(1));
        assert_eq!(u.layer_for(Ssrc::from(7), None), Some(1), "known SSRC without rid (e.g. later packets)");
        assert_eq!(u.layer_for(Ssrc::from(9), None), None, "unknown SSRC without rid");
        assert_eq!(u.layer_for(Ssrc::from(9), Some(Rid::from("x"))), None);
        assert_eq!(u.layer_by_spatial(2).unwrap().rid, Some(Rid::from("h")));
        let mut single = UpTrack::new(Mid::from("0"), TrackKind::Audio, &[], now);
        assert_eq!(single.layer_for(Ssrc::from(1), None), Some(0));
    }

    #[test]
    fn usable_layers_are_indexed_by_spatial_layer() {
        let now = Instant::now();
        // Listed high first, as some clients do.
        let rids = [Rid::from("h"), Rid::from("l")];
        let mut u = UpTrack::new(Mid::from("1"), TrackKind::Video, &rids, now);
        assert_eq!(u.usable_layers(now), [None, None, None]);
        u.layers[0].on_packet(now, 1000, 0);
        assert_eq!(u.usable_layers(now), [None, None, Some(Rates::single(1_500_000))]);
    }

    /// Feeds frames of two packets each in Chrome's temporal pattern 0-2-1-2 (Y on the TL2 frame after TL0 and on
    /// TL1) through a DownTrack as the forward path does; returns per forwarded packet (input frame, output seq,
    /// output PictureID).
    fn feed(dt: &mut DownTrack, frames: std::ops::Range<u16>, out: &mut Vec<(u16, u64, u16)>) {
        use super::super::forwarder::Forwarded;
        use super::super::vp8::tests::desc_sync;
        let now = Instant::now();
        for f in frames {
            let (tid, sync) = [(0, false), (2, true), (1, true), (2, false)][f as usize % 4];
            for k in 0..2u64 {
                let payload = desc_sync(k == 0, 100 + f, (f / 4) as u8, tid, sync, f == 0);
                let v = Vp8Info::parse(&payload).unwrap();
                let t = TemporalInfo { frame_start: v.frame_start, keyframe: v.keyframe, tid, layer_sync: v.layer_sync };
                let seq = 5000 + f as u64 * 2 + k;
                if f == 0 && k == 0 {
                    dt.switch_to(0);
                }
                if !dt.admit_temporal(t, Some(&v), seq) {
                    continue;
                }
                let Forwarded::Send { seq: out_seq, .. } = dt.forwarder.forward(seq, f as u32 * 3000, now) else { panic!("dropped") };
                let (pic, _) = dt.vp8.rewrite(&v).unwrap();
                out.push((f, out_seq, pic.unwrap()));
            }
        }
    }

    #[test]
    fn temporal_up_switch_waits_for_a_layer_sync_frame_and_leaves_no_gaps() {
        let key = UpTrackKey { publisher: ParticipantId(1), mid: Mid::from("1") };
        let mut dt = DownTrack::new(key, TrackKind::Video, 0, 0);
        dt.temporal.set_target(0);
        let mut out = vec![];
        // Frames 0..8 at TL0 only: frames 0 and 4 pass.
        feed(&mut dt, 0..8, &mut out);
        let frames: Vec<u16> = out.iter().map(|o| o.0).collect();
        assert_eq!(frames, vec![0, 0, 4, 4]);
        // The Allocator raises the limit to all layers while frame 8 (TL0) is next: frame 8 is no switch point
        // for TL1/TL2; frame 9 (TL2 with Y) is, and from there everything passes.
        dt.temporal.set_target(super::super::temporal::ALL_TEMPORAL);
        out.clear();
        feed(&mut dt, 8..9, &mut out);
        assert_eq!(dt.temporal.current(), 0, "TL0 alone is no up-switch point");
        feed(&mut dt, 9..13, &mut out);
        let frames: Vec<u16> = out.iter().map(|o| o.0).collect();
        assert_eq!(frames, vec![8, 8, 9, 9, 10, 10, 11, 11, 12, 12]);
        // Down to TL0+TL1 before frame 13 (TL2 with Y, above the limit), then up again before frame 15 (TL2
        // without Y): 15 is left out, 16 is TL0, 17 (TL2 with Y) switches up.
        dt.temporal.set_target(1);
        feed(&mut dt, 13..15, &mut out);
        dt.temporal.set_target(super::super::temporal::ALL_TEMPORAL);
        feed(&mut dt, 15..19, &mut out);
        let frames: Vec<u16> = out.iter().map(|o| o.0).collect();
        assert_eq!(&frames[10..], &[14, 14, 16, 16, 17, 17, 18, 18]);
        // Whatever was left out, the subscriber sees consecutive sequence numbers and PictureIDs.
        for w in out.windows(2) {
            assert_eq!(w[1].1, w[0].1 + 1, "sequence continues after frame {}", w[0].0);
            let step = if w[1].0 == w[0].0 { 0 } else { 1 };
            assert_eq!(w[1].2, w[0].2 + step, "PictureID continues after frame {}", w[0].0);
        }
    }
}

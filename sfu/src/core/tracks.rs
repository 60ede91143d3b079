//! UpTrack (a published track as the SFU receives it, with its simulcast layers) and DownTrack (one subscriber's
//! copy: which layer it gets, and the rewriting that keeps it one continuous stream).

use std::time::Instant;

use str0m::media::{Mid, Pt, Rid};
use str0m::rtp::Ssrc;

use super::codec::MediaCodec;
use super::forwarder::Forwarder;
use super::layers::{LayerRx, MAX_LAYERS, spatial_of};
use super::types::{ParticipantId, TrackKind};
use super::vp8::Vp8Munger;

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

    /// Planned bitrate of every spatial layer that can be had now.
    pub fn usable_layers(&self, now: Instant) -> [Option<u64>; MAX_LAYERS] {
        let mut out = [None; MAX_LAYERS];
        for l in &self.layers {
            if l.usable(now) {
                out[l.spatial as usize] = Some(l.planned_bps());
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
    /// (incoming payload type, outgoing payload type), cached.
    pub pt_map: Option<(Pt, Pt)>,
    pub forwarder: Forwarder,
    pub vp8: Vp8Munger,
    /// Spatial layer being forwarded; `None` before the first keyframe and while paused.
    pub current: Option<u8>,
    /// Spatial layer the Allocator chose; `None`: forward nothing.
    pub target: Option<u8>,
    /// Highest temporal layer forwarded.
    pub max_temporal: u8,
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
            max_temporal: u8::MAX,
            // Until the subscriber says otherwise: the best layer.
            wanted: Some(MAX_LAYERS as u8 - 1),
            paused_for_bandwidth: false,
        }
    }

    /// Start forwarding `spatial` from its keyframe: the stream continues seamlessly.
    pub fn switch_to(&mut self, spatial: u8) {
        if self.forwarder.started() {
            self.forwarder.switch_source();
        }
        self.vp8.switch_source();
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
        u.layers[0].on_packet(now, 1000);
        assert_eq!(u.usable_layers(now), [None, None, Some(1_500_000)]);
    }
}

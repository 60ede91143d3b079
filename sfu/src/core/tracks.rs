//! UpTrack (a published track, as received by the SFU) and DownTrack (one subscriber's copy of it).

use std::time::{Duration, Instant};

use str0m::media::{Mid, Pt};
use str0m::rtp::Ssrc;

use super::codec::MediaCodec;
use super::forwarder::Forwarder;
use super::types::{ParticipantId, TrackKind};

/// Minimum time between two keyframe requests sent upstream for one UpTrack.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

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

/// A published track.
#[derive(Debug)]
pub struct UpTrack {
    pub mid: Mid,
    pub kind: TrackKind,
    /// The SSRC it arrives on (learned from the first packet).
    pub ssrc: Option<Ssrc>,
    /// Codec of the last seen payload type.
    pub codec: Option<(Pt, MediaCodec, CodecMatch)>,
    pub subscribers: Vec<DownTrackRef>,
    last_keyframe_request: Option<Instant>,
}

/// What must match for a subscriber's payload type to carry this codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecMatch {
    pub codec: str0m::format::Codec,
    pub packetization_mode: Option<u8>,
}

impl UpTrack {
    pub fn new(mid: Mid, kind: TrackKind) -> Self {
        UpTrack { mid, kind, ssrc: None, codec: None, subscribers: Vec::new(), last_keyframe_request: None }
    }

    pub fn track_id(&self) -> String {
        self.mid.to_string()
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
    /// Video only: nothing is forwarded until the source sends a keyframe.
    pub waiting_keyframe: bool,
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
            waiting_keyframe: kind == TrackKind::Video,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframe_requests_are_throttled() {
        let t0 = Instant::now();
        let mut u = UpTrack::new(Mid::from("0"), TrackKind::Video);
        assert!(u.take_keyframe_slot(t0));
        assert!(!u.take_keyframe_slot(t0 + Duration::from_millis(100)));
        assert!(!u.take_keyframe_slot(t0 + Duration::from_millis(499)));
        assert!(u.take_keyframe_slot(t0 + Duration::from_millis(500)));
    }
}

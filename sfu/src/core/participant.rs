//! A Participant: its two str0m connections, what it publishes (UpTracks) and receives (DownTracks), and the
//! subscriber connection's offer/answer state.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::bwe::Bitrate;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::TcpType;
use str0m::{Candidate, Rtc, RtcConfig};

use super::tracks::{DownState, DownTrack, UpTrack};
use super::types::{ParticipantId, PcTarget, RoomId, TrackKind};

/// Bandwidth a subscriber is assumed to have before its estimate comes in.
pub const INITIAL_ESTIMATE_BPS: u64 = 1_500_000;

/// The str0m configuration of every SFU-side connection: ICE-lite, RTP mode, Opus (with RFC 2198 RED where the
/// browser offers it) / VP8 / H264.
pub fn rtc_config() -> RtcConfig {
    static CRYPTO: std::sync::Once = std::sync::Once::new();
    CRYPTO.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
    RtcConfig::new()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        .clear_codecs()
        // RED (`red/48000/2`) is negotiated only when the other side offers or accepts it; str0m lists it before
        // Opus, which makes Chrome send it. The SFU forwards RED as it arrives (`forward.rs`).
        .enable_opus(true, true)
        .enable_vp8(true)
        .enable_h264(true)
        // Stats twice a second: NACK counters for the metrics, and the send rate and loss that bound the
        // subscriber's budget (`delivery.rs`; a cut link is noticed within half a second).
        .set_stats_interval(Some(std::time::Duration::from_millis(500)))
}

/// Whether an outgoing (S)RTP packet is a retransmission: RTP (not RTCP, RFC 5761 demultiplexing) on one of the
/// RTX payload types of [`rtc_config`], without the padding bit. The RTP header is not encrypted by SRTP.
pub fn is_rtx(packet: &[u8]) -> bool {
    static RTX: std::sync::OnceLock<[bool; 128]> = std::sync::OnceLock::new();
    let rtx = RTX.get_or_init(|| {
        let mut pts = [false; 128];
        let mut cfg = rtc_config();
        for p in cfg.codec_config().params() {
            if let Some(pt) = p.resend() {
                pts[usize::from(*pt) & 0x7f] = true;
            }
        }
        pts
    });
    match packet {
        [b0, b1, ..] => b0 & 0xc0 == 0x80 && b0 & 0x20 == 0 && !(192..=223).contains(b1) && rtx[usize::from(b1 & 0x7f)],
        _ => false,
    }
}

pub struct Participant {
    pub id: ParticipantId,
    pub room: RoomId,
    pub publisher: Rtc,
    pub subscriber: Rtc,
    pub pub_deadline: Instant,
    pub sub_deadline: Instant,
    pub uptracks: Vec<UpTrack>,
    /// Only grows during a session: indices are referenced from other participants' UpTracks.
    pub downtracks: Vec<DownTrack>,
    pending_offer: Option<SdpPendingOffer>,
    /// Changes arrived while an offer was outstanding.
    renegotiate: bool,
    /// The next subscriber offer restarts ICE.
    pub ice_restart: bool,
    /// The new local ufrag of a subscriber ICE restart, to be routed (str0m switches to it with the answer,
    /// but the client's checks may come first).
    pub restart_ufrag: Option<String>,
    /// Consecutive input errors; reset by any good input.
    pub input_errors: u32,
    /// The subscriber connection's bandwidth estimate (bit/s).
    pub estimate_bps: u64,
    /// What the Allocator gave out last time (bit/s).
    pub allocated_bps: u64,
    /// When to probe for more bandwidth while the allocation falls short.
    pub probe: super::probe::ProbePlan,
    /// Maps this publisher's capture times (from its sender reports) onto the SFU's clock for forwarding.
    pub sync: super::lipsync::SyncClock,
    /// Bounds on the estimate from the last stats interval (loss-free send rate below, delivered rate above).
    pub delivery: super::delivery::DeliveryBounds,
    /// Last cumulative NACK counts per mid: (received from the subscriber, sent to the publisher).
    pub nack_counts: Vec<(str0m::media::Mid, u64, u64)>,
    /// The latest RTT, loss and jitter (for metrics).
    pub link: super::stats::LinkQuality,
    /// Whether the RED audio this subscriber receives goes without its redundant copies (a slow link).
    pub redundancy: super::redundancy::AudioRedundancy,
}

impl Participant {
    /// `ice_tcp`: also offer a passive ICE-TCP host candidate at `local` (lower priority than UDP, so browsers
    /// that can use UDP do; those behind UDP-blocking firewalls connect over TCP without TURN).
    pub fn new(id: ParticipantId, room: RoomId, local: SocketAddr, ice_tcp: bool, now: Instant) -> Result<Self, String> {
        let mut publisher = rtc_config().build(now);
        // Congestion control (TWCC, probing) on what the SFU sends.
        let mut subscriber = rtc_config().enable_bwe(Some(Bitrate::bps(INITIAL_ESTIMATE_BPS))).build(now);
        let cand = Candidate::host(local, "udp").map_err(|e| format!("local candidate {local}: {e}"))?;
        publisher.add_local_candidate(cand.clone());
        subscriber.add_local_candidate(cand);
        if ice_tcp {
            let tcp = Candidate::builder()
                .tcp()
                .host(local)
                .tcptype(TcpType::Passive)
                .build()
                .map_err(|e| format!("local TCP candidate {local}: {e}"))?;
            publisher.add_local_candidate(tcp.clone());
            subscriber.add_local_candidate(tcp);
        }
        Ok(Participant {
            id,
            room,
            publisher,
            subscriber,
            pub_deadline: now,
            sub_deadline: now,
            uptracks: Vec::new(),
            downtracks: Vec::new(),
            pending_offer: None,
            renegotiate: false,
            ice_restart: false,
            restart_ufrag: None,
            input_errors: 0,
            estimate_bps: INITIAL_ESTIMATE_BPS,
            allocated_bps: 0,
            probe: Default::default(),
            sync: Default::default(),
            delivery: Default::default(),
            nack_counts: Vec::new(),
            link: Default::default(),
            redundancy: Default::default(),
        })
    }

    pub fn ufrag(&mut self, target: PcTarget) -> String {
        self.rtc(target).direct_api().local_ice_credentials().ufrag
    }

    pub fn rtc(&mut self, target: PcTarget) -> &mut Rtc {
        match target {
            PcTarget::Publisher => &mut self.publisher,
            PcTarget::Subscriber => &mut self.subscriber,
        }
    }

    pub fn next_deadline(&self) -> Instant {
        self.pub_deadline.min(self.sub_deadline)
    }

    pub fn uptrack_mut(&mut self, mid: Mid) -> Option<&mut UpTrack> {
        self.uptracks.iter_mut().find(|u| u.mid == mid)
    }

    /// Accept the client's publisher offer.
    pub fn accept_publisher_offer(&mut self, sdp: &str) -> Result<String, String> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| format!("cannot parse SDP offer: {e}"))?;
        let answer = self.publisher.sdp_api().accept_offer(offer).map_err(|e| format!("cannot accept offer: {e}"))?;
        Ok(answer.to_sdp_string())
    }

    /// Add a DownTrack (negotiated with the next offer); returns its index.
    pub fn add_downtrack(&mut self, dt: DownTrack) -> usize {
        self.downtracks.push(dt);
        self.downtracks.len() - 1
    }

    /// Mark a DownTrack's source as gone.
    pub fn remove_downtrack(&mut self, index: usize) {
        if let Some(dt) = self.downtracks.get_mut(index) {
            dt.state = match dt.state {
                DownState::ToAdd => DownState::Removed,
                DownState::Removed => DownState::Removed,
                DownState::Offered | DownState::Active | DownState::ToRemove => DownState::ToRemove,
            };
        }
    }

    /// Build the next subscriber offer if anything changed and no offer is outstanding.
    ///
    /// `stream_id` names the publisher of each DownTrack (its msid stream id, so the client knows whose it is).
    pub fn make_subscriber_offer(&mut self) -> Option<String> {
        if self.pending_offer.is_some() {
            self.renegotiate = true;
            return None;
        }
        self.renegotiate = false;
        let mut api = self.subscriber.sdp_api();
        let mut added = false;
        if self.ice_restart {
            self.ice_restart = false;
            self.restart_ufrag = Some(api.ice_restart(true).ufrag);
            added = true;
        }
        for dt in self.downtracks.iter_mut() {
            match dt.state {
                DownState::ToAdd => {
                    let kind = match dt.kind {
                        TrackKind::Audio => MediaKind::Audio,
                        TrackKind::Video => MediaKind::Video,
                    };
                    let stream_id = dt.source.publisher.to_string();
                    let track_id = format!("{}-{}", dt.source.publisher, dt.source.mid);
                    dt.mid = Some(api.add_media(kind, Direction::SendOnly, Some(stream_id), Some(track_id), None));
                    dt.state = DownState::Offered;
                    added = true;
                }
                DownState::ToRemove => {
                    if let Some(mid) = dt.mid {
                        api.set_direction(mid, Direction::Inactive);
                    }
                    dt.state = DownState::Removed;
                    added = true;
                }
                _ => {}
            }
        }
        if !added || !api.has_changes() {
            return None;
        }
        let (offer, pending) = api.apply()?;
        self.pending_offer = Some(pending);
        Some(offer.to_sdp_string())
    }

    /// Apply the client's answer. Returns the indices of DownTracks that became active.
    pub fn accept_subscriber_answer(&mut self, sdp: &str) -> Result<Vec<usize>, AnswerError> {
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| AnswerError::Parse(e.to_string()))?;
        let pending = self.pending_offer.take().ok_or(AnswerError::Unexpected)?;
        self.subscriber.sdp_api().accept_answer(pending, answer).map_err(|e| AnswerError::Negotiate(e.to_string()))?;
        let mut activated = Vec::new();
        for (i, dt) in self.downtracks.iter_mut().enumerate() {
            if dt.state != DownState::Offered {
                continue;
            }
            let Some(mid) = dt.mid else { continue };
            match self.subscriber.direct_api().stream_tx_by_mid(mid, None) {
                Some(tx) => {
                    dt.ssrc = Some(tx.ssrc());
                    // Forward as packets arrive, as SFUs do: pacing forwarded media adds queueing that the
                    // delay-based estimator reads as congestion (measured: the estimate sank below the media
                    // rate when paced, and recovered when not). Probes and padding are still paced.
                    tx.set_unpaced(true);
                    dt.state = DownState::Active;
                    activated.push(i);
                }
                // The client rejected this m-line: nothing to send there.
                None => dt.state = DownState::Removed,
            }
        }
        Ok(activated)
    }

    /// Whether changes are waiting for the outstanding offer to be answered.
    pub fn wants_renegotiation(&self) -> bool {
        self.renegotiate && self.pending_offer.is_none()
    }

    pub fn offer_outstanding(&self) -> bool {
        self.pending_offer.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("cannot parse SDP answer: {0}")]
    Parse(String),
    #[error("no subscriber offer is outstanding")]
    Unexpected,
    #[error("cannot apply SDP answer: {0}")]
    Negotiate(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(pt: u8, padding: bool) -> Vec<u8> {
        let mut p = vec![0x80 | if padding { 0x20 } else { 0 }, pt, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
        p.extend_from_slice(&[0xab; 20]);
        p
    }

    #[test]
    fn only_rtp_on_an_rtx_payload_type_counts_as_a_retransmission() {
        let mut cfg = rtc_config();
        let vp8 = cfg.codec_config().params().iter().find(|p| p.spec().codec == str0m::format::Codec::Vp8).copied();
        let vp8 = vp8.expect("VP8 configured");
        let (media, rtx) = (*vp8.pt(), *vp8.resend().expect("VP8 has RTX"));
        assert!(is_rtx(&rtp(rtx, false)));
        assert!(is_rtx(&rtp(rtx | 0x80, false)), "with the marker bit");
        assert!(!is_rtx(&rtp(media, false)), "the media payload type");
        assert!(!is_rtx(&rtp(rtx, true)), "padding-only probe packets");
        assert!(!is_rtx(&[0x80, 200, 0, 6]), "RTCP sender report");
        assert!(!is_rtx(&[0x00, 0x01, 0, 0]), "STUN");
        assert!(!is_rtx(&[22, 254, 253]), "DTLS");
        assert!(!is_rtx(&[0x80]));
    }
}

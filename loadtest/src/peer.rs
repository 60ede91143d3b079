//! One WebRTC peer connection of a simulated participant, on webrtc-rs's sans-IO core (`rtc`).
//!
//! The peer owns no socket: datagrams go in with [`Peer::handle_datagram`], time with [`Peer::handle_timeout`],
//! and [`Peer::drain`] hands out datagrams to send and what happened (media, keyframe requests, state). That
//! keeps hundreds of peers on one thread.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::interceptor::{
    NackGeneratorBuilder, NackResponderBuilder, ReceiverReportBuilder, Registry, SenderReportBuilder, Slot,
    TwccReceiverBuilder,
};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::{
    configure_simulcast_extension_headers, register_default_interceptors,
};
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8, MediaEngine};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCDtlsRole, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};

use crate::error::LoadError;

const FAR: Duration = Duration::from_secs(3600);
/// Bound on one drain, so a misbehaving stack can never spin the event loop.
const MAX_DRAIN_ROUNDS: usize = 10_000;

fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn vp8() -> RTCRtpCodec {
    let fb = |typ: &str, parameter: &str| RTCPFeedback { typ: typ.into(), parameter: parameter.into() };
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![fb("nack", ""), fb("nack", "pli"), fb("ccm", "fir")],
    }
}

fn media_engine() -> Result<MediaEngine, LoadError> {
    let mut me = MediaEngine::default();
    me.register_codec(RTCRtpCodecParameters { rtp_codec: opus(), payload_type: 111 }, RtpCodecKind::Audio)
        .map_err(|e| LoadError::rtc("register opus", e))?;
    me.register_codec(RTCRtpCodecParameters { rtp_codec: vp8(), payload_type: 96 }, RtpCodecKind::Video)
        .map_err(|e| LoadError::rtc("register vp8", e))?;
    // The mid and rid header extensions, as browsers offer them: a simulcast publisher's packets carry them so
    // the SFU can tell its encodings apart (there are no a=ssrc lines for simulcast).
    configure_simulcast_extension_headers(&mut me).map_err(|e| LoadError::rtc("register mid/rid extensions", e))?;
    Ok(me)
}

/// What a drain found besides datagrams.
#[derive(Debug)]
pub enum PeerEvent {
    Rtp(rtp::Packet),
    /// The remote asked for a keyframe (PLI or FIR).
    KeyframeRequest,
    Connected,
    Failed,
}

/// A track this peer sends.
#[derive(Debug, Clone)]
pub struct SendTrack {
    pub id: RTCRtpSenderId,
    /// The SSRC of its (first) encoding.
    pub ssrc: u32,
    pub video: bool,
    /// Negotiated payload type (known after the answer).
    pub pt: u8,
    /// Simulcast: `(rid, ssrc)` of every encoding, lowest first (empty without simulcast).
    pub rids: Vec<(&'static str, u32)>,
    /// Simulcast, after the answer: the negotiated mid and rid extension ids and the track's mid.
    pub ext: Option<RidExt>,
}

/// What a simulcast packet carries so the SFU can tell its encodings apart (RFC 8852, RFC 8843).
#[derive(Debug, Clone)]
pub struct RidExt {
    pub mid_id: u8,
    pub rid_id: u8,
    pub mid: Bytes,
}

pub struct Peer {
    pc: RTCPeerConnection,
    pub local: SocketAddr,
    pub deadline: Instant,
    pub connected: bool,
    pub failed: bool,
    pub tracks: Vec<SendTrack>,
    /// Last ICE and peer-connection states seen (for participants that never connect).
    pub ice_state: String,
    pub pc_state: String,
    /// The remote's DTLS handshake bytes given to the stack so far (see [`HandshakeRepeats`]).
    handshake_seen: HandshakeRepeats,
    /// Handshake datagrams held back from the stack because they repeated what it had already received.
    pub handshake_repeats_dropped: u64,
}

/// What a peer connection carries: Plenum (and Janus's VideoRoom) use one connection to publish and another to
/// subscribe, so each needs only its half of the RTP/RTCP interceptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends media only: answers NACKs from its send history and sends sender reports.
    Publisher,
    /// Receives media only: sends NACKs, receiver reports and transport-wide congestion feedback.
    Subscriber,
    /// Both (webrtc-rs's default chain).
    Both,
}

/// The interceptor chain for `role`. The media engine gets the default feedback types and header extensions
/// whatever the role (the SDP stays as before); the chain leaves out the interceptors that would only pass
/// packets through: every interceptor is one more stage each packet is moved through, which profiles of the
/// load generator showed as its largest single cost (`memmove` in the chain's walk).
fn interceptors(role: Role, me: &mut MediaEngine) -> Result<Registry, LoadError> {
    let all = register_default_interceptors(Registry::new(), me).map_err(|e| LoadError::rtc("interceptors", e))?;
    Ok(match role {
        Role::Both => all,
        Role::Publisher => Registry::new()
            .with(Slot::NackResponder, NackResponderBuilder::new().build())
            .with(Slot::SenderReport, SenderReportBuilder::new().build()),
        Role::Subscriber => Registry::new()
            .with(Slot::NackGenerator, NackGeneratorBuilder::new().build())
            .with(Slot::ReceiverReport, ReceiverReportBuilder::new().build())
            .with(Slot::TwccReceiver, TwccReceiverBuilder::new().build()),
    })
}

/// Pacing of the ICE connectivity checks (see [`Peer::new`]).
const ICE_CHECK_INTERVAL: Duration = Duration::from_millis(50);

impl Peer {
    /// A full-ICE peer with one host candidate at `local` that may both send and receive media.
    pub fn new(local: SocketAddr, now: Instant) -> Result<Peer, LoadError> {
        Self::with_role(Role::Both, local, now)
    }

    /// A full-ICE peer with one host candidate at `local`, with the interceptors of `role` only.
    pub fn with_role(role: Role, local: SocketAddr, now: Instant) -> Result<Peer, LoadError> {
        let se = SettingEngineBuilder::new()
            .with_answering_dtls_role(RTCDtlsRole::Client)
            // webrtc-rs checks candidate pairs every 200 ms by default: against an ICE-lite server (which never
            // checks back) the nomination, and then the DTLS start, each waited for the next 200-ms tick, about
            // 400 ms of every join. Browsers pace their checks at 50 ms or less; so do these peers (28 attempts
            // keep webrtc-rs's 1.4 s per candidate).
            .with_ice_connection_attempts(Some(ICE_CHECK_INTERVAL), Some(28))
            .build();
        let mut me = media_engine()?;
        let registry = interceptors(role, &mut me)?;
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(se)
            .with_media_engine(me)
            .with_interceptor_registry(registry)
            .build(now)
            .map_err(|e| LoadError::rtc("build", e))?;
        let host = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: local.ip().to_string(),
                port: local.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()
        .map_err(|e| LoadError::rtc("host candidate", e))?;
        let init = RTCIceCandidate::from(&host).to_json().map_err(|e| LoadError::rtc("candidate json", e))?;
        pc.add_local_candidate(init).map_err(|e| LoadError::rtc("add candidate", e))?;
        Ok(Peer {
            pc,
            local,
            deadline: now,
            connected: false,
            failed: false,
            tracks: Vec::new(),
            ice_state: "new".into(),
            pc_state: "new".into(),
            handshake_seen: HandshakeRepeats::default(),
            handshake_repeats_dropped: 0,
        })
    }

    /// Add a send-only track (its transceiver is created sendrecv by `add_track`; the SFU answers recvonly).
    pub fn add_send_track(&mut self, name: &str, video: bool, ssrc: u32) -> Result<(), LoadError> {
        let (kind, codec) = if video { (RtpCodecKind::Video, vp8()) } else { (RtpCodecKind::Audio, opus()) };
        let track = MediaStreamTrack::new(
            format!("lt-{name}"),
            format!("lt-{name}-{}", if video { "video" } else { "audio" }),
            format!("lt-{name}"),
            kind,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                codec,
                ..Default::default()
            }],
        );
        let id = self.pc.add_track(track).map_err(|e| LoadError::rtc("add track", e))?;
        self.tracks.push(SendTrack { id, ssrc, video, pt: if video { 96 } else { 111 }, rids: vec![], ext: None });
        Ok(())
    }

    /// Add a VP8 track sent as simulcast: one encoding per `(rid, ssrc)`, lowest first. The offer lists them as
    /// `a=rid:<rid> send` and `a=simulcast:send l;m;h`, as a browser's does.
    pub fn add_simulcast_video(&mut self, name: &str, encodings: &[(&'static str, u32)]) -> Result<(), LoadError> {
        let codings = encodings
            .iter()
            .map(|(rid, ssrc)| RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    rid: (*rid).to_owned(),
                    ssrc: Some(*ssrc),
                    ..Default::default()
                },
                codec: vp8(),
                ..Default::default()
            })
            .collect();
        let track = MediaStreamTrack::new(
            format!("lt-{name}"),
            format!("lt-{name}-video"),
            format!("lt-{name}"),
            RtpCodecKind::Video,
            codings,
        );
        let id = self.pc.add_track(track).map_err(|e| LoadError::rtc("add simulcast track", e))?;
        let ssrc = encodings.first().map_or(0, |e| e.1);
        self.tracks.push(SendTrack { id, ssrc, video: true, pt: 96, rids: encodings.to_vec(), ext: None });
        Ok(())
    }

    pub fn create_offer(&mut self, now: Instant) -> Result<String, LoadError> {
        let offer = self.pc.create_offer(None).map_err(|e| LoadError::rtc("create offer", e))?;
        self.pc.set_local_description(now, offer.clone()).map_err(|e| LoadError::rtc("set local offer", e))?;
        Ok(self.pc.local_description().unwrap_or(offer).sdp)
    }

    pub fn accept_answer(&mut self, now: Instant, sdp: String) -> Result<(), LoadError> {
        let answer = RTCSessionDescription::answer(sdp).map_err(|e| LoadError::rtc("parse answer", e))?;
        self.pc.set_remote_description(now, answer).map_err(|e| LoadError::rtc("set remote answer", e))?;
        for t in &mut self.tracks {
            let mime = if t.video { MIME_TYPE_VP8 } else { MIME_TYPE_OPUS };
            if let Some(mut s) = self.pc.rtp_sender(t.id)
                && let Some(c) = s.get_parameters().rtp_parameters.codecs.iter().find(|c| c.rtp_codec.mime_type == mime)
            {
                t.pt = c.payload_type;
            }
            if t.rids.is_empty() {
                continue;
            }
            // webrtc-rs negotiates the mid and rid extensions but writes neither into the packets it sends:
            // the sender adds them (`send_rtp`).
            let ids = self.pc.rtp_sender(t.id).map(|mut s| {
                let exts = &s.get_parameters().rtp_parameters.header_extensions;
                let id_of = |uri: &str| exts.iter().find(|e| e.uri == uri).map(|e| e.id as u8);
                (id_of(::rtc::sdp::extmap::SDES_MID_URI), id_of(::rtc::sdp::extmap::SDES_RTP_STREAM_ID_URI))
            });
            let tid: rtc::rtp_transceiver::RTCRtpTransceiverId = t.id.into();
            let mid = self.pc.rtp_transceiver(tid).and_then(|tr| tr.mid().clone());
            match (ids, mid) {
                (Some((Some(mid_id), Some(rid_id))), Some(mid)) => {
                    t.ext = Some(RidExt { mid_id, rid_id, mid: Bytes::from(mid) });
                }
                _ => {
                    return Err(LoadError::Rtc {
                        context: "simulcast",
                        message: "the answer did not accept the mid and rid header extensions".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Answer an offer (the subscriber connection; renegotiations too).
    pub fn accept_offer(&mut self, now: Instant, sdp: String) -> Result<String, LoadError> {
        let offer = RTCSessionDescription::offer(sdp).map_err(|e| LoadError::rtc("parse offer", e))?;
        self.pc.set_remote_description(now, offer).map_err(|e| LoadError::rtc("set remote offer", e))?;
        let answer = self.pc.create_answer(None).map_err(|e| LoadError::rtc("create answer", e))?;
        self.pc.set_local_description(now, answer.clone()).map_err(|e| LoadError::rtc("set local answer", e))?;
        Ok(self.pc.local_description().unwrap_or(answer).sdp)
    }

    /// Feed one received datagram. Errors (undecodable input) are counted by the caller, never fatal.
    ///
    /// Until the connection is up, a DTLS datagram that only repeats handshake messages the stack already has is
    /// not given to it: webrtc-rs `rtc` 0.21's DTLS client, waiting for the answer to its last flight, disarms
    /// its retransmission timer on every handshake datagram, even one that brings nothing new, and does not
    /// answer the repeat with its own flight either (RFC 6347 4.2.4 says it should). When its last flight
    /// (Certificate … Finished) was lost and the server's repeat arrived before the client's 1-s timer (the SFU
    /// repeats after 0.75–1.25 s), the client never sent that flight again and the handshake hung for good.
    /// Without the repeat the client's own timer sends the flight again.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) -> bool {
        if !self.connected && self.handshake_seen.is_repeat(data) {
            self.handshake_repeats_dropped += 1;
            return true;
        }
        let msg = TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: self.local,
                peer_addr: from,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(data),
        };
        self.pc.handle_read(msg).is_ok()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = self.pc.handle_timeout(now);
    }

    /// Send one RTP packet on a track (sequence number, timestamp, SSRC and PT set by the caller).
    /// Simulcast packets get the mid and rid header extensions of their encoding.
    pub fn send_rtp(&mut self, now: Instant, track: usize, mut header: rtp::header::Header, payload: Bytes) -> bool {
        let Some(t) = self.tracks.get(track) else { return false };
        if let Some(ext) = &t.ext {
            let Some((rid, _)) = t.rids.iter().find(|(_, ssrc)| *ssrc == header.ssrc) else { return false };
            if header.set_extension(ext.mid_id, ext.mid.clone()).is_err()
                || header.set_extension(ext.rid_id, Bytes::from_static(rid.as_bytes())).is_err()
            {
                return false;
            }
        }
        let pkt = rtp::packet::Packet { header, payload };
        match self.pc.rtp_sender(t.id) {
            Some(mut s) => s.write_rtp(now, pkt).is_ok(),
            None => false,
        }
    }

    /// Take everything the stack produced: datagrams into `out`, the rest into `events`. Updates the deadline.
    pub fn drain(&mut self, out: &mut Vec<(SocketAddr, BytesMut)>, events: &mut Vec<PeerEvent>) {
        for _ in 0..MAX_DRAIN_ROUNDS {
            let mut any = false;
            while let Some(msg) = self.pc.poll_write() {
                any = true;
                out.push((msg.transport.peer_addr, msg.message));
            }
            while let Some(ev) = self.pc.poll_event() {
                any = true;
                if let RTCPeerConnectionEvent::OnIceConnectionStateChangeEvent(s) = &ev {
                    self.ice_state = s.to_string();
                }
                if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(s) = ev {
                    self.pc_state = s.to_string();
                    match s {
                        RTCPeerConnectionState::Connected => {
                            self.connected = true;
                            self.handshake_seen = HandshakeRepeats::default();
                            events.push(PeerEvent::Connected);
                        }
                        RTCPeerConnectionState::Failed => {
                            self.failed = true;
                            events.push(PeerEvent::Failed);
                        }
                        _ => {}
                    }
                }
            }
            while let Some(TaggedRTCMessage { message, .. }) = self.pc.poll_read() {
                any = true;
                match message {
                    RTCMessage::RtpPacket(_, pkt) => events.push(PeerEvent::Rtp(pkt)),
                    RTCMessage::RtcpPacket(_, pkts) => {
                        let wants_key = pkts.iter().any(|p| {
                            p.as_any().downcast_ref::<PictureLossIndication>().is_some()
                                || p.as_any().downcast_ref::<FullIntraRequest>().is_some()
                        });
                        if wants_key {
                            events.push(PeerEvent::KeyframeRequest);
                        }
                    }
                    _ => {}
                }
            }
            if !any {
                break;
            }
        }
        self.deadline = self.pc.poll_timeout().unwrap_or_else(|| Instant::now() + FAR);
    }

    pub fn close(&mut self) {
        let _ = self.pc.close();
    }
}

/// The byte ranges of every DTLS handshake message (epoch 0, plaintext) received so far, by message sequence.
#[derive(Debug, Default)]
pub struct HandshakeRepeats {
    /// message_seq -> received `[start, end)` ranges of its body.
    seen: HashMap<u16, Vec<(u32, u32)>>,
}

impl HandshakeRepeats {
    /// Whether `d` is a DTLS datagram (RFC 7983) made only of epoch-0 handshake fragments that were all received
    /// before. Records it as received otherwise. Anything else (other records, other epochs, malformed input,
    /// non-DTLS) is never a repeat.
    pub fn is_repeat(&mut self, d: &[u8]) -> bool {
        let Some(frags) = handshake_fragments(d) else { return false };
        if frags.is_empty() {
            return false;
        }
        let repeat = frags.iter().all(|&(seq, start, end)| {
            self.seen.get(&seq).is_some_and(|ranges| covered(ranges, start, end))
        });
        if !repeat {
            for (seq, start, end) in frags {
                self.seen.entry(seq).or_default().push((start, end));
            }
        }
        repeat
    }
}

/// Whether `[start, end)` lies within the union of `ranges`.
fn covered(ranges: &[(u32, u32)], start: u32, end: u32) -> bool {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut at = start;
    for (s, e) in sorted {
        if at >= end {
            break;
        }
        if s <= at && e > at {
            at = e;
        }
    }
    at >= end
}

/// `(message_seq, fragment start, fragment end)` of every handshake fragment, when the datagram consists of
/// epoch-0 handshake records only (RFC 6347 4.1, 4.2.2); `None` otherwise.
fn handshake_fragments(d: &[u8]) -> Option<Vec<(u16, u32, u32)>> {
    const RECORD_HEADER: usize = 13;
    const HANDSHAKE_HEADER: usize = 12;
    const CONTENT_HANDSHAKE: u8 = 22;
    let u24 = |b: &[u8]| u32::from_be_bytes([0, b[0], b[1], b[2]]);
    if d.is_empty() || !(20..=63).contains(&d[0]) {
        return None;
    }
    let mut frags = Vec::new();
    let mut i = 0;
    while i < d.len() {
        let header = d.get(i..i + RECORD_HEADER)?;
        let epoch = u16::from_be_bytes([header[3], header[4]]);
        let len = u16::from_be_bytes([header[11], header[12]]) as usize;
        if header[0] != CONTENT_HANDSHAKE || epoch != 0 {
            return None;
        }
        let body = d.get(i + RECORD_HEADER..i + RECORD_HEADER + len)?;
        let mut j = 0;
        while j < body.len() {
            let h = body.get(j..j + HANDSHAKE_HEADER)?;
            let seq = u16::from_be_bytes([h[4], h[5]]);
            let offset = u24(&h[6..9]);
            let frag_len = u24(&h[9..12]);
            body.get(j + HANDSHAKE_HEADER..j + HANDSHAKE_HEADER + frag_len as usize)?;
            frags.push((seq, offset, offset + frag_len));
            j += HANDSHAKE_HEADER + frag_len as usize;
        }
        i += RECORD_HEADER + len;
    }
    Some(frags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One epoch-0 handshake record with fragment `[offset, offset + len)` of message `seq` (total length 100).
    fn record(seq: u16, offset: u32, len: u32, record_seq: u8) -> Vec<u8> {
        let mut r = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, record_seq];
        r.extend_from_slice(&((12 + len) as u16).to_be_bytes());
        r.push(2);
        r.extend_from_slice(&100u32.to_be_bytes()[1..]);
        r.extend_from_slice(&seq.to_be_bytes());
        r.extend_from_slice(&offset.to_be_bytes()[1..]);
        r.extend_from_slice(&len.to_be_bytes()[1..]);
        r.extend(std::iter::repeat_n(0xab, len as usize));
        r
    }

    #[test]
    fn a_repeated_flight_is_a_repeat_and_new_bytes_are_not() {
        let mut h = HandshakeRepeats::default();
        let flight = [record(0, 0, 100, 0), record(1, 0, 0, 1)].concat();
        assert!(!h.is_repeat(&flight), "first time");
        // The same messages again, in new records (new record sequence numbers): a repeat.
        let again = [record(0, 0, 100, 5), record(1, 0, 0, 6)].concat();
        assert!(h.is_repeat(&again));
        // Re-fragmented differently, still nothing new.
        assert!(h.is_repeat(&[record(0, 0, 40, 7), record(0, 40, 60, 8)].concat()));
        // A message not seen yet, alone or next to old ones, goes to the stack.
        assert!(!h.is_repeat(&[record(0, 0, 100, 9), record(2, 0, 10, 10)].concat()));
        assert!(h.is_repeat(&record(2, 0, 10, 11)));
        // The rest of a message only partly received goes to the stack.
        let mut p = HandshakeRepeats::default();
        assert!(!p.is_repeat(&record(0, 0, 50, 0)));
        assert!(!p.is_repeat(&record(0, 0, 100, 1)));
        assert!(p.is_repeat(&record(0, 50, 50, 2)));
    }

    #[test]
    fn only_plain_handshake_datagrams_can_be_repeats() {
        let mut h = HandshakeRepeats::default();
        let hs = record(0, 0, 10, 0);
        assert!(!h.is_repeat(&hs));
        // ChangeCipherSpec next to it, or an epoch-1 record (the encrypted Finished): never held back.
        let mut ccs = vec![20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1];
        assert!(!h.is_repeat(&[hs.clone(), ccs.clone()].concat()));
        ccs[0] = 22;
        ccs[4] = 1;
        assert!(!h.is_repeat(&[hs.clone(), ccs].concat()));
        // Truncated, STUN, RTP: not DTLS handshakes.
        assert!(!h.is_repeat(&hs[..hs.len() - 1]));
        assert!(!h.is_repeat(&[0, 1, 0, 0]));
        assert!(!h.is_repeat(&[0x80, 111, 0, 1]));
        assert!(!h.is_repeat(&[]));
        assert!(h.is_repeat(&hs));
    }
}

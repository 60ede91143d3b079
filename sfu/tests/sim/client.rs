//! A simulated participant: two str0m peers (full ICE, RTP mode) talking to the SFU through [`super::net::Net`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Rid, Simulcast, SimulcastLayer};
use str0m::rtp::ExtensionValues;
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, Ssrc};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};

use super::net::Wire;

pub const AUDIO_EVERY: Duration = Duration::from_millis(20);
pub const VIDEO_EVERY: Duration = Duration::from_millis(33);
pub const PACKETS_PER_FRAME: u64 = 3;
/// A video frame leaves the simulated encoder this long after its capture (the wallclock of its RTP time in the
/// publisher's sender reports); audio leaves at once. The SFU must keep this distance (`lipsync.rs`).
pub const VIDEO_CAPTURE_LAG: Duration = Duration::from_millis(60);

/// Simulcast ladder of the simulated publisher: (rid, packets per frame, packet size). At 30 frames/s:
/// l ≈ 144 kbit/s, m ≈ 432 kbit/s, h ≈ 960 kbit/s of payload.
pub const SIMULCAST: [(&str, u64, usize); 3] = [("l", 1, 600), ("m", 2, 900), ("h", 4, 1000)];

/// What a subscriber received on one of its m-lines.
#[derive(Default, Debug)]
pub struct Received {
    pub stream_id: String,
    pub kind: Option<MediaKind>,
    pub seqs: Vec<u64>,
    pub ssrcs: Vec<Ssrc>,
    /// First payload byte of the first packet (VP8 descriptor start).
    pub first_payload: Vec<u8>,
    /// When the first packet arrived.
    pub first_at: Option<Instant>,
    /// Video: per packet, when it arrived, the publisher's layer it came from (payload byte 2) and whether it
    /// starts a keyframe.
    pub layers: Vec<(Instant, u8, bool)>,
    /// Video with temporal layers: per frame start, when it arrived, its PictureID and temporal layer.
    pub frames: Vec<(Instant, u16, u8)>,
    /// Audio: payload type and payload of every packet.
    pub audio: Vec<(u8, Vec<u8>)>,
    /// Per packet after the first sender report: when it arrived, and its capture time by that report (RTP
    /// time mapped through the report's NTP time).
    pub captured: Vec<(Instant, std::time::SystemTime)>,
}

impl Sender {
    /// The track id the SFU announces for this sender (its mid).
    pub fn mid_string(&self) -> String {
        self.mid.to_string()
    }
}

impl Received {
    /// The layer received at `t` (the last packet at or before it).
    pub fn layer_at(&self, t: Instant) -> Option<u8> {
        self.layers.iter().take_while(|(at, _, _)| *at <= t).last().map(|(_, l, _)| *l)
    }
}

pub struct SendLayer {
    pub rid: Option<Rid>,
    pub spatial: u8,
    seq: u64,
    packets_per_frame: u64,
    packet_size: usize,
    keyframe_asked: bool,
    pub active: bool,
    pub sent: u64,
    /// Frames since the last keyframe (the temporal pattern restarts at each keyframe), PictureID, TL0PICIDX.
    since_key: u64,
    picture_id: u16,
    tl0: u8,
}

/// Chrome's VP8 temporal pattern with three layers: (TID, layer sync) per frame after a keyframe. TL1 frames and
/// the TL2 frame right after TL0 reference TL0 only.
pub const TEMPORAL_PATTERN: [(u8, bool); 4] = [(0, false), (2, true), (1, true), (2, false)];

/// Offset of the VP8 payload header in the simulated payloads: right after a one-byte descriptor, or after the
/// six-byte one with PictureID, TL0PICIDX and TID. The byte after the header names the spatial layer.
pub fn vp8_header_at(payload: &[u8]) -> usize {
    if payload.first().is_some_and(|b| b & 0x80 != 0) { 6 } else { 1 }
}

pub struct Sender {
    pub mid: Mid,
    kind: MediaKind,
    pub layers: Vec<SendLayer>,
    ts: u32,
    next_at: Instant,
    frames: u64,
    /// Audio level sent in the RFC 6464 extension (dBov, -127 silence).
    pub level: i8,
    pub sent: u64,
}

pub struct Client {
    pub name: String,
    pub pub_addr: SocketAddr,
    pub sub_addr: SocketAddr,
    pub publisher: Rtc,
    pub subscriber: Rtc,
    pending_pub: Option<SdpPendingOffer>,
    pub senders: Vec<Sender>,
    pub received: HashMap<Mid, Received>,
    pub keyframe_requests_seen: u64,
    pub connected_pub: bool,
    pub connected_sub: bool,
    pub publishing: bool,
    /// Video is sent with VP8 temporal layers ([`TEMPORAL_PATTERN`]); set before [`Client::publish_offer`].
    pub temporal_layers: bool,
}

fn config(red: bool) -> RtcConfig {
    RtcConfig::new().set_rtp_mode(true).clear_codecs().enable_opus(true, red).enable_vp8(true)
}

impl Client {
    pub fn new(name: &str, index: u16, now: Instant) -> Self {
        let pub_addr: SocketAddr = format!("127.0.0.1:{}", 20_000 + index * 2).parse().unwrap();
        let sub_addr: SocketAddr = format!("127.0.0.1:{}", 20_001 + index * 2).parse().unwrap();
        Self::with_addrs(name, pub_addr, sub_addr, now)
    }

    pub fn with_addrs(name: &str, pub_addr: SocketAddr, sub_addr: SocketAddr, now: Instant) -> Self {
        Self::build(name, pub_addr, sub_addr, now, false)
    }

    /// As [`Client::new`], both connections offering or accepting RFC 2198 RED for Opus (as Chrome does).
    pub fn new_red(name: &str, index: u16, now: Instant) -> Self {
        let pub_addr: SocketAddr = format!("127.0.0.1:{}", 20_000 + index * 2).parse().unwrap();
        let sub_addr: SocketAddr = format!("127.0.0.1:{}", 20_001 + index * 2).parse().unwrap();
        Self::build(name, pub_addr, sub_addr, now, true)
    }

    fn build(name: &str, pub_addr: SocketAddr, sub_addr: SocketAddr, now: Instant, red: bool) -> Self {
        let mut publisher = config(red).build(now);
        let mut subscriber = config(red).build(now);
        publisher.add_local_candidate(Candidate::host(pub_addr, "udp").unwrap());
        subscriber.add_local_candidate(Candidate::host(sub_addr, "udp").unwrap());
        Client {
            name: name.into(),
            pub_addr,
            sub_addr,
            publisher,
            subscriber,
            pending_pub: None,
            senders: vec![],
            received: HashMap::new(),
            keyframe_requests_seen: 0,
            connected_pub: false,
            connected_sub: false,
            publishing: false,
            temporal_layers: false,
        }
    }

    /// Offer one audio and one video track (the video with three simulcast layers when `simulcast`).
    pub fn publish_offer(&mut self, simulcast: bool) -> String {
        let mut api = self.publisher.sdp_api();
        let a = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let sim = simulcast.then(|| {
            let mut s = Simulcast::new();
            for (rid, _, _) in SIMULCAST {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        let v = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, sim);
        let (offer, pending) = api.apply().unwrap();
        self.pending_pub = Some(pending);
        let layer = |rid: Option<Rid>, spatial, packets_per_frame, packet_size| SendLayer {
            rid,
            spatial,
            seq: 1000 + spatial as u64 * 10_000,
            packets_per_frame,
            packet_size,
            keyframe_asked: false,
            active: true,
            sent: 0,
            since_key: 0,
            picture_id: 0,
            tl0: 0,
        };
        let video_layers = if simulcast {
            SIMULCAST.iter().enumerate().map(|(i, (rid, n, size))| layer(Some(Rid::from(*rid)), i as u8, *n, *size)).collect()
        } else {
            vec![layer(None, 0, PACKETS_PER_FRAME, 400)]
        };
        for (mid, kind, layers) in [(a, MediaKind::Audio, vec![layer(None, 0, 1, 80)]), (v, MediaKind::Video, video_layers)] {
            self.senders.push(Sender { mid, kind, layers, ts: 0, next_at: Instant::now(), frames: 0, level: -127, sent: 0 });
        }
        offer.to_sdp_string()
    }

    /// Apply the SFU's request to pause or resume simulcast layers.
    pub fn set_layers(&mut self, active: &[(String, bool)]) {
        for s in &mut self.senders {
            for l in &mut s.layers {
                if let Some((_, on)) = active.iter().find(|(rid, _)| Some(Rid::from(rid.as_str())) == l.rid) {
                    if *on && !l.active {
                        // An encoder that restarts starts with a keyframe.
                        l.keyframe_asked = true;
                    }
                    l.active = *on;
                }
            }
        }
    }

    /// Speak (or not): the level sent with every audio packet.
    pub fn set_level(&mut self, dbov: i8) {
        for s in self.senders.iter_mut().filter(|s| s.kind == MediaKind::Audio) {
            s.level = dbov;
        }
    }

    pub fn accept_publish_answer(&mut self, sdp: &str, now: Instant) {
        let answer = SdpAnswer::from_sdp_string(sdp).unwrap();
        self.publisher.sdp_api().accept_answer(self.pending_pub.take().unwrap(), answer).unwrap();
        for s in &mut self.senders {
            s.next_at = now;
        }
        self.publishing = true;
    }

    pub fn accept_subscribe_offer(&mut self, sdp: &str) -> String {
        let offer = SdpOffer::from_sdp_string(sdp).unwrap();
        self.subscriber.sdp_api().accept_offer(offer).unwrap().to_sdp_string()
    }

    pub fn next_timeout(&mut self, now: Instant, net: &mut impl Wire) -> Instant {
        let a = self.drain(true, now, net);
        let b = self.drain(false, now, net);
        let mut t = a.min(b);
        if self.publishing && self.connected_pub {
            for s in &self.senders {
                t = t.min(s.next_at);
            }
        }
        t
    }

    /// Feed a datagram and drain right away (str0m expects output to be polled after every input).
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8], net: &mut impl Wire) {
        let input = Input::Receive(now, Receive { proto: Protocol::Udp, source: from, destination: to, contents: data.try_into().unwrap() });
        let publisher = to == self.pub_addr;
        let rtc = if publisher { &mut self.publisher } else { &mut self.subscriber };
        rtc.handle_input(input).unwrap();
        self.drain(publisher, now, net);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.publisher.handle_input(Input::Timeout(now)).unwrap();
        self.subscriber.handle_input(Input::Timeout(now)).unwrap();
        if self.publishing && self.connected_pub {
            self.send_media(now);
        }
    }

    fn send_media(&mut self, now: Instant) {
        let temporal_layers = self.temporal_layers;
        for i in 0..self.senders.len() {
            let s = &mut self.senders[i];
            while s.next_at <= now {
                let params = self
                    .publisher
                    .codec_config()
                    .find(|p| match s.kind {
                        MediaKind::Audio => p.spec().codec == Codec::Opus,
                        MediaKind::Video => p.spec().codec == Codec::Vp8,
                    })
                    .unwrap();
                let (pt, red_pt) = (params.pt(), params.red());
                let mut api = self.publisher.direct_api();
                match s.kind {
                    MediaKind::Audio => {
                        let l = &mut s.layers[0];
                        let tx = api.stream_tx_by_mid(s.mid, None).unwrap();
                        l.seq += 1;
                        s.ts = s.ts.wrapping_add(960);
                        let mut ext = ExtensionValues::default();
                        ext.audio_level = Some(s.level);
                        ext.voice_activity = Some(s.level > -50);
                        // An Opus frame numbered by its sequence number; with RED the previous frame rides along
                        // (one redundant block, 960 ticks back), as Chrome sends it.
                        let frame = |seq: u64| {
                            let mut f = vec![0xfc; 80];
                            f[1] = seq as u8;
                            f
                        };
                        let (wpt, payload) = match red_pt {
                            Some(red) => {
                                let ts_len: u32 = (960 << 10) | 80;
                                let mut p = vec![0x80 | *pt, (ts_len >> 16) as u8, (ts_len >> 8) as u8, ts_len as u8, *pt];
                                p.extend(frame(l.seq - 1));
                                p.extend(frame(l.seq));
                                (red, p)
                            }
                            None => (pt, frame(l.seq)),
                        };
                        let w = RtpWrite::new(wpt, l.seq.into(), s.ts, now, payload).marker(true).ext_vals(ext);
                        tx.write_rtp(w);
                        s.sent += 1;
                        s.next_at += AUDIO_EVERY;
                    }
                    MediaKind::Video => {
                        let periodic = s.frames.is_multiple_of(90);
                        s.frames += 1;
                        s.ts = s.ts.wrapping_add(2970);
                        for l in s.layers.iter_mut().filter(|l| l.active) {
                            let keyframe = periodic || l.keyframe_asked;
                            l.keyframe_asked = false;
                            if keyframe {
                                l.since_key = 0;
                            }
                            let (tid, sync) = TEMPORAL_PATTERN[(l.since_key % 4) as usize];
                            l.since_key += 1;
                            l.picture_id = (l.picture_id + 1) & 0x7fff;
                            if tid == 0 {
                                l.tl0 = l.tl0.wrapping_add(1);
                            }
                            let Some(tx) = api.stream_tx_by_mid(s.mid, l.rid) else { continue };
                            for k in 0..l.packets_per_frame {
                                l.seq += 1;
                                let mut payload = vec![0u8; l.packet_size];
                                let start = if k == 0 { 0x10 } else { 0x00 };
                                let h = if temporal_layers {
                                    // X; I (15-bit PictureID), L, T.
                                    payload[..6].copy_from_slice(&[
                                        0x80 | start,
                                        0xe0,
                                        0x80 | (l.picture_id >> 8) as u8,
                                        l.picture_id as u8,
                                        l.tl0,
                                        tid << 6 | if sync { 0x20 } else { 0 },
                                    ]);
                                    6
                                } else {
                                    payload[0] = start;
                                    1
                                };
                                payload[h] = if keyframe { 0x00 } else { 0x01 };
                                payload[h + 1] = l.spatial;
                                tx.write_rtp(
                                    RtpWrite::new(pt, l.seq.into(), s.ts, now - VIDEO_CAPTURE_LAG, payload)
                                        .marker(k == l.packets_per_frame - 1)
                                        .nackable(true),
                                );
                                l.sent += 1;
                                s.sent += 1;
                            }
                        }
                        s.next_at += VIDEO_EVERY;
                    }
                }
            }
        }
    }

    /// Drain one peer; returns its next deadline.
    fn drain(&mut self, publisher: bool, now: Instant, net: &mut impl Wire) -> Instant {
        loop {
            let rtc = if publisher { &mut self.publisher } else { &mut self.subscriber };
            match rtc.poll_output().unwrap() {
                Output::Timeout(t) => {
                    if t <= now {
                        rtc.handle_input(Input::Timeout(now)).unwrap();
                        continue;
                    }
                    return t;
                }
                Output::Transmit(t) => net.send(now, t.source, t.destination, &t.contents),
                Output::Event(e) => match e {
                    Event::Connected if publisher => self.connected_pub = true,
                    Event::Connected => self.connected_sub = true,
                    Event::KeyframeRequest(k) => {
                        self.keyframe_requests_seen += 1;
                        if let Some(s) = self.senders.iter_mut().find(|s| s.mid == k.mid) {
                            for l in s.layers.iter_mut().filter(|l| k.rid.is_none() || l.rid == k.rid) {
                                l.keyframe_asked = true;
                            }
                        }
                    }
                    Event::RtpPacket(p) if !publisher => {
                        let mid = self.subscriber.direct_api().stream_rx(&p.header.ssrc).map(|s| s.mid());
                        let Some(mid) = mid else { continue };
                        let media = self.subscriber.media(mid);
                        let stream_id = media.map(|m| m.stream_id().to_string()).unwrap_or_default();
                        let kind = media.map(|m| m.kind());
                        let r = self.received.entry(mid).or_default();
                        r.stream_id = stream_id;
                        r.kind = kind;
                        if r.seqs.is_empty() {
                            r.first_payload = p.payload.to_vec();
                            r.first_at = Some(now);
                        }
                        if kind == Some(MediaKind::Audio) {
                            r.audio.push((*p.header.payload_type, p.payload.to_vec()));
                        }
                        if let Some(sr) = &p.last_sender_info {
                            let clock = u64::from(sr.rtp_time.denom());
                            let ticks = p.header.timestamp.wrapping_sub(sr.rtp_time.numer() as u32) as i32;
                            let d = Duration::from_micros(u64::from(ticks.unsigned_abs()) * 1_000_000 / clock);
                            let at = if ticks >= 0 { sr.ntp_time + d } else { sr.ntp_time - d };
                            r.captured.push((now, at));
                        }
                        let h = vp8_header_at(&p.payload);
                        if kind == Some(MediaKind::Video) && p.payload.len() > h + 1 {
                            let start = p.payload[0] & 0x10 != 0;
                            let key = start && p.payload[h] & 0x01 == 0;
                            r.layers.push((now, p.payload[h + 1], key));
                            if h == 6 && start {
                                let pic = u16::from(p.payload[2] & 0x7f) << 8 | u16::from(p.payload[3]);
                                r.frames.push((now, pic, p.payload[5] >> 6));
                            }
                        }
                        r.seqs.push(*p.seq_no);
                        if !r.ssrcs.contains(&p.header.ssrc) {
                            r.ssrcs.push(p.header.ssrc);
                        }
                    }
                    _ => {}
                },
            }
        }
    }

    /// What this client received from the participant whose msid stream id is `stream_id`.
    pub fn from_publisher(&self, stream_id: &str, kind: MediaKind) -> Vec<&Received> {
        self.received.values().filter(|r| r.stream_id == stream_id && r.kind == Some(kind)).collect()
    }

    pub fn direction_of(&self, mid: Mid) -> Option<Direction> {
        self.subscriber.media(mid).map(|m| m.direction())
    }
}

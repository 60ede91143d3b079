//! A simulated participant: two str0m peers (full ICE, RTP mode) talking to the SFU through [`super::net::Net`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, Ssrc};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};

use super::net::Wire;

pub const AUDIO_EVERY: Duration = Duration::from_millis(20);
pub const VIDEO_EVERY: Duration = Duration::from_millis(33);
pub const PACKETS_PER_FRAME: u64 = 3;

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
}

pub struct Sender {
    mid: Mid,
    kind: MediaKind,
    seq: u64,
    ts: u32,
    next_at: Instant,
    frames: u64,
    keyframe_asked: bool,
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
}

fn config() -> RtcConfig {
    RtcConfig::new().set_rtp_mode(true).clear_codecs().enable_opus(true, false).enable_vp8(true)
}

impl Client {
    pub fn new(name: &str, index: u16, now: Instant) -> Self {
        let pub_addr: SocketAddr = format!("127.0.0.1:{}", 20_000 + index * 2).parse().unwrap();
        let sub_addr: SocketAddr = format!("127.0.0.1:{}", 20_001 + index * 2).parse().unwrap();
        Self::with_addrs(name, pub_addr, sub_addr, now)
    }

    pub fn with_addrs(name: &str, pub_addr: SocketAddr, sub_addr: SocketAddr, now: Instant) -> Self {
        let mut publisher = config().build(now);
        let mut subscriber = config().build(now);
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
        }
    }

    /// Offer one audio and one video track.
    pub fn publish_offer(&mut self) -> String {
        let mut api = self.publisher.sdp_api();
        let a = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let v = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        self.pending_pub = Some(pending);
        for (mid, kind) in [(a, MediaKind::Audio), (v, MediaKind::Video)] {
            self.senders.push(Sender {
                mid,
                kind,
                seq: 1000,
                ts: 0,
                next_at: Instant::now(),
                frames: 0,
                keyframe_asked: false,
                sent: 0,
            });
        }
        offer.to_sdp_string()
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
        for i in 0..self.senders.len() {
            let s = &mut self.senders[i];
            while s.next_at <= now {
                let pt = self
                    .publisher
                    .codec_config()
                    .find(|p| match s.kind {
                        MediaKind::Audio => p.spec().codec == Codec::Opus,
                        MediaKind::Video => p.spec().codec == Codec::Vp8,
                    })
                    .unwrap()
                    .pt();
                let mut api = self.publisher.direct_api();
                let tx = api.stream_tx_by_mid(s.mid, None).unwrap();
                match s.kind {
                    MediaKind::Audio => {
                        s.seq += 1;
                        s.ts = s.ts.wrapping_add(960);
                        tx.write_rtp(RtpWrite::new(pt, s.seq.into(), s.ts, now, vec![0xfc; 80]).marker(true));
                        s.sent += 1;
                        s.next_at += AUDIO_EVERY;
                    }
                    MediaKind::Video => {
                        let keyframe = s.frames % 90 == 0 || s.keyframe_asked;
                        s.keyframe_asked = false;
                        s.frames += 1;
                        s.ts = s.ts.wrapping_add(2970);
                        for k in 0..PACKETS_PER_FRAME {
                            s.seq += 1;
                            let mut payload = vec![0u8; 600];
                            payload[0] = if k == 0 { 0x10 } else { 0x00 };
                            payload[1] = if keyframe { 0x00 } else { 0x01 };
                            tx.write_rtp(
                                RtpWrite::new(pt, s.seq.into(), s.ts, now, payload)
                                    .marker(k == PACKETS_PER_FRAME - 1)
                                    .nackable(true),
                            );
                            s.sent += 1;
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
                            s.keyframe_asked = true;
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

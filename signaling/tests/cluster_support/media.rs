//! A str0m participant on real UDP sockets, driven over a signaling WebSocket: publishes one audio track (an RTP
//! packet every 20 ms) and, as a presenter, a VP8 video track (one packet per frame, 30 frames/s, a keyframe every
//! second and when asked), or nothing as a viewer; answers subscribe offers and counts the RTP packets it receives. Runs as a task; the test
//! reads its counters and the signaling messages it saw.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::common::Ws;

const AUDIO_EVERY: Duration = Duration::from_millis(20);
const FRAME_EVERY: Duration = Duration::from_millis(33);
const KEYFRAME_EVERY: u64 = 30;

/// What a [`MediaClient`] publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    Nothing,
    Audio,
    AudioVideo,
}

/// A participant running in its own task.
pub struct MediaClient {
    /// RTP packets received from others.
    pub received: Arc<AtomicU64>,
    /// Of those, video (VP8) packets, and VP8 frames that started with a keyframe.
    pub received_video: Arc<AtomicU64>,
    pub received_keyframes: Arc<AtomicU64>,
    /// When each video frame (numbered by its sender) arrived, for the first few thousand.
    pub frame_arrivals: Arc<std::sync::Mutex<std::collections::HashMap<u64, Instant>>>,
    /// RTP packets sent.
    pub sent: Arc<AtomicU64>,
    /// Every signaling message the server sent (JSON), in order; ends with `{"type":"closed","code":N}`.
    pub messages: UnboundedReceiver<Value>,
    to_server: UnboundedSender<Value>,
    task: JoinHandle<()>,
}

impl MediaClient {
    /// Take over a joined WebSocket: publish audio and subscribe to the others.
    pub async fn start(ws: Ws) -> MediaClient {
        Self::start_with(ws, Publish::Audio).await
    }

    /// Take over a joined WebSocket: publish `publish` and subscribe to the others.
    pub async fn start_with(ws: Ws, publish: Publish) -> MediaClient {
        let received = Arc::new(AtomicU64::new(0));
        let received_video = Arc::new(AtomicU64::new(0));
        let received_keyframes = Arc::new(AtomicU64::new(0));
        let frame_arrivals = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let (tx, messages) = unbounded_channel();
        let (to_server, from_test) = unbounded_channel();
        let counters = Counters {
            received: received.clone(),
            video: received_video.clone(),
            keyframes: received_keyframes.clone(),
            arrivals: frame_arrivals.clone(),
            sent: sent.clone(),
        };
        let peer = Peer::new(counters, publish, tx).await;
        let task = tokio::spawn(peer.run(ws, from_test));
        MediaClient { received, received_video, received_keyframes, frame_arrivals, sent, messages, to_server, task }
    }

    pub fn received_video(&self) -> u64 {
        self.received_video.load(Ordering::Relaxed)
    }

    pub fn received_keyframes(&self) -> u64 {
        self.received_keyframes.load(Ordering::Relaxed)
    }

    /// Wait until at least `audio` audio and `video` video packets arrived, up to `limit`.
    pub async fn wait_media(&self, audio: u64, video: u64, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            let v = self.received_video();
            if v >= video && self.received().saturating_sub(v) >= audio {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Wait until `f` holds for the packet counts, up to `limit`.
    pub async fn wait_received(&self, at_least: u64, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.received() >= at_least {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// The next server message of type `kind` (others skipped), within `limit`.
    pub async fn next_of(&mut self, kind: &str, limit: Duration) -> Option<Value> {
        let end = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(end, self.messages.recv()).await {
                Ok(Some(msg)) if msg["type"] == kind => return Some(msg),
                Ok(Some(_)) => continue,
                _ => return None,
            }
        }
    }

    /// Send a signaling message.
    pub fn send(&self, msg: Value) {
        let _ = self.to_server.send(msg);
    }

    /// Send `leave` and wait (up to 5 s) for the server to close.
    pub async fn leave(mut self) {
        self.send(json!({"type": "leave"}));
        let _ = self.next_of("closed", Duration::from_secs(5)).await;
        self.task.abort();
    }

    /// Drop the connection without `leave` (the server parks the participant for a resume).
    pub fn stop(self) {
        self.task.abort();
    }
}

struct Counters {
    received: Arc<AtomicU64>,
    video: Arc<AtomicU64>,
    keyframes: Arc<AtomicU64>,
    arrivals: Arc<std::sync::Mutex<std::collections::HashMap<u64, Instant>>>,
    sent: Arc<AtomicU64>,
}

struct Peer {
    publish: Publish,
    video: Option<Mid>,
    next_frame: Instant,
    frames: u64,
    keyframe_wanted: bool,
    video_seq: u64,
    video_ts: u32,
    publisher: Rtc,
    subscriber: Rtc,
    pub_sock: UdpSocket,
    sub_sock: UdpSocket,
    pub_addr: SocketAddr,
    sub_addr: SocketAddr,
    pending: Option<SdpPendingOffer>,
    audio: Option<Mid>,
    connected: bool,
    next_audio: Instant,
    seq: u64,
    ts: u32,
    counters: Counters,
    messages: UnboundedSender<Value>,
    out: Vec<Value>,
}

fn config() -> RtcConfig {
    RtcConfig::new().set_rtp_mode(true).clear_codecs().enable_opus(true, false).enable_vp8(true)
}

impl Peer {
    async fn new(counters: Counters, publish: Publish, messages: UnboundedSender<Value>) -> Peer {
        let pub_sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sub_sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (pub_addr, sub_addr) = (pub_sock.local_addr().unwrap(), sub_sock.local_addr().unwrap());
        let now = Instant::now();
        let mut publisher = config().build(now);
        let mut subscriber = config().build(now);
        publisher.add_local_candidate(Candidate::host(pub_addr, "udp").unwrap());
        subscriber.add_local_candidate(Candidate::host(sub_addr, "udp").unwrap());
        Peer {
            publish,
            video: None,
            next_frame: now,
            frames: 0,
            keyframe_wanted: true,
            video_seq: 1,
            video_ts: 0,
            publisher,
            subscriber,
            pub_sock,
            sub_sock,
            pub_addr,
            sub_addr,
            pending: None,
            audio: None,
            connected: false,
            next_audio: now,
            seq: 1,
            ts: 0,
            counters,
            messages,
            out: Vec::new(),
        }
    }

    async fn run(mut self, mut ws: Ws, mut from_test: UnboundedReceiver<Value>) {
        if self.publish != Publish::Nothing {
            let mut api = self.publisher.sdp_api();
            let mid = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
            let video = (self.publish == Publish::AudioVideo)
                .then(|| api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None));
            let (offer, pending) = api.apply().expect("an offer");
            self.audio = Some(mid);
            self.video = video;
            self.pending = Some(pending);
            self.out.push(json!({"type": "publish_offer", "sdp": offer.to_sdp_string()}));
        }
        let mut buf_pub = vec![0u8; 2000];
        let mut buf_sub = vec![0u8; 2000];
        loop {
            for msg in std::mem::take(&mut self.out) {
                if ws.send(Message::Text(msg.to_string().into())).await.is_err() {
                    return self.closed(0);
                }
            }
            let deadline = self.poll(Instant::now()).await;
            let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline));
            tokio::select! {
                Some(msg) = from_test.recv() => self.out.push(msg),
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let msg: Value = serde_json::from_str(&text).expect("JSON");
                        self.handle_signal(&msg);
                        let _ = self.messages.send(msg);
                    }
                    Some(Ok(Message::Close(frame))) => return self.closed(frame.map_or(0, |f| u16::from(f.code))),
                    Some(Ok(_)) => {}
                    _ => return self.closed(0),
                },
                r = self.pub_sock.recv_from(&mut buf_pub) => if let Ok((n, from)) = r {
                    let to = self.pub_addr;
                    feed(&mut self.publisher, from, to, &buf_pub[..n]);
                },
                r = self.sub_sock.recv_from(&mut buf_sub) => if let Ok((n, from)) = r {
                    let to = self.sub_addr;
                    feed(&mut self.subscriber, from, to, &buf_sub[..n]);
                },
                () = sleep => {
                    let now = Instant::now();
                    let _ = self.publisher.handle_input(Input::Timeout(now));
                    let _ = self.subscriber.handle_input(Input::Timeout(now));
                    self.send_audio(now);
                    self.send_video(now);
                },
            }
        }
    }

    fn closed(&self, code: u16) {
        let _ = self.messages.send(json!({"type": "closed", "code": code}));
    }

    fn handle_signal(&mut self, msg: &Value) {
        match msg["type"].as_str() {
            Some("publish_answer") => {
                let answer = SdpAnswer::from_sdp_string(msg["sdp"].as_str().unwrap()).expect("answer");
                if let Some(pending) = self.pending.take() {
                    self.publisher.sdp_api().accept_answer(pending, answer).expect("answer accepted");
                }
            }
            Some("subscribe_offer") => {
                let offer = SdpOffer::from_sdp_string(msg["sdp"].as_str().unwrap()).expect("offer");
                let answer = self.subscriber.sdp_api().accept_offer(offer).expect("offer accepted");
                self.out.push(json!({"type": "subscribe_answer", "sdp": answer.to_sdp_string()}));
            }
            _ => {}
        }
    }

    fn send_audio(&mut self, now: Instant) {
        if !self.connected {
            return;
        }
        let Some(mid) = self.audio else { return };
        while self.next_audio <= now {
            self.next_audio += AUDIO_EVERY;
            let pt = self.publisher.codec_config().find(|p| p.spec().codec == Codec::Opus).map(|p| p.pt());
            let Some(pt) = pt else { return };
            let mut api = self.publisher.direct_api();
            let Some(tx) = api.stream_tx_by_mid(mid, None) else { return };
            self.seq += 1;
            self.ts = self.ts.wrapping_add(960);
            tx.write_rtp(RtpWrite::new(pt, self.seq.into(), self.ts, now, vec![0xfc; 80]).marker(true));
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One VP8 packet per frame: a payload descriptor (S bit, partition 0) and a frame header whose P bit says
    /// key or delta frame.
    fn send_video(&mut self, now: Instant) {
        if !self.connected {
            return;
        }
        let Some(mid) = self.video else { return };
        while self.next_frame <= now {
            self.next_frame += FRAME_EVERY;
            let pt = self.publisher.codec_config().find(|p| p.spec().codec == Codec::Vp8).map(|p| p.pt());
            let Some(pt) = pt else { return };
            let key = self.keyframe_wanted || self.frames.is_multiple_of(KEYFRAME_EVERY);
            self.keyframe_wanted = false;
            self.frames += 1;
            let mut payload = vec![0x10, if key { 0x00 } else { 0x01 }];
            payload.extend_from_slice(&self.frames.to_be_bytes());
            payload.resize(300, 0x5a);
            let mut api = self.publisher.direct_api();
            let Some(tx) = api.stream_tx_by_mid(mid, None) else { return };
            self.video_seq += 1;
            self.video_ts = self.video_ts.wrapping_add(2970);
            tx.write_rtp(RtpWrite::new(pt, self.video_seq.into(), self.video_ts, now, payload).marker(true));
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drain both peers: send their datagrams, note events; returns the next deadline.
    async fn poll(&mut self, now: Instant) -> Instant {
        let mut next = now + Duration::from_millis(100);
        for publisher in [true, false] {
            loop {
                let rtc = if publisher { &mut self.publisher } else { &mut self.subscriber };
                match rtc.poll_output() {
                    Ok(Output::Timeout(t)) => {
                        next = next.min(t);
                        break;
                    }
                    Ok(Output::Transmit(t)) => {
                        let sock = if publisher { &self.pub_sock } else { &self.sub_sock };
                        let _ = sock.send_to(&t.contents, t.destination).await;
                    }
                    Ok(Output::Event(Event::Connected)) if publisher => {
                        self.connected = true;
                        self.next_audio = now;
                        self.next_frame = now;
                    }
                    Ok(Output::Event(Event::KeyframeRequest(_))) if publisher => self.keyframe_wanted = true,
                    Ok(Output::Event(Event::RtpPacket(pkt))) if !publisher => {
                        self.counters.received.fetch_add(1, Ordering::Relaxed);
                        let pt = pkt.header.payload_type;
                        let vp8 = self.subscriber.codec_config().find(|p| p.pt() == pt).is_some_and(|p| p.spec().codec == Codec::Vp8);
                        if vp8 {
                            self.counters.video.fetch_add(1, Ordering::Relaxed);
                            if pkt.payload.get(1).is_some_and(|b| b & 0x01 == 0) {
                                self.counters.keyframes.fetch_add(1, Ordering::Relaxed);
                            }
                            if let Some(n) = pkt.payload.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                                let mut arrivals = self.counters.arrivals.lock().unwrap();
                                if arrivals.len() < 5000 {
                                    arrivals.entry(u64::from_be_bytes(n)).or_insert_with(Instant::now);
                                }
                            }
                        }
                    }
                    Ok(Output::Event(_)) => {}
                    Err(_) => break,
                }
            }
        }
        if self.connected {
            next = next.min(self.next_audio);
            if self.video.is_some() {
                next = next.min(self.next_frame);
            }
        }
        next.max(now + Duration::from_millis(1))
    }
}

fn feed(rtc: &mut Rtc, source: SocketAddr, destination: SocketAddr, data: &[u8]) {
    let Ok(contents) = data.try_into() else { return };
    let input = Input::Receive(Instant::now(), Receive { proto: Protocol::Udp, source, destination, contents });
    if rtc.accepts(&input) {
        let _ = rtc.handle_input(input);
    }
}

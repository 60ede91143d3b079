//! One simulated participant: signaling over WebSocket (docs/protocol.md), a publisher and a subscriber peer
//! connection, each on its own UDP socket behind an optional impairment shim, and the media it sends.
//!
//! Runs as a task on a single-threaded runtime; its statistics live in a shared [`ClientStats`] the run reads.

pub mod janus;
mod net;
pub mod proto;
pub mod sender;
mod signal;
pub mod tiles;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::LoadError;
use crate::media::audio::AudioLoop;
use crate::media::trailer::Trailer;
use crate::media::video::Clip;
use crate::media::vp8;
use crate::peer::{PeerEvent, Role};
use crate::shim::ImpairmentConfig;
use crate::stats::{LatencyHistogram, LayerCount, StreamStats};
use crate::{now_ms, now_us};
use net::PeerIo;
pub use net::set_buffers;
use proto::{ClientMsg, ServerMsg};
use sender::{MediaSender, Outgoing, SpeakerTurn, VideoSource};
use signal::Signal;
pub use signal::Target;
use tiles::{Sizer, TilePolicy};

/// The rids of a simulcast publisher's encodings, lowest first: the web client's (`web-client/src/peer.ts`).
pub const SIMULCAST_RIDS: [&str; 3] = ["l", "m", "h"];

/// The server counts a client that sends nothing for 30 s as gone: ping well within that.
const PING_EVERY: Duration = Duration::from_secs(10);

/// Time allowed from connecting to a connected peer connection.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(20);

/// What one participant does.
#[derive(Clone)]
pub struct ClientSpec {
    /// Unique in the run; carried in the payload trailer.
    pub index: u32,
    pub target: Target,
    pub ws_url: String,
    /// Address the peers' UDP sockets bind to (their one host candidate).
    pub bind_ip: std::net::IpAddr,
    pub room: String,
    pub token: String,
    pub name: String,
    pub audio: Option<Arc<AudioLoop>>,
    /// The video encodings `(clip, layer)`, lowest first: one, or three for simulcast.
    pub video: Option<Vec<(Arc<Clip>, u8)>>,
    /// How large this participant shows the others' videos (`video_sizes`).
    pub tiles: TilePolicy,
    pub turn: SpeakerTurn,
    pub impairment: ImpairmentConfig,
    /// When to leave.
    pub until: Instant,
}

/// What one participant saw. Shared with the run, which reads it while the client runs.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub publishes: bool,
    /// How it showed the others' videos (`TilePolicy::label`).
    pub tiles: String,
    pub join_ms: Option<f64>,
    pub first_media_ms: Option<f64>,
    pub error: Option<String>,
    /// Received streams by SSRC.
    pub streams: HashMap<u32, StreamStats>,
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub rx_audio: u64,
    pub rx_video: u64,
    pub keyframe_requests: u64,
    pub undecodable: u64,
    pub shim_dropped: u64,
    pub subscribe_offers: u64,
    /// `video_paused` hints with `paused: true` (the SFU's allocator stopped a video for our bandwidth).
    pub videos_paused: u64,
    /// Received VP8 streams by SSRC: which picture sizes (simulcast layers) arrived, and switches.
    pub layers: HashMap<u32, LayerCount>,
    /// `video_sizes` entries sent, and `unknown_track` errors for them (a track that just ended).
    pub video_sizes_sent: u64,
    pub unknown_track: u64,
    /// Own simulcast encodings paused and resumed at the SFU's request (`publisher_layers`).
    pub layers_paused: u64,
    pub layers_resumed: u64,
    /// The last signaling step reached (for participants that never connected).
    pub step: &'static str,
    pub done: bool,
}

/// Shared across all clients of a run (single thread: `Rc<RefCell>`).
pub struct Shared {
    /// End-to-end latency of packets received in the steady phase (after `steady_from`): while participants
    /// still join, this one thread also does their DTLS handshakes, which would be blamed on the server.
    pub latency: LatencyHistogram,
    /// How late the load generator sent media against its schedule (steady phase): separates the load
    /// generator's own stalls from delay added by the server.
    pub send_lag: LatencyHistogram,
    pub steady_from: Instant,
}

pub type SharedRef = Rc<RefCell<Shared>>;

/// Run one participant to the end; errors end up in `stats.error`.
pub async fn run(spec: ClientSpec, stats: Rc<RefCell<ClientStats>>, shared: SharedRef) {
    let started = Instant::now();
    let until = spec.until;
    stats.borrow_mut().publishes = spec.audio.is_some() || spec.video.is_some();
    stats.borrow_mut().tiles = spec.tiles.label();
    stats.borrow_mut().step = "websocket";
    let result = Client::new(spec, stats.clone(), shared, started).await;
    let (result, states) = match result {
        Ok(mut c) => {
            let r = c.run().await;
            (r, c.peer_states())
        }
        Err(e) => (Err(e), String::new()),
    };
    let mut s = stats.borrow_mut();
    if let Err(e) = result {
        let detail =
            if s.join_ms.is_none() { format!(" ({})", states.trim_start_matches(", ")) } else { String::new() };
        s.error.get_or_insert(format!("{e}{detail}"));
    }
    if s.join_ms.is_none() && s.error.is_none() {
        s.error = Some(format!("not connected when the run ended (last step: {}{states})", s.step));
    }
    // Streams end when the participant was due to leave, not after the goodbyes (which take a moment).
    let end = now_ms(Instant::now().min(until));
    for st in s.streams.values_mut() {
        st.close(end);
    }
    s.done = true;
}

struct Client {
    spec: ClientSpec,
    stats: Rc<RefCell<ClientStats>>,
    shared: SharedRef,
    started: Instant,
    signal: Signal,
    publisher: Option<PeerIo>,
    subscriber: Option<PeerIo>,
    sender: Option<MediaSender>,
    events: Vec<PeerEvent>,
    outgoing: Vec<Outgoing>,
    sizer: Sizer,
}

impl Client {
    async fn new(
        spec: ClientSpec,
        stats: Rc<RefCell<ClientStats>>,
        shared: SharedRef,
        started: Instant,
    ) -> Result<Client, LoadError> {
        let mut signal = Signal::connect(spec.target, &spec.ws_url, &spec.room, &spec.name).await?;
        signal
            .send(&ClientMsg::Join {
                protocol: proto::PROTOCOL,
                room: &spec.room,
                token: &spec.token,
                name: &spec.name,
            })
            .await?;
        Ok(Client {
            spec,
            stats,
            shared,
            started,
            signal,
            publisher: None,
            subscriber: None,
            sender: None,
            events: Vec::new(),
            outgoing: Vec::new(),
            sizer: Sizer::default(),
        })
    }

    /// `, publisher ICE x / connection y, subscriber ...` for error messages.
    fn peer_states(&self) -> String {
        let mut out = String::new();
        for (name, io) in [("publisher", &self.publisher), ("subscriber", &self.subscriber)] {
            if let Some(io) = io {
                out.push_str(&format!(", {name} ICE {} / connection {}", io.peer.ice_state, io.peer.pc_state));
            }
        }
        out
    }

    fn elapsed_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    async fn run(&mut self) -> Result<(), LoadError> {
        let mut joined = false;
        let mut next_ping = Instant::now() + PING_EVERY;
        let mut pings = 0;
        loop {
            let now = Instant::now();
            if now >= self.spec.until {
                break;
            }
            if now >= next_ping {
                pings += 1;
                self.signal.send(&ClientMsg::Ping { id: pings }).await?;
                next_ping = now + PING_EVERY;
            }
            if self.stats.borrow().join_ms.is_none() && now.duration_since(self.started) > JOIN_TIMEOUT {
                return Err(LoadError::Timeout("join (signaling and ICE/DTLS)"));
            }
            let wake = self.next_wake(now);
            tokio::select! {
                msg = self.signal.recv() => {
                    let Some(msg) = msg? else { return Err(LoadError::Signaling("server closed the WebSocket".into())) };
                    self.on_message(msg, &mut joined).await?;
                }
                r = recv_opt(&self.publisher) => {
                    if let Some(io) = self.publisher.as_mut() { io.on_readable(r); }
                    self.pump().await?;
                }
                r = recv_opt(&self.subscriber) => {
                    if let Some(io) = self.subscriber.as_mut() { io.on_readable(r); }
                    self.pump().await?;
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    self.pump().await?;
                }
            }
        }
        let _ = self.signal.send(&ClientMsg::Leave {}).await;
        for io in [self.publisher.as_mut(), self.subscriber.as_mut()].into_iter().flatten() {
            io.peer.close();
            io.flush(Instant::now(), &mut self.events);
        }
        self.signal.close().await;
        Ok(())
    }

    fn next_wake(&self, now: Instant) -> Instant {
        let mut t = self.spec.until.min(now + Duration::from_millis(250));
        for io in [&self.publisher, &self.subscriber].into_iter().flatten() {
            t = t.min(io.next_wake());
        }
        if let (Some(s), Some(p)) = (&self.sender, &self.publisher)
            && p.peer.connected
            && let Some(at) = s.next_at()
        {
            t = t.min(at);
        }
        t.max(now)
    }

    async fn on_message(&mut self, msg: ServerMsg, joined: &mut bool) -> Result<(), LoadError> {
        let now = Instant::now();
        match msg {
            ServerMsg::Joined {} => {
                *joined = true;
                self.stats.borrow_mut().step = "joined";
                if self.spec.audio.is_some() || self.spec.video.is_some() {
                    let mut io =
                        PeerIo::bind(Role::Publisher, now, self.spec.bind_ip, self.spec.impairment, self.spec.index as u64 * 2).await?;
                    let name = format!("{}", self.spec.index);
                    let ssrc = 0x1000_0000 | (self.spec.index << 4);
                    if self.spec.audio.is_some() {
                        io.peer.add_send_track(&name, false, ssrc)?;
                    }
                    match self.spec.video.as_deref() {
                        Some([_]) => io.peer.add_send_track(&name, true, ssrc | 1)?,
                        Some(layers) if !layers.is_empty() => {
                            let encodings: Vec<(&'static str, u32)> = SIMULCAST_RIDS
                                .iter()
                                .zip(1..)
                                .take(layers.len())
                                .map(|(rid, k)| (*rid, ssrc | k))
                                .collect();
                            io.peer.add_simulcast_video(&name, &encodings)?;
                        }
                        _ => {}
                    }
                    let sdp = io.peer.create_offer(now)?;
                    self.publisher = Some(io);
                    self.signal.send(&ClientMsg::PublishOffer { sdp: &sdp }).await?;
                }
            }
            ServerMsg::PublishAnswer { sdp } => {
                let Some(io) = self.publisher.as_mut() else {
                    return Ok(());
                };
                io.peer.accept_answer(now, sdp)?;
                self.stats.borrow_mut().step = "publish answer";
                let audio_ssrc = io.peer.tracks.iter().find(|t| !t.video).map_or(0, |t| t.ssrc);
                let audio = self.spec.audio.clone().map(|a| (0, audio_ssrc, a));
                let vi = if self.spec.audio.is_some() { 1 } else { 0 };
                let video = match (self.spec.video.as_ref(), io.peer.tracks.get(vi)) {
                    (Some(layers), Some(t)) => {
                        let ssrcs: Vec<u32> =
                            if t.rids.is_empty() { vec![t.ssrc] } else { t.rids.iter().map(|r| r.1).collect() };
                        let sources = layers
                            .iter()
                            .zip(ssrcs)
                            .map(|((clip, layer), ssrc)| VideoSource { clip: clip.clone(), layer: *layer, ssrc })
                            .collect();
                        Some((vi, sources))
                    }
                    _ => None,
                };
                let offset = (self.spec.index as usize * 37) % 500;
                self.sender = Some(MediaSender::new(self.spec.index, now, audio, video, self.spec.turn, offset));
            }
            ServerMsg::SubscribeOffer { sdp } => {
                if self.subscriber.is_none() {
                    let seed = self.spec.index as u64 * 2 + 1;
                    self.subscriber = Some(PeerIo::bind(Role::Subscriber, now, self.spec.bind_ip, self.spec.impairment, seed).await?);
                }
                {
                    let mut st = self.stats.borrow_mut();
                    st.subscribe_offers += 1;
                    if st.step != "publish answer" {
                        st.step = "subscribe offer";
                    }
                }
                let Some(io) = self.subscriber.as_mut() else {
                    return Ok(());
                };
                let answer = io.peer.accept_offer(now, sdp.clone())?;
                self.signal.send(&ClientMsg::SubscribeAnswer { sdp: &answer }).await?;
                // The offer's videos now have their place on the subscriber's screen: say how large.
                let videos = match self.spec.target {
                    Target::Plenum => tiles::offered_videos(&sdp),
                    Target::Janus => tiles::offered_video_mids(&sdp),
                };
                let sizes = self.sizer.changes(self.spec.tiles, &videos, self.spec.video.is_some());
                for chunk in sizes.chunks(64) {
                    self.signal.send(&ClientMsg::VideoSizes { sizes: chunk }).await?;
                    self.stats.borrow_mut().video_sizes_sent += chunk.len() as u64;
                }
            }
            ServerMsg::VideoPaused { paused: true } => self.stats.borrow_mut().videos_paused += 1,
            ServerMsg::PublisherLayers { active } => {
                if let Some(sender) = self.sender.as_mut() {
                    let mut st = self.stats.borrow_mut();
                    for a in active {
                        let Some(layer) = SIMULCAST_RIDS.iter().position(|r| *r == a.rid) else { continue };
                        let changed = sender.set_active(layer as u8, a.active) as u64;
                        if a.active {
                            st.layers_resumed += changed;
                        } else {
                            st.layers_paused += changed;
                        }
                    }
                }
            }
            ServerMsg::Error { code, .. } if code == "unknown_track" => self.stats.borrow_mut().unknown_track += 1,
            ServerMsg::Error { code, message, fatal } => {
                if fatal || !*joined {
                    return Err(LoadError::Refused { code, message });
                }
                self.stats.borrow_mut().error.get_or_insert(format!("{code}: {message}"));
            }
            _ => {}
        }
        self.pump().await
    }

    /// Run timers, send due media, flush datagrams, and account for what arrived.
    async fn pump(&mut self) -> Result<(), LoadError> {
        let now = Instant::now();
        if let (Some(io), Some(sender)) = (self.publisher.as_mut(), self.sender.as_mut())
            && io.peer.connected
        {
            let pts = (
                io.peer.tracks.iter().find(|t| !t.video).map_or(111, |t| t.pt),
                io.peer.tracks.iter().find(|t| t.video).map_or(96, |t| t.pt),
            );
            if let Some(at) = sender.next_at()
                && now >= at
            {
                let mut sh = self.shared.borrow_mut();
                if now >= sh.steady_from {
                    sh.send_lag.record(now.duration_since(at).as_secs_f64() * 1000.0);
                }
            }
            sender.poll(now, pts, &mut self.outgoing);
            let mut sent = 0;
            for o in self.outgoing.drain(..) {
                if io.peer.send_rtp(now, o.track, o.header, o.payload) {
                    sent += 1;
                }
            }
            self.stats.borrow_mut().tx_packets += sent;
        }
        for (is_pub, io) in [(true, self.publisher.as_mut()), (false, self.subscriber.as_mut())] {
            let Some(io) = io else { continue };
            io.service(now, &mut self.events);
            for ev in self.events.drain(..) {
                match ev {
                    PeerEvent::Rtp(pkt) if !is_pub => on_rtp(&self.stats, &self.shared, &pkt, now),
                    PeerEvent::KeyframeRequest if is_pub => {
                        self.stats.borrow_mut().keyframe_requests += 1;
                        if let Some(s) = self.sender.as_mut() {
                            s.request_keyframe();
                        }
                    }
                    PeerEvent::Connected => {
                        let mut st = self.stats.borrow_mut();
                        // Joined: our publisher is up, or for a receive-only participant, its subscriber.
                        if st.join_ms.is_none() && (is_pub || !st.publishes) {
                            st.join_ms = Some(self.started.elapsed().as_secs_f64() * 1000.0);
                        }
                    }
                    PeerEvent::Failed => {
                        return Err(LoadError::Rtc {
                            context: if is_pub { "publisher" } else { "subscriber" },
                            message: "connection failed".into(),
                        });
                    }
                    _ => {}
                }
            }
            let mut st = self.stats.borrow_mut();
            st.undecodable += std::mem::take(&mut io.undecodable);
            st.shim_dropped = io.shim_dropped();
        }
        if self.stats.borrow().first_media_ms.is_none() && self.stats.borrow().rx_packets > 0 {
            let ms = self.elapsed_ms();
            self.stats.borrow_mut().first_media_ms = Some(ms);
        }
        Ok(())
    }
}

async fn recv_opt(io: &Option<PeerIo>) -> std::io::Result<()> {
    match io {
        Some(io) => io.readable().await,
        None => std::future::pending().await,
    }
}

fn on_rtp(stats: &Rc<RefCell<ClientStats>>, shared: &SharedRef, pkt: &rtc::rtp::packet::Packet, now: Instant) {
    let mut st = stats.borrow_mut();
    let len = pkt.payload.len();
    st.rx_packets += 1;
    st.rx_bytes += len as u64;
    let arrival = now_ms(now);
    let trailer = Trailer::parse(&pkt.payload);
    let video = trailer.map(|t| t.video).unwrap_or(pkt.header.payload_type != 111);
    if video {
        st.rx_video += 1;
        if let Some(start) = vp8::parse(&pkt.payload) {
            st.layers.entry(pkt.header.ssrc).or_default().on_packet(start, trailer.map(|t| t.layer));
        }
    } else {
        st.rx_audio += 1;
    }
    let clock = if video { 90_000 } else { 48_000 };
    st.streams.entry(pkt.header.ssrc).or_insert_with(|| StreamStats::new(clock, video)).on_packet(
        pkt.header.sequence_number,
        pkt.header.timestamp,
        len,
        arrival,
    );
    if let Some(t) = trailer
        && now >= shared.borrow().steady_from
    {
        let latency_ms = now_us(now).saturating_sub(t.sent_us) as f64 / 1000.0;
        shared.borrow_mut().latency.record(latency_ms);
    }
}

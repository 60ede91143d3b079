//! One client's signaling session: a synchronous state machine ([`Session`]) and the async loop that drives it
//! ([`run`]) over any `Stream` of [`Incoming`] frames and `Sink` of [`Outgoing`] ones, so tests need no socket.
//!
//! Driving rules: feed input with the `handle_*` methods (client frames, room messages, SFU events, timers),
//! then drain [`Session::poll_output`] and pick up new event channels with [`Session::take_channels`]; stop when
//! [`Session::is_closing`], then call [`Session::finish`]. A joined participant leaves the SFU and the room
//! exactly once, whichever way the session ends.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use plenum_sfu::core::sdp;
use plenum_sfu::{CloseReason, ParticipantCommand, ParticipantId, PcTarget, RoomId, SfuEvent};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::Limits;
use crate::media::Media;
use crate::metrics;
use crate::protocol::{
    ClientMessage, ErrorCode, IceServer, LeaveReason, PROTOCOL_VERSION, ParticipantInfo, ServerMessage, Target,
    parse_client_message,
};
use crate::room::{Registry, validate_room_name};
use crate::token::TokenKeys;

/// Longest display name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest ICE candidate line accepted.
const MAX_CANDIDATE_LEN: usize = 1024;

/// WebSocket close codes the server uses.
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
}

/// Participant ids are unique in the process.
static NEXT_PARTICIPANT: AtomicU64 = AtomicU64::new(1);

/// State shared by all sessions of a server.
pub struct Shared {
    pub registry: Registry,
    pub media: Arc<dyn Media>,
    pub keys: TokenKeys,
    pub limits: Limits,
    pub ice_servers: Vec<IceServer>,
}

/// A frame from the client, as the transport delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    Binary,
    /// The transport refused a frame over its hard limit.
    Oversized,
}

/// What the session sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    Message(ServerMessage),
    Close { code: u16, reason: &'static str },
}

/// The event channels of a joined session.
pub struct Channels {
    /// Room events about the others.
    pub room: UnboundedReceiver<ServerMessage>,
    /// This participant's SFU events.
    pub sfu: UnboundedReceiver<SfuEvent>,
}

struct Joined {
    id: ParticipantId,
    room: RoomId,
    may_publish: bool,
    offer_outstanding: bool,
}

enum State {
    AwaitingJoin,
    Joined(Joined),
    /// Left, removed or closed: nothing more is processed.
    Done,
}

/// Token bucket: `rate` tokens per second up to `burst`.
struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: f64, burst: f64, now: Instant) -> Self {
        TokenBucket { tokens: burst, rate, burst, last: now }
    }

    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct Session {
    shared: Arc<Shared>,
    state: State,
    bucket: TokenBucket,
    dropped: u32,
    out: VecDeque<Outgoing>,
    closing: bool,
    channels: Option<Channels>,
}

impl Session {
    pub fn new(shared: Arc<Shared>, now: Instant) -> Session {
        let bucket = TokenBucket::new(shared.limits.rate_per_sec, shared.limits.rate_burst, now);
        Session { shared, state: State::AwaitingJoin, bucket, dropped: 0, out: VecDeque::new(), closing: false, channels: None }
    }

    // ---- input ----

    /// A frame from the client.
    pub fn handle_incoming(&mut self, frame: Incoming, now: Instant) {
        if self.closing {
            return;
        }
        if !self.bucket.try_take(now) {
            self.dropped += 1;
            if self.dropped >= self.shared.limits.max_dropped {
                self.close(close_code::POLICY, "rate limit exceeded");
            } else {
                self.send_error(ErrorCode::RateLimited, "too many messages; this one was dropped");
            }
            return;
        }
        match frame {
            Incoming::Oversized => self.close(close_code::TOO_BIG, "frame too large"),
            Incoming::Binary => self.send_error(ErrorCode::BadRequest, "binary frames are not supported"),
            Incoming::Text(text) if text.len() > self.shared.limits.max_frame => {
                let limit = self.shared.limits.max_frame / 1024;
                self.send_error(ErrorCode::FrameTooLarge, format!("frames are limited to {limit} KiB"));
            }
            Incoming::Text(text) => match parse_client_message(&text) {
                Ok(msg) => self.handle_message(msg),
                Err(e) => self.send_error(e.code(), e.to_string()),
            },
        }
    }

    /// A room event about another participant.
    pub fn handle_room_message(&mut self, msg: ServerMessage) {
        if matches!(self.state, State::Joined(_)) && !self.closing {
            self.send(msg);
        }
    }

    /// An event from the SFU for this participant.
    pub fn handle_sfu_event(&mut self, event: SfuEvent) {
        let State::Joined(joined) = &mut self.state else { return };
        match event {
            SfuEvent::PublisherAnswer(sdp) => self.send(ServerMessage::PublishAnswer { sdp }),
            SfuEvent::SubscriberOffer(sdp) => {
                joined.offer_outstanding = true;
                self.send(ServerMessage::SubscribeOffer { sdp });
            }
            SfuEvent::Connected(target) => tracing::debug!(participant = %joined.id, ?target, "media connected"),
            SfuEvent::TrackPublished(track) => self.shared.registry.track_published(&joined.room, joined.id, &track),
            SfuEvent::TrackUnpublished { track_id } => {
                self.shared.registry.track_unpublished(&joined.room, joined.id, &track_id)
            }
            SfuEvent::Error { code, message } => {
                let code = ErrorCode::from(code);
                if code == ErrorCode::Internal {
                    tracing::warn!(participant = %joined.id, "SFU error: {message}");
                    self.send_error(code, "the media server could not apply the request");
                } else {
                    self.send_error(code, message);
                }
            }
            // Our own `leave`: already announced.
            SfuEvent::Closed(CloseReason::Left) => {}
            SfuEvent::Closed(reason) => {
                let (why, message) = match &reason {
                    CloseReason::ConnectionFailed => {
                        (LeaveReason::ConnectionFailed, "the media connection failed".to_owned())
                    }
                    CloseReason::Isolated(detail) => {
                        tracing::warn!(participant = %joined.id, "removed by the SFU: {detail}");
                        (LeaveReason::Error, "the media server dropped this participant".to_owned())
                    }
                    CloseReason::Shutdown => (LeaveReason::Shutdown, "the media server is shutting down".to_owned()),
                    CloseReason::Left => unreachable!("handled above"),
                };
                // The SFU already dropped it: no `Leave` command.
                self.depart(why, false);
                self.send_error(ErrorCode::Removed, message);
                self.close(close_code::INTERNAL, "removed");
            }
        }
    }

    /// No `join` within the time limit.
    pub fn handle_join_timeout(&mut self) {
        if matches!(self.state, State::AwaitingJoin) && !self.closing {
            let secs = self.shared.limits.join_timeout.as_secs();
            self.fatal(ErrorCode::JoinTimeout, format!("no join within {secs} s"));
        }
    }

    /// The server is shutting down.
    pub fn handle_shutdown(&mut self) {
        self.depart(LeaveReason::Shutdown, true);
        self.close(close_code::GOING_AWAY, "server shutting down");
    }

    /// The client went away (socket closed or failed).
    pub fn handle_transport_closed(&mut self) {
        self.depart(LeaveReason::Disconnected, true);
        self.closing = true;
    }

    /// End of the session: leave if still in a room.
    pub fn finish(&mut self) {
        self.depart(LeaveReason::Disconnected, true);
        self.closing = true;
    }

    // ---- output and getters ----

    pub fn poll_output(&mut self) -> Option<Outgoing> {
        self.out.pop_front()
    }

    /// The event channels, once after a successful join.
    pub fn take_channels(&mut self) -> Option<Channels> {
        self.channels.take()
    }

    /// After this, send what [`Session::poll_output`] still has and stop.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    pub fn awaiting_join(&self) -> bool {
        matches!(self.state, State::AwaitingJoin)
    }

    /// The participant id, while joined.
    pub fn participant(&self) -> Option<ParticipantId> {
        match &self.state {
            State::Joined(j) => Some(j.id),
            _ => None,
        }
    }

    // ---- internals ----

    fn handle_message(&mut self, msg: ClientMessage) {
        let joined = match (&mut self.state, msg) {
            (_, ClientMessage::Ping { id }) => return self.send(ServerMessage::Pong { id }),
            (State::AwaitingJoin, ClientMessage::Join { protocol, room, token, name }) => {
                return self.join(protocol, room, &token, name);
            }
            (State::Joined(_), ClientMessage::Join { .. }) => {
                return self.send_error(ErrorCode::AlreadyJoined, "already joined");
            }
            (State::AwaitingJoin, _) => return self.send_error(ErrorCode::NotJoined, "send join first"),
            (State::Done, _) => return,
            (State::Joined(joined), msg) => (joined, msg),
        };
        let (joined, msg) = joined;
        let media = &self.shared.media;
        let result = match msg {
            ClientMessage::PublishOffer { sdp } => {
                if !joined.may_publish {
                    return self.send_error(ErrorCode::BadRequest, "the join token does not allow publishing");
                }
                if let Err(e) = sdp::validate_offer(&sdp) {
                    return self.send_error(ErrorCode::BadSdp, e);
                }
                media.command(joined.id, ParticipantCommand::PublisherOffer(sdp))
            }
            ClientMessage::SubscribeAnswer { sdp } => {
                if !joined.offer_outstanding {
                    return self.send_error(ErrorCode::UnexpectedAnswer, "no subscribe_offer is outstanding");
                }
                if let Err(e) = sdp::validate_answer(&sdp) {
                    return self.send_error(ErrorCode::BadSdp, e);
                }
                joined.offer_outstanding = false;
                media.command(joined.id, ParticipantCommand::SubscriberAnswer(sdp))
            }
            ClientMessage::IceCandidate { target, candidate } => {
                let candidate = match candidate.as_deref().map(check_candidate).transpose() {
                    Ok(c) => c,
                    Err(e) => return self.send_error(ErrorCode::BadCandidate, e),
                };
                let target = match target {
                    Target::Publisher => PcTarget::Publisher,
                    Target::Subscriber => PcTarget::Subscriber,
                };
                media.command(joined.id, ParticipantCommand::RemoteCandidate { target, candidate })
            }
            ClientMessage::Update { muted, camera_off } => {
                self.shared.registry.update(&joined.room, joined.id, muted, camera_off);
                Ok(())
            }
            ClientMessage::Leave {} => {
                self.depart(LeaveReason::Left, true);
                return self.close(close_code::NORMAL, "left");
            }
            ClientMessage::Ping { .. } | ClientMessage::Join { .. } => unreachable!("handled above"),
        };
        if let Err(e) = result {
            tracing::warn!("SFU refused a command: {e}");
            self.send_error(ErrorCode::Internal, "the media server could not take the request");
        }
    }

    fn join(&mut self, protocol: u32, room: String, token: &str, name: Option<String>) {
        if protocol != PROTOCOL_VERSION {
            return self.fatal(
                ErrorCode::ProtocolUnsupported,
                format!("protocol {protocol} is not supported; this server speaks {PROTOCOL_VERSION}"),
            );
        }
        let claims = match self.shared.keys.verify(token, &room) {
            Ok(claims) => claims,
            Err(e) => return self.fatal(e.code(), e.to_string()),
        };
        if let Err(e) = validate_room_name(&room) {
            return self.send_error(ErrorCode::BadRequest, e.to_string());
        }
        let name = name.as_deref().unwrap_or(&claims.name).trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return self.send_error(ErrorCode::BadRequest, format!("the name must be 1-{MAX_NAME_CHARS} characters"));
        }

        let id = ParticipantId(NEXT_PARTICIPANT.fetch_add(1, Ordering::Relaxed));
        let room = RoomId(room);
        let (sfu_tx, sfu_rx) = unbounded_channel();
        let sink = Box::new(move |event: SfuEvent| {
            // The session may be gone; its cleanup already told the SFU to drop this participant.
            let _ = sfu_tx.send(event);
        });
        if let Err(e) = self.shared.media.join(&room, id, sink) {
            tracing::warn!(participant = %id, "SFU join failed: {e}");
            return self.send_error(ErrorCode::Internal, "cannot join the room right now");
        }
        let (room_tx, room_rx) = unbounded_channel();
        let you = ParticipantInfo {
            sid: id.to_string(),
            identity: claims.sub,
            name,
            moderator: claims.moderator,
            muted: false,
            camera_off: false,
        };
        let snapshot = self.shared.registry.join(&room, id, you.clone(), room_tx);
        metrics::participant_joined(self.shared.registry.room_count());
        tracing::info!(participant = %id, room = %room, "joined");
        self.send(ServerMessage::Joined {
            protocol: PROTOCOL_VERSION,
            room: room.0.clone(),
            you,
            participants: snapshot.participants,
            tracks: snapshot.tracks,
            ice_servers: self.shared.ice_servers.clone(),
        });
        self.state = State::Joined(Joined { id, room, may_publish: claims.grants.publish, offer_outstanding: false });
        self.channels = Some(Channels { room: room_rx, sfu: sfu_rx });
    }

    /// Leave the room (and the SFU, if `tell_sfu`) once; later calls do nothing.
    fn depart(&mut self, reason: LeaveReason, tell_sfu: bool) {
        let State::Joined(joined) = std::mem::replace(&mut self.state, State::Done) else {
            self.state = State::Done;
            return;
        };
        if tell_sfu && let Err(e) = self.shared.media.command(joined.id, ParticipantCommand::Leave) {
            tracing::debug!(participant = %joined.id, "SFU leave: {e}");
        }
        if self.shared.registry.leave(&joined.room, joined.id, reason) {
            metrics::participant_left(self.shared.registry.room_count());
        }
        tracing::info!(participant = %joined.id, room = %joined.room, ?reason, "left");
    }

    fn send(&mut self, msg: ServerMessage) {
        self.out.push_back(Outgoing::Message(msg));
    }

    fn send_error(&mut self, code: ErrorCode, message: impl Into<String>) {
        metrics::error_sent(code);
        self.send(ServerMessage::error(code, message));
    }

    fn fatal(&mut self, code: ErrorCode, message: impl Into<String>) {
        self.send_error(code, message);
        self.close(close_code::POLICY, code.as_str());
    }

    fn close(&mut self, code: u16, reason: &'static str) {
        if !self.closing {
            self.out.push_back(Outgoing::Close { code, reason });
            self.closing = true;
        }
    }
}

/// Check a trickled candidate line (`candidate:...`, optionally with `a=`); returns it without `a=`.
fn check_candidate(line: &str) -> Result<String, String> {
    let line = line.strip_prefix("a=").unwrap_or(line);
    if line.len() > MAX_CANDIDATE_LEN {
        return Err("the ICE candidate is too long".into());
    }
    if line.is_empty() {
        // Browsers send an empty candidate string for end-of-candidates.
        return Ok(String::new());
    }
    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
    let fields: Vec<&str> = line.split(' ').collect();
    let well_formed = line.starts_with("candidate:")
        && fields.len() >= 8
        && fields[6] == "typ"
        && fields[1].parse::<u16>().is_ok()
        && fields[3].parse::<u32>().is_ok()
        && fields[5].parse::<u16>().is_ok()
        && line.bytes().all(|b| (0x20..0x7f).contains(&b));
    if well_formed { Ok(line.to_owned()) } else { Err("cannot parse the ICE candidate".into()) }
}

/// Drive one session until it ends. `shutdown` turning true (or its sender going away) ends it with 1001.
pub async fn run<I, O>(shared: Arc<Shared>, mut incoming: I, mut outgoing: O, mut shutdown: watch::Receiver<bool>)
where
    I: Stream<Item = Incoming> + Unpin,
    O: Sink<Outgoing> + Unpin,
{
    let linger = shared.limits.close_linger;
    let join_deadline = tokio::time::sleep(shared.limits.join_timeout);
    tokio::pin!(join_deadline);
    let mut session = Session::new(shared, Instant::now());
    let mut room_rx: Option<UnboundedReceiver<ServerMessage>> = None;
    let mut sfu_rx: Option<UnboundedReceiver<SfuEvent>> = None;
    let mut transport_open = true;

    while !session.is_closing() {
        tokio::select! {
            frame = incoming.next() => match frame {
                Some(frame) => session.handle_incoming(frame, Instant::now()),
                None => {
                    transport_open = false;
                    session.handle_transport_closed();
                }
            },
            msg = recv(&mut room_rx) => match msg {
                Some(msg) => session.handle_room_message(msg),
                None => room_rx = None,
            },
            event = recv(&mut sfu_rx) => match event {
                Some(event) => session.handle_sfu_event(event),
                // The SFU dropped the sink without `Closed`: treat it as a failed connection.
                None => {
                    sfu_rx = None;
                    session.handle_sfu_event(SfuEvent::Closed(CloseReason::Isolated("event sink dropped".into())));
                }
            },
            () = &mut join_deadline, if session.awaiting_join() => session.handle_join_timeout(),
            _ = shutdown.wait_for(|stop| *stop) => session.handle_shutdown(),
        }
        if let Some(new) = session.take_channels() {
            room_rx = Some(new.room);
            sfu_rx = Some(new.sfu);
        }
        while let Some(out) = session.poll_output() {
            if transport_open && outgoing.send(out).await.is_err() {
                transport_open = false;
                session.handle_transport_closed();
            }
        }
    }
    session.finish();
    if transport_open {
        // Give the client time to read our close frame and answer it before the socket is dropped.
        let _ = tokio::time::timeout(linger, async { while incoming.next().await.is_some() {} }).await;
    }
}

/// Receive from a channel that may not exist yet (then wait forever).
async fn recv<T>(rx: &mut Option<UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

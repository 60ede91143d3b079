//! One client's signaling session: a synchronous state machine ([`Session`]) and the async loop that drives it
//! ([`run`], in `driver.rs`) over any `Stream` of [`Incoming`] frames and `Sink` of [`Outgoing`] ones, so tests need
//! no socket.
//!
//! Driving rules: feed input with the `handle_*` methods (client frames, room messages, SFU events, timers, resume
//! results), then drain [`Session::poll_output`], pick up new event channels with [`Session::take_channels`] and a
//! resume request with [`Session::take_resume_request`]; stop when [`Session::is_closing`], then call
//! [`Session::finish`]. A participant leaves the SFU and the room exactly once, whichever way its last session
//! ends; a session that hands its participant over ([`Session::hand_over`]) does not leave.
//!
//! When the client's connection drops without `leave`, the session is *parked*: the participant stays in the room
//! and the SFU for [`crate::Limits::resume_grace`], waiting for a `resume` on a new connection (see
//! `crate::resume`).

mod checks;
mod driver;
mod messages;
mod moderation;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use plenum_sfu::{BlockedMedia, CloseReason, MediaClass, ParticipantCommand, ParticipantId, RoomId, SfuEvent};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::config::Limits;
use crate::drain::{Drain, DrainNotice};
use crate::media::Media;
use crate::metrics;
use crate::protocol::{
    ErrorCode, IceServer, IceTransportPolicy, LayerState, LeaveReason, ServerMessage, TrackSource, parse_client_message,
};
use crate::resume::{ResumeError, ResumeTable, TakeoverRequest};
use crate::room::audit::{AuditSink, LogAudit};
use crate::room::{Registry, RoomEvent};
use crate::token::TokenKeys;
use checks::TokenBucket;

pub use driver::run;

use crate::turn::Turn;

/// Longest display name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 64;

/// WebSocket close codes the server uses.
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    /// The participant was resumed on another connection.
    pub const RESUMED_ELSEWHERE: u16 = 4000;
    /// The SFU node serving the room went away (a cluster): reconnect and join again.
    pub const MEDIA_LOST: u16 = 1012;
}

/// Participant ids are unique in the process.
static NEXT_PARTICIPANT: AtomicU64 = AtomicU64::new(1);
/// Session numbers (owners in the resume table).
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// State shared by all sessions of a server.
pub struct Shared {
    pub registry: Registry,
    pub media: Arc<dyn Media>,
    pub keys: TokenKeys,
    pub limits: Limits,
    /// Fixed `iceServers` entries (before the TURN entry).
    pub ice_servers: Vec<IceServer>,
    /// TURN servers: every `joined` and `resumed` carries fresh credentials for them.
    pub turn: Option<Turn>,
    pub ice_transport_policy: IceTransportPolicy,
    pub resumes: ResumeTable<Handover>,
    /// Set when the server drains (see `crate::drain`).
    pub drain: Drain,
    /// Where moderator actions are recorded (default: the log).
    pub audit: Arc<dyn AuditSink>,
    /// In a cluster: room events shared with the other signaling nodes.
    pub room_sync: std::sync::OnceLock<Arc<crate::cluster::rooms::RoomSync>>,
    /// Where bans and ended meetings are stored (the server's database); `None`: in memory only.
    pub store: Option<crate::meetings::room_store::RoomStore>,
}

impl Shared {
    pub fn new(media: Arc<dyn Media>, keys: TokenKeys, limits: Limits, ice_servers: Vec<IceServer>) -> Shared {
        Shared {
            registry: Registry::new(),
            media,
            keys,
            limits,
            ice_servers,
            turn: None,
            ice_transport_policy: IceTransportPolicy::All,
            resumes: ResumeTable::default(),
            audit: Arc::new(LogAudit),
            drain: Drain::default(),
            room_sync: std::sync::OnceLock::new(),
            store: None,
        }
    }

    /// Store bans and ended meetings in `store`, and read them before every join.
    pub fn with_store(mut self, store: crate::meetings::room_store::RoomStore) -> Shared {
        self.store = Some(store);
        self
    }

    /// Hand clients `turn` (fresh credentials per participant) and `policy`.
    pub fn with_turn(mut self, turn: Option<Turn>, policy: IceTransportPolicy) -> Shared {
        self.turn = turn;
        self.ice_transport_policy = policy;
        self
    }

    /// The `iceServers` for participant `sid`: the fixed ones, then TURN with credentials valid from now.
    pub fn ice_servers_for(&self, sid: &str) -> Vec<IceServer> {
        let mut servers = self.ice_servers.clone();
        servers.extend(self.turn.as_ref().map(|turn| turn.ice_server(sid, std::time::SystemTime::now())));
        servers
    }

    /// Record moderator actions in `audit` instead of the log.
    pub fn with_audit(mut self, audit: Arc<dyn AuditSink>) -> Shared {
        self.audit = audit;
        self
    }
}

/// A frame from the client, as the transport delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    Binary,
    /// The transport refused a frame over its hard limit.
    Oversized,
    /// A WebSocket ping or pong: the client is there (not rate-limited, no answer).
    Alive,
}

/// What the session sends.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // nearly every item is a message; boxing would only add allocations
pub enum Outgoing {
    Message(ServerMessage),
    /// A WebSocket ping (the client's pong shows it is still there).
    Ping,
    Close { code: u16, reason: &'static str },
}

/// The event channels of a joined (or waiting) session; a waiting session has only the room channel.
pub struct Channels {
    /// Room events.
    pub room: UnboundedReceiver<RoomEvent>,
    /// This participant's SFU events.
    pub sfu: Option<UnboundedReceiver<SfuEvent>>,
    /// Requests from a `resume` on another connection.
    pub takeover: Option<UnboundedReceiver<TakeoverRequest<Handover>>>,
}

/// A participant handed from one session to another (resume).
pub struct Handover {
    joined: Joined,
    sfu: UnboundedReceiver<SfuEvent>,
}

impl Handover {
    /// The participant's SFU events, for the session driver.
    pub fn new(joined: Joined, sfu: UnboundedReceiver<SfuEvent>) -> Handover {
        Handover { joined, sfu }
    }
}

/// A participant in a room, owned by one session at a time.
pub struct Joined {
    id: ParticipantId,
    room: RoomId,
    may_publish: bool,
    moderator: bool,
    /// Token identity and display name (for the audit log).
    identity: String,
    name: String,
    /// What a moderator stopped the SFU from forwarding (lifted when the participant turns it on again).
    blocked: BlockedMedia,
    /// The last `subscribe_offer` while it is unanswered (sent again after a resume).
    pending_offer: Option<String>,
    /// What the client said its publisher mids carry.
    sources: HashMap<String, TrackSource>,
    /// Others' videos the SFU paused for this participant (sid, track_id): told again after a resume.
    paused_video: BTreeSet<(String, String)>,
    resume_token: String,
    /// When `join` arrived, until the first media connection is up (for the join latency metric).
    join_started: Option<std::time::Instant>,
}

/// Someone in the lobby, not yet in the room or the SFU.
pub struct Waiting {
    id: ParticipantId,
    room: RoomId,
    identity: String,
    name: String,
    may_publish: bool,
}

enum State {
    AwaitingJoin,
    /// In the lobby, until a moderator admits or denies.
    Waiting(Waiting),
    Joined(Joined),
    /// The connection dropped: in the room, waiting for `resume` until the grace period ends.
    Parked(Joined),
    /// Left, removed, handed over or closed: nothing more is processed.
    Done,
}

pub struct Session {
    shared: Arc<Shared>,
    /// This session's number (its owner id in the resume table).
    number: u64,
    state: State,
    bucket: TokenBucket,
    chat_bucket: TokenBucket,
    dropped: u32,
    out: std::collections::VecDeque<Outgoing>,
    closing: bool,
    channels: Option<Channels>,
    resume_request: Option<(String, RoomId)>,
    /// The last error sent (to count failed joins by reason).
    last_error: Option<ErrorCode>,
    /// A `join` with this identity is refused: its account was disabled (see [`Session::refuse_identity`]).
    refused_identity: Option<String>,
}

impl Session {
    pub fn new(shared: Arc<Shared>, now: Instant) -> Session {
        let limits = &shared.limits;
        let bucket = TokenBucket::new(limits.rate_per_sec, limits.rate_burst, now);
        let chat_bucket = TokenBucket::new(limits.chat_rate_per_sec, limits.chat_burst, now);
        Session {
            shared,
            number: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            state: State::AwaitingJoin,
            bucket,
            chat_bucket,
            dropped: 0,
            out: Default::default(),
            closing: false,
            channels: None,
            resume_request: None,
            last_error: None,
            refused_identity: None,
        }
    }

    // ---- input ----

    /// A frame from the client.
    pub fn handle_incoming(&mut self, frame: Incoming, now: Instant) {
        if self.closing || frame == Incoming::Alive {
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
                Ok(msg) => self.handle_message(msg, now),
                Err(e) => self.send_error(e.code(), e.to_string()),
            },
            Incoming::Alive => {}
        }
    }

    /// A room event: messages are sent on unless the connection is gone; lobby decisions and moderator actions
    /// are applied.
    pub fn handle_room_message(&mut self, event: RoomEvent) {
        if self.closing {
            return;
        }
        match event {
            RoomEvent::Message(msg) => {
                if matches!(self.state, State::Joined(_) | State::Waiting(_)) {
                    self.send(msg);
                }
            }
            RoomEvent::Admitted => self.admitted(),
            RoomEvent::Denied => self.denied(),
            RoomEvent::Moderated { action, by } => self.apply_moderation(action, by),
        }
    }

    /// An event from the SFU for this participant.
    pub fn handle_sfu_event(&mut self, event: SfuEvent) {
        let joined = match &mut self.state {
            State::Joined(j) | State::Parked(j) => j,
            _ => return,
        };
        #[allow(unreachable_patterns)] // events the SFU may add are logged
        match event {
            SfuEvent::PublisherAnswer(sdp) => self.send(ServerMessage::PublishAnswer { sdp }),
            SfuEvent::SubscriberOffer(sdp) => {
                joined.pending_offer = Some(sdp.clone());
                self.send(ServerMessage::SubscribeOffer { sdp });
            }
            SfuEvent::Connected(target) => {
                tracing::debug!(participant = %joined.id, ?target, "media connected");
                if let Some(started) = joined.join_started.take() {
                    metrics::join_connected(started.elapsed().as_secs_f64());
                }
            }
            SfuEvent::TrackPublished(track) => {
                let source = joined
                    .sources
                    .get(&track.track_id)
                    .copied()
                    .unwrap_or_else(|| TrackSource::default_for(track.kind.into()));
                if source == TrackSource::Screen && joined.blocked.screen {
                    // A new share after a moderator stopped the last one: the participant's own choice.
                    joined.blocked.screen = false;
                    let cmd = ParticipantCommand::BlockMedia { media: MediaClass::Screen, blocked: false };
                    if let Err(e) = self.shared.media.command(joined.id, cmd) {
                        tracing::debug!(participant = %joined.id, "SFU unblock: {e}");
                    }
                }
                // A new microphone or camera track while a moderator's block lasts: blocked too.
                let still_blocked = match track.kind {
                    plenum_sfu::TrackKind::Audio if joined.blocked.audio => Some(MediaClass::Audio),
                    plenum_sfu::TrackKind::Video if source == TrackSource::Camera && joined.blocked.camera => {
                        Some(MediaClass::Camera)
                    }
                    _ => None,
                };
                if let Some(media) = still_blocked {
                    let cmd = ParticipantCommand::BlockMedia { media, blocked: true };
                    if let Err(e) = self.shared.media.command(joined.id, cmd) {
                        tracing::debug!(participant = %joined.id, "SFU block: {e}");
                    }
                }
                if source == TrackSource::Screen {
                    // The SFU serves screen shares before cameras.
                    let cmd = ParticipantCommand::SetTrackSource { track_id: track.track_id.clone(), screen: true };
                    if let Err(e) = self.shared.media.command(joined.id, cmd) {
                        tracing::debug!(participant = %joined.id, "SFU track source: {e}");
                    }
                }
                self.shared.registry.track_published(&joined.room, joined.id, &track, source)
            }
            SfuEvent::TrackUnpublished { track_id } => {
                self.shared.registry.track_unpublished(&joined.room, joined.id, &track_id)
            }
            SfuEvent::Speakers { dominant, speaking } => self.send(ServerMessage::Speakers {
                dominant: dominant.map(|p| p.to_string()),
                speaking: speaking.iter().map(ToString::to_string).collect(),
            }),
            SfuEvent::VideoPaused { publisher, track_id, paused } => {
                let key = (publisher.to_string(), track_id);
                if paused {
                    joined.paused_video.insert(key.clone());
                } else {
                    joined.paused_video.remove(&key);
                }
                self.send(ServerMessage::VideoPaused { sid: key.0, track_id: key.1, paused })
            }
            SfuEvent::PublisherLayers { track_id, active } => self.send(ServerMessage::PublisherLayers {
                track_id,
                active: active.into_iter().map(|(rid, active)| LayerState { rid, active }).collect(),
            }),
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
            // Only relay legs (cascading) get these; a participant never does.
            SfuEvent::RelayAnswer(_) => {}
            SfuEvent::Closed(CloseReason::Left) => {}
            SfuEvent::Closed(CloseReason::MediaLost) => {
                // A cluster's SFU node went away: leave the room and close without a fatal error, so the client
                // reconnects, finds nothing to resume and joins again (the room is placed on a live node).
                tracing::info!(participant = %joined.id, "media node lost; the client rejoins");
                self.depart(LeaveReason::ConnectionFailed, false);
                self.close(close_code::MEDIA_LOST, "media server lost");
            }
            SfuEvent::Closed(reason) => {
                let (why, message) = match &reason {
                    CloseReason::ConnectionFailed => (LeaveReason::ConnectionFailed, "the media connection failed"),
                    CloseReason::Isolated(detail) => {
                        tracing::warn!(participant = %joined.id, "removed by the SFU: {detail}");
                        (LeaveReason::Error, "the media server dropped this participant")
                    }
                    CloseReason::Shutdown => (LeaveReason::Shutdown, "the media server is shutting down"),
                    CloseReason::Left | CloseReason::MediaLost => (LeaveReason::Left, "left"),
                };
                // The SFU already dropped it: no `Leave` command.
                self.depart(why, false);
                self.send_error(ErrorCode::Removed, message);
                self.close(close_code::INTERNAL, "removed");
            }
            other => tracing::debug!(participant = %joined.id, ?other, "SFU event not used by signaling"),
        }
    }

    /// The account of `identity` is disabled: a `join` with it is refused (`account_disabled`).
    pub fn refuse_identity(&mut self, identity: String) {
        self.refused_identity = Some(identity);
    }

    /// No `join` within the time limit.
    pub fn handle_join_timeout(&mut self) {
        if matches!(self.state, State::AwaitingJoin) && !self.closing {
            let secs = self.shared.limits.join_timeout.as_secs();
            self.fatal(ErrorCode::JoinTimeout, format!("no join within {secs} s"));
        }
    }

    /// The server started to drain: a joined client hears how long its meeting may still run.
    pub fn handle_drain(&mut self, notice: DrainNotice) {
        if matches!(self.state, State::Joined(_)) && !self.closing {
            self.send_drain_notice(notice);
        }
    }

    /// The server is shutting down.
    pub fn handle_shutdown(&mut self) {
        self.depart(LeaveReason::Shutdown, true);
        self.close(close_code::GOING_AWAY, "server shutting down");
    }

    /// The client's connection is gone (closed, failed, or silent too long). A joined participant is parked
    /// until [`Session::handle_grace_expired`] or [`Session::hand_over`]; otherwise the session ends.
    pub fn handle_transport_closed(&mut self) {
        self.out.clear();
        match std::mem::replace(&mut self.state, State::Done) {
            State::Joined(joined) => {
                tracing::info!(participant = %joined.id, "connection dropped; waiting for resume");
                self.state = State::Parked(joined);
            }
            State::Parked(joined) => self.state = State::Parked(joined),
            State::Waiting(waiting) => {
                // Nobody waits for a resume in the lobby: off the list.
                self.state = State::Waiting(waiting);
                self.depart(LeaveReason::Disconnected, false);
                self.closing = true;
            }
            State::AwaitingJoin | State::Done => self.closing = true,
        }
    }

    /// The grace period of a parked participant is over: it leaves (`disconnected`).
    pub fn handle_grace_expired(&mut self) {
        if matches!(self.state, State::Parked(_)) {
            self.depart(LeaveReason::Disconnected, true);
            self.closing = true;
        }
    }

    /// Another session resumes this participant: give it away without leaving, and end.
    pub fn hand_over(&mut self) -> Option<Joined> {
        let joined = match std::mem::replace(&mut self.state, State::Done) {
            State::Joined(j) | State::Parked(j) => j,
            other => {
                self.state = other;
                return None;
            }
        };
        tracing::info!(participant = %joined.id, "resumed on another connection");
        self.out.clear();
        self.close(close_code::RESUMED_ELSEWHERE, "resumed elsewhere");
        Some(joined)
    }

    /// The result of this session's resume request.
    pub fn handle_resume_result(&mut self, result: Result<Handover, ResumeError>) {
        if !matches!(self.state, State::AwaitingJoin) || self.closing {
            // Closed meanwhile: the participant leaves (nobody else has it now).
            if let Ok(handover) = result {
                self.state = State::Joined(handover.joined);
                self.depart(LeaveReason::Disconnected, true);
            }
            return;
        }
        match result {
            Ok(handover) => self.resumed(handover),
            Err(e) => {
                tracing::debug!("resume failed: {e}");
                self.send_error(ErrorCode::ResumeFailed, "nothing to resume; join again");
            }
        }
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

    /// The event channels, once after a successful join or resume.
    pub fn take_channels(&mut self) -> Option<Channels> {
        self.channels.take()
    }

    /// A `resume` to carry out: (resume token, room). Answer with [`Session::handle_resume_result`].
    pub fn take_resume_request(&mut self) -> Option<(String, RoomId)> {
        self.resume_request.take()
    }

    /// After this, send what [`Session::poll_output`] still has and stop.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    pub fn awaiting_join(&self) -> bool {
        matches!(self.state, State::AwaitingJoin)
    }

    pub fn is_joined(&self) -> bool {
        matches!(self.state, State::Joined(_))
    }

    pub fn is_parked(&self) -> bool {
        matches!(self.state, State::Parked(_))
    }

    /// In the lobby.
    pub fn is_waiting(&self) -> bool {
        matches!(self.state, State::Waiting(_))
    }

    /// The participant id, while waiting, joined or parked.
    pub fn participant(&self) -> Option<ParticipantId> {
        match &self.state {
            State::Joined(j) | State::Parked(j) => Some(j.id),
            State::Waiting(w) => Some(w.id),
            _ => None,
        }
    }

    // ---- internals ----

    /// Leave the room (and the SFU, if `tell_sfu`) once; later calls do nothing.
    pub(super) fn depart(&mut self, reason: LeaveReason, tell_sfu: bool) {
        let joined = match std::mem::replace(&mut self.state, State::Done) {
            State::Joined(j) | State::Parked(j) => j,
            State::Waiting(w) => {
                self.shared.registry.leave_lobby(&w.room, w.id);
                tracing::info!(participant = %w.id, room = %w.room, ?reason, "left the lobby");
                return;
            }
            _ => return,
        };
        if tell_sfu && let Err(e) = self.shared.media.command(joined.id, ParticipantCommand::Leave) {
            tracing::debug!(participant = %joined.id, "SFU leave: {e}");
        }
        self.shared.resumes.remove(&joined.resume_token, self.number);
        if self.shared.registry.leave(&joined.room, joined.id, reason) {
            metrics::participant_left(self.shared.registry.room_count());
        }
        tracing::info!(participant = %joined.id, room = %joined.room, ?reason, "left");
    }

    pub(super) fn send(&mut self, msg: ServerMessage) {
        if !matches!(self.state, State::Parked(_)) {
            self.out.push_back(Outgoing::Message(msg));
        }
    }

    pub(super) fn send_drain_notice(&mut self, notice: DrainNotice) {
        let seconds = notice.seconds_left(std::time::Instant::now());
        self.send(ServerMessage::Draining { seconds });
    }

    pub(super) fn send_error(&mut self, code: ErrorCode, message: impl Into<String>) {
        self.last_error = Some(code);
        metrics::error_sent(code);
        self.send(ServerMessage::error(code, message));
    }

    pub(super) fn fatal(&mut self, code: ErrorCode, message: impl Into<String>) {
        self.send_error(code, message);
        self.close(close_code::POLICY, code.as_str());
    }

    pub(super) fn close(&mut self, code: u16, reason: &'static str) {
        if !self.closing {
            self.out.push_back(Outgoing::Close { code, reason });
            self.closing = true;
        }
    }
}

/// Make this process's participant ids start at `base` or above (a cluster gives every signaling node its own
/// range, so sids are unique across nodes).
pub fn reserve_participant_ids(base: u64) {
    NEXT_PARTICIPANT.fetch_max(base, Ordering::Relaxed);
}

/// A fresh participant id.
fn next_participant_id() -> ParticipantId {
    ParticipantId(NEXT_PARTICIPANT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_meeting;
#[cfg(test)]
mod tests_lobby;
#[cfg(test)]
mod tests_moderation;
#[cfg(test)]
mod tests_resume;

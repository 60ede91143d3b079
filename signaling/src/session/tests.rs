//! The session state machine driven directly, with a fake SFU.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use plenum_sfu::{EventSink, SfuError, TrackInfo, TrackKind};

use super::*;
use crate::protocol::Kind;
use futures_util::StreamExt;
use tokio::sync::watch;
use crate::token::Claims;

pub(super) const SECRET: &[u8] = b"session-test-secret-0123456789abcdef";
pub(super) const ROOM: &str = "team-weekly";

/// Records commands and keeps the event sinks, so a test can play the SFU.
#[derive(Default)]
pub(super) struct FakeMedia {
    sinks: Mutex<HashMap<ParticipantId, EventSink>>,
    commands: Mutex<Vec<(ParticipantId, ParticipantCommand)>>,
}

impl Media for FakeMedia {
    fn join(&self, _room: &RoomId, participant: ParticipantId, sink: EventSink) -> Result<(), SfuError> {
        self.sinks.lock().unwrap().insert(participant, sink);
        Ok(())
    }
    fn command(&self, participant: ParticipantId, cmd: ParticipantCommand) -> Result<(), SfuError> {
        self.commands.lock().unwrap().push((participant, cmd));
        Ok(())
    }
}

impl FakeMedia {
    pub(super) fn emit(&self, id: ParticipantId, event: SfuEvent) {
        (self.sinks.lock().unwrap().get_mut(&id).expect("joined"))(event);
    }
    pub(super) fn commands_for(&self, id: ParticipantId) -> Vec<String> {
        let commands = self.commands.lock().unwrap();
        commands.iter().filter(|(p, _)| *p == id).map(|(_, c)| format!("{c:?}")).collect()
    }
}

pub(super) fn setup() -> (Arc<Shared>, Arc<FakeMedia>) {
    setup_with(Limits::default())
}

pub(super) fn setup_with(limits: Limits) -> (Arc<Shared>, Arc<FakeMedia>) {
    let media = Arc::new(FakeMedia::default());
    let shared = Arc::new(Shared::new(media.clone(), TokenKeys::new(SECRET), limits, Vec::new()));
    (shared, media)
}

pub(super) fn token(identity: &str) -> String {
    let claims = Claims::new(ROOM, identity, &format!("Name of {identity}"), false, Duration::from_secs(60));
    TokenKeys::new(SECRET).sign(&claims).unwrap()
}

pub(super) fn join_text(identity: &str) -> String {
    format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"{}"}}"#, token(identity))
}

/// A session plus its channels, pumped like the async driver does.
pub(super) struct Client {
    pub(super) session: Session,
    pub(super) channels: Option<Channels>,
    pub(super) now: Instant,
}

impl Client {
    pub(super) fn new(shared: &Arc<Shared>) -> Client {
        let now = Instant::now();
        Client { session: Session::new(shared.clone(), now), channels: None, now }
    }

    pub(super) fn send(&mut self, text: &str) -> Vec<Outgoing> {
        self.session.handle_incoming(Incoming::Text(text.to_owned()), self.now);
        self.pump()
    }

    pub(super) fn pump(&mut self) -> Vec<Outgoing> {
        // Until nothing new: a room event (admission from the lobby) can bring new channels.
        loop {
            if let Some(c) = self.session.take_channels() {
                self.channels = Some(c);
            }
            let Some(c) = &mut self.channels else { break };
            let mut progressed = false;
            while let Some(Ok(ev)) = c.sfu.as_mut().map(|rx| rx.try_recv()) {
                self.session.handle_sfu_event(ev);
                progressed = true;
            }
            while let Ok(msg) = c.room.try_recv() {
                self.session.handle_room_message(msg);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        std::iter::from_fn(|| self.session.poll_output()).collect()
    }

    pub(super) fn join(shared: &Arc<Shared>, identity: &str) -> (Client, ServerMessage) {
        let mut client = Client::new(shared);
        let mut out = client.send(&join_text(identity));
        assert_eq!(out.len(), 1, "{out:?}");
        let Outgoing::Message(joined @ ServerMessage::Joined { .. }) = out.remove(0) else { panic!("{out:?}") };
        (client, joined)
    }

    pub(super) fn id(&self) -> ParticipantId {
        self.session.participant().expect("joined")
    }
}

pub(super) fn error_code(out: &Outgoing) -> Option<(ErrorCode, bool)> {
    match out {
        Outgoing::Message(ServerMessage::Error { code, fatal, .. }) => Some((*code, *fatal)),
        _ => None,
    }
}

pub(super) fn only_error(out: Vec<Outgoing>) -> (ErrorCode, bool) {
    assert_eq!(out.len(), 1, "{out:?}");
    error_code(&out[0]).unwrap_or_else(|| panic!("{out:?}"))
}

#[test]
fn two_participants_see_each_other_and_leave_once() {
    let (shared, media) = setup();
    let (mut a, joined_a) = Client::join(&shared, "erika");
    let ServerMessage::Joined { you, participants, .. } = joined_a else { unreachable!() };
    assert!(participants.is_empty());
    assert_eq!(you.identity, "erika");
    assert_eq!(you.name, "Name of erika");

    let (mut b, joined_b) = Client::join(&shared, "max");
    let ServerMessage::Joined { participants, .. } = joined_b else { unreachable!() };
    assert_eq!(participants, vec![you.clone()]);
    let ServerMessage::Joined { you: b_info, .. } = Client::join(&shared, "third").1 else { unreachable!() };
    let seen = a.pump();
    assert_eq!(seen.len(), 2);
    assert!(matches!(&seen[0], Outgoing::Message(ServerMessage::ParticipantJoined { participant }) if participant.identity == "max"));
    assert!(matches!(&seen[1], Outgoing::Message(ServerMessage::ParticipantJoined { participant }) if *participant == b_info));

    // b leaves: a hears it once, the SFU gets exactly one Leave, the socket is closed normally.
    let b_id = b.id();
    let out = b.send(r#"{"type":"leave"}"#);
    assert_eq!(out, vec![Outgoing::Close { code: close_code::NORMAL, reason: "left" }]);
    b.session.handle_transport_closed();
    b.session.finish();
    assert_eq!(media.commands_for(b_id), vec!["Leave"]);
    let seen = a.pump();
    assert_eq!(seen.len(), 1);
    assert!(matches!(&seen[0], Outgoing::Message(ServerMessage::ParticipantLeft { reason: LeaveReason::Left, .. })));

    // a disconnects abruptly: one Leave, and nothing is announced twice.
    let a_id = a.id();
    a.session.handle_transport_closed();
    a.session.finish();
    assert_eq!(media.commands_for(a_id), vec!["Leave"]);
}

#[test]
fn messages_before_join_and_second_join() {
    let (shared, _media) = setup();
    let mut c = Client::new(&shared);
    assert_eq!(only_error(c.send(r#"{"type":"update","muted":true}"#)), (ErrorCode::NotJoined, false));
    assert_eq!(c.send(r#"{"type":"ping","id":9}"#), vec![Outgoing::Message(ServerMessage::Pong { id: 9 })]);
    assert!(c.send(&join_text("erika")).len() == 1);
    assert_eq!(only_error(c.send(&join_text("erika"))), (ErrorCode::AlreadyJoined, false));
    assert!(!c.session.is_closing());
}

#[test]
fn fatal_join_errors_close_the_socket() {
    let (shared, _media) = setup();
    let expired = {
        let mut claims = Claims::new(ROOM, "x", "X", false, Duration::from_secs(60));
        claims.exp = claims.iat - 10;
        TokenKeys::new(SECRET).sign(&claims).unwrap()
    };
    let other_room = TokenKeys::new(SECRET).sign(&Claims::new("other", "x", "X", false, Duration::from_secs(60))).unwrap();
    let cases = [
        (format!(r#"{{"type":"join","protocol":2,"room":"{ROOM}","token":"{}"}}"#, token("x")), ErrorCode::ProtocolUnsupported),
        (format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"garbage"}}"#), ErrorCode::TokenInvalid),
        (format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"{expired}"}}"#), ErrorCode::TokenExpired),
        (format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"{other_room}"}}"#), ErrorCode::TokenWrongRoom),
    ];
    for (text, code) in cases {
        let mut c = Client::new(&shared);
        let out = c.send(&text);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(error_code(&out[0]), Some((code, true)));
        assert_eq!(out[1], Outgoing::Close { code: close_code::POLICY, reason: code.as_str() });
        assert!(c.session.is_closing());
    }
    assert_eq!(shared.registry.room_count(), 0);
}

#[test]
fn bad_name_is_a_bad_request_and_join_can_be_retried() {
    let (shared, _media) = setup();
    let mut c = Client::new(&shared);
    let long = "x".repeat(65);
    let text = format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"{}","name":"{long}"}}"#, token("e"));
    assert_eq!(only_error(c.send(&text)), (ErrorCode::BadRequest, false));
    let text = format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"{}","name":"  Erika  "}}"#, token("e"));
    let out = c.send(&text);
    assert!(matches!(&out[0], Outgoing::Message(ServerMessage::Joined { you, .. }) if you.name == "Erika"));
}

#[test]
fn bad_frames_get_typed_errors() {
    let (shared, _media) = setup();
    let mut c = Client::new(&shared);
    assert_eq!(only_error(c.send("{")), (ErrorCode::BadJson, false));
    assert_eq!(only_error(c.send(r#"{"type":"dance"}"#)), (ErrorCode::UnknownMessage, false));
    assert_eq!(only_error(c.send(r#"{"type":"join"}"#)), (ErrorCode::BadRequest, false));
    assert_eq!(only_error(c.send(&" ".repeat(64 * 1024 + 1))), (ErrorCode::FrameTooLarge, false));
    c.session.handle_incoming(Incoming::Binary, c.now);
    assert_eq!(only_error(c.pump()), (ErrorCode::BadRequest, false));
    c.session.handle_incoming(Incoming::Oversized, c.now);
    assert_eq!(c.pump(), vec![Outgoing::Close { code: close_code::TOO_BIG, reason: "frame too large" }]);
}

#[test]
fn rate_limit_drops_then_closes() {
    let (shared, _media) = setup();
    let mut c = Client::new(&shared);
    for i in 0..100 {
        assert_eq!(c.send(&format!(r#"{{"type":"ping","id":{i}}}"#)).len(), 1);
    }
    assert_eq!(only_error(c.send(r#"{"type":"ping","id":100}"#)), (ErrorCode::RateLimited, false));
    // Half a second refills 25 tokens.
    c.now += Duration::from_millis(500);
    for _ in 0..25 {
        assert!(matches!(c.send(r#"{"type":"ping"}"#)[0], Outgoing::Message(ServerMessage::Pong { .. })));
    }
    for _ in 1..199 {
        assert_eq!(only_error(c.send(r#"{"type":"ping"}"#)), (ErrorCode::RateLimited, false));
    }
    assert_eq!(c.send(r#"{"type":"ping"}"#), vec![Outgoing::Close { code: close_code::POLICY, reason: "rate limit exceeded" }]);
}

#[test]
fn media_messages_are_checked_then_forwarded() {
    let (shared, media) = setup();
    let (mut c, _) = Client::join(&shared, "erika");
    let id = c.id();
    assert_eq!(only_error(c.send(r#"{"type":"publish_offer","sdp":"not sdp"}"#)), (ErrorCode::BadSdp, false));
    assert_eq!(only_error(c.send(r#"{"type":"subscribe_answer","sdp":"v=0"}"#)), (ErrorCode::UnexpectedAnswer, false));
    let bad_candidate = r#"{"type":"ice_candidate","target":"publisher","candidate":"candidate:1 1 udp"}"#;
    assert_eq!(only_error(c.send(bad_candidate)), (ErrorCode::BadCandidate, false));
    assert!(media.commands_for(id).is_empty(), "nothing invalid reaches the SFU");

    let good = r#"{"type":"ice_candidate","target":"subscriber","candidate":"candidate:1 1 udp 2122260223 127.0.0.1 53000 typ host"}"#;
    assert!(c.send(good).is_empty());
    assert!(c.send(r#"{"type":"ice_candidate","target":"publisher","candidate":null}"#).is_empty());
    assert_eq!(media.commands_for(id).len(), 2);
    assert!(media.commands_for(id)[0].contains("Subscriber"));

    media.emit(id, SfuEvent::SubscriberOffer("v=0 offer".into()));
    media.emit(id, SfuEvent::PublisherAnswer("v=0 answer".into()));
    assert_eq!(
        c.pump(),
        vec![
            Outgoing::Message(ServerMessage::SubscribeOffer { sdp: "v=0 offer".into() }),
            Outgoing::Message(ServerMessage::PublishAnswer { sdp: "v=0 answer".into() }),
        ]
    );
    // Now an answer is expected, but it must still parse.
    assert_eq!(only_error(c.send(r#"{"type":"subscribe_answer","sdp":"garbage"}"#)), (ErrorCode::BadSdp, false));

    media.emit(id, SfuEvent::Error { code: plenum_sfu::ErrorCode::Internal, message: "worker 3 exploded".into() });
    let out = c.pump();
    let Outgoing::Message(ServerMessage::Error { code: ErrorCode::Internal, message, fatal: false }) = &out[0] else { panic!("{out:?}") };
    assert!(!message.contains("worker"), "no internals to the client");
}

#[test]
fn track_and_update_events_reach_the_others() {
    let (shared, media) = setup();
    let (mut a, _) = Client::join(&shared, "a");
    let (mut b, _) = Client::join(&shared, "b");
    a.pump();
    let a_sid = a.id().to_string();
    media.emit(a.id(), SfuEvent::TrackPublished(TrackInfo { track_id: "1".into(), kind: TrackKind::Video }));
    assert!(a.pump().is_empty(), "own tracks are not echoed");
    assert!(a.send(r#"{"type":"update","muted":true}"#).is_empty(), "no echo");
    let out = b.pump();
    assert_eq!(out[0], Outgoing::Message(ServerMessage::TrackPublished { sid: a_sid.clone(), track_id: "1".into(), kind: Kind::Video, source: TrackSource::Camera }));
    assert!(matches!(&out[1], Outgoing::Message(ServerMessage::ParticipantUpdated { participant }) if participant.muted && participant.sid == a_sid));

    // A latecomer sees the track in `joined`.
    let (_c, joined) = Client::join(&shared, "c");
    assert!(matches!(&b.pump()[..], [Outgoing::Message(ServerMessage::ParticipantJoined { .. })]));
    let ServerMessage::Joined { tracks, participants, .. } = joined else { unreachable!() };
    assert_eq!(tracks.len(), 1);
    assert!(participants.iter().any(|p| p.sid == a_sid && p.muted));

    media.emit(a.id(), SfuEvent::TrackUnpublished { track_id: "1".into() });
    a.pump();
    assert_eq!(b.pump(), vec![Outgoing::Message(ServerMessage::TrackUnpublished { sid: a_sid, track_id: "1".into() })]);
}

#[test]
fn removal_by_the_sfu_is_fatal_and_announced() {
    let (shared, media) = setup();
    let (mut a, _) = Client::join(&shared, "a");
    let (mut b, _) = Client::join(&shared, "b");
    a.pump();
    let b_id = b.id();
    media.emit(b_id, SfuEvent::Closed(CloseReason::ConnectionFailed));
    let out = b.pump();
    assert_eq!(error_code(&out[0]), Some((ErrorCode::Removed, true)));
    assert_eq!(out[1], Outgoing::Close { code: close_code::INTERNAL, reason: "removed" });
    b.session.finish();
    assert!(media.commands_for(b_id).is_empty(), "the SFU already dropped it: no Leave");
    assert_eq!(
        a.pump(),
        vec![Outgoing::Message(ServerMessage::ParticipantLeft { sid: b_id.to_string(), reason: LeaveReason::ConnectionFailed })]
    );
}

/// The async driver over channels: join timeout, and shutdown.
#[tokio::test(start_paused = true)]
async fn driver_times_out_a_silent_client() {
    let (shared, _media) = setup();
    let (_in_tx, in_rx) = futures_channel::mpsc::unbounded::<Incoming>();
    let (out_tx, mut out_rx) = futures_channel::mpsc::unbounded::<Outgoing>();
    let (_stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    run(shared, in_rx, out_tx, stop_rx).await;
    assert!(started.elapsed() >= Duration::from_secs(10));
    let out: Vec<Outgoing> = std::iter::from_fn(|| out_rx.try_recv().ok()).collect();
    assert_eq!(error_code(&out[0]), Some((ErrorCode::JoinTimeout, true)));
    assert_eq!(out[1], Outgoing::Close { code: close_code::POLICY, reason: "join_timeout" });
}

#[tokio::test]
async fn driver_leaves_on_shutdown() {
    let (shared, media) = setup();
    let (in_tx, in_rx) = futures_channel::mpsc::unbounded::<Incoming>();
    let (out_tx, mut out_rx) = futures_channel::mpsc::unbounded::<Outgoing>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(run(shared.clone(), in_rx, out_tx, stop_rx));
    in_tx.unbounded_send(Incoming::Text(join_text("erika"))).unwrap();
    let joined = out_rx.next().await.unwrap();
    let Outgoing::Message(ServerMessage::Joined { you, .. }) = joined else { panic!("{joined:?}") };
    stop_tx.send(true).unwrap();
    assert_eq!(out_rx.next().await, Some(Outgoing::Close { code: close_code::GOING_AWAY, reason: "server shutting down" }));
    drop(in_tx);
    task.await.unwrap();
    let id = ParticipantId(you.sid[1..].parse().unwrap());
    assert_eq!(media.commands_for(id), vec!["Leave"]);
    assert_eq!(shared.registry.room_count(), 0);
}

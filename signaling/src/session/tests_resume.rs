//! Resume after a dropped connection, through the async driver over channels (tokio's paused clock).

use std::time::Duration;

use futures_channel::mpsc::{UnboundedReceiver as FRx, UnboundedSender as FTx, unbounded};
use futures_util::StreamExt;
use tokio::sync::watch;

use super::tests::{FakeMedia, join_text, setup_with};
use super::*;
use crate::protocol::ParticipantInfo;

const GRACE: Duration = Duration::from_secs(30);

/// One client connection driven by [`run`].
struct Conn {
    tx: Option<FTx<Incoming>>,
    rx: FRx<Outgoing>,
    _stop: watch::Sender<bool>,
}

impl Conn {
    fn open(shared: &Arc<Shared>) -> Conn {
        let (tx, in_rx) = unbounded::<Incoming>();
        let (out_tx, rx) = unbounded::<Outgoing>();
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(run(shared.clone(), in_rx, out_tx, stop_rx));
        Conn { tx: Some(tx), rx, _stop: stop }
    }

    fn send(&self, text: &str) {
        self.tx.as_ref().expect("open").unbounded_send(Incoming::Text(text.to_owned())).unwrap();
    }

    /// The next message (pings answered, as a browser does); `None` when the session closed the connection or ended.
    async fn next(&mut self) -> Option<ServerMessage> {
        loop {
            match self.rx.next().await? {
                Outgoing::Message(m) => return Some(m),
                Outgoing::Ping => {
                    if let Some(tx) = &self.tx {
                        let _ = tx.unbounded_send(Incoming::Alive);
                    }
                }
                Outgoing::Close { .. } => return None,
            }
        }
    }

    async fn next_close(&mut self) -> Option<u16> {
        loop {
            match self.rx.next().await? {
                Outgoing::Close { code, .. } => return Some(code),
                _ => continue,
            }
        }
    }

    /// Nothing but pings arrives for `d`.
    async fn quiet_for(&mut self, d: Duration) -> Vec<ServerMessage> {
        let mut got = Vec::new();
        let _ = tokio::time::timeout(d, async {
            while let Some(m) = self.next().await {
                got.push(m);
            }
        })
        .await;
        got
    }

    /// Drop the connection without `leave` (as a network failure does).
    fn drop_transport(&mut self) {
        self.tx = None;
    }

    async fn join(shared: &Arc<Shared>, identity: &str) -> (Conn, ParticipantInfo, String) {
        let mut c = Conn::open(shared);
        c.send(&join_text(identity));
        match c.next().await {
            Some(ServerMessage::Joined { you, resume_token, .. }) => (c, you, resume_token),
            other => panic!("expected joined, got {other:?}"),
        }
    }
}

fn resume_text(token: &str) -> String {
    format!(r#"{{"type":"resume","protocol":1,"room":"{}","resume_token":"{token}"}}"#, super::tests::ROOM)
}

fn limits() -> Limits {
    Limits { resume_grace: GRACE, ..Limits::default() }
}

fn leaves(media: &FakeMedia, sid: &str) -> usize {
    let id = ParticipantId(sid[1..].parse().unwrap());
    media.commands_for(id).iter().filter(|c| *c == "Leave").count()
}

#[tokio::test(start_paused = true)]
async fn resume_within_grace_keeps_the_participant_and_nobody_notices() {
    let (shared, media) = setup_with(limits());
    let (mut obs, _, _) = Conn::join(&shared, "observer").await;
    let (mut a, a_info, token) = Conn::join(&shared, "erika").await;
    assert!(matches!(obs.next().await, Some(ServerMessage::ParticipantJoined { .. })));
    a.send(r#"{"type":"hand","raised":true}"#);
    assert!(matches!(a.next().await, Some(ServerMessage::HandChanged { .. })));
    assert!(matches!(obs.next().await, Some(ServerMessage::HandChanged { .. })));

    a.drop_transport();
    // While away: the observer chats; the parked participant hears nothing, the room keeps it.
    tokio::time::sleep(Duration::from_secs(10)).await;
    obs.send(r#"{"type":"chat","text":"bist du noch da?"}"#);
    assert!(matches!(obs.next().await, Some(ServerMessage::Chat { .. })));
    assert_eq!(shared.registry.participant_count(&RoomId(super::tests::ROOM.into())), 2);

    let mut a2 = Conn::open(&shared);
    a2.send(&resume_text(&token));
    let Some(ServerMessage::Resumed { you, participants, chat, hands, .. }) = a2.next().await else { panic!("not resumed") };
    assert_eq!(you, a_info, "same sid, name and state");
    assert_eq!(participants.len(), 1);
    assert_eq!(chat.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["bist du noch da?"], "missed chat");
    assert_eq!(hands, std::slice::from_ref(&a_info.sid), "still in line");
    assert_eq!(leaves(&media, &a_info.sid), 0, "the SFU keeps it");

    // Carries on as before: chat goes both ways; the observer saw no leave or join.
    a2.send(r#"{"type":"chat","text":"wieder da"}"#);
    assert!(matches!(a2.next().await, Some(ServerMessage::Chat { .. })));
    let seen = obs.quiet_for(Duration::from_secs(60)).await;
    assert!(matches!(&seen[..], [ServerMessage::Chat { message }] if message.sid == a_info.sid), "{seen:?}");

    // The resume token works again after a second drop.
    a2.drop_transport();
    let mut a3 = Conn::open(&shared);
    a3.send(&resume_text(&token));
    assert!(matches!(a3.next().await, Some(ServerMessage::Resumed { .. })));
    a3.send(r#"{"type":"leave"}"#);
    assert_eq!(a3.next_close().await, Some(close_code::NORMAL));
    assert_eq!(obs.next().await, Some(ServerMessage::ParticipantLeft { sid: a_info.sid.clone(), reason: LeaveReason::Left }));
    assert_eq!(leaves(&media, &a_info.sid), 1);
    assert!(shared.resumes.len() == 1, "only the observer's token is left");
}

#[tokio::test(start_paused = true)]
async fn grace_expiry_announces_the_leave_and_a_later_resume_fails_cleanly() {
    let (shared, media) = setup_with(limits());
    let (mut obs, _, _) = Conn::join(&shared, "observer").await;
    let (mut a, a_info, token) = Conn::join(&shared, "erika").await;
    assert!(matches!(obs.next().await, Some(ServerMessage::ParticipantJoined { .. })));
    let dropped_at = tokio::time::Instant::now();
    a.drop_transport();

    let left = obs.next().await;
    assert_eq!(left, Some(ServerMessage::ParticipantLeft { sid: a_info.sid.clone(), reason: LeaveReason::Disconnected }));
    let waited = dropped_at.elapsed();
    assert!(waited >= GRACE && waited < GRACE + Duration::from_secs(1), "left after {waited:?}");
    assert_eq!(leaves(&media, &a_info.sid), 1);

    // Too late: resume_failed, and the same socket can join afresh.
    let mut a2 = Conn::open(&shared);
    a2.send(&resume_text(&token));
    match a2.next().await {
        Some(ServerMessage::Error { code: ErrorCode::ResumeFailed, fatal: false, .. }) => {}
        other => panic!("expected resume_failed, got {other:?}"),
    }
    a2.send(&join_text("erika"));
    let Some(ServerMessage::Joined { you, .. }) = a2.next().await else { panic!("no joined") };
    assert_ne!(you.sid, a_info.sid, "a new participant");
    assert!(matches!(obs.next().await, Some(ServerMessage::ParticipantJoined { .. })));
}

#[tokio::test(start_paused = true)]
async fn resume_takes_over_a_connection_the_server_still_thinks_open() {
    let (shared, media) = setup_with(limits());
    let (mut obs, _, _) = Conn::join(&shared, "observer").await;
    let (mut a, a_info, token) = Conn::join(&shared, "erika").await;
    assert!(matches!(obs.next().await, Some(ServerMessage::ParticipantJoined { .. })));
    // An offer went out on the old connection, maybe never seen: the resumed session sends it again.
    let id = ParticipantId(a_info.sid[1..].parse().unwrap());
    media.emit(id, SfuEvent::SubscriberOffer("v=0 offer-1".into()));
    assert_eq!(a.next().await, Some(ServerMessage::SubscribeOffer { sdp: "v=0 offer-1".into() }));
    // Two videos paused for bandwidth, one resumed again.
    for (track, paused) in [("1", true), ("2", true), ("1", false)] {
        media.emit(id, SfuEvent::VideoPaused { publisher: ParticipantId(99), track_id: track.into(), paused });
        assert!(matches!(a.next().await, Some(ServerMessage::VideoPaused { .. })));
    }

    let mut a2 = Conn::open(&shared);
    a2.send(&resume_text(&token));
    assert!(matches!(a2.next().await, Some(ServerMessage::Resumed { .. })));
    assert_eq!(a2.next().await, Some(ServerMessage::SubscribeOffer { sdp: "v=0 offer-1".into() }));
    let still_paused = ServerMessage::VideoPaused { sid: "p99".into(), track_id: "2".into(), paused: true };
    assert_eq!(a2.next().await, Some(still_paused), "what is paused now, again");
    assert_eq!(a.next_close().await, Some(close_code::RESUMED_ELSEWHERE), "the stale connection is closed");
    // SFU events now reach the new connection.
    media.emit(id, SfuEvent::PublisherAnswer("v=0 answer".into()));
    assert_eq!(a2.next().await, Some(ServerMessage::PublishAnswer { sdp: "v=0 answer".into() }));
    assert!(obs.quiet_for(Duration::from_secs(60)).await.is_empty(), "no leave, no join");
    assert_eq!(leaves(&media, &a_info.sid), 0);

    // A wrong room or token is refused without closing.
    let mut other = Conn::open(&shared);
    other.send(r#"{"type":"resume","protocol":1,"room":"elsewhere","resume_token":"00"}"#);
    assert!(matches!(other.next().await, Some(ServerMessage::Error { code: ErrorCode::ResumeFailed, .. })));
    other.send(&format!(r#"{{"type":"resume","protocol":1,"room":"elsewhere","resume_token":"{token}"}}"#));
    assert!(matches!(other.next().await, Some(ServerMessage::Error { code: ErrorCode::ResumeFailed, .. })));
    other.send(&resume_text(&token));
    assert!(matches!(other.next().await, Some(ServerMessage::Resumed { .. })), "the right one still works");
}

#[tokio::test(start_paused = true)]
async fn a_silent_connection_counts_as_dropped() {
    let (shared, _media) = setup_with(limits());
    let (mut obs, _, _) = Conn::join(&shared, "observer").await;
    let (_a, a_info, _token) = Conn::join(&shared, "erika").await;
    assert!(matches!(obs.next().await, Some(ServerMessage::ParticipantJoined { .. })));
    // `_a` never answers the pings: after the idle timeout it is parked, after the grace it leaves.
    let t0 = tokio::time::Instant::now();
    let left = obs.next().await;
    assert_eq!(left, Some(ServerMessage::ParticipantLeft { sid: a_info.sid, reason: LeaveReason::Disconnected }));
    let limits = limits();
    assert!(t0.elapsed() >= limits.idle_timeout + GRACE, "{:?}", t0.elapsed());
    assert!(t0.elapsed() <= limits.idle_timeout + limits.ping_interval + GRACE + Duration::from_secs(1));
}

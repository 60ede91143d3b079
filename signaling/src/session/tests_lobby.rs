//! The lobby through the session state machine: waiting, admission, denial, moderator presence.

use std::time::Duration;

use super::tests::{Client, FakeMedia, ROOM, SECRET, error_code, only_error, setup};
use super::*;
use crate::protocol::{LobbyEntry, ParticipantInfo};
use crate::room::audit::MemoryAudit;
use crate::token::Claims;

/// A join frame for a token with the given flags.
pub(super) fn join_frame(identity: &str, moderator: bool, lobby: bool) -> String {
    let mut claims = Claims::new(ROOM, identity, &format!("Name of {identity}"), moderator, Duration::from_secs(60));
    claims.lobby = lobby;
    claims.guest = lobby;
    let token = TokenKeys::new(SECRET).sign(&claims).unwrap();
    format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"{token}"}}"#)
}

pub(super) fn messages(out: Vec<Outgoing>) -> Vec<ServerMessage> {
    out.into_iter()
        .filter_map(|o| match o {
            Outgoing::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// Setup with an in-memory audit log.
pub(super) fn setup_audited() -> (Arc<Shared>, Arc<FakeMedia>, Arc<MemoryAudit>) {
    let (shared, media) = setup();
    let audit = Arc::new(MemoryAudit::default());
    let shared = Arc::try_unwrap(shared).ok().expect("unshared").with_audit(audit.clone());
    (Arc::new(shared), media, audit)
}

pub(super) fn join_as(shared: &Arc<Shared>, identity: &str, moderator: bool) -> (Client, Vec<ServerMessage>) {
    let mut c = Client::new(shared);
    let out = messages(c.send(&join_frame(identity, moderator, false)));
    assert!(matches!(out.first(), Some(ServerMessage::Joined { .. })), "{out:?}");
    (c, out)
}

/// A guest in the lobby: what it was told.
pub(super) fn wait_in_lobby(shared: &Arc<Shared>, identity: &str) -> (Client, bool) {
    let mut c = Client::new(shared);
    let out = messages(c.send(&join_frame(identity, false, true)));
    let [ServerMessage::LobbyWaiting { moderators_present }] = out[..] else { panic!("{out:?}") };
    assert!(c.session.is_waiting());
    (c, moderators_present)
}

fn lobby_names(msgs: &[ServerMessage]) -> Option<Vec<String>> {
    msgs.iter().rev().find_map(|m| match m {
        ServerMessage::Lobby { waiting } => Some(waiting.iter().map(|e| e.name.clone()).collect()),
        _ => None,
    })
}

#[test]
fn a_guest_waits_outside_until_a_moderator_admits_them() {
    let (shared, _media, audit) = setup_audited();
    let (mut m, _) = join_as(&shared, "mod", true);
    let (mut p, _) = join_as(&shared, "max", false);
    m.pump();
    let (mut g, present) = wait_in_lobby(&shared, "guest");
    assert!(present, "a moderator is there");
    let guest_id = g.id();

    // Outside: not in the room, not in the SFU, no chat; only the moderators hear of them.
    assert_eq!(shared.registry.participant_count(&RoomId(ROOM.into())), 2);
    assert_eq!(shared.registry.lobby_count(&RoomId(ROOM.into())), 1);
    let seen = messages(m.pump());
    let [ServerMessage::Lobby { waiting }] = &seen[..] else { panic!("{seen:?}") };
    let expected =
        LobbyEntry { sid: guest_id.to_string(), identity: "guest".into(), name: "Name of guest".into(), guest: true };
    assert_eq!(waiting, &vec![expected]);
    assert!(p.pump().is_empty(), "participants without moderation rights hear nothing of the lobby");
    assert_eq!(only_error(g.send(r#"{"type":"chat","text":"hallo?"}"#)), (ErrorCode::NotJoined, false));
    assert_eq!(only_error(g.send(&join_frame("guest", false, false))), (ErrorCode::AlreadyJoined, false));
    m.send(r#"{"type":"chat","text":"only for those inside"}"#);
    assert!(g.pump().is_empty(), "no chat reaches the lobby");
    p.pump();

    // A non-moderator cannot let them in.
    let admit = format!(r#"{{"type":"lobby_response","sid":"{guest_id}","admit":true}}"#);
    assert_eq!(only_error(p.send(&admit)), (ErrorCode::Forbidden, false));
    assert!(g.session.is_waiting());

    let seen = messages(m.send(&admit));
    assert_eq!(lobby_names(&seen), Some(vec![]), "the list empties: {seen:?}");
    let out = messages(g.pump());
    let seen = messages(m.pump());
    assert!(seen.iter().any(|msg| matches!(msg, ServerMessage::ParticipantJoined { participant } if participant.sid == guest_id.to_string())));
    let Some(ServerMessage::Joined { you, participants, .. }) = out.first() else { panic!("{out:?}") };
    assert_eq!((you.sid.clone(), you.moderator), (guest_id.to_string(), false), "the same sid as in the lobby");
    let names: Vec<&str> = participants.iter().map(|p: &ParticipantInfo| p.identity.as_str()).collect();
    assert_eq!(names, ["mod", "max"]);
    assert!(g.session.is_joined());
    assert_eq!(shared.registry.lobby_count(&RoomId(ROOM.into())), 0);

    let records = audit.records();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].action, records[0].actor_identity.as_str()), ("admit", "mod"));
    assert_eq!(records[0].target_identity.as_deref(), Some("guest"));
}

#[test]
fn denied_guests_are_told_and_all_can_be_admitted_at_once() {
    let (shared, _media, audit) = setup_audited();
    let (mut m, _) = join_as(&shared, "mod", true);
    let (mut g1, _) = wait_in_lobby(&shared, "g1");
    let (mut g2, _) = wait_in_lobby(&shared, "g2");
    let (mut g3, _) = wait_in_lobby(&shared, "g3");
    assert_eq!(lobby_names(&messages(m.pump())), Some(vec!["Name of g1".into(), "Name of g2".into(), "Name of g3".into()]));

    let g1_id = g1.id();
    m.send(&format!(r#"{{"type":"lobby_response","sid":"{g1_id}","admit":false}}"#));
    let out = g1.pump();
    assert_eq!(error_code(&out[0]), Some((ErrorCode::LobbyDenied, true)));
    assert!(matches!(out.last(), Some(Outgoing::Close { .. })));
    assert!(g1.session.is_closing());

    m.send(r#"{"type":"lobby_response","all":true,"admit":true}"#);
    for g in [&mut g2, &mut g3] {
        assert!(matches!(messages(g.pump()).first(), Some(ServerMessage::Joined { .. })));
    }
    let actions: Vec<&'static str> = audit.records().iter().map(|r| r.action).collect();
    assert_eq!(actions, ["deny", "admit", "admit"]);
    m.pump();
    assert_eq!(only_error(m.send(&format!(r#"{{"type":"lobby_response","sid":"{g1_id}","admit":true}}"#))).0, ErrorCode::BadRequest);
    for bad in [r#"{"type":"lobby_response","admit":true}"#, r#"{"type":"lobby_response","sid":"p1","all":true,"admit":true}"#, r#"{"type":"lobby_response","sid":"x","admit":true}"#] {
        assert_eq!(only_error(m.send(bad)), (ErrorCode::BadRequest, false), "{bad}");
    }
}

#[test]
fn without_a_moderator_the_guest_keeps_waiting_and_is_told_when_one_comes() {
    let (shared, _media) = setup();
    let (mut p, _) = join_as(&shared, "max", false);
    let (mut g, present) = wait_in_lobby(&shared, "guest");
    assert!(!present, "nobody can admit yet");
    p.pump();

    let (mut m, joined) = join_as(&shared, "mod", true);
    assert_eq!(lobby_names(&joined), Some(vec!["Name of guest".into()]), "a moderator joining sees who waits");
    assert_eq!(messages(g.pump()), [ServerMessage::LobbyWaiting { moderators_present: true }]);
    m.send(r#"{"type":"leave"}"#);
    assert_eq!(messages(g.pump()), [ServerMessage::LobbyWaiting { moderators_present: false }]);

    let (mut m2, _) = join_as(&shared, "mod2", true);
    g.pump();
    // Leaving the lobby takes the guest off the list.
    assert_eq!(g.send(r#"{"type":"leave"}"#), vec![Outgoing::Close { code: close_code::NORMAL, reason: "left" }]);
    assert_eq!(lobby_names(&messages(m2.pump())), Some(vec![]));
    // So does a dropped connection.
    let (mut g2, _) = wait_in_lobby(&shared, "guest2");
    assert_eq!(lobby_names(&messages(m2.pump())), Some(vec!["Name of guest2".into()]));
    g2.session.handle_transport_closed();
    assert!(g2.session.is_closing());
    assert_eq!(lobby_names(&messages(m2.pump())), Some(vec![]));
    assert_eq!(shared.registry.lobby_count(&RoomId(ROOM.into())), 0);
}

#[test]
fn a_lobby_room_without_members_goes_away_with_its_last_guest() {
    let (shared, _media) = setup();
    let (mut g, _) = wait_in_lobby(&shared, "guest");
    assert_eq!(shared.registry.room_count(), 0, "a lobby alone is no meeting");
    g.send(r#"{"type":"leave"}"#);
    assert_eq!(shared.registry.lobby_count(&RoomId(ROOM.into())), 0);
    // Moderators skip the lobby even with a lobby token.
    let mut m = Client::new(&shared);
    let out = messages(m.send(&join_frame("mod", true, true)));
    assert!(matches!(out.first(), Some(ServerMessage::Joined { .. })), "{out:?}");
}

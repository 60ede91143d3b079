//! Moderation through the session state machine: permissions, mute and stop (enforced by SFU commands), remove and
//! ban, lock, end.

use std::time::Duration;

use super::tests::{Client, ROOM, SECRET, error_code, only_error};
use super::tests_lobby::{join_as, join_frame, messages, setup_audited, wait_in_lobby};
use super::*;
use crate::protocol::ModerateAction;
use crate::token::Claims;

fn moderate(action: &str, sid: Option<ParticipantId>) -> String {
    match sid {
        Some(sid) => format!(r#"{{"type":"moderate","action":"{action}","sid":"{sid}"}}"#),
        None => format!(r#"{{"type":"moderate","action":"{action}"}}"#),
    }
}

fn blocks(media: &super::tests::FakeMedia, id: ParticipantId) -> Vec<String> {
    media.commands_for(id).into_iter().filter(|c| c.starts_with("BlockMedia")).collect()
}

#[test]
fn participants_without_the_grant_are_forbidden_and_nothing_happens() {
    let (shared, media, audit) = setup_audited();
    let (mut m, _) = join_as(&shared, "mod", true);
    let (mut a, _) = join_as(&shared, "anna", false);
    let (mut b, _) = join_as(&shared, "ben", false);
    let (_g, _) = wait_in_lobby(&shared, "guest");
    m.pump();
    a.pump();
    b.pump();
    let target = Some(b.id());
    for frame in [
        moderate("mute", target),
        moderate("mute_all", None),
        moderate("ask_unmute", target),
        moderate("stop_video", target),
        moderate("stop_screen", target),
        format!(r#"{{"type":"moderate","action":"remove","sid":"{}","ban":true}}"#, b.id()),
        moderate("lock", None),
        moderate("end", None),
        r#"{"type":"lobby_response","all":true,"admit":true}"#.to_owned(),
    ] {
        let (code, fatal) = only_error(a.send(&frame));
        assert_eq!((code, fatal), (ErrorCode::Forbidden, false), "{frame}");
    }
    assert!(b.pump().is_empty(), "the target heard nothing");
    assert!(m.pump().is_empty());
    assert!(blocks(&media, b.id()).is_empty(), "no SFU command");
    assert!(b.session.is_joined());
    assert_eq!(shared.registry.lobby_count(&RoomId(ROOM.into())), 1);
    assert!(audit.records().is_empty());
    // The participant can still join freely: nothing got locked.
    join_as(&shared, "late", false);
}

#[test]
fn mute_is_enforced_by_the_sfu_and_lifted_by_the_participant() {
    let (shared, media, audit) = setup_audited();
    let (mut m, _) = join_as(&shared, "mod", true);
    let (mut p, _) = join_as(&shared, "max", false);
    let (mut q, _) = join_as(&shared, "quinn", false);
    m.pump();
    p.pump();
    let (mid, pid) = (m.id(), p.id());

    q.pump();
    assert!(m.send(&moderate("mute", Some(pid))).is_empty());
    let told = messages(p.pump());
    let seen_by_m = messages(m.pump());
    assert_eq!(told, [ServerMessage::Moderated { action: ModerateAction::Mute, by: mid.to_string(), ban: false }]);
    assert_eq!(blocks(&media, pid), ["BlockMedia { media: Audio, blocked: true }"]);
    for seen in [seen_by_m, messages(q.pump())] {
        assert!(matches!(&seen[..], [ServerMessage::ParticipantUpdated { participant }] if participant.sid == pid.to_string() && participant.muted), "{seen:?}");
    }

    // Asking to unmute forces nothing.
    m.send(&moderate("ask_unmute", Some(pid)));
    assert_eq!(messages(p.pump()), [ServerMessage::Moderated { action: ModerateAction::AskUnmute, by: mid.to_string(), ban: false }]);
    assert_eq!(blocks(&media, pid).len(), 1);

    // Muting itself (again) keeps the block; unmuting lifts it.
    p.send(r#"{"type":"update","muted":true}"#);
    assert_eq!(blocks(&media, pid).len(), 1);
    p.send(r#"{"type":"update","muted":false}"#);
    assert_eq!(blocks(&media, pid)[1], "BlockMedia { media: Audio, blocked: false }");
    p.send(r#"{"type":"update","muted":false}"#);
    assert_eq!(blocks(&media, pid).len(), 2, "no second unblock");

    // Everyone but the moderator.
    m.pump();
    m.send(&moderate("mute_all", None));
    p.pump();
    q.pump();
    assert_eq!(blocks(&media, pid).len(), 3);
    assert_eq!(blocks(&media, q.id()), ["BlockMedia { media: Audio, blocked: true }"]);
    assert!(blocks(&media, mid).is_empty());
    let actions: Vec<&'static str> = audit.records().iter().map(|r| r.action).collect();
    assert_eq!(actions, ["mute", "ask_unmute", "mute_all"]);
    assert_eq!(audit.records()[0].target_identity.as_deref(), Some("max"));
}

#[test]
fn stopping_video_and_screen_share_is_enforced_and_told() {
    let (shared, media, _audit) = setup_audited();
    let (mut m, _) = join_as(&shared, "mod", true);
    let (mut p, _) = join_as(&shared, "max", false);
    m.pump();
    let pid = p.id();
    m.send(&moderate("stop_video", Some(pid)));
    let told = messages(p.pump());
    let seen = messages(m.pump());
    assert!(matches!(&told[..], [ServerMessage::Moderated { action: ModerateAction::StopVideo, .. }]), "{told:?}");
    assert!(matches!(&seen[..], [ServerMessage::ParticipantUpdated { participant }] if participant.camera_off));
    m.send(&moderate("stop_screen", Some(pid)));
    assert!(matches!(&messages(p.pump())[..], [ServerMessage::Moderated { action: ModerateAction::StopScreen, .. }]));
    assert_eq!(
        blocks(&media, pid),
        ["BlockMedia { media: Camera, blocked: true }", "BlockMedia { media: Screen, blocked: true }"]
    );
    // A camera track published anew while stopped is stopped too.
    media.emit(pid, SfuEvent::TrackPublished(plenum_sfu::TrackInfo { track_id: "1".into(), kind: plenum_sfu::TrackKind::Video }));
    p.pump();
    assert_eq!(blocks(&media, pid).len(), 3);
    assert_eq!(blocks(&media, pid)[2], "BlockMedia { media: Camera, blocked: true }");
    // The camera comes back when the participant turns it on; the share with a new share.
    p.send(r#"{"type":"update","camera_off":false}"#);
    let offer = serde_json::json!({"type": "publish_offer", "sdp": super::tests_meeting::real_offer(), "sources": {"2": "screen"}});
    assert!(p.send(&offer.to_string()).is_empty());
    assert_eq!(blocks(&media, pid).len(), 4, "an offer alone lifts nothing");
    media.emit(pid, SfuEvent::TrackPublished(plenum_sfu::TrackInfo { track_id: "2".into(), kind: plenum_sfu::TrackKind::Video }));
    p.pump();
    let b = blocks(&media, pid);
    assert_eq!(&b[3..], ["BlockMedia { media: Camera, blocked: false }", "BlockMedia { media: Screen, blocked: false }"]);
}

#[test]
fn removed_with_ban_cannot_rejoin_and_without_ban_can() {
    let (shared, media, audit) = setup_audited();
    let (mut m, _) = join_as(&shared, "mod", true);
    let (mut p, _) = join_as(&shared, "max", false);
    let (mut q, _) = join_as(&shared, "quinn", false);
    m.pump();
    p.pump();
    q.pump();
    let (mid, pid) = (m.id(), p.id());

    m.send(&format!(r#"{{"type":"moderate","action":"remove","sid":"{pid}","ban":true}}"#));
    let out = p.pump();
    let seen = messages(m.pump());
    assert_eq!(out[0], Outgoing::Message(ServerMessage::Moderated { action: ModerateAction::Remove, by: mid.to_string(), ban: true }));
    assert_eq!(error_code(&out[1]), Some((ErrorCode::Removed, true)));
    assert!(matches!(out[2], Outgoing::Close { .. }));
    assert!(media.commands_for(pid).iter().any(|c| c == "Leave"), "out of the SFU too");
    assert_eq!(seen, [ServerMessage::ParticipantLeft { sid: pid.to_string(), reason: LeaveReason::Removed }]);

    // Rejoining, directly or through the lobby, is refused.
    for lobby in [false, true] {
        let mut again = Client::new(&shared);
        let out = again.send(&join_frame("max", false, lobby));
        assert_eq!(error_code(&out[0]), Some((ErrorCode::Banned, true)), "lobby: {lobby}");
        assert!(again.session.is_closing());
    }

    // Without a ban, a removed participant may come back.
    q.pump();
    m.send(&moderate("remove", Some(q.id())));
    assert_eq!(error_code(&q.pump()[1]), Some((ErrorCode::Removed, true)));
    join_as(&shared, "quinn", false);
    m.pump();
    let actions: Vec<&'static str> = audit.records().iter().map(|r| r.action).collect();
    assert_eq!(actions, ["ban", "remove"]);

    // Bad input.
    for (frame, code) in [
        (moderate("remove", None), ErrorCode::BadRequest),
        (moderate("mute", Some(mid)), ErrorCode::BadRequest),
        (moderate("mute", Some(ParticipantId(999_999))), ErrorCode::BadRequest),
        (format!(r#"{{"type":"moderate","action":"mute","sid":"{pid}","ban":true}}"#), ErrorCode::BadRequest),
        (r#"{"type":"moderate","action":"lock","sid":"p1"}"#.to_owned(), ErrorCode::BadRequest),
        (r#"{"type":"moderate","action":"shout"}"#.to_owned(), ErrorCode::BadRequest),
    ] {
        assert_eq!(only_error(m.send(&frame)), (code, false), "{frame}");
    }
}

#[test]
fn a_locked_room_takes_only_moderators_and_those_already_waiting() {
    let (shared, _media, audit) = setup_audited();
    let (mut m, _) = join_as(&shared, "mod", true);
    let (mut early, _) = wait_in_lobby(&shared, "early");
    m.pump();
    assert_eq!(messages(m.send(&moderate("lock", None))), [ServerMessage::RoomLocked { locked: true, by: m.id().to_string() }]);

    let mut late = Client::new(&shared);
    let out = late.send(&join_frame("late", false, false));
    assert_eq!(error_code(&out[0]), Some((ErrorCode::RoomLocked, true)));
    let mut knock = Client::new(&shared);
    assert_eq!(error_code(&knock.send(&join_frame("knock", false, true))[0]), Some((ErrorCode::RoomLocked, true)));

    let (_m2, joined) = join_as(&shared, "mod2", true);
    assert!(joined.contains(&ServerMessage::RoomLocked { locked: true, by: m.id().to_string() }), "{joined:?}");
    // Someone who waited before the lock can still be admitted.
    m.send(&format!(r#"{{"type":"lobby_response","sid":"{}","admit":true}}"#, early.id()));
    assert!(matches!(messages(early.pump()).first(), Some(ServerMessage::Joined { .. })));

    m.send(&moderate("unlock", None));
    join_as(&shared, "late", false);
    let actions: Vec<&'static str> = audit.records().iter().map(|r| r.action).collect();
    assert_eq!(actions, ["lock", "admit", "unlock"]);
}

#[test]
fn ending_the_meeting_sends_everyone_away_including_the_lobby() {
    let (shared, media, audit) = setup_audited();
    let (mut m, _) = join_as(&shared, "mod", true);
    let (mut p, _) = join_as(&shared, "max", false);
    let (mut g, _) = wait_in_lobby(&shared, "guest");
    let pid = p.id();
    let by_m = m.send(&moderate("end", None));
    for out in [by_m, p.pump(), g.pump()] {
        assert!(out.iter().any(|o| error_code(o) == Some((ErrorCode::MeetingEnded, true))), "{out:?}");
    }
    assert!(m.session.is_closing() && p.session.is_closing() && g.session.is_closing());
    assert!(media.commands_for(pid).iter().any(|c| c == "Leave"), "out of the SFU too");
    assert_eq!(shared.registry.room_count(), 0);
    assert_eq!(shared.registry.lobby_count(&RoomId(ROOM.into())), 0);
    assert_eq!(audit.records().iter().map(|r| r.action).collect::<Vec<_>>(), ["end"]);
    // A token issued up to the end no longer gets in (nor into the lobby) ...
    let mut again = Client::new(&shared);
    let out = again.send(&join_frame("max", false, false));
    assert!(out.iter().any(|o| error_code(o) == Some((ErrorCode::MeetingEnded, true))), "{out:?}");
    let mut lobby = Client::new(&shared);
    let out = lobby.send(&join_frame("guest", false, true));
    assert!(out.iter().any(|o| error_code(o) == Some((ErrorCode::MeetingEnded, true))), "{out:?}");
    // ... a newer one starts a new meeting in the same room.
    let mut claims = Claims::new(ROOM, "max", "Max", false, Duration::from_secs(60));
    claims.iat += 2;
    claims.exp += 2;
    let token = TokenKeys::new(SECRET).sign(&claims).unwrap();
    let mut fresh = Client::new(&shared);
    let out = messages(fresh.send(&format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"{token}"}}"#)));
    assert!(matches!(out.first(), Some(ServerMessage::Joined { .. })), "{out:?}");
}

use super::*;
use crate::protocol::Kind;
use plenum_sfu::TrackKind;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

fn info(id: u64) -> ParticipantInfo {
    ParticipantInfo {
        sid: ParticipantId(id).to_string(),
        identity: format!("user{id}"),
        name: format!("User {id}"),
        moderator: false,
        muted: false,
        camera_off: false,
    }
}

fn drain(rx: &mut UnboundedReceiver<RoomEvent>) -> Vec<ServerMessage> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|event| match event {
            RoomEvent::Message(msg) => msg,
            other => panic!("expected a message, got {other:?}"),
        })
        .collect()
}

#[test]
fn room_names() {
    assert!(validate_room_name("team-weekly").is_ok());
    assert!(validate_room_name("A.b_c-9").is_ok());
    assert!(validate_room_name(&"x".repeat(64)).is_ok());
    for bad in ["", "has space", "slash/", "ümlaut", "a#b"] {
        assert!(validate_room_name(bad).is_err(), "{bad:?}");
    }
    assert!(validate_room_name(&"x".repeat(65)).is_err());
}

#[test]
fn join_update_publish_leave_fan_out_to_the_others() {
    let reg = Registry::new();
    let room = RoomId("r".into());
    let (tx1, mut rx1) = unbounded_channel();
    let (tx2, mut rx2) = unbounded_channel();

    assert_eq!(reg.join(&room, ParticipantId(1), info(1), tx1), Ok(Snapshot::default()));
    let audio = TrackInfo { track_id: "0".into(), kind: TrackKind::Audio };
    reg.track_published(&room, ParticipantId(1), &audio, TrackSource::Microphone);
    let snap = reg.join(&room, ParticipantId(2), info(2), tx2).unwrap();
    assert_eq!(snap.participants, vec![info(1)]);
    let entry = TrackEntry { sid: "p1".into(), track_id: "0".into(), kind: Kind::Audio, source: TrackSource::Microphone };
    assert_eq!(snap.tracks, vec![entry]);
    assert_eq!(drain(&mut rx1), vec![ServerMessage::ParticipantJoined { participant: info(2) }]);

    let updated = reg.update(&room, ParticipantId(2), Some(true), None).unwrap();
    assert!(updated.muted);
    assert_eq!(reg.update(&room, ParticipantId(2), Some(true), None), None, "no change, no event");
    assert_eq!(drain(&mut rx1), vec![ServerMessage::ParticipantUpdated { participant: updated }]);

    reg.track_unpublished(&room, ParticipantId(1), "0");
    reg.track_unpublished(&room, ParticipantId(1), "0");
    assert_eq!(drain(&mut rx2), vec![ServerMessage::TrackUnpublished { sid: "p1".into(), track_id: "0".into() }]);

    assert!(reg.leave(&room, ParticipantId(1), LeaveReason::Left));
    assert!(!reg.leave(&room, ParticipantId(1), LeaveReason::Disconnected), "announced once");
    assert_eq!(drain(&mut rx2), vec![ServerMessage::ParticipantLeft { sid: "p1".into(), reason: LeaveReason::Left }]);
    assert!(drain(&mut rx1).is_empty(), "no echo to the one leaving");
    assert_eq!(reg.room_count(), 1);
    assert!(reg.leave(&room, ParticipantId(2), LeaveReason::Disconnected));
    assert_eq!(reg.room_count(), 0, "empty room removed");
}

#[test]
fn screen_tracks_carry_their_source() {
    let reg = Registry::new();
    let room = RoomId("r".into());
    let (tx1, _rx1) = unbounded_channel();
    let (tx2, mut rx2) = unbounded_channel();
    reg.join(&room, ParticipantId(1), info(1), tx1).unwrap();
    reg.join(&room, ParticipantId(2), info(2), tx2).unwrap();
    let screen = TrackInfo { track_id: "2".into(), kind: TrackKind::Video };
    reg.track_published(&room, ParticipantId(1), &screen, TrackSource::Screen);
    assert_eq!(
        drain(&mut rx2),
        vec![ServerMessage::TrackPublished { sid: "p1".into(), track_id: "2".into(), kind: Kind::Video, source: TrackSource::Screen }]
    );
}

#[test]
fn chat_goes_to_everyone_and_stays_for_late_joiners_until_the_room_empties() {
    let reg = Registry::new();
    let room = RoomId("r".into());
    let (tx1, mut rx1) = unbounded_channel();
    reg.join(&room, ParticipantId(1), info(1), tx1).unwrap();
    let first = reg.chat(&room, ParticipantId(1), "Guten Morgen".into(), 1000).unwrap();
    assert_eq!((first.id, first.name.as_str(), first.at), (1, "User 1", 1000));
    assert_eq!(drain(&mut rx1), vec![ServerMessage::Chat { message: first.clone() }], "the sender gets it too");
    assert_eq!(reg.chat(&room, ParticipantId(9), "ghost".into(), 1), None, "only members chat");

    let (tx2, _rx2) = unbounded_channel();
    let snap = reg.join(&room, ParticipantId(2), info(2), tx2).unwrap();
    assert_eq!(snap.chat, vec![first]);
    reg.leave(&room, ParticipantId(1), LeaveReason::Left);
    reg.leave(&room, ParticipantId(2), LeaveReason::Left);
    let (tx3, _rx3) = unbounded_channel();
    assert!(reg.join(&room, ParticipantId(3), info(3), tx3).unwrap().chat.is_empty(), "a new meeting starts without history");
}

#[test]
fn hands_keep_their_order_and_leave_with_the_participant() {
    let reg = Registry::new();
    let room = RoomId("r".into());
    let mut rxs = Vec::new();
    for id in 1..=3 {
        let (tx, rx) = unbounded_channel();
        reg.join(&room, ParticipantId(id), info(id), tx).unwrap();
        rxs.push(rx);
    }
    rxs.iter_mut().for_each(|rx| {
        drain(rx);
    });
    assert_eq!(reg.set_hand(&room, ParticipantId(3), ParticipantId(3), true), HandOutcome::Changed);
    assert_eq!(reg.set_hand(&room, ParticipantId(1), ParticipantId(1), true), HandOutcome::Changed);
    assert_eq!(reg.set_hand(&room, ParticipantId(1), ParticipantId(1), true), HandOutcome::Unchanged);
    assert_eq!(reg.set_hand(&room, ParticipantId(1), ParticipantId(7), true), HandOutcome::NotFound);
    let seen = drain(&mut rxs[1]);
    assert_eq!(
        seen,
        vec![
            ServerMessage::HandChanged { sid: "p3".into(), raised: true, by: "p3".into(), queue: vec!["p3".into()] },
            ServerMessage::HandChanged { sid: "p1".into(), raised: true, by: "p1".into(), queue: vec!["p3".into(), "p1".into()] },
        ]
    );
    assert_eq!(drain(&mut rxs[0]).len(), 2, "the one raising hears it too");

    let (tx4, _rx4) = unbounded_channel();
    assert_eq!(reg.join(&room, ParticipantId(4), info(4), tx4).unwrap().hands, ["p3", "p1"]);
    reg.leave(&room, ParticipantId(3), LeaveReason::Left);
    let (tx5, _rx5) = unbounded_channel();
    assert_eq!(reg.join(&room, ParticipantId(5), info(5), tx5).unwrap().hands, ["p1"]);
}

#[test]
fn reattach_switches_the_channel_without_telling_anyone() {
    let reg = Registry::new();
    let room = RoomId("r".into());
    let (tx1, mut rx1) = unbounded_channel();
    let (tx2, mut old_rx2) = unbounded_channel();
    reg.join(&room, ParticipantId(1), info(1), tx1).unwrap();
    reg.join(&room, ParticipantId(2), info(2), tx2).unwrap();
    drain(&mut rx1);
    reg.chat(&room, ParticipantId(1), "während du weg warst".into(), 5);

    let (new_tx2, mut new_rx2) = unbounded_channel();
    let (me, snap) = reg.reattach(&room, ParticipantId(2), new_tx2).unwrap();
    assert_eq!(me, info(2));
    assert_eq!(snap.participants, vec![info(1)]);
    assert_eq!(snap.chat.len(), 1);
    drain(&mut rx1);
    reg.chat(&room, ParticipantId(1), "wieder da?".into(), 6);
    assert_eq!(drain(&mut new_rx2).len(), 1);
    assert_eq!(drain(&mut old_rx2).len(), 1, "only the message from before the switch");
    assert!(drain(&mut rx1).iter().all(|m| matches!(m, ServerMessage::Chat { .. })), "no join or leave");
    let (tx9, _rx9) = unbounded_channel();
    assert_eq!(reg.reattach(&room, ParticipantId(9), tx9), None);
}

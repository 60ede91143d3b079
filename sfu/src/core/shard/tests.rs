use super::*;

struct Discard(u64);
impl Transmitter for Discard {
    fn transmit(&mut self, _: Transport, _: SocketAddr, _: &[u8]) {
        self.0 += 1;
    }
}

fn shard_with(ids: &[u64]) -> (Shard, Instant) {
    let now = Instant::now();
    let mut s = Shard::new("127.0.0.1:50000".parse().unwrap(), 1);
    for id in ids {
        s.join(now, RoomId("r".into()), ParticipantId(*id)).unwrap();
    }
    (s, now)
}

#[test]
fn a_panic_while_handling_one_participant_isolates_only_that_participant() {
    let (mut s, now) = shard_with(&[1, 2, 3]);
    let mut tx = Discard(0);
    s.guarded(ParticipantId(2), now, &mut tx, |_, _| panic!("boom in a connection"));
    assert_eq!(s.participant_count(), 2);
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(events.iter().any(|(id, e)| *id == ParticipantId(2) && matches!(e, SfuEvent::Closed(CloseReason::Isolated(_)))));
    assert_eq!(s.stats().isolated, 1);
    // The others carry on: their commands are still served.
    s.handle_command(now, ParticipantId(1), ParticipantCommand::PublisherOffer("garbage".into()), &mut tx);
    let ev = s.poll_event().unwrap();
    assert!(matches!(ev, (ParticipantId(1), SfuEvent::Error { code: ErrorCode::BadSdp, .. })));
    // The isolated participant is gone from routing too.
    s.handle_command(now, ParticipantId(2), ParticipantCommand::Leave, &mut tx);
    assert!(matches!(s.poll_event(), Some((ParticipantId(2), SfuEvent::Error { code: ErrorCode::NotInRoom, .. }))));
}

#[test]
fn the_panic_is_blamed_on_the_connection_being_worked_on() {
    let (mut s, now) = shard_with(&[1, 2]);
    let mut tx = Discard(0);
    // Input arrived for 1, but the panic happened while writing to 2's connection.
    s.guarded(ParticipantId(1), now, &mut tx, |shard, _| {
        shard.current = Some(ParticipantId(2));
        panic!("boom in the subscriber");
    });
    assert!(s.participants.contains_key(&ParticipantId(1)));
    assert!(!s.participants.contains_key(&ParticipantId(2)));
}

#[test]
fn double_join_and_commands_for_strangers_are_refused() {
    let (mut s, now) = shard_with(&[1]);
    assert_eq!(s.join(now, RoomId("r".into()), ParticipantId(1)), Err(JoinError::AlreadyJoined(ParticipantId(1))));
    let mut tx = Discard(0);
    s.handle_command(now, ParticipantId(9), ParticipantCommand::SubscriberAnswer("v=0".into()), &mut tx);
    assert!(matches!(s.poll_event(), Some((ParticipantId(9), SfuEvent::Error { code: ErrorCode::NotInRoom, .. }))));
}

#[test]
fn bad_sdp_and_candidates_get_typed_errors() {
    let (mut s, now) = shard_with(&[1]);
    let mut tx = Discard(0);
    let id = ParticipantId(1);
    s.handle_command(now, id, ParticipantCommand::PublisherOffer("v=0\r\nnonsense".into()), &mut tx);
    assert!(matches!(s.poll_event(), Some((_, SfuEvent::Error { code: ErrorCode::BadSdp, .. }))));
    s.handle_command(now, id, ParticipantCommand::SubscriberAnswer("v=0\r\n".into()), &mut tx);
    assert!(matches!(s.poll_event(), Some((_, SfuEvent::Error { code: ErrorCode::BadSdp | ErrorCode::UnexpectedAnswer, .. }))));
    let cmd = ParticipantCommand::RemoteCandidate { target: PcTarget::Publisher, candidate: Some("candidate:x".into()) };
    s.handle_command(now, id, cmd, &mut tx);
    assert!(matches!(s.poll_event(), Some((_, SfuEvent::Error { code: ErrorCode::BadCandidate, .. }))));
    let ok = "candidate:1 1 udp 2122260223 127.0.0.1 53000 typ host";
    let cmd = ParticipantCommand::RemoteCandidate { target: PcTarget::Subscriber, candidate: Some(ok.into()) };
    s.handle_command(now, id, cmd, &mut tx);
    assert!(s.poll_event().is_none());
    assert_eq!(s.participant_count(), 1);
}

#[test]
fn last_leaver_removes_the_room() {
    let (mut s, now) = shard_with(&[1, 2]);
    let mut tx = Discard(0);
    assert_eq!(s.room_count(), 1);
    s.handle_command(now, ParticipantId(1), ParticipantCommand::Leave, &mut tx);
    s.handle_command(now, ParticipantId(2), ParticipantCommand::Leave, &mut tx);
    assert_eq!(s.room_count(), 0);
    assert_eq!(s.participant_count(), 0);
    assert_eq!(s.poll_timeout(), None);
}

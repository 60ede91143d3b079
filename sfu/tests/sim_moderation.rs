//! A moderator's `BlockMedia`: the SFU itself stops forwarding a participant's audio or camera, and resumes it
//! (video at a keyframe) when the block is lifted.

mod sim;

use std::time::Duration;

use plenum_sfu::{MediaClass, ParticipantCommand};
use str0m::media::MediaKind;

use sim::World;

const ROOM: &str = "sim";

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Packets `subscriber` received so far from `publisher` of `kind`.
fn count(w: &World, subscriber: &str, publisher: &str, kind: MediaKind) -> usize {
    let sid = w.id_of(publisher).to_string();
    w.client(subscriber).from_publisher(&sid, kind).iter().map(|r| r.seqs.len()).sum()
}

#[test]
fn blocked_audio_and_camera_stop_at_the_sfu_and_resume() {
    let mut w = World::new(21);
    for n in ["alice", "bob", "carol"] {
        w.join(n, ROOM);
    }
    w.run_until(w.at(secs(2.0)));
    let bob = w.id_of("bob");
    assert!(count(&w, "alice", "bob", MediaKind::Audio) > 50, "bob's audio flows before the block");

    w.command(bob, ParticipantCommand::BlockMedia { media: MediaClass::Audio, blocked: true });
    // Packets already on the wire may still arrive.
    w.run_until(w.now + secs(0.2));
    let (a_audio, c_audio) = (count(&w, "alice", "bob", MediaKind::Audio), count(&w, "carol", "bob", MediaKind::Audio));
    let a_video = count(&w, "alice", "bob", MediaKind::Video);
    let carol_audio = count(&w, "alice", "carol", MediaKind::Audio);
    w.run_until(w.now + secs(1.0));
    assert_eq!(count(&w, "alice", "bob", MediaKind::Audio), a_audio, "no audio of bob reaches alice while blocked");
    assert_eq!(count(&w, "carol", "bob", MediaKind::Audio), c_audio, "nor carol");
    assert!(count(&w, "alice", "bob", MediaKind::Video) > a_video + 20, "bob's camera still flows");
    assert!(count(&w, "alice", "carol", MediaKind::Audio) > carol_audio + 40, "carol is not affected");
    assert!(w.shard.stats().dropped_blocked > 40);

    let alice_id = w.id_of("alice");
    let budget_before = w.shard.allocated_bps(alice_id).unwrap();
    w.command(bob, ParticipantCommand::BlockMedia { media: MediaClass::Audio, blocked: false });
    w.command(bob, ParticipantCommand::BlockMedia { media: MediaClass::Camera, blocked: true });
    w.run_until(w.now + secs(0.2));
    let budget_blocked = w.shard.allocated_bps(alice_id).unwrap();
    assert!(budget_blocked < budget_before, "bob's stopped camera leaves alice's allocation: {budget_before} -> {budget_blocked}");
    let a_video = count(&w, "alice", "bob", MediaKind::Video);
    let a_audio = count(&w, "alice", "bob", MediaKind::Audio);
    w.run_until(w.now + secs(1.0));
    assert!(count(&w, "alice", "bob", MediaKind::Audio) > a_audio + 40, "audio resumed after the unblock");
    assert_eq!(count(&w, "alice", "bob", MediaKind::Video), a_video, "the camera is stopped");

    w.command(bob, ParticipantCommand::BlockMedia { media: MediaClass::Camera, blocked: false });
    let unblocked_at = w.now;
    w.run_until(w.now + secs(1.0));
    let sid = bob.to_string();
    let alice = w.client("alice");
    let video = alice.from_publisher(&sid, MediaKind::Video);
    let after: Vec<_> = video[0].layers.iter().filter(|(t, _, _)| *t > unblocked_at).collect();
    assert!(after.len() > 20, "video resumed: {} packets", after.len());
    assert!(after[0].2, "video resumes with a keyframe");
    // The outgoing stream stays one continuous sequence across the block.
    for pair in video[0].seqs.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "continuous sequence numbers");
    }
}

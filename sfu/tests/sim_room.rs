//! Deterministic tests of the sans-IO core: simulated clients joining rooms through a [`plenum_sfu::core::Shard`]
//! on a virtual clock and a seeded network.

mod sim;

use std::time::Duration;

use plenum_sfu::{CloseReason, SfuEvent};
use str0m::media::{Direction, MediaKind};

use sim::World;
use sim::client::Client;

const ROOM: &str = "sim";

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Every subscriber got every other publisher's audio and video, continuous (no gap) and in order.
fn assert_continuous(w: &World, subscriber: &str, publishers: &[&str], min_audio: usize, min_video: usize) {
    let c = w.client(subscriber);
    for p in publishers {
        let sid = w.id_of(p).to_string();
        for (kind, min) in [(MediaKind::Audio, min_audio), (MediaKind::Video, min_video)] {
            let got = c.from_publisher(&sid, kind);
            assert_eq!(got.len(), 1, "{subscriber} has exactly one {kind:?} m-line from {p}");
            let r = got[0];
            assert!(r.seqs.len() >= min, "{subscriber} got {} {kind:?} packets from {p}, want >= {min}", r.seqs.len());
            for w2 in r.seqs.windows(2) {
                assert_eq!(w2[1], w2[0] + 1, "{subscriber}: {kind:?} from {p} not continuous: {} then {}", w2[0], w2[1]);
            }
            assert_eq!(r.ssrcs.len(), 1, "one SSRC per DownTrack");
            if kind == MediaKind::Video {
                assert_eq!(r.first_payload[0] & 0x10, 0x10, "video starts at the start of a frame");
                assert_eq!(r.first_payload[1] & 0x01, 0, "video starts with a keyframe");
            }
        }
    }
}

#[test]
fn three_participants_receive_each_other_continuously() {
    let mut w = World::new(7);
    for n in ["alice", "bob", "carol"] {
        w.join(n, ROOM);
    }
    w.run_until(w.at(secs(3.0)));
    for (me, others) in [("alice", ["bob", "carol"]), ("bob", ["alice", "carol"]), ("carol", ["alice", "bob"])] {
        // 3 s of 50 pps audio and 90 pps video, less set-up time.
        assert_continuous(&w, me, &others, 100, 180);
    }
    assert_eq!(w.shard.stats().dropped_unknown_source, 0);
    assert!(w.shard.stats().rtp_forwarded > 0);
}

#[test]
fn late_joiner_gets_a_keyframe_quickly() {
    let mut w = World::new(11);
    w.join("alice", ROOM);
    w.join("bob", ROOM);
    w.run_until(w.at(secs(1.2)));
    let joined_at = w.now;
    w.join("carol", ROOM);
    // Periodic keyframes come every 3 s (frame 0, 90, ...): carol must be served by a PLI instead.
    w.run_until(joined_at + secs(0.8));
    assert_continuous(&w, "carol", &["alice", "bob"], 20, 30);
    assert!(w.client("alice").keyframe_requests_seen > 0, "the SFU asked alice for a keyframe");
    assert!(w.shard.stats().keyframe_requests > 0);
    // The keyframe did not stop the others' streams.
    assert_continuous(&w, "alice", &["bob"], 50, 90);
}

#[test]
fn leaving_participant_disappears_for_the_others() {
    let mut w = World::new(3);
    for n in ["alice", "bob", "carol"] {
        w.join(n, ROOM);
    }
    w.run_until(w.at(secs(2.0)));
    let carol = w.id_of("carol");
    let carol_sid = carol.to_string();
    let _gone: Client = w.leave("carol");
    let events: Vec<&SfuEvent> = w.log.iter().filter(|(_, id, _)| *id == carol).map(|(_, _, e)| e).collect();
    assert!(events.contains(&&SfuEvent::Closed(CloseReason::Left)));
    let unpublished = events.iter().filter(|e| matches!(e, SfuEvent::TrackUnpublished { .. })).count();
    assert_eq!(unpublished, 2, "both of carol's tracks are unpublished");

    w.run_until(w.now + secs(0.3));
    let counts_after_leave: Vec<usize> = ["alice", "bob"]
        .iter()
        .flat_map(|n| {
            let c = w.client(n);
            [MediaKind::Audio, MediaKind::Video].map(|k| c.from_publisher(&carol_sid, k)[0].seqs.len())
        })
        .collect();
    w.run_until(w.now + secs(1.0));
    for n in ["alice", "bob"] {
        let c = w.client(n);
        for (mid, r) in c.received.iter().filter(|(_, r)| r.stream_id == carol_sid) {
            assert_eq!(c.direction_of(*mid), Some(Direction::Inactive), "{n}: carol's m-line {mid} is inactive");
            assert!(!r.seqs.is_empty());
        }
    }
    let counts_later: Vec<usize> = ["alice", "bob"]
        .iter()
        .flat_map(|n| {
            let c = w.client(n);
            [MediaKind::Audio, MediaKind::Video].map(|k| c.from_publisher(&carol_sid, k)[0].seqs.len())
        })
        .collect();
    assert_eq!(counts_after_leave, counts_later, "nothing of carol arrives after she left");
    // alice and bob still hear and see each other.
    assert_continuous(&w, "alice", &["bob"], 100, 200);
    assert_continuous(&w, "bob", &["alice"], 100, 200);
    assert_eq!(w.shard.participant_count(), 2);
}

#[test]
fn lossy_network_recovers_video_and_keeps_streams_flowing() {
    let mut w = World::new(42);
    w.net.loss = 0.03;
    w.net.jitter = Duration::from_millis(4);
    for n in ["alice", "bob", "carol"] {
        w.join(n, ROOM);
    }
    w.run_until(w.at(secs(5.0)));
    assert!(w.net.lost > 0, "the network lost packets");
    for (me, others) in [("alice", ["bob", "carol"]), ("bob", ["alice", "carol"]), ("carol", ["alice", "bob"])] {
        let c = w.client(me);
        for p in others {
            let sid = w.id_of(p).to_string();
            let sent_audio = w.client(p).senders[0].sent as usize;
            let audio = c.from_publisher(&sid, MediaKind::Audio)[0];
            let video = c.from_publisher(&sid, MediaKind::Video)[0];
            let mut uniq = video.seqs.clone();
            uniq.sort();
            uniq.dedup();
            let (lo, hi) = (uniq[0], *uniq.last().unwrap());
            let span = (hi - lo + 1) as usize;
            // Two lossy legs: audio has no retransmission, video is repaired by NACK (SFU→subscriber from the
            // SFU's cache, publisher→SFU by the SFU's own NACKs).
            assert!(audio.seqs.len() * 100 >= sent_audio * 85, "{me} audio from {p}: {} of {sent_audio}", audio.seqs.len());
            assert!(uniq.len() * 100 >= span * 97, "{me} video from {p}: {} of {span} after NACK", uniq.len());
        }
    }
    assert_eq!(w.shard.participant_count(), 3);
}

#[test]
fn garbage_input_does_not_disturb_the_room() {
    let mut w = World::new(5);
    w.join("alice", ROOM);
    w.join("bob", ROOM);
    w.run_until(w.at(secs(1.0)));
    let stats_before = w.shard.stats().clone();
    // Unknown sources: STUN-looking, DTLS-looking, RTP-looking, random.
    let stranger = "127.0.0.1:6666".parse().unwrap();
    let mut junk: Vec<Vec<u8>> = vec![vec![], vec![0; 1], vec![0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42], vec![22; 40], vec![0x80; 1200]];
    for i in 0..200u32 {
        junk.push((0..(i % 300)).map(|k| (k * 7 + i) as u8).collect());
    }
    for j in &junk {
        w.inject(stranger, j);
    }
    assert_eq!(w.shard.stats().dropped_unknown_source - stats_before.dropped_unknown_source, junk.len() as u64);
    // Junk from alice's own publisher address (a known 5-tuple) is rejected by her connection, not fatal.
    let alice_addr = w.client("alice").pub_addr;
    for j in junk.iter().take(100) {
        w.inject(alice_addr, j);
    }
    w.run_until(w.at(secs(3.0)));
    assert_eq!(w.shard.participant_count(), 2);
    assert_continuous(&w, "alice", &["bob"], 90, 150);
    assert_continuous(&w, "bob", &["alice"], 90, 150);
}


#[test]
fn tracks_published_together_reach_each_subscriber_in_one_offer() {
    let mut w = World::new(9);
    w.join("alice", ROOM);
    w.join("bob", ROOM);
    w.run_until(w.at(secs(1.0)));
    let alice = w.id_of("alice");
    let offers_to_alice = |w: &World| w.log.iter().filter(|(_, id, e)| *id == alice && matches!(e, SfuEvent::SubscriberOffer(_))).count();
    let before = offers_to_alice(&w);
    w.join("carol", ROOM);
    w.run_until(w.at(secs(2.0)));
    assert_eq!(offers_to_alice(&w) - before, 1, "carol's audio and video arrive in one offer");
    // The newcomer gets everything already published in one offer too.
    let carol = w.id_of("carol");
    let to_carol = w.log.iter().filter(|(_, id, e)| *id == carol && matches!(e, SfuEvent::SubscriberOffer(_))).count();
    assert_eq!(to_carol, 1);
    // Carol's video starts after her connection, one offer/answer round and a keyframe: 0.8 s of 1 s.
    assert_continuous(&w, "alice", &["bob", "carol"], 40, 72);
}

/// A STUN binding request with a USERNAME attribute (no integrity: only routing is exercised).
fn binding_request(username: &str) -> Vec<u8> {
    let name = username.as_bytes();
    let padded = (name.len() + 3) & !3;
    let mut v = vec![0x00, 0x01];
    v.extend_from_slice(&((4 + padded) as u16).to_be_bytes());
    v.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
    v.extend_from_slice(&[9; 12]);
    v.extend_from_slice(&[0x00, 0x06]);
    v.extend_from_slice(&(name.len() as u16).to_be_bytes());
    v.extend_from_slice(name);
    v.resize(20 + 4 + padded, 0);
    v
}

fn ufrag_of(sdp: &str) -> String {
    sdp.lines().find_map(|l| l.strip_prefix("a=ice-ufrag:")).unwrap().trim().to_string()
}

#[test]
fn ice_restart_on_the_subscriber_connection_keeps_media_flowing() {
    let mut w = World::new(21);
    w.join("alice", ROOM);
    w.join("bob", ROOM);
    w.run_until(w.at(secs(1.0)));
    let alice = w.id_of("alice");
    let offers = |w: &World| -> Vec<String> {
        w.log
            .iter()
            .filter_map(|(_, id, e)| match e {
                SfuEvent::SubscriberOffer(sdp) if *id == alice => Some(sdp.clone()),
                _ => None,
            })
            .collect()
    };
    let before = offers(&w);
    w.command(alice, plenum_sfu::ParticipantCommand::RestartIce);
    let after = offers(&w);
    assert_eq!(after.len(), before.len() + 1, "a restart sends a new offer");
    let new_ufrag = ufrag_of(after.last().unwrap());
    assert_ne!(new_ufrag, ufrag_of(before.last().unwrap()), "with new ICE credentials");
    // A connectivity check with the new credentials from an address the SFU has never seen (the client's network
    // changed) is routed to alice's connection, not dropped as unknown.
    let unknown_before = w.shard.stats().dropped_unknown_source;
    w.inject("127.0.0.1:45454".parse().unwrap(), &binding_request(&format!("{new_ufrag}:remote")));
    assert_eq!(w.shard.stats().dropped_unknown_source, unknown_before, "the new ufrag is routed");
    w.run_until(w.at(secs(3.0)));
    assert_continuous(&w, "alice", &["bob"], 120, 220);
}


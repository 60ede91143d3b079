//! Media quality under simulated networks: simulcast layer selection against a rate-capped link, loss recovery,
//! the dominant speaker, and pausing layers nobody receives.

mod sim;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use plenum_sfu::{ParticipantCommand, SfuEvent};
use str0m::media::MediaKind;

use sim::World;
use sim::client::Received;

const ROOM: &str = "media";

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn video_from<'a>(w: &'a World, subscriber: &str, publisher: &str) -> &'a Received {
    let sid = w.id_of(publisher).to_string();
    let got = w.client(subscriber).from_publisher(&sid, MediaKind::Video);
    assert_eq!(got.len(), 1, "{subscriber} has one video from {publisher}");
    got[0]
}

/// In sequence order (retransmissions arrive late), every change of layer starts with a keyframe. A change
/// right after a sequence number that never arrived is counted but not judged: the keyframe's first packet may be
/// among the few a congested link lost for good.
fn assert_switches_on_keyframes(r: &Received) -> usize {
    let mut by_seq: Vec<(u64, u8, bool)> = r.seqs.iter().zip(&r.layers).map(|(s, (_, l, k))| (*s, *l, *k)).collect();
    by_seq.sort();
    by_seq.dedup_by_key(|x| x.0);
    let mut switches = 0;
    for w in by_seq.windows(2) {
        if w[1].1 != w[0].1 {
            switches += 1;
            if w[1].0 == w[0].0 + 1 {
                assert!(w[1].2, "switch from layer {} to {} at seq {} without a keyframe", w[0].1, w[1].1, w[1].0);
            }
        }
    }
    switches
}

/// Sequence numbers that arrived between `from` and `to`: their span, and how many of it never arrived at all.
fn window_loss(r: &Received, from: Instant, to: Instant) -> (usize, usize) {
    let inside: Vec<u64> =
        r.seqs.iter().zip(&r.layers).filter(|(_, (at, _, _))| *at >= from && *at <= to).map(|(s, _)| *s).collect();
    let (lo, hi) = (*inside.iter().min().unwrap(), *inside.iter().max().unwrap());
    let all: HashSet<u64> = r.seqs.iter().copied().collect();
    ((hi - lo + 1) as usize, (lo..=hi).filter(|s| !all.contains(s)).count())
}

/// The layers of the packets that arrived between `from` and `to`, and how many packets that was. Late packets
/// (retransmissions, below the highest sequence number seen before them) do not count: they show what was
/// forwarded earlier.
fn layers_between(r: &Received, from: Instant, to: Instant) -> (Vec<u8>, usize) {
    let mut highest = None;
    let mut inside = Vec::new();
    for (seq, (at, l, _)) in r.seqs.iter().zip(&r.layers) {
        let fresh = highest.is_none_or(|h| seq > h);
        if fresh {
            highest = Some(seq);
            if *at >= from && *at <= to {
                inside.push(*l);
            }
        }
    }
    let mut distinct = inside.clone();
    distinct.sort();
    distinct.dedup();
    (distinct, inside.len())
}

#[test]
fn forwarded_layer_follows_a_capped_link() {
    let mut w = World::new(31);
    w.join_with("alice", ROOM, true);
    w.join("bob", ROOM);
    let bob_addr = w.client("bob").sub_addr;
    // 300 kbit/s for 10 s, 1.5 Mbit/s for 12 s, 300 kbit/s for 18 s.
    w.net.set_rate(bob_addr, Some(300_000));
    w.run_until(w.at(secs(10.0)));
    w.net.set_rate(bob_addr, Some(1_500_000));
    w.run_until(w.at(secs(22.0)));
    w.net.set_rate(bob_addr, Some(300_000));
    w.run_until(w.at(secs(40.0)));
    let r = video_from(&w, "bob", "alice");
    let window = |a: f64, b: f64| layers_between(r, w.at(secs(a)), w.at(secs(b)));
    // At 300 kbit/s only the low layer flows (30 frames/s, one packet each).
    let (layers, n) = window(4.0, 10.0);
    assert_eq!(layers, vec![0], "low layer at 300 kbit/s");
    assert!(n >= 150, "the low layer flows: {n} packets in 6 s");
    // Within a few seconds of 1.5 Mbit/s the high layer flows (measured over 20 runs: 4-6.5 s before the
    // ceiling after heavy loss held back for a while, see delivery.rs: once in 20 runs more than 7 s; scheduled
    // probes double the estimate about once a second, see probe.rs).
    let (layers, n) = window(19.0, 22.0);
    assert_eq!(layers, vec![2], "high layer within 9 s of 1.5 Mbit/s");
    assert!(n >= 300, "{n} packets in 3 s");
    // After the cut it goes down within 4 s (measured: 2-3.5 s; the last step waits for a keyframe of the low
    // layer) to the low layer, or paused while the estimate recovers ...
    let (layers, _) = window(26.0, 27.0);
    assert!(layers.is_empty() || layers == vec![0], "down within 4 s of the cut: {layers:?}");
    // ... and then the low layer flows again.
    let (layers, n) = window(36.0, 40.0);
    assert_eq!(layers, vec![0]);
    assert!(n >= 100, "{n} packets in 4 s");
    // Every switch the subscriber saw started with a keyframe.
    let switches = assert_switches_on_keyframes(r);
    assert!(switches >= 2, "switched up and down ({switches} switches)");
    // One continuous stream: in the steady phases every sequence number arrives (NACK repairs what the queue
    // dropped).
    for (from, to) in [(4.0, 10.0), (16.0, 22.0), (36.0, 40.0)] {
        let (span, missing) = window_loss(r, w.at(secs(from)), w.at(secs(to)));
        assert!(missing * 100 <= span, "{from}-{to} s: {missing} of {span} missing");
    }
}


#[test]
fn retransmissions_repair_a_lossy_subscriber_leg() {
    // Residual loss measured: 0 % at 5 % loss; 4-6.5 % at 20 % (about 0.2²: str0m's receiver, the simulated
    // client, NACKs a missing packet once, so a lost retransmission stays lost; Chrome retries).
    for (loss, max_residual_pct) in [(0.05, 0.5), (0.20, 8.0)] {
        let mut w = World::new(77);
        w.join("alice", ROOM);
        w.join("bob", ROOM);
        let bob_addr = w.client("bob").sub_addr;
        w.net.set_loss_to(bob_addr, loss);
        w.run_until(w.at(secs(10.0)));
        let r = video_from(&w, "bob", "alice");
        let (span, missing) = window_loss(r, w.at(secs(2.0)), w.at(secs(9.0)));
        let residual = missing as f64 * 100.0 / span as f64;
        eprintln!("{:.0} % loss on the subscriber leg: {missing} of {span} video packets never arrived ({residual:.2} %)", loss * 100.0);
        assert!(residual <= max_residual_pct, "residual loss {residual:.2} % > {max_residual_pct} % at {loss}");
        // Without retransmission the residual would be the link's loss.
        assert!(residual <= loss * 100.0 / 2.0, "retransmission at least halves the loss");
        // The retransmissions are counted (for /metrics): at least one per NACKed packet that was repaired.
        let stats = w.shard.stats();
        eprintln!("retransmissions sent: {}, NACKs received: {}", stats.rtx_sent, stats.nacks_received);
        assert!(stats.rtx_sent > 0 && stats.nacks_received > 0, "rtx {} nacks {}", stats.rtx_sent, stats.nacks_received);
        let sid = w.id_of("alice").to_string();
        let audio = w.client("bob").from_publisher(&sid, MediaKind::Audio)[0];
        let sent = w.client("alice").senders[0].sent as f64;
        // Opus is not retransmitted: it arrives at about the link's rate.
        assert!(audio.seqs.len() as f64 >= sent * (1.0 - loss) * 0.85);
    }
}

fn dominant_at(w: &World, who: &str, t: Instant) -> Option<String> {
    let id = w.id_of(who);
    w.log
        .iter()
        .filter(|(at, i, _)| *i == id && *at <= t)
        .filter_map(|(_, _, e)| match e {
            SfuEvent::Speakers { dominant, .. } => Some(dominant.map(|d| d.to_string())),
            _ => None,
        })
        .next_back()
        .flatten()
}

#[test]
fn dominant_speaker_follows_sustained_speech_and_ignores_a_cough() {
    let mut w = World::new(5);
    for n in ["alice", "bob", "carol"] {
        w.join(n, ROOM);
    }
    let (alice, bob) = (w.id_of("alice").to_string(), w.id_of("bob").to_string());
    w.client_mut("alice").set_level(-20);
    w.run_until(w.at(secs(3.0)));
    assert_eq!(dominant_at(&w, "carol", w.now).as_deref(), Some(alice.as_str()));
    w.client_mut("alice").set_level(-127);
    w.client_mut("bob").set_level(-22);
    // Bob takes over after the hysteresis, not at once.
    w.run_until(w.at(secs(3.4)));
    assert_eq!(dominant_at(&w, "carol", w.now).as_deref(), Some(alice.as_str()));
    w.run_until(w.at(secs(6.0)));
    assert_eq!(dominant_at(&w, "carol", w.now).as_deref(), Some(bob.as_str()));
    // Alice coughs for 300 ms while bob pauses: no change.
    w.client_mut("bob").set_level(-127);
    w.client_mut("alice").set_level(-5);
    w.run_until(w.at(secs(6.3)));
    w.client_mut("alice").set_level(-127);
    w.run_until(w.at(secs(9.0)));
    assert_eq!(dominant_at(&w, "carol", w.now).as_deref(), Some(bob.as_str()));
    assert_eq!(dominant_at(&w, "alice", w.now).as_deref(), Some(bob.as_str()), "everyone in the room is told");
}

/// Alice publishes simulcast, bob shows her in a small tile; after 10 s only her low layer is sent (checked).
/// Returns the world, alice, bob and alice's video track id.
fn small_tile_world() -> (World, plenum_sfu::ParticipantId, plenum_sfu::ParticipantId, String) {
    let mut w = World::new(13);
    w.join_with("alice", ROOM, true);
    w.join("bob", ROOM);
    w.run_until(w.at(secs(1.0)));
    let (alice, bob) = (w.id_of("alice"), w.id_of("bob"));
    let track_id = w.client("alice").senders[1].mid_string();
    w.command(bob, ParticipantCommand::SetVideoSize { publisher: alice, track_id: track_id.clone(), width: 320, height: 180 });
    w.run_until(w.at(secs(9.0)));
    let sent_h = |w: &World| w.client("alice").senders[1].layers[2].sent;
    let h_before = sent_h(&w);
    w.run_until(w.at(secs(10.0)));
    assert_eq!(sent_h(&w), h_before, "the publisher stopped sending h");
    let (layers, n) = layers_between(video_from(&w, "bob", "alice"), w.at(secs(5.0)), w.at(secs(10.0)));
    assert_eq!(layers, vec![0]);
    assert!(n > 100);
    (w, alice, bob, track_id)
}

/// Every `PublisherLayers` request alice got, in order.
fn layer_requests(w: &World, alice: plenum_sfu::ParticipantId) -> Vec<Vec<(String, bool)>> {
    w.log
        .iter()
        .filter_map(|(_, id, e)| match e {
            SfuEvent::PublisherLayers { active, .. } if *id == alice => Some(active.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn layers_nobody_wants_are_paused_at_the_publisher() {
    let (w, alice, _, _) = small_tile_world();
    let expected = vec![("l".to_string(), true), ("m".to_string(), false), ("h".to_string(), false)];
    assert_eq!(layer_requests(&w, alice).last(), Some(&expected), "m and h are paused at the publisher");
}

#[test]
fn paused_layers_are_resumed_when_a_tile_grows() {
    let (mut w, alice, bob, track_id) = small_tile_world();
    // Bob enlarges the tile: h comes back and is forwarded.
    w.command(bob, ParticipantCommand::SetVideoSize { publisher: alice, track_id, width: 1280, height: 720 });
    // The estimate has to grow from what the low layer needs to what the high layer needs: scheduled probes
    // (`probe.rs`) take a few seconds (how many depends on the run: str0m's randomness changes packet sizes and
    // timing).
    let mut resumed_at = None;
    for i in 1..=10 {
        w.run_until(w.at(secs(10.0 + i as f64)));
        let h_on = layer_requests(&w, alice).last().is_some_and(|l| l[2] == ("h".to_string(), true));
        if h_on && video_from(&w, "bob", "alice").layer_at(w.now) == Some(2) {
            resumed_at = Some(i);
            break;
        }
    }
    let after = resumed_at.expect("h resumed at the publisher and forwarded to bob within 10 s");
    eprintln!("h back at bob {after} s after the tile grew");
    let t = w.now;
    w.run_until(t + secs(1.0));
    let (layers, n) = layers_between(video_from(&w, "bob", "alice"), t, w.now);
    assert_eq!(layers, vec![2], "bob keeps the high layer");
    assert!(n > 60, "and it flows: {n} packets in a second");
    assert_switches_on_keyframes(video_from(&w, "bob", "alice"));
}

#[test]
fn a_hidden_tile_receives_no_video() {
    let mut w = World::new(17);
    w.join_with("alice", ROOM, true);
    w.join("bob", ROOM);
    w.run_until(w.at(secs(2.0)));
    let (alice, bob) = (w.id_of("alice"), w.id_of("bob"));
    let track_id = w.client("alice").senders[1].mid_string();
    w.command(bob, ParticipantCommand::SetVideoSize { publisher: alice, track_id, width: 0, height: 0 });
    w.run_until(w.at(secs(2.5)));
    let before = video_from(&w, "bob", "alice").seqs.len();
    w.run_until(w.at(secs(5.0)));
    assert_eq!(video_from(&w, "bob", "alice").seqs.len(), before, "nothing is sent for a hidden tile");
    // And it is not reported as paused for bandwidth.
    assert!(!w.log.iter().any(|(_, id, e)| *id == bob && matches!(e, SfuEvent::VideoPaused { paused: true, .. })));
}


/// Frames per second that arrived between `from` and `to` (fresh frame starts, with temporal layers), and the
/// highest temporal layer among them.
fn frame_rate(r: &Received, from: Instant, to: Instant) -> (f64, u8) {
    let frames: Vec<&(Instant, u16, u8)> = r.frames.iter().filter(|(at, _, _)| *at >= from && *at <= to).collect();
    let top = frames.iter().map(|f| f.2).max().unwrap_or(0);
    (frames.len() as f64 / (to - from).as_secs_f64(), top)
}

/// A subscriber link too slow for the lowest layer at full frame rate: with VP8 temporal layers the video keeps
/// flowing at a lower frame rate (TL0, or TL0+TL1); the same publisher without temporal layers is paused.
/// Measured (seed 41, 150 kbit/s, 3 runs): the join's first burst congests the link and the video pauses from 3
/// to 6 s or drops to 8 frames/s (the receiver reports' loss caps the budget, see `delivery.rs`), then 7-16
/// frames/s from 9 s on; without temporal layers paused, with at most one resume tried for about 2 s.
#[test]
fn a_slow_link_gets_fewer_frames_instead_of_a_paused_video() {
    let run = |temporal: bool| {
        let mut w = World::new(41);
        w.join_opts("alice", ROOM, true, temporal);
        w.join("bob", ROOM);
        let bob_addr = w.client("bob").sub_addr;
        // Audio (≈ 55 kbit/s on the wire) plus the low layer at 30 frames/s (≈ 160 kbit/s) do not fit.
        w.net.set_rate(bob_addr, Some(150_000));
        w.run_until(w.at(secs(20.0)));
        w
    };
    // Bob's `video_paused` notices after `from`, and whether the last one says paused.
    let paused = |w: &World, from: f64| {
        let bob = w.id_of("bob");
        let notices: Vec<bool> = w
            .log
            .iter()
            .filter(|(at, id, _)| *id == bob && *at >= w.at(secs(from)))
            .filter_map(|(_, _, e)| match e {
                SfuEvent::VideoPaused { paused, .. } => Some(*paused),
                _ => None,
            })
            .collect();
        (notices.iter().filter(|p| **p).count(), w.log.iter().rev().find_map(|(_, id, e)| match e {
            SfuEvent::VideoPaused { paused, .. } if *id == bob => Some(*paused),
            _ => None,
        }) == Some(true))
    };
    let w = run(true);
    let r = video_from(&w, "bob", "alice");
    // Every second some frames; mostly a quarter or half of the rate. Now and then the budget's ceiling has
    // grown enough to try the full rate for a moment (measured: up to 22 frames/s in one second).
    let mut rates = Vec::new();
    let mut full = 0;
    for s in 10..20 {
        let (fps, top) = frame_rate(r, w.at(secs(s as f64)), w.at(secs(s as f64 + 1.0)));
        assert!(fps >= 4.0, "{s} s: {fps} frames/s, the video keeps playing");
        rates.push(fps);
        full += usize::from(top == 2);
    }
    rates.sort_by(f64::total_cmp);
    assert!(rates[5] <= 16.0, "median {} frames/s: a quarter or half of 30 ({rates:?})", rates[5]);
    assert!(full <= 3, "TL2 is left out most of the time: in {full} of 10 s");
    let (layers, _) = layers_between(r, w.at(secs(10.0)), w.at(secs(20.0)));
    assert_eq!(layers, vec![0], "the low layer");
    assert_eq!(paused(&w, 10.0), (0, false), "not paused with temporal layers");
    // One continuous stream: consecutive sequence numbers and PictureIDs although three of four frames (or
    // every other one) are left out.
    let (span, missing) = window_loss(r, w.at(secs(10.0)), w.at(secs(20.0)));
    assert!(missing * 100 <= span, "{missing} of {span} sequence numbers missing");
    let mut pics: Vec<u16> = r.frames.iter().filter(|(at, _, _)| *at >= w.at(secs(10.0))).map(|f| f.1).collect();
    pics.sort();
    pics.dedup();
    let gaps = pics.windows(2).filter(|p| p[1] != p[0] + 1).count();
    assert!(gaps * 100 <= pics.len(), "PictureIDs continuous: {gaps} gaps in {} frames", pics.len());
    // Without temporal layers the same link pauses the video (a resume may be tried when the budget has grown:
    // measured one try of 2 s).
    let w = run(false);
    let (_, n) = layers_between(video_from(&w, "bob", "alice"), w.at(secs(8.0)), w.at(secs(20.0)));
    assert!(n <= 80, "paused without temporal layers most of the time: {n} packets in 12 s (360 at full rate)");
    assert!(paused(&w, 0.0).1, "and bob was told");
}

/// A subscriber that received the high layer drops to a link too slow even for audio plus the lowest layer at a
/// quarter of its frame rate (the e2e test's 70 kbit/s step): the video must not stall. It pauses (and the
/// subscriber is told); a resume may be tried now and then (with growing back-off; measured: paused 14-15 of the
/// 16 s observed); what must not happen is a
/// link kept full by a layer that does not fit, with nothing decodable arriving and no pause notice (Chromium
/// showed 1280 px at 0 frames/s there; before the fix the simulation took 13 s to pause, through every layer).
#[test]
fn a_link_too_slow_for_any_layer_pauses_the_video_instead_of_stalling_it() {
    for seed in [51, 52, 53] {
        let mut w = World::new(seed);
        w.join_opts("alice", ROOM, true, true);
        w.join("bob", ROOM);
        let bob = w.id_of("bob");
        let bob_addr = w.client("bob").sub_addr;
        w.run_until(w.at(secs(10.0)));
        let r = video_from(&w, "bob", "alice");
        let (layers, _) = layers_between(r, w.at(secs(8.0)), w.at(secs(10.0)));
        assert_eq!(layers, vec![2], "seed {seed}: high layer before the cut");
        w.net.set_rate(bob_addr, Some(70_000));
        w.run_until(w.at(secs(20.0)));
        let sid = w.id_of("alice").to_string();
        let audio_at = |w: &World| w.client("bob").from_publisher(&sid, MediaKind::Audio)[0].seqs.len();
        let audio_before = audio_at(&w);
        w.run_until(w.at(secs(30.0)));
        let audio_after = audio_at(&w);
        let r = video_from(&w, "bob", "alice");
        // Per second from 14 to 30 s: paused (by the last notice before the second ends) or how many frames.
        let mut paused_secs = 0;
        let mut stalled_run = 0;
        let mut longest_stall = 0;
        for s in 14..30 {
            let end = w.at(secs(s as f64 + 1.0));
            let paused = w.log.iter().rev().filter(|(at, _, _)| *at < end).find_map(|(_, id, e)| match e {
                SfuEvent::VideoPaused { paused, .. } if *id == bob => Some(*paused),
                _ => None,
            }) == Some(true);
            let (fps, _) = frame_rate(r, w.at(secs(s as f64)), end);
            if paused {
                paused_secs += 1;
            }
            // Stalled: not paused (the tile would show a frozen picture without the hint) and hardly any frames.
            stalled_run = if !paused && fps < 2.0 { stalled_run + 1 } else { 0 };
            longest_stall = longest_stall.max(stalled_run);
        }
        let (layers, _) = layers_between(r, w.at(secs(14.0)), w.at(secs(30.0)));
        eprintln!("seed {seed}: paused {paused_secs} of 16 s, longest stall {longest_stall} s, layers {layers:?}");
        assert!(longest_stall <= 2, "seed {seed}: stalled for {longest_stall} s without a pause notice");
        assert!(
            paused_secs >= 10,
            "seed {seed}: paused {paused_secs} of 16 s (resumes are tried with growing back-off)"
        );
        // (A resume, when tried, may come at the middle layer: the estimate restarted after the heavy loss probes
        // upwards; it pauses again within a second or two.)
        // Audio keeps arriving (50 packets/s). The simulated audio takes ≈ 56 of the 70 kbit/s on the wire, and
        // the SFU's padding and probes (it looks for room to resume the video) share the link: measured 70-76 %
        // of the packets arrive while the video is paused.
        let late = audio_after - audio_before;
        assert!(late >= 300, "seed {seed}: audio flows: {late} packets in 10 s");
    }
}

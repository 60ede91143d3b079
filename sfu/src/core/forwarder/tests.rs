use super::*;
use std::time::Duration;

fn send(f: &mut Forwarder, seq: u64, ts: u32, now: Instant) -> (u64, u32) {
    match f.forward(seq, ts, now) {
        Forwarded::Send { seq, ts } => (seq, ts),
        Forwarded::Drop => panic!("packet {seq} dropped"),
    }
}

#[test]
fn continuous_from_initial_values() {
    let t0 = Instant::now();
    let mut f = Forwarder::new(90_000, 1000, 5000);
    assert!(!f.started());
    for i in 0..100u64 {
        let (seq, ts) = send(&mut f, 40_000 + i, 123_456 + (i as u32 / 3) * 3000, t0);
        assert_eq!(seq, 1000 + i);
        assert_eq!(ts, 5000 + (i as u32 / 3) * 3000);
    }
    assert!(f.started());
}

#[test]
fn sequence_and_timestamp_wrap_around() {
    let t0 = Instant::now();
    // Incoming extended seq crosses 65_535 -> 65_536; incoming ts wraps u32.
    let mut f = Forwarder::new(48_000, 65_530, u32::MAX - 1000);
    let mut out = vec![];
    for i in 0..20u64 {
        let in_ts = (u32::MAX - 4800).wrapping_add(960 * i as u32);
        out.push(send(&mut f, 65_530 + i, in_ts, t0));
    }
    for w in out.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "extended seq continuous across 16-bit rollover");
        assert_eq!(w[1].1.wrapping_sub(w[0].1), 960, "timestamp steps across 32-bit wrap");
    }
    assert!(out.last().unwrap().0 > 65_535);
    assert!(out.last().unwrap().1 < out[0].1, "timestamp wrapped");
}

#[test]
fn reordered_and_retransmitted_packets_keep_their_mapping() {
    let t0 = Instant::now();
    let mut f = Forwarder::new(90_000, 10, 0);
    let a = send(&mut f, 500, 0, t0);
    let c = send(&mut f, 502, 3000, t0);
    let b = send(&mut f, 501, 0, t0); // late
    assert_eq!((a.0, b.0, c.0), (10, 11, 12));
    assert_eq!(send(&mut f, 501, 0, t0).0, 11); // retransmission
}

#[test]
fn skipped_packets_leave_no_gap() {
    let t0 = Instant::now();
    let mut f = Forwarder::new(90_000, 100, 0);
    assert_eq!(send(&mut f, 10, 0, t0).0, 100);
    assert_eq!(send(&mut f, 11, 0, t0).0, 101);
    f.skip(12);
    f.skip(13);
    assert_eq!(send(&mut f, 14, 0, t0).0, 102);
    assert_eq!(send(&mut f, 15, 0, t0).0, 103);
    // Skipped packets never get a slot, even when retransmitted.
    assert_eq!(f.forward(12, 0, t0), Forwarded::Drop);
    assert_eq!(f.forward(13, 0, t0), Forwarded::Drop);
    // A packet from before the skips still maps with the old offset.
    assert_eq!(send(&mut f, 11, 0, t0).0, 101);
}

#[test]
fn skip_across_a_loss_keeps_the_lost_slot_for_the_late_packet() {
    let t0 = Instant::now();
    let mut f = Forwarder::new(90_000, 0, 0);
    assert_eq!(send(&mut f, 9, 0, t0).0, 0);
    // 10 is lost upstream (for now), 11 is skipped on purpose.
    f.skip(11);
    assert_eq!(send(&mut f, 12, 0, t0).0, 2);
    // 10 arrives late (a NACK retransmission) and fills slot 1.
    assert_eq!(send(&mut f, 10, 0, t0).0, 1);
}

#[test]
fn source_switch_continues_sequence_and_advances_timestamp_by_wall_clock() {
    let t0 = Instant::now();
    let mut f = Forwarder::new(90_000, 0, 1_000);
    let (s1, ts1) = send(&mut f, 7_000, 50, t0);
    let (s2, ts2) = send(&mut f, 7_001, 3_050, t0 + Duration::from_millis(33));
    assert_eq!((s1, ts1, s2, ts2), (0, 1_000, 1, 4_000));
    f.switch_source();
    // The new source has unrelated numbers; 100 ms later.
    let (s3, ts3) = send(&mut f, 60, 999_999, t0 + Duration::from_millis(133));
    assert_eq!(s3, 2);
    assert_eq!(ts3, 4_000 + 9_000);
    let (s4, ts4) = send(&mut f, 61, 999_999 + 3000, t0 + Duration::from_millis(166));
    assert_eq!((s4, ts4), (3, 16_000));
    // A packet of the new source from before the switch point is dropped. (Packets of the old source are the
    // caller's to filter: only it knows which SSRC is current.)
    assert_eq!(f.forward(59, 999_999 - 3000, t0 + Duration::from_millis(170)), Forwarded::Drop);
}

#[test]
fn switch_with_no_elapsed_time_still_moves_timestamp_forward() {
    let t0 = Instant::now();
    let mut f = Forwarder::new(48_000, 0, 0);
    send(&mut f, 1, 0, t0);
    f.switch_source();
    let (s, ts) = send(&mut f, 900, 77, t0);
    assert_eq!(s, 1);
    assert!(ts >= 1);
}

#[test]
fn history_overflow_drops_very_old_packets() {
    let t0 = Instant::now();
    let mut f = Forwarder::new(90_000, 0, 0);
    send(&mut f, 0, 0, t0);
    let mut seq = 1;
    for _ in 0..(HISTORY + 5) {
        f.skip(seq);
        seq += 1;
        send(&mut f, seq, 0, t0);
        seq += 1;
    }
    // Packet 0 predates everything remembered.
    assert_eq!(f.forward(0, 0, t0), Forwarded::Drop);
    // Recent ones still map.
    assert!(matches!(f.forward(seq - 1, 0, t0), Forwarded::Send { .. }));
}

//! `bench-forward` at small size: the real SFU and the naive forwarder both run and the result is complete.
//! No timing assertions: the figures are only checked to exist. 100 packets/s of 1200 bytes (~1 Mbit/s) stay
//! under the SFU's initial bandwidth estimate (1.5 Mbit/s), so its allocator never pauses the stream here.

use plenum_loadtest::bench::{BenchConfig, bench_forward};

#[test]
#[ignore = "a benchmark run: run alone by the load-test step of scripts/test.sh (cargo test -- --ignored)"]
fn bench_forward_small_produces_a_complete_result() {
    let r = bench_forward(BenchConfig { fanout: 5, seconds: 3.0, rate: 100, payload: 1200, initial_estimate_bps: None, burst: 4 }).expect("bench runs");
    let v = serde_json::to_value(&r).unwrap();
    for key in ["fanout", "sfu_ns_per_packet", "naive_ns_per_packet", "ratio", "sfu_bwe", "warmup_s", "sfu_user_ns_per_packet", "sfu_sys_ns_per_packet", "naive_sys_ns_per_packet", "sfu_initial_estimate_bps"] {
        assert!(!v[key].is_null(), "{key} present");
    }
    assert_eq!(r.fanout, 5);
    assert!(r.sfu_forwarded > 0 && r.sfu_received_by_subscribers > 0, "the SFU forwarded to real subscribers");
    assert!(r.naive_forwarded > 0);
    assert!(r.sfu_bwe, "the SFU ran congestion control (its per-subscriber estimates were reported)");
    for x in [r.sfu_ns_per_packet, r.naive_ns_per_packet, r.ratio] {
        assert!(x.is_finite() && x > 0.0, "{x}");
    }
}

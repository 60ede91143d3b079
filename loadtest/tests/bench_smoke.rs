//! `bench-forward` at small size: the real SFU and the naive forwarder both run and the result is complete.
//! No timing assertions: the figures are only checked to exist.

use plenum_loadtest::bench::{BenchConfig, bench_forward};

#[test]
#[ignore = "a benchmark run: run alone by the load-test step of scripts/test.sh (cargo test -- --ignored)"]
fn bench_forward_small_produces_a_complete_result() {
    let r = bench_forward(BenchConfig { fanout: 5, seconds: 3.0, rate: 500, payload: 1200 }).expect("bench runs");
    let v = serde_json::to_value(&r).unwrap();
    for key in ["fanout", "sfu_ns_per_packet", "naive_ns_per_packet", "ratio", "sfu_bwe"] {
        assert!(!v[key].is_null(), "{key} present");
    }
    assert_eq!(r.fanout, 5);
    assert!(!r.sfu_bwe);
    assert!(r.sfu_forwarded > 0 && r.sfu_received_by_subscribers > 0, "the SFU forwarded to real subscribers");
    assert!(r.naive_forwarded > 0);
    for x in [r.sfu_ns_per_packet, r.naive_ns_per_packet, r.ratio] {
        assert!(x.is_finite() && x > 0.0, "{x}");
    }
}

//! Criterion benchmarks of the SFU's building blocks: per packet, the Forwarder (seq/timestamp rewriting of one
//! DownTrack) and the DatagramIndex (which connection a datagram belongs to); per subscriber and allocation
//! round, the Allocator (which layer of every video fits the subscriber's estimate).
//! Run: `cargo bench -p plenum-loadtest --bench forwarding`.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use plenum_sfu::core::allocator::{Choice, Decision, Demand, Priority, allocate};
use plenum_sfu::core::layers::Rates;
use plenum_sfu::core::forwarder::Forwarder;
use plenum_sfu::core::index::{ConnKey, DatagramIndex};
use plenum_sfu::core::types::Transport;
use plenum_sfu::{ParticipantId, PcTarget};

fn forwarder(c: &mut Criterion) {
    let now = Instant::now();
    let mut g = c.benchmark_group("forwarder");
    g.bench_function("in_order", |b| {
        let mut f = Forwarder::new(90_000, 1000, 0);
        let mut seq = 10_000u64;
        b.iter(|| {
            seq += 1;
            black_box(f.forward(black_box(seq), (seq * 3000) as u32, now))
        })
    });
    g.bench_function("in_order_with_a_skip_every_16", |b| {
        let mut f = Forwarder::new(90_000, 1000, 0);
        let mut seq = 10_000u64;
        b.iter(|| {
            seq += 1;
            if seq.is_multiple_of(16) {
                f.skip(seq);
                seq += 1;
            }
            black_box(f.forward(black_box(seq), (seq * 3000) as u32, now))
        })
    });
    g.bench_function("reordered_within_history", |b| {
        let mut f = Forwarder::new(90_000, 1000, 0);
        for s in 10_000..10_200u64 {
            if s % 10 == 0 {
                f.skip(s);
            } else {
                f.forward(s, 0, now);
            }
        }
        let mut k = 0u64;
        b.iter(|| {
            k = (k + 7) % 150;
            black_box(f.forward(black_box(10_040 + k), 0, now))
        })
    });
    g.bench_function("source_switch", |b| {
        let mut f = Forwarder::new(90_000, 1000, 0);
        let mut seq = 10_000u64;
        let mut t = now;
        b.iter(|| {
            seq += 1000;
            t += Duration::from_millis(33);
            f.switch_source();
            black_box(f.forward(black_box(seq), 0, t))
        })
    });
    g.finish();
}

/// A STUN binding request with USERNAME `user` (what an ICE connectivity check starts with).
fn binding_request(user: &str) -> Vec<u8> {
    let mut attr = vec![0x00, 0x06];
    attr.extend_from_slice(&(user.len() as u16).to_be_bytes());
    attr.extend_from_slice(user.as_bytes());
    while attr.len() % 4 != 0 {
        attr.push(0);
    }
    let mut m = vec![0x00, 0x01];
    m.extend_from_slice(&(attr.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
    m.extend_from_slice(&[7; 12]);
    m.extend_from_slice(&attr);
    m
}

fn index(c: &mut Criterion) {
    let local: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    let mut ix = DatagramIndex::new();
    let n = 500u16;
    for p in 0..n {
        let key = ConnKey { participant: ParticipantId(p as u64), target: PcTarget::Subscriber };
        ix.insert_ufrag(&format!("uf{p:05}"), key);
        let src = SocketAddr::from(([127, 0, 0, 1], 20_000 + p));
        ix.route(Transport::Udp, src, local, &binding_request(&format!("uf{p:05}:remote")));
    }
    let rtp = [0x80u8, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    let mut g = c.benchmark_group("datagram_index");
    g.bench_function("known_tuple_500_connections", |b| {
        let mut p = 0u16;
        b.iter(|| {
            p = (p + 1) % n;
            black_box(ix.route(Transport::Udp, SocketAddr::from(([127, 0, 0, 1], 20_000 + p)), local, black_box(&rtp)))
        })
    });
    let unknown_src = SocketAddr::from(([127, 0, 0, 2], 9));
    g.bench_function("unknown_source_not_stun", |b| b.iter(|| black_box(ix.route(Transport::Udp, unknown_src, local, black_box(&rtp)))));
    let stun = binding_request("nobody:remote");
    g.bench_function("unknown_source_stun_unknown_ufrag", |b| {
        b.iter(|| black_box(ix.route(Transport::Udp, unknown_src, local, black_box(&stun))))
    });
    g.finish();
}

/// The videos one subscriber of a room of `n + 1` sees: one speaker, the rest cameras in simulcast (l/m/h at
/// 150k/500k/1.5M, each with Chrome's three VP8 temporal layers), tile wishes mixed like a gallery (a third large, a third small, a third off-screen), and
/// what it received in the previous round.
fn room_demands(n: usize) -> Vec<Demand> {
    (0..n)
        .map(|i| Demand {
            priority: if i == 0 { Priority::Speaker } else { Priority::Other },
            layers: [Some(Rates::split(150_000, 3)), Some(Rates::split(500_000, 3)), Some(Rates::split(1_500_000, 3))],
            max_layer: match i % 3 {
                0 => Some(2),
                1 => Some(0),
                _ => None,
            },
            current: if i % 3 == 2 { None } else { Some(Choice::full((i % 2) as u8)) },
        })
        .collect()
}

fn allocator(c: &mut Criterion) {
    let mut g = c.benchmark_group("allocator");
    let (mut order, mut out) = (Vec::new(), Vec::new());
    for (name, videos, budget) in [
        // Everything fits: every wish granted.
        ("9_videos_plenty", 9, 20_000_000u64),
        // A 10-person meeting on a 1.5 Mbit/s estimate: some videos pause.
        ("9_videos_constrained", 9, 1_500_000),
        // A 50-person gallery at 5 Mbit/s.
        ("49_videos_constrained", 49, 5_000_000),
        // A 150-person room (the design's upper meeting size).
        ("149_videos_constrained", 149, 5_000_000),
    ] {
        let demands = room_demands(videos);
        g.bench_function(name, |b| {
            b.iter(|| black_box(allocate(black_box(budget), 64_000, black_box(&demands), &mut order, &mut out)))
        });
        assert!(out.iter().any(|d| matches!(d, Decision::Layer(_))), "{name}: something is forwarded");
    }
    g.finish();
}

criterion_group!(benches, forwarder, index, allocator);
criterion_main!(benches);

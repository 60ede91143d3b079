//! A DTLS client whose last flight (Certificate … Finished) is lost still connects when the server repeats its own
//! flight before the client's retransmission timer is due (seen with `--loss-pct --delay-ms --jitter-ms`).
//!
//! Two [`Peer`]s on a scripted in-memory link in virtual time: no sockets, no randomness, no timing assertions.
//! The answerer is the DTLS client (as against the SFU). Its first flight 5 is dropped, and the server's first
//! flight 4 takes 30 ms but its repeat only 10 ms (jitter), so the repeat reaches the client before the client's
//! 1-s retransmission timer. webrtc-rs `rtc` 0.21 disarms that timer on any handshake datagram, even one that brings
//! nothing new, and does not answer the repeat either: without [`Peer`]'s filter the client waited forever.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use plenum_loadtest::peer::{Peer, PeerEvent};

/// A DTLS datagram (RFC 7983) whose records include a handshake message of type `typ` (epoch 0) or, for
/// `typ == None`, any epoch-1 record.
fn has_record(d: &[u8], typ: Option<u8>) -> bool {
    if d.is_empty() || !(20..=63).contains(&d[0]) {
        return false;
    }
    let mut i = 0;
    while i + 13 <= d.len() {
        let epoch = u16::from_be_bytes([d[i + 3], d[i + 4]]);
        let len = u16::from_be_bytes([d[i + 11], d[i + 12]]) as usize;
        match typ {
            Some(t) if d[i] == 22 && epoch == 0 && d.get(i + 13) == Some(&t) => return true,
            None if epoch == 1 => return true,
            _ => {}
        }
        i += 13 + len;
    }
    false
}

struct Node {
    peer: Peer,
    /// Datagrams on their way to this node: (arrival, from, bytes).
    inbox: VecDeque<(Instant, SocketAddr, Vec<u8>)>,
}

#[test]
fn client_recovers_its_lost_last_flight_when_the_server_repeats_first() {
    let t0 = Instant::now();
    let a_addr: SocketAddr = "127.0.0.1:41001".parse().unwrap();
    let b_addr: SocketAddr = "127.0.0.1:41002".parse().unwrap();
    let mut a = Peer::new(a_addr, t0).unwrap();
    a.add_send_track("a", false, 0x1000).unwrap();
    let offer = a.create_offer(t0).unwrap();
    let mut b = Peer::new(b_addr, t0).unwrap();
    let answer = b.accept_offer(t0, offer).unwrap();
    a.accept_answer(t0, answer).unwrap();
    // nodes[0] = offerer (DTLS server), nodes[1] = answerer (DTLS client).
    let mut nodes = [Node { peer: a, inbox: VecDeque::new() }, Node { peer: b, inbox: VecDeque::new() }];
    let addrs = [a_addr, b_addr];

    let mut dropped_client_flight5 = 0;
    let mut server_hellos = 0;
    let mut out: Vec<(SocketAddr, BytesMut)> = Vec::new();
    let mut events = Vec::new();
    let step = Duration::from_millis(1);
    let mut now = t0;
    while now < t0 + Duration::from_secs(15) && !(nodes[0].peer.connected && nodes[1].peer.connected) {
        for k in 0..2 {
            let n = &mut nodes[k];
            // As `PeerIo::service`: due input first, then due timers, then drain.
            while n.inbox.front().is_some_and(|(at, _, _)| *at <= now) {
                let (_, from, d) = n.inbox.pop_front().unwrap();
                n.peer.handle_datagram(now, from, &d);
            }
            if n.peer.deadline <= now {
                n.peer.handle_timeout(now);
            }
            n.peer.drain(&mut out, &mut events);
            assert!(!events.iter().any(|e| matches!(e, PeerEvent::Failed)), "peer {k} failed");
            events.clear();
            for (dst, d) in out.drain(..) {
                let to = addrs.iter().position(|a| *a == dst).expect("sent to the other peer");
                let mut delay = Duration::from_millis(10);
                if k == 1 && dropped_client_flight5 == 0 && (has_record(&d, Some(16)) || has_record(&d, None)) {
                    // The client's first ClientKeyExchange/Finished: lost.
                    dropped_client_flight5 += 1;
                    continue;
                }
                if k == 0 && has_record(&d, Some(2)) {
                    server_hellos += 1;
                    if server_hellos == 1 {
                        delay = Duration::from_millis(30);
                    }
                }
                nodes[to].inbox.push_back((now + delay, addrs[k], d.to_vec()));
            }
        }
        now += step;
    }
    assert_eq!(dropped_client_flight5, 1, "the scenario dropped the client's flight 5");
    assert!(server_hellos >= 2, "the server repeated its flight 4 ({server_hellos})");
    assert!(nodes[1].peer.handshake_repeats_dropped >= 1, "the client was given no repeated flight 4");
    assert!(nodes[1].peer.connected, "client connected (ICE {}, pc {})", nodes[1].peer.ice_state, nodes[1].peer.pc_state);
    assert!(nodes[0].peer.connected, "server connected (ICE {}, pc {})", nodes[0].peer.ice_state, nodes[0].peer.pc_state);
}

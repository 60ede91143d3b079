use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use super::*;

fn sock() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

/// Everything a plain socket receives until it has `n` datagrams.
fn recv_n(s: &UdpSocket, n: usize) -> Vec<Vec<u8>> {
    let mut buf = [0u8; 70_000];
    (0..n)
        .map(|_| {
            let (len, _) = s.recv_from(&mut buf).expect("datagram expected");
            buf[..len].to_vec()
        })
        .collect()
}

fn datagram(dest: u8, seq: u16, len: usize) -> Vec<u8> {
    let mut d = vec![dest; len];
    d[..2].copy_from_slice(&seq.to_be_bytes());
    d
}

#[test]
fn interleaved_destinations_arrive_complete_and_in_order() {
    let from = sock();
    let sinks: Vec<UdpSocket> = (0..3).map(|_| sock()).collect();
    let addrs: Vec<SocketAddr> = sinks.iter().map(|s| s.local_addr().unwrap()).collect();
    let rx = RxBatch::new(&from).unwrap();
    let mut tx = TxBatch::new(&from, rx.max_gso_segments());
    // Like a fan-out: packet 0 to everyone, packet 1 to everyone, ...; the last packet of each is shorter.
    for seq in 0..20u16 {
        for (d, a) in addrs.iter().enumerate() {
            let len = if seq == 19 { 300 } else { 1200 };
            tx.transmit(*a, &datagram(d as u8, seq, len));
        }
    }
    assert!(!tx.is_empty());
    tx.flush();
    assert!(tx.is_empty());
    assert_eq!(tx.errors, 0);
    assert_eq!(tx.sent, 60);
    // With GSO one message per destination, else 60 datagrams in one sendmmsg.
    assert_eq!(tx.syscalls, 1);
    for (d, s) in sinks.iter().enumerate() {
        let got = recv_n(s, 20);
        for (seq, g) in got.iter().enumerate() {
            assert_eq!(g, &datagram(d as u8, seq as u16, if seq == 19 { 300 } else { 1200 }));
        }
    }
}

#[test]
fn a_short_datagram_ends_a_gso_message_and_the_next_starts_a_new_one() {
    let from = sock();
    let sink = sock();
    let a = sink.local_addr().unwrap();
    let rx = RxBatch::new(&from).unwrap();
    let mut tx = TxBatch::new(&from, rx.max_gso_segments());
    let sizes = [1000, 1000, 200, 1000, 1200, 1200, 50];
    for (i, len) in sizes.iter().enumerate() {
        tx.transmit(a, &datagram(7, i as u16, *len));
    }
    tx.flush();
    assert_eq!(tx.sent, sizes.len() as u64);
    let got = recv_n(&sink, sizes.len());
    for (i, len) in sizes.iter().enumerate() {
        assert_eq!(got[i], datagram(7, i as u16, *len), "datagram {i}");
    }
}

#[test]
fn a_full_batch_sends_by_itself() {
    let from = sock();
    let sink = sock();
    let a = sink.local_addr().unwrap();
    let mut tx = TxBatch::new(&from, 1);
    for i in 0..(TX_MAX_DATAGRAMS + 5) {
        tx.transmit(a, &datagram(1, i as u16, 100));
    }
    assert_eq!(tx.sent, TX_MAX_DATAGRAMS as u64, "the first full batch went out on its own");
    tx.flush();
    assert_eq!(tx.sent, TX_MAX_DATAGRAMS as u64 + 5);
    assert_eq!(tx.errors, 0);
    // The sink's receive buffer holds only part of 1029 datagrams; the first ones are there, in order.
    let got = recv_n(&sink, 100);
    for (i, g) in got.iter().enumerate() {
        assert_eq!(*g, datagram(1, i as u16, 100));
    }
}

#[test]
fn unreachable_destinations_are_counted_and_the_rest_still_goes_out() {
    let from = sock();
    let sink = sock();
    let good = sink.local_addr().unwrap();
    let mut tx = TxBatch::new(&from, 1);
    // An IPv6 destination on an IPv4 socket is refused per message.
    let bad: SocketAddr = "[::1]:9".parse().unwrap();
    tx.transmit(bad, &datagram(0, 0, 100));
    tx.transmit(good, &datagram(1, 1, 100));
    tx.flush();
    assert_eq!(tx.errors, 1);
    assert_eq!(tx.sent, 1);
    assert_eq!(recv_n(&sink, 1)[0], datagram(1, 1, 100));
}

#[test]
fn receive_batch_reads_many_datagrams_per_call_with_their_sources() {
    let server = sock();
    server.set_nonblocking(true).unwrap();
    let mut rx = RxBatch::new(&server).unwrap();
    let a = server.local_addr().unwrap();
    let clients: Vec<UdpSocket> = (0..2).map(|_| sock()).collect();
    for i in 0..10u16 {
        for (c, s) in clients.iter().enumerate() {
            s.send_to(&datagram(c as u8, i, 500), a).unwrap();
        }
    }
    let mut got = Vec::new();
    let mut calls = 0;
    while got.len() < 20 && calls < 100 {
        calls += 1;
        match rx.recv(&server) {
            Ok(_) => got.extend(rx.datagrams().map(|(src, d)| (src, d.to_vec()))),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("recv: {e}"),
        }
    }
    assert_eq!(got.len(), 20);
    assert!(calls < 20, "batched: {calls} calls for 20 datagrams");
    for (c, s) in clients.iter().enumerate() {
        let from_c: Vec<&Vec<u8>> = got.iter().filter(|(src, _)| *src == s.local_addr().unwrap()).map(|(_, d)| d).collect();
        assert_eq!(from_c.len(), 10);
        for (i, d) in from_c.iter().enumerate() {
            assert_eq!(**d, datagram(c as u8, i as u16, 500));
        }
    }
}

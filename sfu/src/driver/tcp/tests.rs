use std::io::{Read, Write};
use std::net::TcpStream as StdStream;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};

use super::*;

fn frames(buf: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let mut out = Vec::new();
    let used = split_frames(buf, |f| out.push(f.to_vec()));
    (out, used)
}

#[test]
fn splits_complete_frames_and_keeps_the_rest() {
    let buf = [0, 2, 0xaa, 0xbb, 0, 1, 0xcc, 0, 3, 1];
    let (f, used) = frames(&buf);
    assert_eq!(f, vec![vec![0xaa, 0xbb], vec![0xcc]]);
    assert_eq!(used, 7, "the incomplete third frame stays");
    assert_eq!(frames(&[0]).1, 0, "half a length prefix stays");
    assert_eq!(frames(&[0, 0, 0, 1, 9]), (vec![vec![9]], 5), "an empty frame is skipped");
}

#[test]
fn a_largest_frame_fits_the_read_buffer() {
    let mut buf = vec![0xff, 0xff];
    buf.extend(std::iter::repeat_n(7u8, u16::MAX as usize));
    assert_eq!(buf.len(), READ_BUF);
    let (f, used) = frames(&buf);
    assert_eq!((f.len(), f[0].len(), used), (1, u16::MAX as usize, READ_BUF));
}

/// Poll until `until` holds, feeding events to the media; panics after 5 s.
fn pump(poll: &mut Poll, tcp: &mut TcpMedia, got: &mut Vec<(SocketAddr, Vec<u8>)>, until: impl Fn(&TcpMedia, &[(SocketAddr, Vec<u8>)]) -> bool) {
    let mut events = Events::with_capacity(16);
    let t0 = Instant::now();
    while !until(tcp, got) {
        assert!(t0.elapsed() < Duration::from_secs(5), "timed out");
        poll.poll(&mut events, Some(Duration::from_millis(50))).unwrap();
        for ev in events.iter() {
            let now = Instant::now();
            if ev.token() == Token(2) {
                tcp.accept(poll.registry(), now);
            } else {
                if ev.is_readable() {
                    tcp.read(poll.registry(), ev.token(), now, |peer, f| got.push((peer, f.to_vec())));
                }
                if ev.is_writable() {
                    tcp.writable(poll.registry(), ev.token());
                }
            }
        }
    }
}

fn media() -> (Poll, TcpMedia, SocketAddr) {
    let poll = Poll::new().unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    poll.registry().register(&mut listener, Token(2), Interest::READABLE).unwrap();
    (poll, TcpMedia::new(listener), addr)
}

#[test]
fn frames_cross_a_real_connection_both_ways() {
    let (mut poll, mut tcp, addr) = media();
    let mut client = StdStream::connect(addr).unwrap();
    let me = client.local_addr().unwrap();
    // One frame split over two writes, then two frames in one write.
    client.write_all(&[0, 3, 1]).unwrap();
    client.flush().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    client.write_all(&[2, 3, 0, 1, 4, 0, 2, 5, 6]).unwrap();
    let mut got = Vec::new();
    pump(&mut poll, &mut tcp, &mut got, |_, g| g.len() == 3);
    assert_eq!(got, vec![(me, vec![1, 2, 3]), (me, vec![4]), (me, vec![5, 6])]);

    let mut out = TcpOutbox::default();
    out.push(me, &[9, 8, 7]);
    out.push("127.0.0.1:1".parse().unwrap(), &[1]); // nobody there: dropped
    out.push(me, &[6]);
    tcp.send(poll.registry(), &mut out);
    assert!(out.is_empty());
    assert_eq!(tcp.stats.dropped, 1);
    let mut back = [0u8; 8];
    client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    client.read_exact(&mut back).unwrap();
    assert_eq!(back, [0, 3, 9, 8, 7, 0, 1, 6]);

    // The peer closing removes the connection.
    drop(client);
    pump(&mut poll, &mut tcp, &mut got, |t, _| t.connections() == 0);
    assert_eq!(tcp.stats.accepted, 1);
}

#[test]
fn a_slow_reader_loses_whole_packets_not_the_framing() {
    let (mut poll, mut tcp, addr) = media();
    let mut client = StdStream::connect(addr).unwrap();
    let me = client.local_addr().unwrap();
    client.write_all(&[0, 1, 0]).unwrap();
    let mut got = Vec::new();
    pump(&mut poll, &mut tcp, &mut got, |_, g| g.len() == 1);
    // Far more than the socket buffers and the backlog hold, without the client reading.
    let packet = [0x5a; 1200];
    // Loopback socket buffers autotune to several MB: go well past them.
    let total = 24 * MAX_BACKLOG / packet.len();
    for _ in 0..total / 64 {
        let mut out = TcpOutbox::default();
        for _ in 0..64 {
            out.push(me, &packet);
        }
        tcp.send(poll.registry(), &mut out);
    }
    assert!(tcp.stats.dropped > 0, "the backlog is bounded");
    let sent = (total / 64) * 64 - tcp.stats.dropped as usize;
    // Now read everything: every frame is whole.
    let reader = std::thread::spawn(move || {
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut n = 0;
        let mut hdr = [0u8; 2];
        let mut body = [0u8; 1200];
        while n < sent {
            client.read_exact(&mut hdr).unwrap();
            assert_eq!(u16::from_be_bytes(hdr), 1200);
            client.read_exact(&mut body).unwrap();
            assert!(body.iter().all(|&b| b == 0x5a));
            n += 1;
        }
        n
    });
    let t0 = Instant::now();
    let mut events = Events::with_capacity(16);
    while !reader.is_finished() && t0.elapsed() < Duration::from_secs(10) {
        poll.poll(&mut events, Some(Duration::from_millis(20))).unwrap();
        for ev in events.iter() {
            if ev.is_writable() {
                tcp.writable(poll.registry(), ev.token());
            }
        }
    }
    assert_eq!(reader.join().unwrap(), sent);
}

//! The real driver: worker threads and UDP sockets on 127.0.0.1, with str0m clients on their own sockets.

mod sim;

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use plenum_sfu::{ParticipantCommand, ParticipantId, RoomId, Sfu, SfuConfig, SfuEvent};
use str0m::media::MediaKind;

use sim::client::Client;
use sim::net::Wire;

struct Udp {
    socks: Vec<UdpSocket>,
}

impl Wire for Udp {
    fn send(&mut self, _now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if let Some(s) = self.socks.iter().find(|s| s.local_addr().ok() == Some(from)) {
            let _ = s.send_to(data, to);
        }
    }
}

fn bind() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_nonblocking(true).unwrap();
    s
}

#[test]
fn two_clients_call_each_other_through_the_worker_threads() {
    let sfu = Sfu::start(SfuConfig { media_addr: "127.0.0.1:0".parse().unwrap(), public_ip: None, workers: 2, ice_tcp: false, initial_estimate_bps: None }).unwrap();
    assert_eq!(sfu.media_addrs().len(), 2);
    let (ev_tx, ev_rx) = mpsc::channel::<(ParticipantId, SfuEvent)>();
    let mut udp = Udp { socks: vec![] };
    let mut clients = vec![];
    let room = RoomId("udp".into());
    for (i, name) in ["alice", "bob"].iter().enumerate() {
        let (ps, ss) = (bind(), bind());
        let id = ParticipantId(100 + i as u64);
        let mut c = Client::with_addrs(name, ps.local_addr().unwrap(), ss.local_addr().unwrap(), Instant::now());
        udp.socks.push(ps);
        udp.socks.push(ss);
        let tx = ev_tx.clone();
        sfu.join(&room, id, Box::new(move |e| drop(tx.send((id, e))))).unwrap();
        sfu.command(id, ParticipantCommand::PublisherOffer(c.publish_offer(false))).unwrap();
        clients.push((id, c));
    }
    assert!(sfu.join(&room, ParticipantId(100), Box::new(|_| {})).is_err(), "double join refused");

    let start = Instant::now();
    let mut buf = vec![0u8; 2048];
    let mut log = vec![];
    while start.elapsed() < Duration::from_secs(3) {
        let now = Instant::now();
        while let Ok((id, e)) = ev_rx.try_recv() {
            let (_, c) = clients.iter_mut().find(|(i, _)| *i == id).unwrap();
            match &e {
                SfuEvent::PublisherAnswer(sdp) => c.accept_publish_answer(sdp, now),
                SfuEvent::SubscriberOffer(sdp) => {
                    let answer = c.accept_subscribe_offer(sdp);
                    sfu.command(id, ParticipantCommand::SubscriberAnswer(answer)).unwrap();
                }
                _ => {}
            }
            log.push((id, e));
        }
        for k in 0..udp.socks.len() {
            loop {
                let (n, src) = match udp.socks[k].recv_from(&mut buf) {
                    Ok(x) => x,
                    Err(_) => break,
                };
                let local = udp.socks[k].local_addr().unwrap();
                let c = &mut clients[k / 2].1;
                c.handle_datagram(Instant::now(), src, local, &buf[..n], &mut udp);
            }
        }
        for (_, c) in clients.iter_mut() {
            if c.next_timeout(now, &mut udp) <= now {
                c.handle_timeout(now);
                c.next_timeout(now, &mut udp);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }

    for (me, other) in [(0, 1), (1, 0)] {
        let sid = clients[other].0.to_string();
        let c = &clients[me].1;
        for (kind, min) in [(MediaKind::Audio, 50), (MediaKind::Video, 90)] {
            let got = c.from_publisher(&sid, kind);
            assert_eq!(got.len(), 1, "{} gets one {kind:?} track from {sid}", c.name);
            let seqs = &got[0].seqs;
            assert!(seqs.len() >= min, "{} got {} {kind:?} packets", c.name, seqs.len());
            assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{} {kind:?} continuous", c.name);
        }
    }
    let connected = log.iter().filter(|(_, e)| matches!(e, SfuEvent::Connected(_))).count();
    assert_eq!(connected, 4, "both connections of both participants came up");

    sfu.command(ParticipantId(100), ParticipantCommand::Leave).unwrap();
    sfu.shutdown();
    let closed: Vec<_> = ev_rx.try_iter().filter(|(_, e)| matches!(e, SfuEvent::Closed(_))).collect();
    assert_eq!(closed.len(), 2, "leave and shutdown close both participants: {closed:?}");
}

//! The SFU half of `bench-forward`: the real driver with one worker, one publisher and N subscribers.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use plenum_sfu::{ParticipantCommand, ParticipantId, RoomId, Sfu, SfuConfig, SfuEvent};
use rtc::rtp::header::Header;

use super::{BenchConfig, WARMUP, poll_readable};
use crate::client::set_buffers;
use crate::error::LoadError;
use crate::peer::{Peer, PeerEvent, Role};
use crate::probe::{metric_sum, thread_cpu_ns, thread_user_sys_s, threads_named};

const SETUP_TIMEOUT: Duration = Duration::from_secs(60);
const FORWARDED: &str = "plenum_sfu_rtp_packets_forwarded_total";
const PAUSED: &str = "plenum_sfu_videos_paused";
/// Present only when the SFU runs congestion control (per-subscriber bandwidth estimates; a histogram, so its
/// sample count is what is looked up).
const ESTIMATES: &str = "plenum_sfu_subscriber_estimate_bps_count";
/// With congestion control the estimate must first grow to the stream's rate (the allocator pauses video that
/// does not fit): warm up until nothing is paused and forwarding runs at full rate, at most this long.
const WARMUP_MAX: Duration = Duration::from_secs(30);

type WindowStart = (Instant, u64, u64, u64, (f64, f64));

pub struct SfuResult {
    pub ns_per_packet: f64,
    pub forwarded: u64,
    pub cpu_ns: u64,
    pub seconds: f64,
    pub received: u64,
    pub setup_ms: f64,
    pub cpu_source: &'static str,
    pub bwe: bool,
    pub warmup_s: f64,
    /// Videos the SFU had paused when the window started (0 unless the warm-up limit was hit).
    pub paused_at_window: f64,
    /// User and system CPU seconds of the worker over the window.
    pub user_sys_s: (f64, f64),
}

struct Leg {
    id: ParticipantId,
    sock: UdpSocket,
    peer: Option<Peer>,
    received: u64,
}

fn bind() -> Result<UdpSocket, LoadError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let s = UdpSocket::bind(addr).map_err(|source| LoadError::Bind { addr, source })?;
    set_buffers(&s, 4 << 20);
    s.set_nonblocking(true)?;
    Ok(s)
}

pub fn run(cfg: BenchConfig) -> Result<SfuResult, LoadError> {
    let metrics = plenum_signaling::metrics::install();
    let counters_now = || {
        let text = metrics.render();
        (
            metric_sum(&text, FORWARDED).unwrap_or(0.0) as u64,
            metric_sum(&text, PAUSED).unwrap_or(0.0),
            metric_sum(&text, ESTIMATES).is_some(),
        )
    };
    let sfu_counters = || {
        let text = metrics.render();
        text.lines().filter(|l| l.starts_with("plenum_sfu_") && !l.contains("_bytes_")).collect::<Vec<_>>().join("; ")
    };
    let sfu = Sfu::start(SfuConfig { media_addr: "127.0.0.1:0".parse().map_err(|_| LoadError::Arg("addr".into()))?, public_ip: None, workers: 1, ice_tcp: false, initial_estimate_bps: cfg.initial_estimate_bps })
        .map_err(|e| LoadError::Sfu(e.to_string()))?;
    let result = drive(&sfu, cfg, &counters_now).map_err(|e| match e {
        LoadError::Sfu(m) => LoadError::Sfu(format!("{m} [SFU counters: {}]", sfu_counters())),
        other => other,
    });
    sfu.shutdown();
    result
}

fn drive(sfu: &Sfu, cfg: BenchConfig, counters_now: &dyn Fn() -> (u64, f64, bool)) -> Result<SfuResult, LoadError> {
    let pid = std::process::id();
    // The worker names itself once it runs: give it a moment.
    let mut tid = None;
    for _ in 0..200 {
        tid = threads_named(pid, "sfu-worker-0").first().copied();
        if tid.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let tid = tid.ok_or(LoadError::Sfu("no sfu-worker-0 thread".into()))?;
    let cpu_source =
        if std::path::Path::new(&format!("/proc/{pid}/task/{tid}/schedstat")).exists() { "schedstat" } else { "stat" };
    let room = RoomId("bench".into());
    let (ev_tx, ev_rx) = mpsc::channel::<(ParticipantId, SfuEvent)>();
    let t0 = Instant::now();
    let mut legs = Vec::with_capacity(cfg.fanout + 1);
    for i in 0..=cfg.fanout {
        let id = ParticipantId(1 + i as u64);
        let tx = ev_tx.clone();
        sfu.join(&room, id, Box::new(move |e| drop(tx.send((id, e))))).map_err(|e| LoadError::Sfu(e.to_string()))?;
        legs.push(Leg { id, sock: bind()?, peer: None, received: 0 });
    }
    // Leg 0 publishes one video track.
    let mut publisher = Peer::with_role(Role::Publisher, legs[0].sock.local_addr()?, t0)?;
    publisher.add_send_track("bench", true, 0xBEEF_0001)?;
    let offer = publisher.create_offer(t0)?;
    legs[0].peer = Some(publisher);
    sfu.command(legs[0].id, ParticipantCommand::PublisherOffer(offer)).map_err(|e| LoadError::Sfu(e.to_string()))?;

    let fds: Vec<i32> = legs.iter().map(|l| l.sock.as_raw_fd()).collect();
    let mut ready = Vec::new();
    let mut out = Vec::new();
    let mut events = Vec::new();
    let mut buf = vec![0u8; 2048];
    let mut connected = vec![false; legs.len()];
    let payload = |start: bool| {
        let mut v = vec![0u8; cfg.payload];
        // VP8 descriptor: S=1 on the first packet of a frame, and a keyframe payload header (P=0).
        v[0] = if start { 0x10 } else { 0x00 };
        for (k, b) in v.iter_mut().enumerate().skip(2) {
            *b = (k * 31) as u8;
        }
        Bytes::from(v)
    };
    let (first, rest) = (payload(true), payload(false));
    let mut media_from: Option<Instant> = None;
    let mut sent = 0u64;
    // (start, worker CPU ns, forwarded, received, (user s, system s)) at the window's start.
    let mut window: Option<WindowStart> = None;
    let user_sys = || thread_user_sys_s(pid, tid).unwrap_or((0.0, 0.0));
    let mut last_fwd = 0u64;
    // (time, counter) at the previous flush, for the forwarding rate.
    let mut last_flush: Option<(Instant, u64)> = None;
    let mut full_rate = false;
    let mut last_check = Instant::now();
    let mut setup_ms = 0.0;
    let (mut warmup_s, mut paused_at_window) = (0.0, 0.0);
    loop {
        let now = Instant::now();
        while let Ok((id, e)) = ev_rx.try_recv() {
            let i = (id.0 - 1) as usize;
            match e {
                SfuEvent::PublisherAnswer(sdp) => {
                    if let Some(p) = legs[i].peer.as_mut() {
                        p.accept_answer(now, sdp)?;
                    }
                }
                SfuEvent::SubscriberOffer(sdp) => {
                    if legs[i].peer.is_none() {
                        legs[i].peer = Some(Peer::with_role(Role::Subscriber, legs[i].sock.local_addr()?, now)?);
                    }
                    if let Some(p) = legs[i].peer.as_mut() {
                        let answer = p.accept_offer(now, sdp)?;
                        sfu.command(id, ParticipantCommand::SubscriberAnswer(answer)).map_err(|e| LoadError::Sfu(e.to_string()))?;
                    }
                }
                SfuEvent::Closed(reason) => return Err(LoadError::Sfu(format!("participant {id} closed: {reason:?}"))),
                SfuEvent::Error { message, .. } => return Err(LoadError::Sfu(format!("participant {id}: {message}"))),
                _ => {}
            }
        }
        // Media: paced 1-in-8 frame starts, like the reference harness.
        if let Some(from) = media_from {
            let due = super::packets_due(now.duration_since(from).as_secs_f64(), cfg.rate, cfg.burst);
            if let Some(p) = legs[0].peer.as_mut() {
                let pt = p.tracks[0].pt;
                while sent < due {
                    let start = sent.is_multiple_of(8);
                    let h = Header {
                        version: 2,
                        marker: sent % 8 == 7,
                        payload_type: pt,
                        sequence_number: sent as u16,
                        timestamp: (sent / 8 * 3000) as u32,
                        ssrc: 0xBEEF_0001,
                        ..Default::default()
                    };
                    p.send_rtp(now, 0, h, if start { first.clone() } else { rest.clone() });
                    sent += 1;
                }
            }
        }
        // I/O and timers of every client peer.
        for (i, leg) in legs.iter_mut().enumerate() {
            let Some(p) = leg.peer.as_mut() else { continue };
            if p.deadline <= now {
                p.handle_timeout(now);
            }
            flush(p, &leg.sock, &mut out, &mut events);
            for e in events.drain(..) {
                match e {
                    PeerEvent::Connected => connected[i] = true,
                    PeerEvent::Rtp(_) => leg.received += 1,
                    PeerEvent::Failed => return Err(LoadError::Sfu(format!("client {i} connection failed"))),
                    PeerEvent::KeyframeRequest => {}
                }
            }
        }
        if media_from.is_none() && connected.iter().all(|c| *c) {
            setup_ms = t0.elapsed().as_secs_f64() * 1000.0;
            media_from = Some(Instant::now());
        }
        if media_from.is_none() && t0.elapsed() > SETUP_TIMEOUT {
            let n = connected.iter().filter(|c| **c).count();
            return Err(LoadError::Timeout(if n == 0 { "no client connected to the SFU" } else { "not every client connected to the SFU" }));
        }
        // Measurement window, aligned with the worker's once-a-second counter flushes.
        if let Some(from) = media_from
            && now >= from + WARMUP
            && now.duration_since(last_check) >= Duration::from_millis(2)
        {
            last_check = now;
            let (fwd, paused, bwe) = counters_now();
            let flushed = fwd != last_fwd;
            last_fwd = fwd;
            if flushed {
                if let Some((t, v)) = last_flush {
                    let rate = (fwd - v) as f64 / now.duration_since(t).as_secs_f64().max(1e-3);
                    full_rate = rate >= 0.9 * (cfg.fanout as f64 * cfg.rate as f64);
                }
                last_flush = Some((now, fwd));
            }
            let received: u64 = legs.iter().map(|l| l.received).sum();
            let warm = (paused == 0.0 && full_rate) || now >= from + WARMUP_MAX;
            match window {
                None if flushed && warm => {
                    window = Some((now, thread_cpu_ns(pid, tid).unwrap_or(0), fwd, received, user_sys()));
                    warmup_s = now.duration_since(from).as_secs_f64();
                    paused_at_window = paused;
                }
                Some((w0, cpu0, f0, r0, us0)) if flushed && now.duration_since(w0).as_secs_f64() >= cfg.seconds => {
                    let cpu = thread_cpu_ns(pid, tid).unwrap_or(0).saturating_sub(cpu0);
                    let us = user_sys();
                    let n = fwd - f0;
                    return Ok(SfuResult {
                        ns_per_packet: cpu as f64 / n.max(1) as f64,
                        forwarded: n,
                        cpu_ns: cpu,
                        seconds: now.duration_since(w0).as_secs_f64(),
                        received: received - r0,
                        setup_ms,
                        cpu_source,
                        bwe,
                        warmup_s,
                        paused_at_window,
                        user_sys_s: (us.0 - us0.0, us.1 - us0.1),
                    });
                }
                _ => {}
            }
            if now.duration_since(from) > WARMUP_MAX + Duration::from_secs_f64(cfg.seconds) + Duration::from_secs(10) {
                return Err(LoadError::Sfu(format!(
                    "no measurement window: the forwarded-packet counter reads {fwd} (window started: {}), \
                     subscribers received {received}, the publisher sent {sent}",
                    window.is_some()
                )));
            }
        }
        // Sleep until a datagram, a deadline or the next packet (bounded, so SFU events are seen quickly).
        let mut wake = now + Duration::from_millis(2);
        for l in &legs {
            if let Some(p) = &l.peer {
                wake = wake.min(p.deadline);
            }
        }
        if media_from.is_some() {
            wake = wake.min(now + Duration::from_micros(500));
        }
        let timeout = wake.saturating_duration_since(Instant::now());
        if !timeout.is_zero() {
            poll_readable(&fds, timeout, &mut ready);
        } else {
            ready.clear();
            ready.resize(fds.len(), true);
        }
        for (i, leg) in legs.iter_mut().enumerate() {
            if !ready.get(i).copied().unwrap_or(false) {
                continue;
            }
            for _ in 0..256 {
                let Ok((n, src)) = leg.sock.recv_from(&mut buf) else { break };
                if let Some(p) = leg.peer.as_mut() {
                    p.handle_datagram(Instant::now(), src, &buf[..n]);
                }
            }
        }
    }
}

fn flush(p: &mut Peer, sock: &UdpSocket, out: &mut Vec<(SocketAddr, BytesMut)>, events: &mut Vec<PeerEvent>) {
    p.drain(out, events);
    for (dst, data) in out.drain(..) {
        let _ = sock.send_to(&data, dst);
    }
}

//! The machine's reference: a naive plaintext UDP forwarder (receive one datagram, `sendto` N copies) on
//! loopback, paced and sized like the SFU run. Its thread's CPU time per forwarded datagram is the yardstick.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::set_buffers;
use crate::error::LoadError;
use crate::probe::{this_thread_cpu_ns, this_tid, thread_user_sys_s};
use super::poll_readable;

pub struct NaiveResult {
    pub ns_per_packet: f64,
    pub forwarded: u64,
    pub received_by_sinks: u64,
    pub sent_by_source: u64,
    /// User and system CPU seconds of the forwarding thread over the window.
    pub user_sys_s: (f64, f64),
}

fn bind() -> Result<UdpSocket, LoadError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let s = UdpSocket::bind(addr).map_err(|source| LoadError::Bind { addr, source })?;
    set_buffers(&s, 4 << 20);
    Ok(s)
}

/// Forward `rate` datagrams/s of `size` bytes (sent in bursts of `burst`) to `fanout` sinks; measure `seconds`
/// after `warmup`.
pub fn run(fanout: usize, rate: u32, burst: u32, size: usize, warmup: Duration, seconds: f64) -> Result<NaiveResult, LoadError> {
    let fwd = bind()?;
    fwd.set_read_timeout(Some(Duration::from_millis(50)))?;
    let fwd_addr = fwd.local_addr()?;
    let src = bind()?;
    let sinks: Vec<UdpSocket> = (0..fanout).map(|_| bind()).collect::<Result<_, _>>()?;
    let sink_addrs: Vec<SocketAddr> = sinks.iter().map(|s| s.local_addr()).collect::<Result<_, _>>()?;
    let stop = Arc::new(AtomicBool::new(false));
    let got = Arc::new(AtomicU64::new(0));

    let sink_thread = {
        let (stop, got) = (stop.clone(), got.clone());
        std::thread::spawn(move || {
            let fds: Vec<i32> = sinks.iter().map(|s| s.as_raw_fd()).collect();
            for s in &sinks {
                let _ = s.set_nonblocking(true);
            }
            let mut ready = Vec::new();
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                poll_readable(&fds, Duration::from_millis(20), &mut ready);
                for (i, r) in ready.iter().enumerate() {
                    while *r && sinks[i].recv_from(&mut buf).is_ok() {
                        got.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let sender = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let data = vec![0x80u8; size];
            let start = Instant::now();
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let due = super::packets_due(start.elapsed().as_secs_f64(), rate, burst);
                while sent < due {
                    let _ = src.send_to(&data, fwd_addr);
                    sent += 1;
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            sent
        })
    };

    // This thread forwards.
    let mut buf = vec![0u8; 2048];
    let mut forwarded = 0u64;
    let begin = Instant::now();
    let mut window: Option<(Instant, u64, u64, (f64, f64))> = None;
    let (pid, tid) = (std::process::id(), this_tid());
    let user_sys = || thread_user_sys_s(pid, tid).unwrap_or((0.0, 0.0));
    let result = loop {
        if let Ok((n, _)) = fwd.recv_from(&mut buf) {
            for a in &sink_addrs {
                if fwd.send_to(&buf[..n], a).is_ok() {
                    forwarded += 1;
                }
            }
        }
        let now = Instant::now();
        match window {
            None if now >= begin + warmup => window = Some((now, this_thread_cpu_ns(), forwarded, user_sys())),
            Some((t0, cpu0, f0, us0)) if now >= t0 + Duration::from_secs_f64(seconds) => {
                let cpu = this_thread_cpu_ns() - cpu0;
                let n = forwarded - f0;
                let us = user_sys();
                break (cpu as f64 / n.max(1) as f64, n, (us.0 - us0.0, us.1 - us0.1));
            }
            _ => {}
        }
        if now > begin + warmup + Duration::from_secs_f64(seconds) + Duration::from_secs(30) {
            break (f64::NAN, 0, (0.0, 0.0));
        }
    };
    stop.store(true, Ordering::Relaxed);
    let sent = sender.join().unwrap_or(0);
    let _ = sink_thread.join();
    Ok(NaiveResult {
        ns_per_packet: result.0,
        forwarded: result.1,
        received_by_sinks: got.load(Ordering::Relaxed),
        sent_by_source: sent,
        user_sys_s: result.2,
    })
}

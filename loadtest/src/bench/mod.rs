//! `bench-forward`: the cost of forwarding one packet in the real SFU, next to the machine's physical reference.
//!
//! 1. [`sfu`]: the real SFU driver in-process (one worker thread, `sfu-worker-0`, on 127.0.0.1) with one
//!    publisher and N subscribers, all real WebRTC peers (webrtc-rs `rtc`) over loopback UDP (ICE, DTLS, SRTP).
//!    The worker thread's CPU time (`/proc/self/task/<tid>/schedstat`) divided by the SFU's own forwarded-packet
//!    counter, over a window aligned with the counter's flushes.
//! 2. [`naive`]: a plaintext forwarder (receive one, `sendto` N copies) at the same rate and size.
//!
//! The ratio is the figure to drive down (design target: ≤ 1.0 at fan-out 50, with congestion control on).

mod naive;
mod sfu;

use std::time::Duration;

use serde::Serialize;

use crate::error::LoadError;

#[derive(Debug, Clone, Copy)]
pub struct BenchConfig {
    pub fanout: usize,
    pub seconds: f64,
    pub rate: u32,
    pub payload: usize,
    /// The SFU's initial bandwidth estimate per subscriber (bit/s); `None`: the SFU's default.
    pub initial_estimate_bps: Option<u64>,
    /// Packets sent back to back by the publisher and the naive source (1: evenly spread).
    pub burst: u32,
}

/// How many of `rate` packets/s sent in bursts of `burst` are due after `elapsed_s`: whole bursts only.
pub(crate) fn packets_due(elapsed_s: f64, rate: u32, burst: u32) -> u64 {
    let burst = burst.max(1) as u64;
    (elapsed_s * rate as f64) as u64 / burst * burst
}

/// An initial estimate that lets the stream through at once: the stream's rate with headers, plus 50 %.
pub fn initial_estimate_for(rate: u32, payload: usize) -> u64 {
    (rate as u64 * (payload as u64 + 28 + 28) * 8) * 3 / 2
}

pub const WARMUP: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub fanout: usize,
    pub sfu_ns_per_packet: f64,
    pub naive_ns_per_packet: f64,
    pub ratio: f64,
    /// The same CPU time split into user and kernel time (from `/proc/.../stat`, 10-ms ticks): the kernel part
    /// is the UDP stack on loopback, the user part the forwarding logic, SRTP and congestion control.
    pub sfu_user_ns_per_packet: f64,
    pub sfu_sys_ns_per_packet: f64,
    pub naive_user_ns_per_packet: f64,
    pub naive_sys_ns_per_packet: f64,
    /// Initial bandwidth estimate the SFU gave each subscriber connection (bit/s); congestion control adapts it.
    pub sfu_initial_estimate_bps: u64,
    /// Whether the SFU ran with congestion control (it exports per-subscriber bandwidth estimates).
    pub sfu_bwe: bool,
    /// Time from the first packet to the measurement window (with congestion control the estimates must first
    /// grow to the stream's rate; at most 30 s).
    pub warmup_s: f64,
    /// Videos the SFU's allocator still paused when the window started (0 = everyone received everything).
    pub sfu_videos_paused_in_window: f64,
    /// Whether the window measured full-rate forwarding: nothing paused at its start and at least 90 % of
    /// `fanout × rate` packets forwarded per second. A `false` figure is not comparable with the naive one.
    pub window_valid: bool,
    pub rate_pps: u32,
    /// Packets sent back to back by the publisher and by the naive forwarder's source.
    pub burst: u32,
    pub payload_bytes: usize,
    pub seconds: f64,
    pub sfu_forwarded: u64,
    pub sfu_worker_cpu_s: f64,
    pub sfu_received_by_subscribers: u64,
    pub sfu_setup_ms: f64,
    pub naive_forwarded: u64,
    pub naive_received_by_sinks: u64,
    pub naive_sent_by_source: u64,
    pub cpu_time_source: &'static str,
}

pub fn bench_forward(cfg: BenchConfig) -> Result<BenchResult, LoadError> {
    if cfg.fanout == 0 || cfg.rate == 0 || cfg.seconds <= 0.0 {
        return Err(LoadError::Arg("fanout, rate and seconds must be positive".into()));
    }
    let s = sfu::run(cfg)?;
    // RTP header (12) and SRTP tag (16) on top of the payload: the same datagram size as the SFU sends.
    let n = naive::run(cfg.fanout, cfg.rate, cfg.burst, cfg.payload + 28, WARMUP, cfg.seconds)?;
    Ok(BenchResult {
        fanout: cfg.fanout,
        sfu_ns_per_packet: s.ns_per_packet,
        naive_ns_per_packet: n.ns_per_packet,
        ratio: s.ns_per_packet / n.ns_per_packet,
        sfu_user_ns_per_packet: s.user_sys_s.0 * 1e9 / s.forwarded.max(1) as f64,
        sfu_sys_ns_per_packet: s.user_sys_s.1 * 1e9 / s.forwarded.max(1) as f64,
        naive_user_ns_per_packet: n.user_sys_s.0 * 1e9 / n.forwarded.max(1) as f64,
        naive_sys_ns_per_packet: n.user_sys_s.1 * 1e9 / n.forwarded.max(1) as f64,
        sfu_initial_estimate_bps: cfg.initial_estimate_bps.unwrap_or(plenum_sfu::core::participant::INITIAL_ESTIMATE_BPS),
        sfu_bwe: s.bwe,
        warmup_s: s.warmup_s,
        sfu_videos_paused_in_window: s.paused_at_window,
        window_valid: s.paused_at_window == 0.0
            && s.forwarded as f64 >= 0.9 * cfg.fanout as f64 * cfg.rate as f64 * s.seconds,
        rate_pps: cfg.rate,
        burst: cfg.burst,
        payload_bytes: cfg.payload,
        seconds: s.seconds,
        sfu_forwarded: s.forwarded,
        sfu_worker_cpu_s: s.cpu_ns as f64 / 1e9,
        sfu_received_by_subscribers: s.received,
        sfu_setup_ms: s.setup_ms,
        naive_forwarded: n.forwarded,
        naive_received_by_sinks: n.received_by_sinks,
        naive_sent_by_source: n.sent_by_source,
        cpu_time_source: s.cpu_source,
    })
}

/// `poll(2)` for readability with a timeout; `ready[i]` tells whether `fds[i]` is readable.
pub(crate) fn poll_readable(fds: &[i32], timeout: Duration, ready: &mut Vec<bool>) {
    let mut pfds: Vec<libc::pollfd> = fds.iter().map(|&fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 }).collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: pfds is a valid array of pollfd of the given length.
    let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    ready.clear();
    ready.extend(pfds.iter().map(|p| n > 0 && p.revents & libc::POLLIN != 0));
}

#[cfg(test)]
mod tests {
    use super::packets_due;

    #[test]
    fn packets_fall_due_in_whole_bursts() {
        // 150 packets/s evenly: one every 6.67 ms.
        assert_eq!(packets_due(0.0, 150, 1), 0);
        assert_eq!(packets_due(0.007, 150, 1), 1);
        assert_eq!(packets_due(1.0, 150, 1), 150);
        // Bursts of 8: nothing until 8 are due, then all 8 at once.
        assert_eq!(packets_due(0.05, 150, 8), 0);
        assert_eq!(packets_due(0.054, 150, 8), 8);
        assert_eq!(packets_due(1.0, 150, 8), 144);
        assert_eq!(packets_due(1.0, 150, 0), 150, "0 is treated as 1");
    }
}

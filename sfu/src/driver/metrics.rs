//! Flushes a worker's plain counters into the `metrics` facade about once a second, and samples its participants'
//! link quality (RTT, loss, jitter), its tracks and its own CPU time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use metrics::{counter, gauge, histogram};

use super::tcp::TcpStats;
use crate::core::{Shard, ShardStats};

const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// One worker's load figures, written at each flush (about once a second) and read by [`super::Sfu::load`].
#[derive(Debug, Default)]
pub(crate) struct WorkerLoad {
    pub cpu_micros: AtomicU64,
    pub forwarded: AtomicU64,
    pub participants: AtomicU64,
    pub rooms: AtomicU64,
}

pub(crate) struct StatsFlusher {
    worker: String,
    load: Arc<WorkerLoad>,
    last: ShardStats,
    last_send_errors: u64,
    last_tcp: TcpStats,
    at: Instant,
}

impl StatsFlusher {
    pub fn new(worker: usize, load: Arc<WorkerLoad>) -> Self {
        StatsFlusher {
            worker: worker.to_string(),
            load,
            last: ShardStats::default(),
            last_send_errors: 0,
            last_tcp: TcpStats::default(),
            at: Instant::now(),
        }
    }

    /// `tcp`: open ICE-TCP connections and the TCP counters, when ICE-TCP is on.
    pub fn maybe_flush(&mut self, now: Instant, shard: &Shard, send_errors: u64, tcp: Option<(usize, TcpStats)>) {
        if now.saturating_duration_since(self.at) < FLUSH_EVERY {
            return;
        }
        self.at = now;
        let s = shard.stats();
        let l = &self.last;
        counter!("plenum_sfu_datagrams_in_total").increment(s.datagrams_in - l.datagrams_in);
        counter!("plenum_sfu_bytes_in_total").increment(s.bytes_in - l.bytes_in);
        counter!("plenum_sfu_datagrams_out_total").increment(s.datagrams_out - l.datagrams_out);
        counter!("plenum_sfu_bytes_out_total").increment(s.bytes_out - l.bytes_out);
        counter!("plenum_sfu_rtp_packets_in_total").increment(s.rtp_in - l.rtp_in);
        counter!("plenum_sfu_rtp_packets_forwarded_total").increment(s.rtp_forwarded - l.rtp_forwarded);
        counter!("plenum_sfu_keyframe_requests_total").increment(s.keyframe_requests - l.keyframe_requests);
        counter!("plenum_sfu_participants_isolated_total").increment(s.isolated - l.isolated);
        counter!("plenum_sfu_layer_switches_total").increment(s.layer_switches - l.layer_switches);
        counter!("plenum_sfu_publisher_layer_changes_total").increment(s.publisher_layer_changes - l.publisher_layer_changes);
        counter!("plenum_sfu_nacks_received_total").increment(s.nacks_received - l.nacks_received);
        counter!("plenum_sfu_nacks_sent_total").increment(s.nacks_sent - l.nacks_sent);
        counter!("plenum_sfu_retransmissions_total").increment(s.rtx_sent - l.rtx_sent);
        counter!("plenum_sfu_estimate_restarts_total").increment(s.estimate_restarts - l.estimate_restarts);
        counter!("plenum_cluster_cascade_packets_total").increment(s.relay_packets - l.relay_packets);
        counter!("plenum_cluster_cascade_keyframe_requests_total")
            .increment(s.relay_keyframe_requests - l.relay_keyframe_requests);
        let (legs, relayed) = shard.relays().counts();
        gauge!("plenum_cluster_cascade_legs", "worker" => self.worker.clone()).set(legs as f64);
        gauge!("plenum_cluster_cascade_tracks", "worker" => self.worker.clone()).set(relayed as f64);
        counter!("plenum_sfu_red_packets_in_total").increment(s.red_in - l.red_in);
        counter!("plenum_sfu_red_stripped_total").increment(s.red_stripped - l.red_stripped);
        counter!("plenum_sfu_red_thinned_total").increment(s.red_thinned - l.red_thinned);
        gauge!("plenum_sfu_videos_paused", "worker" => self.worker.clone()).set(s.videos_paused as f64);
        for (_, bps) in shard.estimates() {
            histogram!("plenum_sfu_subscriber_estimate_bps").record(bps as f64);
        }
        for ((reason, now_v), (_, last_v)) in s.drops().into_iter().zip(l.drops()) {
            counter!("plenum_sfu_packets_dropped_total", "reason" => reason).increment(now_v - last_v);
        }
        counter!("plenum_sfu_packets_dropped_total", "reason" => "send_error")
            .increment(send_errors - self.last_send_errors);
        for link in shard.link_quality() {
            if let Some(rtt) = link.rtt {
                histogram!("plenum_sfu_rtt_seconds").record(rtt);
            }
            if let Some(loss) = link.loss_in {
                histogram!("plenum_sfu_loss_ratio", "direction" => "in").record(f64::from(loss));
            }
            if let Some(loss) = link.loss_out {
                histogram!("plenum_sfu_loss_ratio", "direction" => "out").record(f64::from(loss));
            }
            if let Some(jitter) = link.jitter {
                histogram!("plenum_sfu_jitter_seconds").record(jitter);
            }
        }
        let (published, forwarded) = shard.track_counts();
        gauge!("plenum_sfu_tracks_published", "worker" => self.worker.clone()).set(published as f64);
        gauge!("plenum_sfu_tracks_forwarded", "worker" => self.worker.clone()).set(forwarded as f64);
        self.load.forwarded.store(s.rtp_forwarded, Ordering::Relaxed);
        self.load.participants.store(shard.participant_count() as u64, Ordering::Relaxed);
        self.load.rooms.store(shard.room_count() as u64, Ordering::Relaxed);
        if let Some(cpu) = thread_cpu_seconds() {
            self.load.cpu_micros.store((cpu * 1e6) as u64, Ordering::Relaxed);
            // Monotonic, but fractional: a gauge (metrics counters are integers). rate() of it is the worker's load.
            gauge!("plenum_sfu_worker_cpu_seconds_total", "worker" => self.worker.clone()).set(cpu);
        }
        let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        gauge!("plenum_sfu_worker_heartbeat_seconds", "worker" => self.worker.clone()).set(unix);
        gauge!("plenum_sfu_participants", "worker" => self.worker.clone()).set(shard.participant_count() as f64);
        gauge!("plenum_sfu_rooms", "worker" => self.worker.clone()).set(shard.room_count() as f64);
        if let Some((open, t)) = tcp {
            let l = self.last_tcp;
            gauge!("plenum_sfu_ice_tcp_connections", "worker" => self.worker.clone()).set(open as f64);
            counter!("plenum_sfu_ice_tcp_accepted_total").increment(t.accepted - l.accepted);
            counter!("plenum_sfu_ice_tcp_refused_total").increment(t.refused - l.refused);
            counter!("plenum_sfu_packets_dropped_total", "reason" => "tcp_backlog").increment(t.dropped - l.dropped);
            counter!("plenum_sfu_ice_tcp_errors_total").increment(t.errors - l.errors);
            self.last_tcp = t;
        }
        self.last = s.clone();
        self.last_send_errors = send_errors;
    }
}

/// CPU time the calling thread has used (user + system), in seconds.
#[cfg(unix)]
fn thread_cpu_seconds() -> Option<f64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
}

#[cfg(not(unix))]
fn thread_cpu_seconds() -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_cpu_time_grows_with_work() {
        let before = super::thread_cpu_seconds().expect("thread CPU clock");
        let mut x = 0u64;
        let t0 = std::time::Instant::now();
        while t0.elapsed() < std::time::Duration::from_millis(50) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = super::thread_cpu_seconds().unwrap();
        assert!(after - before > 0.01, "{before} -> {after}");
    }
}

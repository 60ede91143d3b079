//! Flushes a worker's plain counters into the `metrics` facade about once a second.

use std::time::{Duration, Instant};

use metrics::{counter, gauge, histogram};

use crate::core::{Shard, ShardStats};

const FLUSH_EVERY: Duration = Duration::from_secs(1);

pub(crate) struct StatsFlusher {
    worker: String,
    last: ShardStats,
    last_send_errors: u64,
    at: Instant,
}

impl StatsFlusher {
    pub fn new(worker: usize) -> Self {
        StatsFlusher { worker: worker.to_string(), last: ShardStats::default(), last_send_errors: 0, at: Instant::now() }
    }

    pub fn maybe_flush(&mut self, now: Instant, shard: &Shard, send_errors: u64) {
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
        gauge!("plenum_sfu_videos_paused", "worker" => self.worker.clone()).set(s.videos_paused as f64);
        for (_, bps) in shard.estimates() {
            histogram!("plenum_sfu_subscriber_estimate_bps").record(bps as f64);
        }
        for ((reason, now_v), (_, last_v)) in s.drops().into_iter().zip(l.drops()) {
            counter!("plenum_sfu_packets_dropped_total", "reason" => reason).increment(now_v - last_v);
        }
        counter!("plenum_sfu_packets_dropped_total", "reason" => "send_error")
            .increment(send_errors - self.last_send_errors);
        gauge!("plenum_sfu_participants", "worker" => self.worker.clone()).set(shard.participant_count() as f64);
        gauge!("plenum_sfu_rooms", "worker" => self.worker.clone()).set(shard.room_count() as f64);
        self.last = s.clone();
        self.last_send_errors = send_errors;
    }
}

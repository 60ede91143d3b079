//! Plain counters of one shard, flushed to `metrics` by the driver (no atomics, no locking per packet).

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShardStats {
    pub datagrams_in: u64,
    pub bytes_in: u64,
    pub datagrams_out: u64,
    pub bytes_out: u64,
    /// RTP packets received from publishers (after SRTP).
    pub rtp_in: u64,
    /// RTP packets written to subscribers.
    pub rtp_forwarded: u64,
    pub dropped_unknown_source: u64,
    pub dropped_malformed: u64,
    pub dropped_input_error: u64,
    pub dropped_unknown_track: u64,
    pub dropped_unknown_codec: u64,
    pub dropped_waiting_keyframe: u64,
    pub dropped_forwarder: u64,
    /// Packets of a media class a moderator stopped (`BlockMedia`).
    pub dropped_blocked: u64,
    pub keyframe_requests: u64,
    /// NACKs received from subscribers (answered from the SFU's packet cache).
    pub nacks_received: u64,
    /// NACKs the SFU sent to publishers for packets lost on their leg.
    pub nacks_sent: u64,
    /// RTP packets sent on an RTX payload type (retransmissions, including the resent payloads str0m uses to
    /// probe bandwidth); padding-only packets are not counted.
    pub rtx_sent: u64,
    /// Subscriber congestion controllers restarted from what arrived after heavy loss (`delivery.rs`).
    pub estimate_restarts: u64,
    /// RTP packets received from publishers as RFC 2198 RED.
    pub red_in: u64,
    /// RED packets forwarded as their primary Opus frame (to subscribers without RED).
    pub red_stripped: u64,
    /// RED packets forwarded without their redundant blocks (to subscribers on a link too slow for them).
    pub red_thinned: u64,
    /// Spatial layer switches of DownTracks (up or down).
    pub layer_switches: u64,
    /// Videos currently paused for bandwidth (a gauge).
    pub videos_paused: u64,
    /// Times a publisher was asked to pause or resume simulcast layers.
    pub publisher_layer_changes: u64,
    pub isolated: u64,
    /// RTP packets received on relay legs from home nodes (cascading).
    pub relay_packets: u64,
    /// Keyframe requests sent upstream on relay legs.
    pub relay_keyframe_requests: u64,
}

/// The latest link quality of one participant, from str0m's per-stream statistics (about once a second); the
/// driver samples it into histograms.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct LinkQuality {
    /// Round-trip time between the SFU and the participant (seconds).
    pub rtt: Option<f64>,
    /// Fraction of packets lost from the participant to the SFU (0..1, from the SFU's receiver reports).
    pub loss_in: Option<f32>,
    /// Fraction of packets lost from the SFU to the participant (0..1, from the participant's receiver reports).
    pub loss_out: Option<f32>,
    /// Interarrival jitter of what the participant sends (seconds).
    pub jitter: Option<f64>,
}

impl ShardStats {
    /// `(reason label, count)` of every drop counter, for the `reason` label of the dropped-packets metric.
    pub fn drops(&self) -> [(&'static str, u64); 8] {
        [
            ("unknown_source", self.dropped_unknown_source),
            ("malformed", self.dropped_malformed),
            ("input_error", self.dropped_input_error),
            ("unknown_track", self.dropped_unknown_track),
            ("unknown_codec", self.dropped_unknown_codec),
            ("waiting_keyframe", self.dropped_waiting_keyframe),
            ("out_of_window", self.dropped_forwarder),
            ("blocked", self.dropped_blocked),
        ]
    }
}

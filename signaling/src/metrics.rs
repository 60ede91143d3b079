//! Prometheus metrics: the process-wide recorder and the signaling counters.
//!
//! The SFU records its own `plenum_sfu_*` metrics through the same global recorder.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::protocol::ErrorCode;

pub const WS_CONNECTIONS: &str = "plenum_ws_connections";
pub const SIGNALING_ERRORS: &str = "plenum_signaling_errors_total";
pub const JOINS: &str = "plenum_joins_total";
pub const PARTICIPANTS: &str = "plenum_participants";
pub const ROOMS: &str = "plenum_rooms";
pub const DRAINING: &str = "plenum_draining";
pub const JOIN_SECONDS: &str = "plenum_join_duration_seconds";
pub const JOIN_FAILURES: &str = "plenum_join_failures_total";

/// Histogram buckets (Prometheus histograms, so they aggregate across nodes).
const BUCKETS: &[(&str, &[f64])] = &[
    (JOIN_SECONDS, &[0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0]),
    ("plenum_sfu_rtt_seconds", &[0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0]),
    ("plenum_sfu_jitter_seconds", &[0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2]),
    ("plenum_sfu_loss_ratio", &[0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]),
    ("plenum_sfu_subscriber_estimate_bps", &[1e5, 2.5e5, 5e5, 1e6, 1.5e6, 2.5e6, 4e6, 6e6, 1e7]),
];

static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Install the Prometheus recorder (once per process) and return the handle that renders it.
///
/// If another recorder was installed first (only possible when embedding), metrics go there and this handle
/// renders an empty local registry.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = BUCKETS.iter().fold(PrometheusBuilder::new(), |b, (name, buckets)| {
                b.set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets).expect("buckets are not empty")
            });
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::warn!("cannot install the Prometheus recorder: {e}");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            };
            describe();
            // Histograms and summaries need periodic upkeep; a thread keeps it independent of any runtime.
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_gauge!(WS_CONNECTIONS, "Open signaling WebSocket connections");
    metrics::describe_counter!(SIGNALING_ERRORS, "Error messages sent to signaling clients, by code");
    metrics::describe_counter!(JOINS, "Successful joins");
    metrics::describe_gauge!(PARTICIPANTS, "Participants in rooms");
    metrics::describe_gauge!(ROOMS, "Rooms with at least one participant");
    metrics::describe_gauge!(DRAINING, "1 while the server drains (no new meetings), else 0");
    // Present from the start, so a scrape shows them before the first connection.
    metrics::gauge!(WS_CONNECTIONS).set(0.0);
    metrics::counter!(JOINS).absolute(0);
    metrics::gauge!(DRAINING).set(0.0);
    metrics::describe_histogram!(
        JOIN_SECONDS,
        metrics::Unit::Seconds,
        "From a join message to the participant's first connected media connection"
    );
    metrics::describe_counter!(JOIN_FAILURES, "Joins refused or failed, by reason (the error code sent)");
    describe_sfu();
    PROCESS.get_or_init(metrics_process::Collector::default).describe();
}

/// Descriptions of the SFU's metrics (the SFU records them; the help texts live with the exporter).
fn describe_sfu() {
    use metrics::{describe_counter as c, describe_gauge as g, describe_histogram as h};
    c!("plenum_sfu_datagrams_in_total", "UDP datagrams received by the SFU");
    c!("plenum_sfu_bytes_in_total", "Bytes received by the SFU (rate x 8 = bitrate in)");
    c!("plenum_sfu_datagrams_out_total", "UDP datagrams sent by the SFU");
    c!("plenum_sfu_bytes_out_total", "Bytes sent by the SFU (rate x 8 = bitrate out)");
    c!("plenum_sfu_rtp_packets_in_total", "RTP packets received from publishers");
    c!("plenum_sfu_rtp_packets_forwarded_total", "RTP packets forwarded to subscribers");
    c!("plenum_sfu_packets_dropped_total", "Packets dropped inside the SFU, by reason");
    c!("plenum_sfu_participants_isolated_total", "Participants the SFU dropped after an internal error");
    g!("plenum_sfu_participants", "Participants per SFU worker");
    g!("plenum_sfu_rooms", "Rooms per SFU worker");
    g!("plenum_sfu_tracks_published", "Tracks published per SFU worker");
    g!("plenum_sfu_tracks_forwarded", "Forwarded tracks (one per subscriber of a published track) per SFU worker");
    g!("plenum_sfu_worker_cpu_seconds_total", "CPU time of the SFU worker thread (monotonic; rate() is its load, 1 = one core)");
    g!("plenum_sfu_worker_heartbeat_seconds", "Unix time of the SFU worker's last metrics flush (about every second while it runs)");
    h!("plenum_sfu_rtt_seconds", metrics::Unit::Seconds, "Round-trip time SFU to participant (sampled per participant per second)");
    h!("plenum_sfu_jitter_seconds", metrics::Unit::Seconds, "Interarrival jitter of what participants send (sampled per participant per second)");
    h!("plenum_sfu_loss_ratio", "Packet loss fraction per participant: in (participant to SFU) and out (SFU to participant)");
    h!("plenum_sfu_subscriber_estimate_bps", "Bandwidth estimate towards each subscriber, bit/s");
}

/// Refresh the process metrics (CPU, memory, threads, open files); call before rendering.
pub fn collect_process() {
    if let Some(collector) = PROCESS.get() {
        collector.collect();
    }
}

/// A join failed or was refused; `reason` is the error code sent.
pub fn join_failed(reason: ErrorCode) {
    metrics::counter!(JOIN_FAILURES, "reason" => reason.as_str()).increment(1);
}

/// The first media connection of a participant is up, `seconds` after its join.
pub fn join_connected(seconds: f64) {
    metrics::histogram!(JOIN_SECONDS).record(seconds);
}

pub fn draining() {
    metrics::gauge!(DRAINING).set(1.0);
}

/// Counts one open WebSocket for as long as it lives.
pub struct ConnectionGuard(());

impl ConnectionGuard {
    pub fn open() -> ConnectionGuard {
        metrics::gauge!(WS_CONNECTIONS).increment(1.0);
        ConnectionGuard(())
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        metrics::gauge!(WS_CONNECTIONS).decrement(1.0);
    }
}

pub fn error_sent(code: ErrorCode) {
    metrics::counter!(SIGNALING_ERRORS, "code" => code.as_str()).increment(1);
}

pub fn participant_joined(rooms: usize) {
    metrics::counter!(JOINS).increment(1);
    metrics::gauge!(PARTICIPANTS).increment(1.0);
    metrics::gauge!(ROOMS).set(rooms as f64);
}

pub fn participant_left(rooms: usize) {
    metrics::gauge!(PARTICIPANTS).decrement(1.0);
    metrics::gauge!(ROOMS).set(rooms as f64);
}

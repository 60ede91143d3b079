//! Prometheus metrics: the process-wide recorder and the signaling counters.
//!
//! The SFU records its own `plenum_sfu_*` metrics through the same global recorder.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::protocol::ErrorCode;

pub const WS_CONNECTIONS: &str = "plenum_ws_connections";
pub const SIGNALING_ERRORS: &str = "plenum_signaling_errors_total";
pub const JOINS: &str = "plenum_joins_total";
pub const PARTICIPANTS: &str = "plenum_participants";
pub const ROOMS: &str = "plenum_rooms";
pub const DRAINING: &str = "plenum_draining";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Install the Prometheus recorder (once per process) and return the handle that renders it.
///
/// If another recorder was installed first (only possible when embedding), metrics go there and this handle
/// renders an empty local registry.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let handle = match PrometheusBuilder::new().install_recorder() {
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

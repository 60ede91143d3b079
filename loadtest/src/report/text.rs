//! The summary printed at the end of a run.

use std::fmt::Write;

use super::Report;
use crate::stats::Percentiles;

fn line(out: &mut String, name: &str, p: &Percentiles, unit: &str) {
    let _ = writeln!(
        out,
        "  {name:<34} p50 {:>9.2}  p95 {:>9.2}  p99 {:>9.2}  max {:>9.2} {unit}  (n={})",
        p.p50, p.p95, p.p99, p.max, p.count
    );
}

pub fn render_text(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "plenum-loadtest {} against {}: {} participants, {} joined, {} failed joins",
        r.scenario, r.target, r.participants, r.joined, r.failed_joins
    );
    line(&mut o, "join (to connected)", &r.join_ms, "ms");
    line(&mut o, "time to first media", &r.first_media_ms, "ms");
    line(&mut o, "loss per receiver", &r.loss_pct, "%");
    line(&mut o, "end-to-end latency", &r.e2e_latency_ms, "ms");
    line(&mut o, "load generator send lag", &r.client_send_lag_ms, "ms");
    line(&mut o, "jitter per stream", &r.jitter_ms, "ms");
    line(&mut o, "freezes per video stream (>500 ms)", &r.freezes, "");
    line(&mut o, "received bitrate per receiver", &r.recv_kbps, "kbit/s");
    line(&mut o, "server CPU per forwarded packet", &r.server_cpu_us_per_packet, "µs");
    if r.server.forwarded_source != "server counter" {
        let _ = writeln!(o, "    (forwarded packets: {})", r.server.forwarded_source);
    }
    line(&mut o, "server CPU", &r.server.cpu_pct, "% core");
    line(&mut o, "server memory", &r.server.rss_mb, "MiB");
    line(&mut o, "load generator CPU", &r.client.cpu_pct, "% core");
    let p = &r.packets;
    let _ = writeln!(
        o,
        "  packets: sent {} / expected {} / received {} / lost {} ({:.3} %), duplicates {}, reordered {}",
        p.sent, p.expected, p.received, p.lost, r.loss_pct_total, p.duplicates, p.reordered
    );
    let _ = writeln!(
        o,
        "  media: {}/{} publishers sent, {} receivers got media ({} audio, {} video streams); {} freezes ({:.1} s), {} video_paused hints",
        r.media.publishers_that_sent,
        r.media.publishers,
        r.media.receivers_with_media,
        r.media.audio_streams,
        r.media.video_streams,
        r.freezes_total,
        r.freeze_seconds_total,
        r.media.video_paused_hints
    );
    let _ = writeln!(
        o,
        "  CPU bottleneck: {} (client saturated at {:?} s, server at {:?} s; server may use {} cores)",
        r.bottleneck.first, r.bottleneck.client_saturated_at_s, r.bottleneck.server_saturated_at_s, r.server.cpus
    );
    if r.server.pid.is_none() {
        let _ = writeln!(o, "  (no server process found: give --server-pid for server CPU and memory)");
    }
    for (e, n) in &r.errors {
        let _ = writeln!(o, "  error × {n}: {e}");
    }
    for v in &r.limit_violations {
        let _ = writeln!(o, "  LIMIT VIOLATED: {v}");
    }
    o
}

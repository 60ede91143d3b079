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
    let sc = &r.simulcast;
    let sent: Vec<String> = sc
        .sent_layers
        .iter()
        .map(|l| {
            let rid = if l.rid.is_empty() { String::new() } else { format!("{} ", l.rid) };
            format!("{rid}{}x{} {:.0} kbit/s", l.width, l.height, l.kbps)
        })
        .collect();
    let _ = writeln!(
        o,
        "  video sent per publisher: {} ({}); tiles: {}; encodings paused/resumed on request: {}/{}",
        if sent.is_empty() { "none".to_owned() } else { sent.join(", ") },
        if sent.is_empty() {
            "audio only"
        } else if sc.enabled {
            "simulcast"
        } else {
            "one layer"
        },
        sc.tile_sizes,
        sc.layers_paused,
        sc.layers_resumed
    );
    for (tiles, g) in &sc.by_tile {
        let _ = writeln!(
            o,
            "  received layers, {tiles} tiles ({} receivers): {}; switches per receiver p50 {:.0} max {:.0}",
            g.receivers,
            super::layers::share_line(g),
            g.switches.p50,
            g.switches.max
        );
    }
    if sc.foreign_frames > 0 {
        let _ = writeln!(o, "  {} frames of another layer than their keyframe's (switch without keyframe)", sc.foreign_frames);
    }
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

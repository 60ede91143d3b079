//! A self-contained HTML report: tables and inline SVG plots, no scripts, no external resources.

use std::fmt::Write;

use super::Report;
use crate::stats::Percentiles;

const W: f64 = 640.0;
const H: f64 = 200.0;
const PAD: f64 = 40.0;

/// One line of a plot: label, colour, points.
pub type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// A line plot of `(x, y)` series (each with a colour and label) as inline SVG.
pub fn line_plot(title: &str, y_label: &str, series: &[Series<'_>]) -> String {
    let pts = series.iter().flat_map(|(_, _, s)| s.iter());
    let (mut x_max, mut y_max) = (1e-9f64, 1e-9f64);
    for (x, y) in pts {
        x_max = x_max.max(*x);
        y_max = y_max.max(*y);
    }
    y_max *= 1.1;
    let sx = |x: f64| PAD + x / x_max * (W - 2.0 * PAD);
    let sy = |y: f64| H - PAD + -(y / y_max) * (H - 2.0 * PAD);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        esc(title)
    );
    axes(&mut svg, title, y_label, "time (s)", x_max, y_max);
    for (i, (label, colour, s)) in series.iter().enumerate() {
        let points: Vec<String> = s.iter().map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y))).collect();
        let _ = write!(svg, r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/>"#, points.join(" "));
        let _ = write!(
            svg,
            r#"<text x="{:.0}" y="14" font-size="11" fill="{colour}">{}</text>"#,
            W - PAD - 120.0 + 0.0 * i as f64,
            esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A bar chart of a histogram `(bucket start, count)`.
pub fn bar_plot(title: &str, x_label: &str, buckets: &[(f64, u64)], width: f64) -> String {
    let x_max = buckets.last().map(|b| b.0 + width).unwrap_or(1.0).max(1e-9);
    let y_max = buckets.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        esc(title)
    );
    axes(&mut svg, title, "packets", x_label, x_max, y_max);
    let bw = ((W - 2.0 * PAD) * width / x_max).max(1.0);
    for (x, n) in buckets {
        let h = *n as f64 / y_max * (H - 2.0 * PAD);
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{h:.1}" fill="#4a7bd0"/>"##,
            PAD + x / x_max * (W - 2.0 * PAD),
            H - PAD - h
        );
    }
    svg.push_str("</svg>");
    svg
}

fn axes(svg: &mut String, title: &str, y_label: &str, x_label: &str, x_max: f64, y_max: f64) {
    let _ = write!(
        svg,
        r##"<rect width="{W}" height="{H}" fill="#fff"/><text x="{PAD}" y="14" font-size="13" font-weight="bold">{}</text>
<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{b}" stroke="#333"/>
<text x="{PAD}" y="{yl}" font-size="10">{}</text><text x="{r}" y="{xl}" font-size="10" text-anchor="end">{} (max {:.1})</text>
<text x="2" y="{PAD}" font-size="10">{:.1}</text><text x="2" y="{b}" font-size="10">0</text>"##,
        esc(title),
        esc(y_label),
        esc(x_label),
        x_max,
        y_max,
        b = H - PAD,
        r = W - PAD,
        yl = PAD - 6.0,
        xl = H - PAD + 16.0,
    );
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn prow(name: &str, p: &Percentiles, unit: &str) -> String {
    format!(
        "<tr><th>{}</th><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td><td>{unit}</td></tr>",
        esc(name),
        p.p50,
        p.p95,
        p.p99,
        p.max,
        p.count
    )
}

pub fn render_html(r: &Report) -> String {
    let t = &r.timeline;
    let mut kbps = vec![];
    let mut loss = vec![];
    let mut server_cpu = vec![];
    let mut client_cpu = vec![];
    for w in t.windows(2) {
        let dt = (w[1].t_s - w[0].t_s).max(1e-3);
        let x = w[1].t_s;
        kbps.push((x, (w[1].rx_bytes - w[0].rx_bytes) as f64 * 8.0 / dt / 1000.0));
        let de = w[1].expected.saturating_sub(w[0].expected);
        let dl = w[1].lost.saturating_sub(w[0].lost);
        loss.push((x, if de > 0 { dl as f64 * 100.0 / de as f64 } else { 0.0 }));
        if let (Some(a), Some(b)) = (w[0].server_cpu_s, w[1].server_cpu_s) {
            server_cpu.push((x, (b - a) * 100.0 / dt));
        }
        if let (Some(a), Some(b)) = (w[0].client_cpu_s, w[1].client_cpu_s) {
            client_cpu.push((x, (b - a) * 100.0 / dt));
        }
    }
    let json = serde_json::to_string_pretty(&r.config).unwrap_or_default();
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Plenum load test: {scenario}</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{text-align:left}}.bad{{color:#b00;font-weight:bold}}
.ok{{color:#070;font-weight:bold}}svg{{display:block;margin:1em 0;border:1px solid #eee}}</style></head><body>
<h1>Plenum load test: {scenario}</h1>
<p>{participants} participants, {joined} joined, <span class="{jc}">{failed} failed joins</span>;
total loss <b>{loss:.3} %</b>; bottleneck: <b>{bn}</b>. {violations}</p>
<h2>Distributions</h2><table><tr><th></th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>n</th><th>unit</th></tr>"#,
        scenario = r.scenario,
        participants = r.participants,
        joined = r.joined,
        failed = r.failed_joins,
        jc = if r.failed_joins == 0 { "ok" } else { "bad" },
        loss = r.loss_pct_total,
        bn = r.bottleneck.first,
        violations = if r.limit_violations.is_empty() {
            "<span class=\"ok\">All limits met.</span>".to_string()
        } else {
            format!("<span class=\"bad\">Limits violated: {}</span>", esc(&r.limit_violations.join("; ")))
        },
    );
    for (name, p, unit) in [
        ("join", &r.join_ms, "ms"),
        ("first media", &r.first_media_ms, "ms"),
        ("loss per receiver", &r.loss_pct, "%"),
        ("end-to-end latency", &r.e2e_latency_ms, "ms"),
        ("load generator send lag", &r.client_send_lag_ms, "ms"),
        ("jitter per stream", &r.jitter_ms, "ms"),
        ("freezes per video stream", &r.freezes, "count"),
        ("received bitrate per receiver", &r.recv_kbps, "kbit/s"),
        ("server CPU per forwarded packet", &r.server_cpu_us_per_packet, "µs"),
        ("server CPU", &r.server.cpu_pct, "% of a core"),
        ("server memory", &r.server.rss_mb, "MiB"),
        ("load generator CPU", &r.client.cpu_pct, "% of a core"),
    ] {
        h.push_str(&prow(name, p, unit));
    }
    let p = &r.packets;
    let _ = write!(
        h,
        "</table><h2>Packets</h2><table><tr><th>sent by publishers</th><td>{}</td></tr><tr><th>expected by receivers</th><td>{}</td></tr>\
<tr><th>received</th><td>{}</td></tr><tr><th>lost</th><td>{}</td></tr><tr><th>duplicates</th><td>{}</td></tr>\
<tr><th>reordered</th><td>{}</td></tr><tr><th>dropped by the impairment shim</th><td>{}</td></tr>\
<tr><th>video freezes (total, seconds)</th><td>{} ({:.1} s)</td></tr></table>",
        p.sent, p.expected, p.received, p.lost, p.duplicates, p.reordered, p.shim_dropped, r.freezes_total, r.freeze_seconds_total
    );
    h.push_str("<h2>Over time</h2>");
    h.push_str(&line_plot("Received bitrate (all receivers)", "kbit/s", &[("received", "#4a7bd0", kbps)]));
    h.push_str(&line_plot("Loss", "%", &[("loss", "#c03030", loss)]));
    h.push_str(&line_plot(
        "CPU",
        "% of one core",
        &[("server", "#c07000", server_cpu), ("load generator", "#308030", client_cpu)],
    ));
    h.push_str(&bar_plot("End-to-end latency", "ms", &r.e2e_latency_histogram, 0.5));
    let _ = write!(h, "<h2>Configuration</h2><pre>{}</pre>", esc(&json));
    if !r.errors.is_empty() {
        h.push_str("<h2>Errors</h2><ul>");
        for (e, n) in &r.errors {
            let _ = write!(h, "<li>{n} × {}</li>", esc(e));
        }
        h.push_str("</ul>");
    }
    h.push_str(&simulcast_html(r));
    h.push_str("</body></html>");
    h
}

fn simulcast_html(r: &Report) -> String {
    let sc = &r.simulcast;
    let mut h = format!(
        "<h2>Video layers</h2><p>{}; tiles: {}; encodings paused / resumed at the SFU's request: {} / {}; \
         layer switches per receiver: p50 {:.0}, max {:.0} ({} in all); frames of another layer than their \
         keyframe's: {}.</p><table><tr><th>sent</th><th>rid</th><th>size</th><th>kbit/s</th></tr>",
        if sc.enabled { "Every publisher sends three simulcast layers" } else { "Every publisher sends one layer" },
        esc(&sc.tile_sizes),
        sc.layers_paused,
        sc.layers_resumed,
        sc.switches.p50,
        sc.switches.max,
        sc.switches_total,
        sc.foreign_frames
    );
    for l in &sc.sent_layers {
        let _ = write!(
            h,
            "<tr><th>layer {}</th><td>{}</td><td>{}x{}</td><td>{:.0}</td></tr>",
            l.layer,
            esc(l.rid),
            l.width,
            l.height,
            l.kbps
        );
    }
    h.push_str("</table><table><tr><th>received by</th><th>receivers</th><th>frames by picture size</th></tr>");
    for (tiles, g) in &sc.by_tile {
        let _ = write!(
            h,
            "<tr><th>{} tiles</th><td>{}</td><td>{}</td></tr>",
            esc(tiles),
            g.receivers,
            esc(&super::layers::share_line(g))
        );
    }
    h.push_str("</table>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_plain_svg_with_escaped_text() {
        let s = line_plot("a<b", "y", &[("s", "#000", vec![(0.0, 1.0), (1.0, 2.0)])]);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("a&lt;b") && s.contains("<polyline"));
        let b = bar_plot("h", "ms", &[(0.0, 3), (0.5, 1)], 0.5);
        assert_eq!(b.matches("<rect").count(), 3, "background and two bars");
        assert!(!b.contains("<script") && !s.contains("http://www.w3.org/1999"));
    }
}

//! The report of a run: built from what the clients and the sampler saw; written as JSON, HTML and text.

mod html;
mod layers;
mod text;

use std::collections::BTreeMap;

use serde::Serialize;

pub use html::render_html;
pub use layers::SimulcastReport;
pub use text::render_text;

use crate::run::{RunOutcome, Sample};
use crate::stats::Percentiles;

/// CPU share (of the cores a side may use) above which that side counts as saturated.
pub const SATURATED: f64 = 0.90;
/// Width of the windows the server's CPU per forwarded packet is computed over (its counters flush each second).
const CPU_WINDOW_S: f64 = 5.0;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub target: &'static str,
    pub scenario: &'static str,
    pub config: ConfigEcho,
    pub participants: usize,
    pub joined: usize,
    pub failed_joins: usize,
    /// Distinct error messages and how many participants had each.
    pub errors: BTreeMap<String, usize>,
    pub join_ms: Percentiles,
    pub first_media_ms: Percentiles,
    /// Per receiving participant: lost / expected over all its streams, in %.
    pub loss_pct: Percentiles,
    pub loss_pct_total: f64,
    /// Send time (payload trailer) to receipt, packets received in the steady phase only.
    pub e2e_latency_ms: Percentiles,
    pub e2e_latency_histogram: Vec<(f64, u64)>,
    /// How late the load generator sent media against its 20 ms / frame schedule (steady phase). When this is
    /// small, e2e latency above it was added between the sockets (kernel, server).
    pub client_send_lag_ms: Percentiles,
    /// Per received stream: RFC 3550 interarrival jitter at the end, ms.
    pub jitter_ms: Percentiles,
    /// Per received video stream: number of gaps > 500 ms between frames.
    pub freezes: Percentiles,
    pub freezes_total: u64,
    pub freeze_seconds_total: f64,
    /// Per receiving participant: payload kbit/s over its receiving time.
    pub recv_kbps: Percentiles,
    pub packets: Packets,
    pub media: MediaFlow,
    /// Server CPU per forwarded packet (µs), over 5-s windows of the steady phase.
    pub server_cpu_us_per_packet: Percentiles,
    pub server: ServerFigures,
    pub client: ClientFigures,
    pub bottleneck: Bottleneck,
    /// What the publishers sent (layers, bitrates) and which layers the receivers got.
    pub simulcast: SimulcastReport,
    pub timeline: Vec<Sample>,
    pub limit_violations: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigEcho {
    pub url: String,
    pub rooms: usize,
    pub publishers: usize,
    pub subscribers: usize,
    pub ramp_per_s: f64,
    pub duration_s: f64,
    pub dtx: bool,
    pub speakers_switch_s: Option<f64>,
    pub video_layer: usize,
    /// All video layers of one publisher together.
    pub video_kbps: f64,
    pub simulcast: bool,
    pub tile_sizes: crate::client::tiles::TileSizes,
    pub loss_pct: f64,
    pub delay_ms: f64,
    pub jitter_ms: f64,
    pub rate_kbps: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Packets {
    pub sent: u64,
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub undecodable: u64,
    pub shim_dropped: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MediaFlow {
    pub publishers: usize,
    pub publishers_that_sent: usize,
    pub receivers_with_media: usize,
    pub audio_streams: usize,
    pub video_streams: usize,
    pub keyframe_requests: u64,
    /// `video_paused` hints received (the SFU's allocator paused a video for a receiver's bandwidth); a paused
    /// video also shows up as a freeze.
    pub video_paused_hints: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerFigures {
    pub pid: Option<u32>,
    pub cpus: usize,
    /// CPU use in % of one core, per 1-s sample.
    pub cpu_pct: Percentiles,
    pub rss_mb: Percentiles,
    pub forwarded_packets: Option<f64>,
    /// Where `forwarded_packets` comes from: the server's own counter (Plenum's `/metrics`) or, for Janus, which
    /// has none outside its Admin API, the RTP packets the subscribers received.
    pub forwarded_source: &'static str,
    /// Over the whole steady phase (total CPU / total forwarded).
    pub cpu_us_per_packet_steady: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientFigures {
    pub pid: u32,
    /// The load generator runs on one thread: its limit is one core.
    pub cpu_pct: Percentiles,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bottleneck {
    pub client_saturated_at_s: Option<f64>,
    pub server_saturated_at_s: Option<f64>,
    /// "client", "server" or "none": which side first used ≥ 90 % of the CPU it may use.
    pub first: &'static str,
}

/// Limits that make the run fail.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub max_loss_pct: Option<f64>,
    pub max_join_p95_ms: Option<f64>,
    pub max_failed_joins: Option<usize>,
}

pub fn build(o: &RunOutcome, limits: Limits) -> Report {
    let c = &o.config;
    let mut errors = BTreeMap::new();
    let (mut join, mut first_media, mut loss, mut jitter, mut freezes, mut kbps) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut p = Packets::default();
    let mut m = MediaFlow::default();
    let (mut freezes_total, mut freeze_s) = (0u64, 0.0);
    let mut failed = 0;
    for cl in &o.clients {
        let s = cl.borrow();
        match s.join_ms {
            Some(ms) => join.push(ms),
            None => failed += 1,
        }
        if let Some(e) = &s.error {
            *errors.entry(e.clone()).or_insert(0) += 1;
        }
        if let Some(ms) = s.first_media_ms {
            first_media.push(ms);
        }
        p.sent += s.tx_packets;
        p.undecodable += s.undecodable;
        p.shim_dropped += s.shim_dropped;
        m.keyframe_requests += s.keyframe_requests;
        m.video_paused_hints += s.videos_paused;
        if s.publishes {
            m.publishers += 1;
            if s.tx_packets > 0 {
                m.publishers_that_sent += 1;
            }
        }
        if s.rx_packets > 0 {
            m.receivers_with_media += 1;
        }
        let (mut exp, mut lost) = (0, 0);
        let (mut first, mut last) = (f64::MAX, 0.0f64);
        for st in s.streams.values() {
            exp += st.expected();
            lost += st.lost();
            p.received += st.received;
            p.duplicates += st.duplicates;
            p.reordered += st.reordered;
            jitter.push(st.jitter_ms());
            if st.is_video() {
                m.video_streams += 1;
                freezes.push(st.freezes as f64);
                freezes_total += st.freezes;
                freeze_s += st.freeze_ms / 1000.0;
            } else {
                m.audio_streams += 1;
            }
            if let Some(f) = st.first_arrival_ms {
                first = first.min(f);
                last = last.max(st.last_arrival_ms);
            }
        }
        p.expected += exp;
        p.lost += lost;
        if exp > 0 {
            loss.push(lost as f64 * 100.0 / exp as f64);
        }
        if last > first + 1000.0 {
            kbps.push(s.rx_bytes as f64 * 8.0 / (last - first));
        }
    }
    let loss_total = if p.expected > 0 { p.lost as f64 * 100.0 / p.expected as f64 } else { 0.0 };
    let (server, cpu_per_packet) = server_figures(o);
    let client =
        ClientFigures { pid: std::process::id(), cpu_pct: Percentiles::of(&cpu_pct(&o.samples, |s| s.client_cpu_s)) };
    let bottleneck = bottleneck(&o.samples, o.server_cpus);
    let borrowed: Vec<_> = o.clients.iter().map(|c| c.borrow()).collect();
    let receivers: Vec<&crate::client::ClientStats> = borrowed.iter().map(|b| &**b).collect();
    let simulcast = layers::build(&receivers, c.simulcast, c.tile_sizes.as_str().to_owned(), &o.video_layers);
    let mut report = Report {
        tool: "plenum-loadtest",
        version: env!("CARGO_PKG_VERSION"),
        target: c.target.as_str(),
        scenario: c.scenario.as_str(),
        config: ConfigEcho {
            url: c.url.clone(),
            rooms: c.rooms,
            publishers: c.publishers,
            subscribers: c.subscribers,
            ramp_per_s: c.ramp,
            duration_s: c.duration.as_secs_f64(),
            dtx: c.dtx,
            speakers_switch_s: c.speakers_switch.map(|d| d.as_secs_f64()),
            video_layer: c.video_layer,
            video_kbps: o.video_kbps,
            simulcast: c.simulcast,
            tile_sizes: c.tile_sizes,
            loss_pct: c.impairment.loss_pct,
            delay_ms: c.impairment.delay.as_secs_f64() * 1000.0,
            jitter_ms: c.impairment.jitter.as_secs_f64() * 1000.0,
            rate_kbps: c.impairment.rate_kbps,
        },
        participants: o.clients.len(),
        joined: o.clients.len() - failed,
        failed_joins: failed,
        errors,
        join_ms: Percentiles::of(&join),
        first_media_ms: Percentiles::of(&first_media),
        loss_pct: Percentiles::of(&loss),
        loss_pct_total: loss_total,
        e2e_latency_ms: o.latency.percentiles(),
        e2e_latency_histogram: o.latency.buckets(),
        client_send_lag_ms: o.send_lag.percentiles(),
        jitter_ms: Percentiles::of(&jitter),
        freezes: Percentiles::of(&freezes),
        freezes_total,
        freeze_seconds_total: freeze_s,
        recv_kbps: Percentiles::of(&kbps),
        packets: p,
        media: m,
        server_cpu_us_per_packet: cpu_per_packet,
        server,
        client,
        bottleneck,
        simulcast,
        timeline: o.samples.clone(),
        limit_violations: vec![],
    };
    report.limit_violations = check_limits(&report, limits);
    report
}

fn check_limits(r: &Report, l: Limits) -> Vec<String> {
    let mut v = vec![];
    if let Some(max) = l.max_loss_pct
        && r.loss_pct_total > max
    {
        v.push(format!("loss {:.3} % > --max-loss-pct {max}", r.loss_pct_total));
    }
    if let Some(max) = l.max_join_p95_ms
        && (r.join_ms.p95 > max || r.join_ms.count == 0)
    {
        v.push(format!("join p95 {:.0} ms > --max-join-p95-ms {max}", r.join_ms.p95));
    }
    if let Some(max) = l.max_failed_joins
        && r.failed_joins > max
    {
        v.push(format!("{} failed joins > --max-failed-joins {max}", r.failed_joins));
    }
    v
}

/// CPU use in % of one core between consecutive samples.
fn cpu_pct(samples: &[Sample], f: impl Fn(&Sample) -> Option<f64>) -> Vec<f64> {
    samples.windows(2).filter_map(|w| Some((f(&w[1])? - f(&w[0])?) * 100.0 / (w[1].t_s - w[0].t_s).max(1e-3))).collect()
}

fn server_figures(o: &RunOutcome) -> (ServerFigures, Percentiles) {
    let s = &o.samples;
    let rss: Vec<f64> = s.iter().filter_map(|x| x.server_rss_bytes).map(|b| b as f64 / 1048576.0).collect();
    // Steady phase: from 2 s after the last join to the end of the duration.
    let steady_from = o.ramp_end_s + crate::run::STEADY_SETTLE.as_secs_f64();
    let steady_to = o.ramp_end_s + o.config.duration.as_secs_f64();
    let steady: Vec<&Sample> = s.iter().filter(|x| x.t_s >= steady_from && x.t_s <= steady_to + 0.5).collect();
    let per_packet = |a: &Sample, b: &Sample| -> Option<f64> {
        let cpu = b.server_cpu_s? - a.server_cpu_s?;
        let fwd = b.server_forwarded? - a.server_forwarded?;
        (fwd > 0.0).then(|| cpu * 1e6 / fwd)
    };
    let mut windows = vec![];
    let mut i = 0;
    while i < steady.len() {
        let j = steady[i..].iter().position(|x| x.t_s >= steady[i].t_s + CPU_WINDOW_S).map(|k| i + k);
        let Some(j) = j else { break };
        if let Some(v) = per_packet(steady[i], steady[j]) {
            windows.push(v);
        }
        i = j;
    }
    let overall = match (steady.first(), steady.last()) {
        (Some(a), Some(b)) => per_packet(a, b),
        _ => None,
    };
    (
        ServerFigures {
            pid: o.server_pid,
            cpus: o.server_cpus,
            cpu_pct: Percentiles::of(&cpu_pct(s, |x| x.server_cpu_s)),
            rss_mb: Percentiles::of(&rss),
            forwarded_packets: s.last().and_then(|x| x.server_forwarded),
            forwarded_source: match o.config.target {
                crate::client::Target::Plenum => "server counter",
                crate::client::Target::Janus => "estimated: RTP packets received by the subscribers",
            },
            cpu_us_per_packet_steady: overall,
        },
        Percentiles::of(&windows),
    )
}

/// When each side first used ≥ 90 % of what it may use (client: one core; server: its allowed cores), over
/// 3-s averages so one busy second does not count.
pub fn bottleneck(samples: &[Sample], server_cpus: usize) -> Bottleneck {
    let first_over = |f: &dyn Fn(&Sample) -> Option<f64>, cores: f64| -> Option<f64> {
        samples.windows(4).find_map(|w| {
            let used = (f(&w[3])? - f(&w[0])?) / (w[3].t_s - w[0].t_s).max(1e-3);
            (cores > 0.0 && used >= SATURATED * cores).then_some(w[3].t_s)
        })
    };
    let client = first_over(&|s| s.client_cpu_s, 1.0);
    let server = first_over(&|s| s.server_cpu_s, server_cpus as f64);
    let first = match (client, server) {
        (None, None) => "none",
        (Some(_), None) => "client",
        (None, Some(_)) => "server",
        (Some(c), Some(s)) => {
            if c <= s {
                "client"
            } else {
                "server"
            }
        }
    };
    Bottleneck { client_saturated_at_s: client, server_saturated_at_s: server, first }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, client: f64, server: f64) -> Sample {
        Sample { t_s: t, client_cpu_s: Some(client), server_cpu_s: Some(server), ..Default::default() }
    }

    #[test]
    fn bottleneck_names_the_side_that_saturates_first() {
        // Client at 50 % throughout; server (2 cores) climbs to 1.9 cores from t=5.
        let mut v = vec![];
        let mut server = 0.0;
        for t in 0..12 {
            server += if t >= 5 { 1.9 } else { 0.5 };
            v.push(sample(t as f64, t as f64 * 0.5, server));
        }
        let b = bottleneck(&v, 2);
        assert_eq!(b.first, "server");
        assert_eq!(b.client_saturated_at_s, None);
        // The first 3-s window entirely at 1.9 cores ends at t = 7.
        assert_eq!(b.server_saturated_at_s, Some(7.0));
        // A client at a full core saturates at once.
        let w: Vec<Sample> = (0..6).map(|t| sample(t as f64, t as f64 * 0.97, 0.0)).collect();
        assert_eq!(bottleneck(&w, 2).first, "client");
        assert_eq!(bottleneck(&w[..2], 2).first, "none", "too short to tell");
    }
}

//! Once a second: what the clients received, the server's CPU, memory and forwarded-packet counter, our own CPU;
//! and the live progress line.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::client::{ClientStats, Target};
use crate::probe;

/// One point of the timeline (cumulative counters; the report takes differences).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sample {
    pub t_s: f64,
    pub joined: usize,
    pub failed: usize,
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub expected: u64,
    pub lost: u64,
    pub server_cpu_s: Option<f64>,
    pub server_rss_bytes: Option<u64>,
    pub server_forwarded: Option<f64>,
    pub client_cpu_s: Option<f64>,
}

pub struct Sampler {
    start: Instant,
    server_pid: Option<u32>,
    metrics_addr: SocketAddr,
    target: Target,
    pub samples: Vec<Sample>,
    bar: ProgressBar,
    plain: bool,
}

impl Sampler {
    pub fn new(
        start: Instant,
        server_pid: Option<u32>,
        metrics_addr: SocketAddr,
        target: Target,
        total: usize,
        progress: bool,
    ) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = if progress && terminal {
            let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{elapsed:>4} [{bar:24}] {pos}/{len} joined  {msg}") {
                b.set_style(style.progress_chars("=> "));
            }
            b
        } else {
            ProgressBar::hidden()
        };
        Sampler { start, server_pid, metrics_addr, target, samples: Vec::new(), bar, plain: progress && !terminal }
    }

    pub async fn sample(&mut self, clients: &[Rc<RefCell<ClientStats>>]) {
        let mut s = Sample { t_s: self.start.elapsed().as_secs_f64(), ..Default::default() };
        for c in clients {
            let c = c.borrow();
            if c.join_ms.is_some() {
                s.joined += 1;
            } else if c.error.is_some() || c.done {
                s.failed += 1;
            }
            s.rx_packets += c.rx_packets;
            s.rx_bytes += c.rx_bytes;
            s.tx_packets += c.tx_packets;
            for st in c.streams.values() {
                s.expected += st.expected();
                s.lost += st.lost();
            }
        }
        if let Some(pid) = self.server_pid {
            s.server_cpu_s = probe::process_cpu_s(pid);
            s.server_rss_bytes = probe::process_rss(pid);
        }
        match self.target {
            Target::Plenum => {
                if let Some(text) = probe::scrape_metrics(self.metrics_addr).await {
                    s.server_forwarded = probe::metric_sum(&text, "plenum_sfu_rtp_packets_forwarded_total");
                }
            }
            // Janus has no forwarded-packet counter outside its Admin API (off here): what the subscribers
            // received stands in for it (equal when nothing is lost on loopback).
            Target::Janus => s.server_forwarded = Some(s.rx_packets as f64),
        }
        s.client_cpu_s = probe::process_cpu_s(std::process::id());
        self.show(&s);
        self.samples.push(s);
    }

    fn show(&self, s: &Sample) {
        let Some(prev) = self.samples.last() else {
            return;
        };
        let dt = (s.t_s - prev.t_s).max(1e-3);
        let pps = (s.rx_packets - prev.rx_packets) as f64 / dt;
        let (de, dl) = (s.expected.saturating_sub(prev.expected), s.lost.saturating_sub(prev.lost));
        let loss = if de > 0 { dl as f64 * 100.0 / de as f64 } else { 0.0 };
        let cpu = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.0}%", (a - b) * 100.0 / dt),
            _ => "n/a".into(),
        };
        let msg = format!(
            "failed {}  rx {:.0} pkt/s  loss {:.2}%  server CPU {}  client CPU {}",
            s.failed,
            pps,
            loss,
            cpu(s.server_cpu_s, prev.server_cpu_s),
            cpu(s.client_cpu_s, prev.client_cpu_s)
        );
        self.bar.set_position(s.joined as u64);
        self.bar.set_message(msg.clone());
        if self.plain && self.samples.len().is_multiple_of(5) {
            eprintln!("[{:>5.0} s] {} joined  {msg}", s.t_s, s.joined);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

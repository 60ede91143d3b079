//! `plenum-loadtest run`: build the participants of a scenario, start them at the ramp rate on one thread,
//! sample the server and the clients every second, and hand everything to the report.

mod plan;
mod sampler;

use std::cell::RefCell;
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use plan::{Scenario, plan};
pub use sampler::Sample;

use crate::client::tiles::TileSizes;
use crate::client::{self, ClientStats, Shared, Target};
use crate::error::LoadError;
use crate::media::audio::AudioLoop;
use crate::media::video::Clip;
use crate::shim::ImpairmentConfig;
use crate::stats::LatencyHistogram;

/// The steady phase starts this long after the last join (its connections settle).
pub const STEADY_SETTLE: Duration = Duration::from_secs(2);

/// Everything `run` needs (the CLI fills it in).
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Plenum, or Janus's VideoRoom for comparison.
    pub target: Target,
    /// Where the participants' UDP sockets bind (their host candidate): 127.0.0.1 normally; for Janus, which
    /// never gathers candidates on a loopback interface, an address of another local interface (the traffic
    /// still stays inside the machine).
    pub bind_ip: std::net::IpAddr,
    /// Base URL of the server, e.g. `http://127.0.0.1:8080`; several comma-separated for a cluster (participants
    /// are spread over them; the server figures come from the first).
    pub url: String,
    /// The server's token secret (Plenum only).
    pub secret: Vec<u8>,
    pub scenario: Scenario,
    pub rooms: usize,
    pub publishers: usize,
    pub subscribers: usize,
    /// Joins per second over all rooms.
    pub ramp: f64,
    /// Steady time after the last join.
    pub duration: Duration,
    /// Publish the video in three simulcast layers (rids l, m, h) instead of `video_layer` alone.
    pub simulcast: bool,
    /// What the participants render the others' videos at (`video_sizes`).
    pub tile_sizes: TileSizes,
    pub speakers_switch: Option<Duration>,
    pub dtx: bool,
    /// Video layer sent without simulcast: 0 low, 1 mid, 2 high.
    pub video_layer: usize,
    pub impairment: ImpairmentConfig,
    pub server_pid: Option<u32>,
    pub progress: bool,
}

/// What a run produced: raw material for [`crate::report`].
pub struct RunOutcome {
    pub config: RunConfig,
    pub clients: Vec<Rc<RefCell<ClientStats>>>,
    pub latency: LatencyHistogram,
    pub send_lag: LatencyHistogram,
    pub samples: Vec<Sample>,
    pub server_pid: Option<u32>,
    pub server_cpus: usize,
    /// When every participant had started (seconds from the run's start): the steady phase begins after it.
    pub ramp_end_s: f64,
    pub wall_s: f64,
    pub audio_kbps: f64,
    /// All video layers one publisher sends together.
    pub video_kbps: f64,
    /// The video encodings every publisher sent: rid (simulcast) or `-`, picture size and bitrate.
    pub video_layers: Vec<SentLayer>,
}

/// One video encoding the publishers send.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SentLayer {
    /// The simulcast rid (`l`, `m`, `h`), or empty without simulcast.
    pub rid: &'static str,
    pub layer: u8,
    pub width: u16,
    pub height: u16,
    pub kbps: f64,
}

/// The WebSocket URL and HTTP address of a server base URL. Plenum: `http://host:port` (WebSocket at `/ws`);
/// Janus: its WebSocket transport, `ws://host:port` (or `http://`).
pub fn endpoints(target: Target, url: &str) -> Result<(String, SocketAddr), LoadError> {
    let url = url.trim_end_matches('/');
    let (scheme, rest) = url.split_once("://").ok_or_else(|| LoadError::Arg(format!("not a URL: {url}")))?;
    let ws_scheme = match (scheme, target) {
        ("http", _) | ("ws", Target::Janus) => "ws",
        ("https" | "wss", _) => {
            return Err(LoadError::Arg("https/wss is not supported (load tests run on loopback)".into()));
        }
        (other, _) => return Err(LoadError::Arg(format!("unsupported scheme {other}"))),
    };
    let host = rest.split('/').next().unwrap_or(rest);
    let addr = host
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| LoadError::Arg(format!("cannot resolve {host} (give host:port)")))?;
    let path = match target {
        Target::Plenum => "/ws",
        Target::Janus => "/",
    };
    Ok((format!("{ws_scheme}://{host}{path}"), addr))
}

/// Run a scenario to the end (single-threaded: call from a current-thread runtime inside a `LocalSet`).
pub async fn run(cfg: RunConfig) -> Result<RunOutcome, LoadError> {
    let mut ws_urls = Vec::new();
    let mut http_addrs = Vec::new();
    for url in cfg.url.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let (ws_url, http_addr) = endpoints(cfg.target, url)?;
        ws_urls.push(ws_url);
        http_addrs.push(http_addr);
    }
    let http_addr = *http_addrs.first().ok_or_else(|| LoadError::Arg("no server URL".into()))?;
    crate::epoch();
    let audio = Arc::new(AudioLoop::encode(cfg.dtx, 32_000)?);
    let layers: Vec<usize> = if cfg.simulcast { vec![0, 1, 2] } else { vec![cfg.video_layer.min(2)] };
    let mut video = Vec::new();
    let mut video_layers = Vec::new();
    for (k, l) in layers.into_iter().enumerate() {
        let clip = Arc::new(Clip::layer(l)?);
        video_layers.push(SentLayer {
            rid: if cfg.simulcast { client::SIMULCAST_RIDS[k] } else { "" },
            layer: l as u8,
            width: clip.width,
            height: clip.height,
            kbps: clip.kbps(),
        });
        video.push((clip, l as u8));
    }
    // Audio-only rooms send no video.
    if cfg.scenario == Scenario::AudioOnly {
        video_layers.clear();
    }
    let start = Instant::now();
    let specs = plan(&cfg, &ws_urls, audio.clone(), video, start)?;
    let total = specs.len();
    let ramp_s = total as f64 / cfg.ramp.max(0.01);
    let steady_from = start + Duration::from_secs_f64(ramp_s) + STEADY_SETTLE;
    let shared = Rc::new(RefCell::new(Shared {
        latency: LatencyHistogram::new(2000, 0.5),
        send_lag: LatencyHistogram::new(2000, 0.5),
        steady_from,
    }));
    let clients: Vec<Rc<RefCell<ClientStats>>> = (0..total).map(|_| Rc::default()).collect();

    // Launch at the ramp rate.
    let launcher = {
        let clients = clients.clone();
        let shared = shared.clone();
        let ramp = cfg.ramp.max(0.01);
        tokio::task::spawn_local(async move {
            for (i, spec) in specs.into_iter().enumerate() {
                tokio::time::sleep_until((start + Duration::from_secs_f64(i as f64 / ramp)).into()).await;
                tokio::task::spawn_local(client::run(spec, clients[i].clone(), shared.clone()));
            }
        })
    };

    let server_pid = cfg.server_pid.or_else(|| crate::probe::find_server_pid(cfg.target));
    let mut sampler = sampler::Sampler::new(start, server_pid, http_addr, cfg.target, total, cfg.progress);
    let end = start + Duration::from_secs_f64(ramp_s) + cfg.duration;
    // Everyone leaves at `end`; allow a little for the goodbyes.
    let hard_end = end + Duration::from_secs(5);
    let mut next = start;
    loop {
        next += Duration::from_secs(1);
        tokio::time::sleep_until(next.into()).await;
        sampler.sample(&clients).await;
        let all_done = launcher.is_finished() && clients.iter().all(|c| c.borrow().done);
        if all_done || Instant::now() >= hard_end {
            break;
        }
    }
    sampler.finish();
    launcher.abort();
    let latency = shared.borrow().latency.clone();
    let send_lag = shared.borrow().send_lag.clone();
    let server_cpus = server_pid.map(crate::probe::allowed_cpus).unwrap_or(0);
    Ok(RunOutcome {
        config: cfg,
        clients,
        latency,
        send_lag,
        samples: sampler.samples,
        server_pid,
        server_cpus,
        ramp_end_s: ramp_s,
        wall_s: start.elapsed().as_secs_f64(),
        audio_kbps: 32.0,
        video_kbps: video_layers.iter().map(|l| l.kbps).sum(),
        // Audio-only rooms send no video.
        video_layers,
    })
}

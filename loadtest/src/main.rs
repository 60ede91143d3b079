//! `plenum-loadtest`: real WebRTC load against a Plenum server, and the forwarding benchmark.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use plenum_loadtest::bench::{BenchConfig, bench_forward, initial_estimate_for};
use plenum_loadtest::client::Target;
use plenum_loadtest::client::tiles::TileSizes;
use plenum_loadtest::client::janus::config::{
    DEBIAN_MODULES, JanusConfig, janus_command_line, require_host_ipv4, write_config,
};
use plenum_loadtest::report::{self, Limits};
use plenum_loadtest::run::{RunConfig, Scenario};
use plenum_loadtest::shim::ImpairmentConfig;
use plenum_loadtest::{LoadError, run};

#[derive(Debug, Parser)]
#[command(name = "plenum-loadtest", version, about = "Real WebRTC load for Plenum, and the forwarding benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Join simulated participants to a running server and report what they saw.
    ///
    /// To see which side runs out of CPU, pin them apart: `taskset -c 0 plenum serve` and
    /// `taskset -c 1 plenum-loadtest run ...`.
    Run(Box<RunArgs>),
    /// The real SFU in-process (1 worker) with 1 publisher and N subscribers over loopback, against a naive UDP
    /// forwarder in the same run: CPU time of the forwarding thread per forwarded packet.
    BenchForward(BenchArgs),
    /// Write a configuration folder for a Janus WebRTC Gateway on loopback (VideoRoom plugin and WebSocket
    /// transport only, no Admin API) to compare against with `run --target janus`; prints Janus's arguments.
    JanusConfig(JanusConfigArgs),
}

#[derive(Debug, clap::Args)]
struct JanusConfigArgs {
    /// The folder to write (created if missing).
    dir: PathBuf,
    /// WebSocket API port on 127.0.0.1.
    #[arg(long, default_value_t = 8188)]
    ws_port: u16,
    /// The address for Janus's ICE candidates (default: the first IPv4 address of a non-loopback interface;
    /// Janus gathers none on loopback). Run the load generator with the same --bind-ip.
    #[arg(long)]
    ip: Option<std::net::Ipv4Addr>,
    /// RTP/RTCP port range, e.g. 20000-20999 (default: any).
    #[arg(long)]
    rtp_ports: Option<String>,
    /// Folder of the installed Janus modules (with plugins/ and transports/).
    #[arg(long, default_value = DEBIAN_MODULES)]
    modules: PathBuf,
    /// Janus log level 0-7.
    #[arg(long, default_value_t = 3)]
    debug_level: u8,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The server: Plenum, or the Janus WebRTC Gateway's VideoRoom plugin (for comparison; see janus-config).
    #[arg(long, value_enum, default_value = "plenum")]
    target: Target,
    /// Base URL of the server (default http://127.0.0.1:8080; Janus: its WebSocket transport,
    /// ws://127.0.0.1:8188). Several, comma-separated, for a cluster (e.g. two signaling nodes): the
    /// participants of each room are spread over them; server CPU and forwarded packets are read from the first.
    #[arg(long)]
    url: Option<String>,
    /// Address the participants' UDP sockets bind to. Default 127.0.0.1; with --target janus the first IPv4
    /// address of a non-loopback interface (Janus gathers no candidates on loopback; janus-config picks the
    /// same one).
    #[arg(long)]
    bind_ip: Option<std::net::IpAddr>,
    /// The server's token secret (else read from --secret-file).
    #[arg(long, env = "PLENUM_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// File with the server's token secret.
    #[arg(long, default_value = "data/secret")]
    secret_file: PathBuf,
    #[arg(long, value_enum, default_value = "meeting")]
    scenario: Scenario,
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    /// Publishers per room (meeting, audio-only).
    #[arg(long, default_value_t = 4)]
    publishers: usize,
    /// Receive-only participants per room (webinar: the viewers).
    #[arg(long, alias = "viewers", default_value_t = 0)]
    subscribers: usize,
    /// Joins per second.
    #[arg(long, default_value_t = 5.0)]
    ramp: f64,
    /// Time after the last join, e.g. 30s, 5m.
    #[arg(long, default_value = "30s", value_parser = humantime_secs)]
    duration: Duration,
    /// Publish VP8 simulcast as the web client does: three encodings (rids l, m, h: 320x180, 640x360,
    /// 1280x720) in step, each its own RTP stream with the mid and rid header extensions. Against Janus too
    /// (rid_order lmh; the tiles pick each subscription's substream).
    #[arg(long, default_value = "off", value_parser = on_off, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "on")]
    simulcast: bool,
    /// How large the participants show the others' videos (sent in `video_sizes`; the SFU picks each video's
    /// layer from it): grid = everyone in one grid on a 1280x720 stage as the web client lays it out (4 in a
    /// room: 632x355 tiles), large = 1280x720, small = 320x180, mixed = alternately large and small within each
    /// room, none = never say (the SFU sends the best layer the bandwidth allows).
    #[arg(long, value_enum, default_value = "grid")]
    tile_sizes: TileSizes,
    /// Rotate the active speaker of each room every this many seconds (others send room noise).
    #[arg(long, value_parser = humantime_secs)]
    speakers_switch: Option<Duration>,
    /// Opus DTX: leave out silent frames.
    #[arg(long, default_value = "on", value_parser = on_off, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "on")]
    dtx: bool,
    /// Video layer sent without simulcast: 0 = 320x180, 1 = 640x360, 2 = 1280x720.
    #[arg(long, default_value_t = 1)]
    video_layer: usize,
    /// Per-client impairment: random loss in % (each direction).
    #[arg(long, default_value_t = 0.0)]
    loss_pct: f64,
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Per-client rate cap in kbit/s (each direction; 0 = none).
    #[arg(long, default_value_t = 0)]
    rate_kbps: u32,
    /// The server's process id for CPU and memory (default: a process named `plenum` running `serve`, or
    /// `janus`).
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long)]
    json: Option<PathBuf>,
    #[arg(long)]
    html: Option<PathBuf>,
    /// Exit non-zero when total loss exceeds this (%).
    #[arg(long)]
    max_loss_pct: Option<f64>,
    /// Exit non-zero when the join time's p95 exceeds this (ms).
    #[arg(long)]
    max_join_p95_ms: Option<f64>,
    /// Exit non-zero when more joins than this fail.
    #[arg(long)]
    max_failed_joins: Option<usize>,
    /// No live progress.
    #[arg(long)]
    quiet: bool,
    /// Pin the load generator to this CPU (pin the server to another one: `taskset -c 0 plenum serve`).
    #[arg(long)]
    pin: Option<usize>,
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    #[arg(long, default_value_t = 10)]
    fanout: usize,
    /// Measured seconds (after 2 s of warm-up).
    #[arg(long, default_value_t = 8.0)]
    seconds: f64,
    /// Packets per second from the publisher.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// RTP payload bytes.
    #[arg(long, default_value_t = 1200)]
    payload: usize,
    /// The SFU's initial bandwidth estimate per subscriber, kbit/s. `auto`: the stream's rate plus 50 %, so
    /// forwarding runs at full rate from the start (congestion control stays on and adapts it); `default`: the
    /// SFU's normal 1500 kbit/s, which the estimate must first grow out of by probing.
    #[arg(long, default_value = "auto")]
    initial_estimate_kbps: String,
    /// Packets the publisher (and the naive forwarder's source) sends back to back: 1 spreads them evenly; 8
    /// sends each 8-packet frame as one burst, as a camera's encoder does.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    burst: u32,
    #[arg(long)]
    json: Option<PathBuf>,
}

fn humantime_secs(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, mul) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("not a duration: {s} (examples: 20s, 5m)"))?;
    if !(0.0..=86_400.0).contains(&(v * mul)) {
        return Err(format!("duration out of range: {s}"));
    }
    Ok(Duration::from_secs_f64(v * mul))
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(format!("expected on or off, got {s}")),
    }
}

fn write(path: &PathBuf, text: &str) -> Result<(), LoadError> {
    std::fs::write(path, text).map_err(|source| LoadError::Write { path: path.display().to_string(), source })
}

fn secret(a: &RunArgs) -> Result<Vec<u8>, LoadError> {
    let text = match &a.secret {
        Some(s) => s.clone(),
        None => std::fs::read_to_string(&a.secret_file).map_err(|e| {
            LoadError::Arg(format!("cannot read the server secret {}: {e} (give --secret)", a.secret_file.display()))
        })?,
    };
    // The server uses the trimmed text as the key.
    Ok(text.trim().as_bytes().to_vec())
}

fn run_cmd(a: RunArgs) -> Result<bool, LoadError> {
    if let Some(cpu) = a.pin {
        pin_to(cpu)?;
    }
    let url = a.url.clone().unwrap_or_else(|| match a.target {
        Target::Plenum => "http://127.0.0.1:8080".into(),
        Target::Janus => "ws://127.0.0.1:8188".into(),
    });
    let bind_ip = match (a.bind_ip, a.target) {
        (Some(ip), _) => ip,
        (None, Target::Plenum) => std::net::Ipv4Addr::LOCALHOST.into(),
        (None, Target::Janus) => require_host_ipv4()?.into(),
    };
    let cfg = RunConfig {
        target: a.target,
        bind_ip,
        url,
        secret: match a.target {
            Target::Plenum => secret(&a)?,
            Target::Janus => Vec::new(),
        },
        scenario: a.scenario,
        rooms: a.rooms,
        publishers: a.publishers,
        subscribers: a.subscribers,
        ramp: a.ramp,
        duration: a.duration,
        simulcast: a.simulcast,
        tile_sizes: a.tile_sizes,
        speakers_switch: a.speakers_switch,
        dtx: a.dtx,
        video_layer: a.video_layer,
        impairment: ImpairmentConfig {
            loss_pct: a.loss_pct,
            delay: Duration::from_millis(a.delay_ms),
            jitter: Duration::from_millis(a.jitter_ms),
            rate_kbps: a.rate_kbps,
        },
        server_pid: a.server_pid,
        progress: !a.quiet,
    };
    let limits = Limits {
        max_loss_pct: a.max_loss_pct,
        max_join_p95_ms: a.max_join_p95_ms,
        max_failed_joins: a.max_failed_joins,
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    let outcome = local.block_on(&rt, run::run(cfg))?;
    let r = report::build(&outcome, limits);
    print!("{}", report::render_text(&r));
    if let Some(p) = &a.json {
        write(p, &serde_json::to_string_pretty(&r).map_err(|e| LoadError::Arg(e.to_string()))?)?;
    }
    if let Some(p) = &a.html {
        write(p, &report::render_html(&r))?;
    }
    Ok(r.limit_violations.is_empty())
}

/// Restrict this process (the load generator's one thread, and any helper) to one CPU.
fn pin_to(cpu: usize) -> Result<(), LoadError> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(LoadError::Arg(format!("no CPU {cpu}")));
    }
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET and sched_setaffinity get valid pointers and sizes.
    let ok = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    };
    if ok {
        Ok(())
    } else {
        Err(LoadError::Arg(format!("cannot pin to CPU {cpu}: {}", std::io::Error::last_os_error())))
    }
}

fn bench_cmd(a: BenchArgs) -> Result<bool, LoadError> {
    let initial_estimate_bps = match a.initial_estimate_kbps.as_str() {
        "auto" => Some(initial_estimate_for(a.rate, a.payload)),
        "default" => None,
        k => Some(
            k.parse::<u64>()
                .map_err(|_| LoadError::Arg(format!("--initial-estimate-kbps: auto, default or kbit/s, not {k:?}")))?
                * 1000,
        ),
    };
    let r = bench_forward(BenchConfig {
        fanout: a.fanout,
        seconds: a.seconds,
        rate: a.rate,
        payload: a.payload,
        initial_estimate_bps,
        burst: a.burst,
    })?;
    let text = serde_json::to_string_pretty(&r).map_err(|e| LoadError::Arg(e.to_string()))?;
    println!("{text}");
    if let Some(p) = &a.json {
        write(p, &text)?;
    }
    if !r.window_valid {
        eprintln!(
            "plenum-loadtest: warning: the SFU did not forward at full rate in the window ({} videos paused at \
             its start, {} of {} packets): the ratio is not comparable",
            r.sfu_videos_paused_in_window,
            r.sfu_forwarded,
            (r.fanout as f64 * r.rate_pps as f64 * r.seconds) as u64
        );
    }
    Ok(true)
}

fn janus_config_cmd(a: JanusConfigArgs) -> Result<bool, LoadError> {
    let rtp_ports = match &a.rtp_ports {
        None => None,
        Some(r) => {
            let parsed = r
                .split_once('-')
                .and_then(|(x, y)| Some((x.trim().parse::<u16>().ok()?, y.trim().parse::<u16>().ok()?)));
            match parsed {
                Some((x, y)) if x > 0 && x <= y => Some((x, y)),
                _ => {
                    return Err(LoadError::Arg(format!("--rtp-ports: expected MIN-MAX, e.g. 20000-20999, not {r:?}")));
                }
            }
        }
    };
    let media_ip = match a.ip {
        Some(ip) => ip,
        None => require_host_ipv4()?,
    };
    let cfg = JanusConfig { ws_port: a.ws_port, media_ip, modules: a.modules, rtp_ports, debug_level: a.debug_level };
    write_config(&cfg, &a.dir)?;
    println!("{}", janus_command_line(&a.dir.canonicalize()?).join(" "));
    Ok(true)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run_cmd(*a),
        Command::BenchForward(a) => bench_cmd(a),
        Command::JanusConfig(a) => janus_config_cmd(a),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("plenum-loadtest: {e}");
            ExitCode::FAILURE
        }
    }
}

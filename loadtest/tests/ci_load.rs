//! The CI load tests: the `plenum-loadtest` binary runs against a real Plenum server (in this process, on
//! loopback, temp data dir) and must report zero failed joins, loss under 1 %, media in both directions, and a
//! complete JSON report: 2 rooms × 4 publishing participants, and a simulcast meeting with mixed tile sizes
//! (one at a time, so neither measures the other's load).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Duration;

use plenum_signaling::{Server, ServerConfig};
use serde_json::Value;

const SECRET: &str = "loadtest-ci-secret-0123456789abcdef0123";

/// The load tests run one after the other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Start a server, run `plenum-loadtest run` with `args` (plus URL, secret, limits, reports) against it, stop
/// the server. Returns the run's output, the JSON report and the HTML report.
fn load_test(name: &str, args: &[&str]) -> (Output, Value, String) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let started = std::time::Instant::now();
    let dir: PathBuf = std::env::temp_dir().join(format!("plenum-loadtest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut config = ServerConfig::loopback(dir.join("data"));
    config.secret = Some(SECRET.to_owned());
    config.workers = 1;
    let server: Server = rt.block_on(Server::start(config)).expect("server starts");
    let url = format!("http://{}", server.local_addr());
    let json = dir.join("report.json");
    let html = dir.join("report.html");

    let out = Command::new(env!("CARGO_BIN_EXE_plenum-loadtest"))
        .args(["run", "--url", &url, "--secret", SECRET])
        .args(args)
        .args(["--server-pid", &std::process::id().to_string(), "--quiet"])
        .args(["--max-loss-pct", "1", "--max-failed-joins", "0"])
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("plenum-loadtest runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), server.shutdown()).await }).ok();
    assert!(out.status.success(), "limits met and no error: exit {:?}", out.status.code());
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("JSON report parses");
    let page = std::fs::read_to_string(&html).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("load test {name} took {:.1} s", started.elapsed().as_secs_f64());
    (out, r, page)
}

#[test]
#[ignore = "a load test: run alone by the load-test step of scripts/test.sh (cargo test -- --ignored)"]
fn two_rooms_of_four_for_twenty_seconds() {
    let args = ["--scenario", "meeting", "--rooms", "2", "--publishers", "4", "--ramp", "8", "--duration", "18s"];
    let (_, r, page) = load_test("ci", &[&args[..], &["--video-layer", "0"]].concat());
    assert_eq!(r["participants"], 8);
    assert_eq!(r["failed_joins"], 0, "zero failed joins");
    assert!(r["loss_pct_total"].as_f64().unwrap() < 1.0, "loss below 1 %");
    for key in ["join_ms", "first_media_ms", "loss_pct", "e2e_latency_ms", "freezes", "recv_kbps", "server_cpu_us_per_packet"] {
        for p in ["p50", "p95", "p99", "max"] {
            assert!(r[key][p].is_number(), "{key}.{p} is a number: {}", r[key]);
        }
    }
    // Media in both directions: every participant sent, and every participant received audio and video from
    // the three others in its room.
    assert_eq!(r["media"]["publishers_that_sent"], 8);
    assert_eq!(r["media"]["receivers_with_media"], 8);
    assert_eq!(r["media"]["audio_streams"], 8 * 3);
    assert_eq!(r["media"]["video_streams"], 8 * 3);
    assert!(r["packets"]["received"].as_u64().unwrap() > 1000);
    assert!(r["e2e_latency_ms"]["count"].as_u64().unwrap() > 1000);
    assert!(r["join_ms"]["count"] == 8);
    assert!(page.contains("<svg") && !page.contains("<script"), "self-contained HTML with plots");
    // One layer, the low one, is what arrives.
    assert_eq!(r["simulcast"]["enabled"], false);
    let sizes: Vec<&String> = r["simulcast"]["received_frames"].as_object().unwrap().keys().collect();
    assert_eq!(sizes, ["320x180"]);
}

/// Four publishers send three simulcast layers; alternately they show the others large (1280x720) and small
/// (320x180). Large tiles must get the high layer, small ones the low one, every switch at a keyframe.
#[test]
#[ignore = "a load test: run alone by the load-test step of scripts/test.sh (cargo test -- --ignored)"]
fn simulcast_meeting_with_mixed_tiles() {
    let args = ["--scenario", "meeting", "--rooms", "1", "--publishers", "4", "--ramp", "8", "--duration", "16s"];
    let (out, r, page) = load_test("simulcast", &[&args[..], &["--simulcast", "on", "--tile-sizes", "mixed"]].concat());
    assert_eq!(r["failed_joins"], 0, "zero failed joins");
    assert!(r["loss_pct_total"].as_f64().unwrap() < 1.0, "loss below 1 %");
    assert_eq!(r["media"]["video_streams"], 4 * 3);
    let sc = &r["simulcast"];
    assert_eq!(sc["enabled"], true);
    assert_eq!(r["config"]["simulcast"], true);
    assert_eq!(r["config"]["tile_sizes"], "mixed");
    let sent: Vec<(String, u64, u64)> = sc["sent_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["rid"].as_str().unwrap().to_owned(), l["width"].as_u64().unwrap(), l["height"].as_u64().unwrap()))
        .collect();
    assert_eq!(sent, [("l".into(), 320, 180), ("m".into(), 640, 360), ("h".into(), 1280, 720)]);
    assert!(sc["sent_layers"].as_array().unwrap().iter().all(|l| l["kbps"].as_f64().unwrap() > 50.0));
    // Every participant receives three videos; half show them large, half small.
    let receivers = sc["receivers"].as_array().unwrap();
    assert_eq!(receivers.len(), 4);
    for rx in receivers {
        let frames = rx["frames"].as_object().unwrap();
        let total: u64 = frames.values().filter_map(Value::as_u64).sum();
        let high = frames.get("1280x720").and_then(Value::as_u64).unwrap_or(0);
        match rx["tiles"].as_str().unwrap() {
            "large" => {
                assert_eq!(rx["main"], "1280x720", "large tiles get the high layer: {rx}");
                assert!(high > 3 * 30 * 8, "three videos at 30 fps for most of the run: {rx}");
            }
            "small" => {
                assert_eq!(rx["main"], "320x180", "small tiles get the low layer: {rx}");
                assert!(high * 10 < total, "hardly any high layer for small tiles: {rx}");
            }
            other => panic!("tiles {other}"),
        }
    }
    assert_eq!(sc["by_tile"]["large"]["receivers"], 2);
    assert_eq!(sc["by_tile"]["small"]["receivers"], 2);
    for k in ["p50", "p95", "p99", "max"] {
        assert!(sc["switches"][k].is_number(), "switches.{k}");
    }
    assert_eq!(sc["foreign_frames"], 0, "every layer switch at a keyframe");
    // Nobody shows a video at 640x360: the SFU asks every publisher to pause its middle layer.
    assert!(sc["layers_paused"].as_u64().unwrap() >= 4, "{}", sc["layers_paused"]);
    assert!(sc["video_sizes_sent"].as_u64().unwrap() >= 12);
    assert!(String::from_utf8_lossy(&out.stdout).contains("received layers, large tiles"));
    assert!(page.contains("Video layers"));
}

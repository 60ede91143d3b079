//! The comparison target works: a real Janus WebRTC Gateway (Debian's `janus` package) on loopback, configured
//! by `plenum-loadtest janus-config` (VideoRoom and WebSocket transport only, random port), and a short meeting
//! of 3 participants through `plenum-loadtest run --target janus`: zero failed joins, media in both directions,
//! loss under 1 %, a complete JSON report with Janus's CPU. Then, on the same Janus, a simulcast meeting of 4 with
//! mixed tiles: Janus's subscribers get the substream the tile asks for (large 1280x720, small 320x180).

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Janus(Child);

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
#[ignore = "a load test against a real Janus: run by the load-test step of scripts/test.sh (cargo test -- --ignored)"]
fn three_participants_meet_on_janus() {
    let dir = std::env::temp_dir().join(format!("plenum-loadtest-janus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let conf = dir.join("conf");
    let lt = env!("CARGO_BIN_EXE_plenum-loadtest");
    let status = Command::new(lt)
        .args(["janus-config", conf.to_str().unwrap(), "--ws-port", &port.to_string()])
        .status()
        .expect("plenum-loadtest janus-config runs");
    assert!(status.success(), "janus-config writes the configuration");
    let log = std::fs::File::create(dir.join("janus.log")).unwrap();
    let child = Command::new("janus")
        .args(["-F", conf.to_str().unwrap(), "-C", conf.join("janus.jcfg").to_str().unwrap()])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("janus starts (Debian package janus, installed by scripts/test.sh)");
    let janus = Janus(child);
    let pid = janus.0.id();
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(15), "Janus listens within 15 s: {}", janus_log(&dir));
        std::thread::sleep(Duration::from_millis(100));
    }

    // One meeting run against this Janus with the limits the test needs; its JSON report.
    let meeting = |args: &[&str]| -> Value {
        let json = dir.join("report.json");
        let out = Command::new(lt)
            .args(["run", "--target", "janus", "--url", &format!("ws://127.0.0.1:{port}"), "--scenario", "meeting"])
            .args(args)
            .args(["--server-pid", &pid.to_string(), "--quiet", "--max-loss-pct", "1", "--max-failed-joins", "0"])
            .arg("--json")
            .arg(&json)
            .output()
            .expect("plenum-loadtest runs");
        eprintln!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "limits met and no error: exit {:?}\n{}", out.status.code(), janus_log(&dir));
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("JSON report parses")
    };

    let r = meeting(&["--rooms", "1", "--publishers", "3", "--ramp", "5", "--duration", "10s", "--video-layer", "0"]);
    assert_eq!(r["target"], "janus");
    assert_eq!(r["participants"], 3);
    assert_eq!(r["failed_joins"], 0, "zero failed joins");
    assert!(r["loss_pct_total"].as_f64().unwrap() < 1.0, "loss below 1 %");
    // Media in both directions: everyone sent, and everyone received audio and video from the two others.
    assert_eq!(r["media"]["publishers_that_sent"], 3);
    assert_eq!(r["media"]["receivers_with_media"], 3);
    assert_eq!(r["media"]["audio_streams"], 3 * 2);
    assert_eq!(r["media"]["video_streams"], 3 * 2);
    assert!(r["packets"]["received"].as_u64().unwrap() > 500, "{}", r["packets"]);
    assert!(r["e2e_latency_ms"]["count"].as_u64().unwrap() > 500);
    for key in ["join_ms", "first_media_ms", "e2e_latency_ms", "recv_kbps"] {
        assert!(r[key]["p95"].is_number(), "{key}: {}", r[key]);
    }
    // Janus's CPU was read from /proc/<pid>, and its forwarded packets estimated from what arrived.
    assert_eq!(r["server"]["pid"], pid);
    assert!(r["server"]["cpu_pct"]["count"].as_u64().unwrap() > 5);
    assert!(r["server"]["forwarded_source"].as_str().unwrap().contains("received"));

    // Simulcast: publishers send three layers (rid_order lmh); large tiles configure substream 2, small ones 0.
    let r = meeting(&[
        "--rooms", "1", "--publishers", "4", "--ramp", "8", "--duration", "10s",
        "--simulcast", "on", "--tile-sizes", "mixed",
    ]);
    assert_eq!(r["failed_joins"], 0);
    assert_eq!(r["media"]["video_streams"], 4 * 3);
    let sc = &r["simulcast"];
    assert_eq!(sc["enabled"], true);
    assert_eq!(sc["foreign_frames"], 0, "substream switches at keyframes");
    let receivers = sc["receivers"].as_array().unwrap();
    assert_eq!(receivers.len(), 4);
    for rx in receivers {
        let want = if rx["tiles"] == "large" { "1280x720" } else { "320x180" };
        assert_eq!(rx["main"], want, "{rx}");
    }
    drop(janus);
    let _ = std::fs::remove_dir_all(&dir);
}

fn janus_log(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(dir.join("janus.log")).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(40).collect();
    format!("--- janus.log (last lines) ---\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
}

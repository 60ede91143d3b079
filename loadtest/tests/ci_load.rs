//! The CI load test: the `plenum-loadtest` binary runs 2 rooms × 4 publishing participants for a short while
//! against a real Plenum server (in this process, on loopback, temp data dir) and must report zero failed joins,
//! loss under 1 %, media in both directions, and a complete JSON report.

use std::process::Command;
use std::time::Duration;

use plenum_signaling::{Server, ServerConfig};
use serde_json::Value;

const SECRET: &str = "loadtest-ci-secret-0123456789abcdef0123";

#[test]
#[ignore = "a load test: run alone by the load-test step of scripts/test.sh (cargo test -- --ignored)"]
fn two_rooms_of_four_for_twenty_seconds() {
    let dir = std::env::temp_dir().join(format!("plenum-loadtest-ci-{}", std::process::id()));
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
        .args(["run", "--url", &url, "--secret", SECRET, "--scenario", "meeting"])
        .args(["--rooms", "2", "--publishers", "4", "--ramp", "8", "--duration", "18s", "--video-layer", "0"])
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
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && !page.contains("<script"), "self-contained HTML with plots");
    let _ = std::fs::remove_dir_all(&dir);
}

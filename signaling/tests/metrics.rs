//! `/metrics` covers the process, the SFU workers, rooms and participants, and failed joins by reason.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

/// The value of the first sample of `name` with all `labels` (exact `key="value"` pairs), if present.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        (metric == name && labels.iter().all(|l| rest.contains(l))).then(|| value.parse().ok())?
    })
}

async fn scrape(server: &TestServer) -> String {
    let (status, headers, body) = http_get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").unwrap().starts_with("text/plain"));
    body
}

#[tokio::test]
async fn metrics_cover_process_workers_rooms_and_failed_joins() {
    let server = start("metrics").await;
    let (_erika, _) = server.join("budget", "erika").await;
    let (_jonas, _) = server.join("budget", "jonas").await;

    let mut bad = server.connect().await;
    send(&mut bad, json!({"type": "join", "protocol": 1, "room": "budget", "token": "not-a-token"})).await;
    expect_error(&mut bad, "token_invalid", true).await;

    // Worker gauges are flushed about once a second.
    let mut text = scrape(&server).await;
    for _ in 0..30 {
        if sample(&text, "plenum_sfu_worker_heartbeat_seconds", &["worker=\"0\""]).is_some()
            && sample(&text, "plenum_sfu_participants", &["worker=\"0\""]) == Some(2.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        text = scrape(&server).await;
    }

    let resident = sample(&text, "process_resident_memory_bytes", &[]).expect("process memory");
    assert!(resident > 1e6, "{resident}");
    assert!(sample(&text, "process_cpu_seconds_total", &[]).is_some(), "process CPU");
    assert!(sample(&text, "process_threads", &[]).is_some_and(|n| n >= 2.0), "threads");

    assert_eq!(sample(&text, "plenum_rooms", &[]), Some(1.0));
    assert_eq!(sample(&text, "plenum_participants", &[]), Some(2.0));
    assert_eq!(sample(&text, "plenum_sfu_participants", &["worker=\"0\""]), Some(2.0));
    assert_eq!(sample(&text, "plenum_sfu_rooms", &["worker=\"0\""]), Some(1.0));
    assert_eq!(sample(&text, "plenum_sfu_tracks_published", &["worker=\"0\""]), Some(0.0));
    let heartbeat = sample(&text, "plenum_sfu_worker_heartbeat_seconds", &["worker=\"0\""]).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((now - heartbeat).abs() < 10.0, "heartbeat {heartbeat} vs now {now}");
    assert!(sample(&text, "plenum_sfu_worker_cpu_seconds_total", &["worker=\"0\""]).is_some());

    assert_eq!(sample(&text, "plenum_join_failures_total", &["reason=\"token_invalid\""]), Some(1.0));
    assert_eq!(sample(&text, "plenum_signaling_errors_total", &["code=\"token_invalid\""]), Some(1.0));
    assert_eq!(sample(&text, "plenum_joins_total", &[]), Some(2.0));
    assert_eq!(sample(&text, "plenum_draining", &[]), Some(0.0));
    // Described, so Prometheus shows the help text.
    assert!(text.contains("# HELP plenum_sfu_worker_cpu_seconds_total"), "{text}");
}

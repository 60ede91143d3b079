//! Shutdown loses no database write: moderator actions audited on background tasks right before the server
//! stops are in the database afterwards.

mod common;

use std::time::Duration;

use common::*;
use plenum_signaling::audit::AuditLog;
use plenum_signaling::db::Db;
use plenum_signaling::token::Claims;
use serde_json::json;

/// The server runs in its own runtime, dropped right after `shutdown` returns, as when the process ends: a write
/// still on a background task then would be cancelled.
#[test]
fn audit_entries_written_just_before_shutdown_are_kept() {
    let config = test_config("shutdown-flush");
    let dir = config.data_dir.clone();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Kept until the end: dropping it removes the data directory.
    let stopped = rt.block_on(run_and_stop(config));
    drop(rt);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let db = Db::open(None, &dir).await.expect("database reopens");
        let records = AuditLog::new(db).list(100, None).await.expect("audit log readable");
        let locks = records.iter().filter(|r| r.action == "room.lock" || r.action == "room.unlock").count();
        assert_eq!(locks, ACTIONS, "every action audited before the stop is in the database: {records:?}");
    });
    drop(stopped);
}

const ACTIONS: usize = 10;

async fn run_and_stop(config: plenum_signaling::ServerConfig) -> TestServer {
    let mut server = start_with(config).await;
    let mut chair = server.connect().await;
    let claims = Claims::new("board", "chair", "Chair", true, Duration::from_secs(600));
    send(&mut chair, json!({"type": "join", "protocol": 1, "room": "board", "token": server.keys.sign(&claims).unwrap()})).await;
    assert_eq!(recv(&mut chair).await["type"], "joined");

    // Several audited actions, then stop at once: no waiting for the background writes.
    for i in 0..ACTIONS {
        let action = if i % 2 == 0 { "lock" } else { "unlock" };
        send(&mut chair, json!({"type": "moderate", "action": action})).await;
    }
    // Every action was handled (its broadcast arrived) before the stop.
    let mut seen = 0;
    while seen < ACTIONS {
        let msg = recv(&mut chair).await;
        assert_ne!(msg["type"], "error", "moderation refused: {msg}");
        seen += usize::from(msg["type"] == "room_locked");
    }
    server.server.take().expect("running").shutdown().await.expect("clean shutdown");
    server
}

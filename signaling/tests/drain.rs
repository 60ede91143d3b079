//! Graceful drain of the real `plenum` binary: SIGTERM tells joined clients, refuses new meetings, keeps running
//! ones, fails `/readyz`, and exits after the last participant left or at the deadline; a second SIGTERM stops at
//! once.

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{SECRET, Ws, expect_error, http_get, recv, recv_close, send, temp_dir};
use plenum_signaling::token::{Claims, TokenKeys};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

struct Plenum {
    child: Child,
    addr: SocketAddr,
    keys: TokenKeys,
    dir: std::path::PathBuf,
}

impl Plenum {
    async fn start(label: &str, drain_timeout: &str) -> Plenum {
        let dir = temp_dir(label);
        let mut child = Command::new(env!("CARGO_BIN_EXE_plenum"))
            .args(["serve", "--http-addr", "127.0.0.1:0", "--media-addr", "127.0.0.1:0", "--workers", "1"])
            .args(["--drain-timeout", drain_timeout])
            .arg("--data-dir")
            .arg(&dir)
            .env("PLENUM_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("plenum starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("Plenum is running at http://") {
                    return url.trim().parse::<SocketAddr>().expect("an address");
                }
            }
            panic!("plenum exited before it ran");
        })
        .await
        .expect("plenum says where it runs");
        // Keep reading stdout so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Plenum { child, addr, keys: TokenKeys::new(SECRET.as_bytes()), dir }
    }

    fn sigterm(&self) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(status.success());
    }

    async fn connect(&self) -> Ws {
        tokio_tungstenite::connect_async(format!("ws://{}/ws", self.addr)).await.expect("ws connect").0
    }

    async fn send_join(&self, ws: &mut Ws, room: &str, identity: &str) {
        let claims = Claims::new(room, identity, identity, false, Duration::from_secs(600));
        let token = self.keys.sign(&claims).unwrap();
        send(ws, json!({"type": "join", "protocol": 1, "room": room, "token": token})).await;
    }

    async fn join(&self, room: &str, identity: &str) -> Ws {
        let mut ws = self.connect().await;
        self.send_join(&mut ws, room, identity).await;
        let joined = recv(&mut ws).await;
        assert_eq!(joined["type"], "joined", "{joined}");
        ws
    }

    /// Waits for the process to end; returns how long that took and whether it exited successfully.
    async fn exited_within(&mut self, limit: Duration) -> (Duration, bool) {
        let t0 = Instant::now();
        let status = tokio::time::timeout(limit, self.child.wait()).await.expect("plenum exits in time").unwrap();
        (t0.elapsed(), status.success())
    }

    async fn ready(&self) -> (u16, String) {
        let (status, _, body) = http_get(self.addr, "/readyz").await;
        (status, body)
    }
}

impl Drop for Plenum {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The next message that is not about others' presence or media (the `draining` notice comes first in practice,
/// but a `participant_joined` may overtake it).
async fn recv_skipping_presence(ws: &mut Ws) -> Value {
    loop {
        let msg = recv(ws).await;
        if !matches!(msg["type"].as_str(), Some("participant_joined" | "participant_left" | "speakers")) {
            return msg;
        }
    }
}

fn assert_draining(msg: &Value, at_most: u64) {
    assert_eq!(msg["type"], "draining", "{msg}");
    let seconds = msg["seconds"].as_u64().expect("seconds");
    assert!(seconds <= at_most && seconds + 10 >= at_most, "{msg}");
}

#[tokio::test]
async fn sigterm_drains_until_the_last_participant_leaves() {
    let mut plenum = Plenum::start("drain-last", "5m").await;
    assert_eq!(plenum.ready().await, (200, "ready\n".to_owned()));
    let mut erika = plenum.join("budget", "erika").await;

    plenum.sigterm();
    assert_draining(&recv_skipping_presence(&mut erika).await, 300);
    let (status, body) = plenum.ready().await;
    assert_eq!((status, body.as_str()), (503, "not ready: draining\n"));
    let (status, _, _) = http_get(plenum.addr, "/healthz").await;
    assert_eq!(status, 200, "alive while draining");

    // A new meeting is refused, with a clear error, and the socket closes.
    let mut late = plenum.connect().await;
    plenum.send_join(&mut late, "new-room", "max").await;
    let refused = expect_error(&mut late, "draining", true).await;
    assert!(refused["message"].as_str().unwrap().contains("no new meetings"), "{refused}");
    assert_eq!(recv_close(&mut late).await.map(|f| u16::from(f.code)), Some(1008));

    // The running meeting still takes people, who hear about the drain at once.
    let mut jonas = plenum.join("budget", "jonas").await;
    assert_draining(&recv_skipping_presence(&mut jonas).await, 300);

    // The process stays while anybody is in the meeting.
    send(&mut erika, json!({"type": "leave"})).await;
    assert!(tokio::time::timeout(Duration::from_secs(1), plenum.child.wait()).await.is_err(), "jonas is still there");
    send(&mut jonas, json!({"type": "leave"})).await;
    let (took, success) = plenum.exited_within(Duration::from_secs(15)).await;
    assert!(success, "a drained server exits with 0");
    assert!(took < Duration::from_secs(10), "exit soon after the last one left, took {took:?}");
}

#[tokio::test]
async fn sigterm_stops_at_the_deadline() {
    let mut plenum = Plenum::start("drain-deadline", "3s").await;
    let mut erika = plenum.join("budget", "erika").await;
    let t0 = Instant::now();
    plenum.sigterm();
    assert_draining(&recv_skipping_presence(&mut erika).await, 3);
    // Erika stays; at the deadline the server closes her session (1001) and exits.
    let close = recv_close_within(&mut erika, Duration::from_secs(15)).await;
    assert_eq!(close, Some(1001));
    let (_, success) = plenum.exited_within(Duration::from_secs(15)).await;
    assert!(success);
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(2900), "not before the deadline: {took:?}");
}

#[tokio::test]
async fn a_second_sigterm_stops_at_once() {
    let mut plenum = Plenum::start("drain-twice", "30m").await;
    let mut erika = plenum.join("budget", "erika").await;
    plenum.sigterm();
    assert_draining(&recv_skipping_presence(&mut erika).await, 1800);
    plenum.sigterm();
    let close = recv_close_within(&mut erika, Duration::from_secs(10)).await;
    assert_eq!(close, Some(1001));
    let (took, success) = plenum.exited_within(Duration::from_secs(10)).await;
    assert!(success);
    assert!(took < Duration::from_secs(8), "{took:?}");
}

/// The close code the server ends this socket with (text messages and pings are skipped).
async fn recv_close_within(ws: &mut Ws, limit: Duration) -> Option<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    tokio::time::timeout(limit, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("closed in time")
}

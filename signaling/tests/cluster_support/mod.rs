//! A cluster on loopback for tests: a real `redis-server` on a free port with a temporary directory, and `plenum`
//! processes (signaling nodes and SFU nodes) started from the real binary.
#![allow(dead_code)]

pub mod media;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use redis::AsyncCommands;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{SECRET, TestServer, Ws, recv, send, temp_dir};

const START_LIMIT: Duration = Duration::from_secs(20);

/// A private `redis-server` (no persistence), killed on drop.
pub struct RedisServer {
    child: Child,
    pub url: String,
    dir: PathBuf,
}

impl RedisServer {
    pub async fn start() -> RedisServer {
        let dir = temp_dir("redis");
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server runs (Debian package redis-server; scripts/test.sh installs it)");
        let url = format!("redis://127.0.0.1:{port}/");
        let client = redis::Client::open(url.as_str()).unwrap();
        for _ in 0..100 {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
            {
                return RedisServer { child, url, dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not come up on port {port}");
    }

    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap()
    }

    /// The SFU node a room is recorded on.
    pub async fn room_node(&self, room: &str) -> Option<String> {
        self.conn().await.get(format!("plenum:room:{room}:node")).await.unwrap()
    }

    /// A node's registration (JSON), if live.
    pub async fn node_info(&self, id: &str) -> Option<Value> {
        let text: Option<String> = self.conn().await.get(format!("plenum:node:{id}")).await.unwrap();
        text.map(|t| serde_json::from_str(&t).unwrap())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `plenum` process, killed on drop.
pub struct Node {
    pub child: Child,
    pub addr: SocketAddr,
    /// The SFU node id (`plenum sfu`).
    pub id: Option<String>,
    dir: PathBuf,
}

impl Node {
    /// `plenum serve --role signaling`.
    pub async fn signaling(redis: &RedisServer) -> Node {
        Self::serve(redis, "signaling").await
    }

    /// `plenum serve --redis-url ... --role ROLE`.
    pub async fn serve(redis: &RedisServer, role: &str) -> Node {
        Self::serve_with(redis, role, &[]).await
    }

    /// `plenum serve --redis-url ... --role ROLE EXTRA...`.
    pub async fn serve_with(redis: &RedisServer, role: &str, extra: &[&str]) -> Node {
        let dir = temp_dir("cluster-sig");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plenum"));
        cmd.args(["serve", "--http-addr", "127.0.0.1:0", "--media-addr", "127.0.0.1:0", "--workers", "1"])
            .args(["--redis-url", &redis.url, "--role", role, "--drain-timeout", "30s"])
            .args(extra)
            .arg("--data-dir")
            .arg(&dir);
        let (child, line) = spawn(cmd, "Plenum is running at http://").await;
        let addr = line.trim().parse().expect("an address");
        Node { child, addr, id: None, dir }
    }

    /// `plenum sfu` with one worker.
    pub async fn sfu(redis: &RedisServer) -> Node {
        Self::sfu_with(redis, &[]).await
    }

    /// `plenum sfu` with one worker and `extra` flags.
    pub async fn sfu_with(redis: &RedisServer, extra: &[&str]) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plenum"));
        cmd.args(["sfu", "--http-addr", "127.0.0.1:0", "--media-addr", "127.0.0.1:0", "--workers", "1"])
            .args(["--redis-url", &redis.url])
            .args(extra);
        if !extra.contains(&"--drain-timeout") {
            cmd.args(["--drain-timeout", "30s"]);
        }
        let (child, line) = spawn(cmd, "Plenum SFU node ").await;
        // "sfu-N is running at http://ADDR (media [...])"
        let id = line.split_whitespace().next().unwrap().to_owned();
        let addr = line.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        Node { child, addr, id: Some(id), dir: temp_dir("cluster-sfu") }
    }

    pub fn client(&self) -> TestServer {
        TestServer::external(self.addr)
    }

    pub fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill").args([sig, &pid]).status().expect("kill runs");
        assert!(status.success());
    }

    /// The node's /metrics text.
    pub async fn metrics(&self) -> String {
        crate::common::http_get(self.addr, "/metrics").await.2
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Start `cmd` with the test secret; returns the child and the rest of the first stdout line after `prefix`.
async fn spawn(mut cmd: Command, prefix: &str) -> (Child, String) {
    let mut child = cmd
        .env("PLENUM_SECRET", SECRET)
        .env("RUST_LOG", std::env::var("CLUSTER_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::piped())
        .stderr(if std::env::var("CLUSTER_LOG").is_ok() { Stdio::inherit() } else { Stdio::null() })
        .kill_on_drop(true)
        .spawn()
        .expect("plenum starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(START_LIMIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
        panic!("plenum exited before it ran");
    })
    .await
    .expect("plenum says where it runs");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, line)
}

/// Join `room` as `identity` through `node`; returns the socket and `joined`.
pub async fn join(node: &Node, room: &str, identity: &str) -> (Ws, Value) {
    node.client().join(room, identity).await
}

/// Wait until every SFU node in `ids` is registered in Redis.
pub async fn wait_registered(redis: &RedisServer, ids: &[&str]) {
    for _ in 0..100 {
        let mut all = true;
        for id in ids {
            all &= redis.node_info(id).await.is_some();
        }
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nodes {ids:?} did not register");
}

/// Send a chat message.
pub async fn chat(ws: &mut Ws, text: &str) {
    send(ws, json!({"type": "chat", "text": text})).await;
}

/// The next message of type `kind` within `limit` (others skipped; no per-message limit).
pub async fn recv_type_within(ws: &mut Ws, kind: &str, limit: Duration) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let end = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(end, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let msg: Value = serde_json::from_str(&text).expect("JSON");
                if msg["type"] == kind {
                    return msg;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no {kind} within {limit:?}: {other:?}"),
        }
    }
}

/// The next message of type `kind` on a plain socket (others skipped).
pub async fn recv_type(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let msg = recv(ws).await;
        if msg["type"] == kind {
            return msg;
        }
    }
}

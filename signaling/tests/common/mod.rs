//! Shared helpers: a real server in-process on loopback, and a WebSocket client speaking protocol v1.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use plenum_signaling::token::{Claims, TokenKeys};
use plenum_signaling::{Server, ServerConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
const WAIT: Duration = Duration::from_secs(5);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct TestServer {
    pub server: Option<Server>,
    pub addr: SocketAddr,
    pub keys: TokenKeys,
    dir: PathBuf,
}

/// A fresh data directory under the system temp dir.
pub fn temp_dir(label: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("plenum-it-{}-{label}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// HTTP on 127.0.0.1:0, media on 127.0.0.1 port 0, a known secret.
pub fn test_config(label: &str) -> ServerConfig {
    let mut config = ServerConfig::loopback(temp_dir(label));
    config.secret = Some(SECRET.to_owned());
    config
}

pub async fn start(label: &str) -> TestServer {
    start_with(test_config(label)).await
}

pub async fn start_with(config: ServerConfig) -> TestServer {
    let dir = config.data_dir.clone();
    let server = Server::start(config).await.expect("server starts");
    let addr = server.local_addr();
    TestServer { server: Some(server), addr, keys: TokenKeys::new(SECRET.as_bytes()), dir }
}

impl TestServer {
    /// A server running elsewhere (another process) on `addr`, with the test secret.
    pub fn external(addr: SocketAddr) -> TestServer {
        TestServer { server: None, addr, keys: TokenKeys::new(SECRET.as_bytes()), dir: temp_dir("external") }
    }

    pub fn token(&self, room: &str, identity: &str) -> String {
        self.keys.sign(&Claims::new(room, identity, &format!("Name {identity}"), false, Duration::from_secs(600))).unwrap()
    }

    pub async fn connect(&self) -> Ws {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", self.addr)).await.expect("ws connect");
        ws
    }

    /// Connect and join; returns the socket and the `joined` message.
    pub async fn join(&self, room: &str, identity: &str) -> (Ws, Value) {
        let mut ws = self.connect().await;
        send(&mut ws, json!({"type": "join", "protocol": 1, "room": room, "token": self.token(room, identity)})).await;
        let joined = recv(&mut ws).await;
        assert_eq!(joined["type"], "joined", "{joined}");
        (ws, joined)
    }

    pub async fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string().into())).await.expect("ws send");
}

pub async fn send_text(ws: &mut Ws, text: impl Into<String>) {
    ws.send(Message::Text(text.into().into())).await.expect("ws send");
}

/// The next JSON message (control frames skipped); panics on close or after 5 s.
pub async fn recv(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next()).await.expect("a message within 5 s");
        match msg {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).expect("server sends JSON"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Read until the server closes; returns its close frame (skipping text messages).
pub async fn recv_close(ws: &mut Ws) -> Option<CloseFrame> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next()).await.expect("close within 5 s");
        match msg {
            Some(Ok(Message::Close(frame))) => return frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// Expect an `error` with `code`; returns it.
pub async fn expect_error(ws: &mut Ws, code: &str, fatal: bool) -> Value {
    let msg = recv(ws).await;
    assert_eq!(msg["type"], "error", "{msg}");
    assert_eq!(msg["code"], code, "{msg}");
    assert_eq!(msg["fatal"], fatal, "{msg}");
    assert!(msg["message"].as_str().is_some_and(|m| !m.is_empty()), "{msg}");
    msg
}

/// The socket is still served: a ping gets its pong.
pub async fn assert_served(ws: &mut Ws, id: u64) {
    send(ws, json!({"type": "ping", "id": id})).await;
    assert_eq!(recv(ws).await, json!({"type": "pong", "id": id}));
}

/// A raw HTTP/1.1 GET: (status, lowercase headers, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw)).await.expect("response").unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head");
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

//! TURN credentials in `joined` and `resumed`: the configured servers fastest first, a username that expires after
//! `turn_ttl` and names the participant's sid, and a credential that OpenSSL computes the same from the secret.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use plenum_signaling::Server;
use plenum_signaling::config::IceTransportPolicy;
use serde_json::{Value, json};

const TURN_SECRET: &str = "coturn-shared-secret-for-tests";

fn openssl_credential(secret: &str, username: &str) -> Option<String> {
    let out = std::process::Command::new("openssl")
        .args(["dgst", "-sha1", "-hmac", secret, "-binary"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(username.as_bytes())?;
            child.wait_with_output()
        })
        .ok()?;
    out.status.success().then(|| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(out.stdout)
    })
}

/// The TURN entry of `msg` is valid for about `ttl` from now, for the participant's sid.
fn check_turn_entry(msg: &Value, ttl: Duration) -> String {
    let servers = msg["ice_servers"].as_array().expect("ice_servers");
    assert_eq!(servers.len(), 1, "{msg}");
    let entry = &servers[0];
    assert_eq!(
        entry["urls"],
        json!([
            "turn:127.0.0.1:3478?transport=udp",
            "turn:127.0.0.1:3478?transport=tcp",
            "turns:turn.example.org:443?transport=tcp"
        ])
    );
    let username = entry["username"].as_str().expect("a username");
    let (expiry, sid) = username.split_once(':').expect("expiry:sid");
    assert_eq!(sid, msg["you"]["sid"].as_str().unwrap());
    let expiry: u64 = expiry.parse().expect("unix seconds");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(expiry >= now + ttl.as_secs() - 5 && expiry <= now + ttl.as_secs() + 1, "expiry {expiry}, now {now}");
    let credential = entry["credential"].as_str().expect("a credential");
    match openssl_credential(TURN_SECRET, username) {
        Some(expected) => assert_eq!(credential, expected),
        None => panic!("openssl is needed for this test (apt-get install openssl)"),
    }
    username.to_owned()
}

#[tokio::test]
async fn joined_and_resumed_carry_fresh_turn_credentials() {
    let mut config = test_config("turn");
    config.limits.resume_grace = Duration::from_secs(5);
    // Deliberately out of order: TLS, TCP, UDP.
    config.turn_urls = ["turns:turn.example.org:443?transport=tcp", "turn:127.0.0.1:3478?transport=tcp", "turn:127.0.0.1:3478?transport=udp"]
        .iter()
        .map(|u| u.parse().unwrap())
        .collect();
    config.turn_secret = Some(TURN_SECRET.into());
    config.turn_ttl = Duration::from_secs(3600);
    config.ice_transport_policy = IceTransportPolicy::Relay;
    let server = start_with(config).await;

    let (ws, joined) = server.join("turn-room", "erika").await;
    assert_eq!(joined["ice_transport_policy"], "relay");
    let first = check_turn_entry(&joined, Duration::from_secs(3600));

    // A second participant gets its own username.
    let (_b, joined_b) = server.join("turn-room", "max").await;
    let other = check_turn_entry(&joined_b, Duration::from_secs(3600));
    assert_ne!(first, other);

    // After a dropped connection, `resumed` carries credentials again, at least as fresh.
    let token = joined["resume_token"].as_str().unwrap().to_owned();
    drop(ws);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut again = server.connect().await;
    send(&mut again, json!({"type": "resume", "protocol": 1, "room": "turn-room", "resume_token": token})).await;
    let resumed = loop {
        let msg = recv(&mut again).await;
        if msg["type"] == "resumed" {
            break msg;
        }
    };
    assert_eq!(resumed["ice_transport_policy"], "relay");
    let renewed = check_turn_entry(&resumed, Duration::from_secs(3600));
    assert!(renewed > first, "{renewed} is fresher than {first}");
}

#[tokio::test]
async fn without_turn_there_are_no_ice_servers() {
    let server = start("no-turn").await;
    let (_ws, joined) = server.join("plain", "erika").await;
    assert_eq!(joined["ice_servers"], json!([]));
    assert_eq!(joined["ice_transport_policy"], "all");
}

#[tokio::test]
async fn turn_settings_are_checked_at_start() {
    let mut config = test_config("turn-no-secret");
    config.turn_urls = vec!["turn:127.0.0.1:3478".parse().unwrap()];
    let err = Server::start(config).await.err().expect("refused");
    assert_eq!(err.to_string(), "turn_urls is set but turn_secret (or turn_secret_file) is not");

    let mut config = test_config("relay-no-turn");
    config.ice_transport_policy = IceTransportPolicy::Relay;
    let err = Server::start(config).await.err().expect("refused");
    assert_eq!(err.to_string(), "ice_transport_policy = \"relay\" needs turn_urls");
}

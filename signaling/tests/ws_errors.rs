//! Every bad input gets its typed error, while a properly joined participant in the same room keeps being served.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::*;
use futures_util::{SinkExt, StreamExt};
use plenum_signaling::token::Claims;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const ROOM: &str = "errors-room";

#[tokio::test]
async fn malformed_messages_get_typed_errors_and_others_are_unaffected() {
    let server = start("malformed").await;
    let (mut observer, _) = server.join(ROOM, "observer").await;

    let mut c = server.connect().await;
    send_text(&mut c, "this is not json").await;
    expect_error(&mut c, "bad_json", false).await;
    send_text(&mut c, r#"{"type": 42}"#).await;
    expect_error(&mut c, "bad_json", false).await;
    send_text(&mut c, r#"{"type": "teleport"}"#).await;
    expect_error(&mut c, "unknown_message", false).await;
    send(&mut c, json!({"type": "publish_offer", "sdp": "v=0"})).await;
    expect_error(&mut c, "not_joined", false).await;
    send(&mut c, json!({"type": "join", "room": ROOM})).await;
    expect_error(&mut c, "bad_request", false).await;
    c.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    expect_error(&mut c, "bad_request", false).await;
    let big = format!(r#"{{"type":"ping","id":1,"pad":"{}"}}"#, "x".repeat(100 * 1024));
    send_text(&mut c, big).await;
    expect_error(&mut c, "frame_too_large", false).await;
    assert_served(&mut observer, 1).await;

    // Still usable: join, then bad SDP, then a second join.
    send(&mut c, json!({"type": "join", "protocol": 1, "room": ROOM, "token": server.token(ROOM, "c"), "name": "Cee"})).await;
    let joined = recv(&mut c).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    assert_eq!(joined["participants"][0]["identity"], "observer");
    let c_sid = joined["you"]["sid"].as_str().unwrap().to_owned();
    let seen = recv(&mut observer).await;
    assert_eq!(seen["type"], "participant_joined");
    assert_eq!(seen["participant"]["sid"], c_sid.as_str());
    assert_eq!(seen["participant"]["name"], "Cee");

    send(&mut c, json!({"type": "publish_offer", "sdp": "this is not SDP"})).await;
    expect_error(&mut c, "bad_sdp", false).await;
    send(&mut c, json!({"type": "subscribe_answer", "sdp": "v=0"})).await;
    expect_error(&mut c, "unexpected_answer", false).await;
    send(&mut c, json!({"type": "ice_candidate", "target": "publisher", "candidate": "nonsense"})).await;
    expect_error(&mut c, "bad_candidate", false).await;
    send(&mut c, json!({"type": "join", "protocol": 1, "room": ROOM, "token": server.token(ROOM, "c")})).await;
    expect_error(&mut c, "already_joined", false).await;
    assert_served(&mut c, 2).await;
    assert_served(&mut observer, 3).await;

    send(&mut c, json!({"type": "update", "muted": true})).await;
    let updated = recv(&mut observer).await;
    assert_eq!(updated["type"], "participant_updated");
    assert_eq!(updated["participant"]["muted"], true);

    send(&mut c, json!({"type": "leave"})).await;
    assert_eq!(recv_close(&mut c).await.map(|f| f.code), Some(CloseCode::Normal));
    assert_eq!(recv(&mut observer).await, json!({"type": "participant_left", "sid": c_sid, "reason": "left"}));
    assert_served(&mut observer, 4).await;
}

#[tokio::test]
async fn bad_tokens_are_fatal() {
    let server = start("tokens").await;
    let (mut observer, _) = server.join(ROOM, "observer").await;

    let good = server.token(ROOM, "mallory");
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        let payload = String::from_utf8(B64.decode(parts[1]).unwrap()).unwrap();
        let forged = payload.replace("\"moderator\":false", "\"moderator\":true");
        assert_ne!(forged, payload);
        format!("{}.{}.{}", parts[0], B64.encode(forged), parts[2])
    };
    let expired = {
        let mut claims = Claims::new(ROOM, "late", "Late", false, Duration::from_secs(60));
        claims.iat -= 3600;
        claims.exp = claims.iat + 60;
        server.keys.sign(&claims).unwrap()
    };
    let wrong_secret = plenum_signaling::token::TokenKeys::new(b"some-other-secret-0123456789abcdef")
        .sign(&Claims::new(ROOM, "x", "X", false, Duration::from_secs(60)))
        .unwrap();
    let cases = [
        (json!({"type": "join", "protocol": 1, "room": ROOM, "token": "not.a.jwt"}), "token_invalid"),
        (json!({"type": "join", "protocol": 1, "room": ROOM, "token": tampered}), "token_invalid"),
        (json!({"type": "join", "protocol": 1, "room": ROOM, "token": wrong_secret}), "token_invalid"),
        (json!({"type": "join", "protocol": 1, "room": ROOM, "token": expired}), "token_expired"),
        (json!({"type": "join", "protocol": 1, "room": "another-room", "token": good}), "token_wrong_room"),
        (json!({"type": "join", "protocol": 2, "room": ROOM, "token": good}), "protocol_unsupported"),
    ];
    for (i, (join, code)) in cases.into_iter().enumerate() {
        let mut c = server.connect().await;
        send(&mut c, join).await;
        let err = expect_error(&mut c, code, true).await;
        if code == "token_expired" {
            assert!(err["message"].as_str().unwrap().contains("expired at"), "{err}");
        }
        assert_eq!(recv_close(&mut c).await.map(|f| f.code), Some(CloseCode::Policy), "{code}");
        assert_served(&mut observer, i as u64).await;
    }
    // Nobody joined: the observer heard nothing but its pongs.
    assert_served(&mut observer, 100).await;
}

#[tokio::test]
async fn rate_flood_is_limited_then_closed() {
    let server = start("flood").await;
    let (mut observer, _) = server.join(ROOM, "observer").await;
    let (mut flooder, _) = server.join(ROOM, "flooder").await;
    let flooder_sid = recv(&mut observer).await["participant"]["sid"].clone();

    // 600 messages at once: the burst of 100 passes, then errors, and 200 dropped ones close the socket.
    for id in 0..600 {
        flooder.feed(Message::Text(json!({"type": "ping", "id": id}).to_string().into())).await.unwrap();
    }
    flooder.flush().await.unwrap();
    let (mut pongs, mut limited) = (0, 0);
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), flooder.next()).await.unwrap() {
            Some(Ok(Message::Text(text))) => {
                let msg: serde_json::Value = serde_json::from_str(&text).unwrap();
                match msg["type"].as_str() {
                    Some("pong") => pongs += 1,
                    Some("error") => {
                        assert_eq!(msg["code"], "rate_limited", "{msg}");
                        assert_eq!(msg["fatal"], false);
                        limited += 1;
                    }
                    _ => panic!("{msg}"),
                }
            }
            Some(Ok(Message::Close(frame))) => break frame,
            other => panic!("{other:?}"),
        }
    };
    assert!(pongs >= 100, "the burst is served ({pongs})");
    assert_eq!(limited, 199, "the 200th dropped message closes instead");
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Policy));
    let left = recv(&mut observer).await;
    assert_eq!(left, json!({"type": "participant_left", "sid": flooder_sid, "reason": "disconnected"}));
    assert_served(&mut observer, 1).await;
}

#[tokio::test]
async fn frames_over_one_mib_close_with_1009() {
    let server = start("huge").await;
    let (mut observer, _) = server.join(ROOM, "observer").await;
    let c = server.connect().await;
    let (mut tx, mut rx) = c.split();
    let huge = "x".repeat(2 * 1024 * 1024);
    // Send concurrently: the server stops reading after the frame header.
    let sender = tokio::spawn(async move {
        let _ = tx.send(Message::Text(huge.into())).await;
        tx
    });
    let close = match tokio::time::timeout(Duration::from_secs(5), rx.next()).await.expect("close within 5 s") {
        Some(Ok(Message::Close(frame))) => frame,
        other => panic!("expected close 1009, got {other:?}"),
    };
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Size));
    let _ = sender.await;
    assert_served(&mut observer, 1).await;
}

#[tokio::test]
async fn join_timeout_is_fatal() {
    let mut config = test_config("join-timeout");
    config.limits.join_timeout = Duration::from_millis(300);
    let server = start_with(config).await;
    let mut c = server.connect().await;
    assert_served(&mut c, 5).await;
    expect_error(&mut c, "join_timeout", true).await;
    assert_eq!(recv_close(&mut c).await.map(|f| f.code), Some(CloseCode::Policy));
}

//! Chat, hands and resume over real sockets.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn chat_history_hands_and_resume_over_websockets() {
    let mut config = test_config("meeting");
    config.limits.resume_grace = Duration::from_secs(5);
    let server = start_with(config).await;
    let (mut a, joined_a) = server.join("weekly", "erika").await;
    assert_eq!(joined_a["chat"], json!([]));
    assert_eq!(joined_a["hands"], json!([]));
    let token = joined_a["resume_token"].as_str().expect("a resume token").to_owned();
    let a_sid = joined_a["you"]["sid"].clone();

    send(&mut a, json!({"type": "chat", "text": "Guten Morgen"})).await;
    let echoed = recv(&mut a).await;
    assert_eq!(echoed["type"], "chat");
    assert_eq!(echoed["message"]["text"], "Guten Morgen");
    send(&mut a, json!({"type": "hand", "raised": true})).await;
    assert_eq!(recv(&mut a).await, json!({"type": "hand_changed", "sid": a_sid, "raised": true, "by": a_sid, "queue": [a_sid]}));

    // A late joiner gets the history and the queue.
    let (mut b, joined_b) = server.join("weekly", "max").await;
    assert_eq!(joined_b["chat"], json!([echoed["message"]]));
    assert_eq!(joined_b["hands"], json!([a_sid]));
    assert_eq!(recv(&mut a).await["type"], "participant_joined");
    // max is no moderator.
    send(&mut b, json!({"type": "hand", "raised": false, "sid": a_sid})).await;
    expect_error(&mut b, "forbidden", false).await;

    // erika's connection drops; she resumes on a new one and max notices nothing.
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut a2 = server.connect().await;
    send(&mut a2, json!({"type": "resume", "protocol": 1, "room": "weekly", "resume_token": token})).await;
    let resumed = recv(&mut a2).await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(resumed["you"]["sid"], a_sid);
    assert_eq!(resumed["hands"], json!([a_sid]));
    assert_served(&mut b, 1).await;
    send(&mut a2, json!({"type": "leave"})).await;
    assert_eq!(recv_close(&mut a2).await.map(|f| f.code), Some(CloseCode::Normal));
    assert_eq!(recv(&mut b).await, json!({"type": "participant_left", "sid": a_sid, "reason": "left"}));
}

//! Participants in one room see each other come and go.

mod common;

use common::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn two_clients_see_each_other_and_both_ways_of_leaving() {
    let mut config = test_config("presence");
    // A dropped connection stays in the room this long, waiting for `resume`.
    config.limits.resume_grace = std::time::Duration::from_millis(300);
    let mut server = start_with(config).await;
    let (mut a, joined_a) = server.join("standup", "erika").await;
    assert_eq!(joined_a["protocol"], 1);
    assert_eq!(joined_a["room"], "standup");
    assert_eq!(joined_a["participants"], json!([]));
    assert_eq!(joined_a["tracks"], json!([]));
    assert_eq!(joined_a["ice_servers"], json!([]));
    let a_you = joined_a["you"].clone();
    assert_eq!(a_you["identity"], "erika");
    assert_eq!(a_you["name"], "Name erika");
    assert!(a_you["sid"].as_str().unwrap().starts_with('p'));

    // b joins: it sees a, a sees it.
    let (mut b, joined_b) = server.join("standup", "max").await;
    assert_eq!(joined_b["participants"], json!([a_you]));
    let b_sid = joined_b["you"]["sid"].clone();
    assert_eq!(recv(&mut a).await, json!({"type": "participant_joined", "participant": joined_b["you"]}));

    // Someone in another room is invisible to both.
    let (_other, joined_other) = server.join("elsewhere", "zoe").await;
    assert_eq!(joined_other["participants"], json!([]));

    // b leaves politely.
    send(&mut b, json!({"type": "leave"})).await;
    assert_eq!(recv_close(&mut b).await.map(|f| f.code), Some(CloseCode::Normal));
    assert_eq!(recv(&mut a).await, json!({"type": "participant_left", "sid": b_sid, "reason": "left"}));

    // c joins and drops its TCP connection without a close handshake: it leaves when the grace period is over.
    let (c, joined_c) = server.join("standup", "abrupt").await;
    assert_eq!(joined_c["participants"], json!([a_you]), "b is gone from the room");
    let c_sid = joined_c["you"]["sid"].clone();
    assert_eq!(recv(&mut a).await["type"], "participant_joined");
    drop(c);
    assert_eq!(recv(&mut a).await, json!({"type": "participant_left", "sid": c_sid, "reason": "disconnected"}));
    assert_served(&mut a, 1).await;

    // Shutdown closes the remaining sessions with 1001.
    server.shutdown().await;
    assert_eq!(recv_close(&mut a).await.map(|f| f.code), Some(CloseCode::Away));
}

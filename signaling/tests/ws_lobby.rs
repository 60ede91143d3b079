//! The lobby and moderation over real sockets, through the session driver and the real SFU.

mod common;

use std::time::Duration;

use common::*;
use plenum_signaling::token::Claims;
use serde_json::{Value, json};

fn token(server: &TestServer, identity: &str, moderator: bool, lobby: bool) -> String {
    let mut claims = Claims::new("townhall", identity, &format!("Name {identity}"), moderator, Duration::from_secs(600));
    (claims.lobby, claims.guest) = (lobby, lobby);
    server.keys.sign(&claims).unwrap()
}

async fn join(server: &TestServer, identity: &str, moderator: bool, lobby: bool) -> (Ws, Value) {
    let mut ws = server.connect().await;
    let token = token(server, identity, moderator, lobby);
    send(&mut ws, json!({"type": "join", "protocol": 1, "room": "townhall", "token": token})).await;
    let first = recv(&mut ws).await;
    (ws, first)
}

#[tokio::test]
async fn a_guest_is_admitted_from_the_lobby_then_removed_with_a_ban() {
    let server = start("lobby").await;
    let (mut m, joined) = join(&server, "chair", true, false).await;
    assert_eq!(joined["type"], "joined");
    let (mut g, waiting) = join(&server, "guest", false, true).await;
    assert_eq!(waiting, json!({"type": "lobby_waiting", "moderators_present": true}));

    let lobby = recv(&mut m).await;
    assert_eq!(lobby["type"], "lobby");
    let sid = lobby["waiting"][0]["sid"].clone();
    assert_eq!(lobby["waiting"][0]["guest"], true);
    send(&mut m, json!({"type": "lobby_response", "sid": sid, "admit": true})).await;
    assert_eq!(recv(&mut m).await, json!({"type": "lobby", "waiting": []}));
    let joined = recv(&mut g).await;
    assert_eq!((joined["type"].clone(), joined["you"]["sid"].clone()), (json!("joined"), sid.clone()));
    assert_eq!(recv(&mut m).await["type"], "participant_joined");

    // The guest may not moderate.
    send(&mut g, json!({"type": "moderate", "action": "end"})).await;
    expect_error(&mut g, "forbidden", false).await;

    send(&mut m, json!({"type": "moderate", "action": "remove", "sid": sid, "ban": true})).await;
    assert_eq!(recv(&mut g).await, json!({"type": "moderated", "action": "remove", "by": joined_sid(&joined), "ban": true}));
    expect_error(&mut g, "removed", true).await;
    assert_eq!(recv(&mut m).await, json!({"type": "participant_left", "sid": sid, "reason": "removed"}));

    let (mut again, refused) = join(&server, "guest", false, true).await;
    assert_eq!((refused["type"].clone(), refused["code"].clone()), (json!("error"), json!("banned")), "{refused}");
    assert!(recv_close(&mut again).await.is_some());

    // Both moderator actions are in the server's audit log (written on a background task).
    let audit = server.server.as_ref().expect("running").audit().clone();
    let mut actions = Vec::new();
    for _ in 0..50 {
        let records = audit.list(20, None).await.expect("audit log readable");
        actions = records.iter().map(|r| (r.action.clone(), r.actor_id.clone(), r.target_id.clone())).collect();
        if actions.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    actions.sort();
    let chair = Some("chair".to_owned());
    assert_eq!(
        actions,
        [("participant.admit".to_owned(), chair.clone(), "guest".to_owned()), ("participant.ban".to_owned(), chair, "guest".to_owned())]
    );
}

/// The sid of the moderator, as the guest saw it in `joined.participants`.
fn joined_sid(joined: &Value) -> Value {
    joined["participants"][0]["sid"].clone()
}

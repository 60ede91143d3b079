//! SFU nodes that drain or die: a draining node takes no new room (its running room goes on), and the rooms of a
//! killed node move to a live one while their clients come back with media, as the web client does it (reconnect,
//! `resume` fails, `join` again on the same socket).

mod cluster_support;
mod common;

use std::time::{Duration, Instant};

use cluster_support::media::MediaClient;
use cluster_support::{Node, RedisServer, join, recv_type, wait_registered};
use common::{Ws, http_get, send};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// The room's record, polled until it is `Some` (placement runs right after `joined`).
async fn placed(redis: &RedisServer, room: &str) -> String {
    for _ in 0..100 {
        if let Some(node) = redis.room_node(room).await {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("room {room} was not placed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_sfu_node_takes_no_new_room() {
    let redis = RedisServer::start().await;
    // The signaling node prefers zone a, so the first room lands on node a.
    let a = Node::sfu_with(&redis, &["--zone", "a"]).await;
    let b = Node::sfu_with(&redis, &["--zone", "b"]).await;
    let (id_a, id_b) = (a.id.clone().unwrap(), b.id.clone().unwrap());
    wait_registered(&redis, &[&id_a, &id_b]).await;
    let sig = Node::serve_with(&redis, "signaling", &["--zone", "a"]).await;

    let (_first, _) = join(&sig, "running", "first").await;
    assert_eq!(placed(&redis, "running").await, id_a);
    assert_eq!(http_get(a.addr, "/readyz").await.0, 200);

    a.signal("-TERM");
    for _ in 0..50 {
        if redis.node_info(&id_a).await.is_some_and(|n| n["draining"] == true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(redis.node_info(&id_a).await.expect("still registered while its room runs")["draining"], true);
    assert_eq!(http_get(a.addr, "/readyz").await.0, 503, "a draining node is not ready");

    for n in 0..3 {
        let room = format!("after-drain-{n}");
        let (_ws, _) = join(&sig, &room, "late").await;
        assert_eq!(placed(&redis, &room).await, id_b, "no new room on the draining node");
    }
    // The running meeting goes on there and can still be joined.
    let (second, _) = join(&sig, "running", "second").await;
    let mut second = MediaClient::start(second).await;
    let answer = second.next_of("publish_answer", WAIT).await.expect("the draining node still answers");
    assert!(answer["sdp"].as_str().unwrap().contains("a=candidate"), "{answer}");
    assert_eq!(redis.room_node("running").await.as_deref(), Some(id_a.as_str()));
    second.stop();
}

/// What the web client does when its socket closes: reconnect, `resume`; on `resume_failed` send `join` on the
/// same socket.
async fn come_back(node: &Node, room: &str, identity: &str, resume_token: &str) -> (Ws, Value) {
    let server = node.client();
    let mut ws = server.connect().await;
    send(&mut ws, json!({"type": "resume", "protocol": 1, "room": room, "resume_token": resume_token})).await;
    let failed = recv_type(&mut ws, "error").await;
    assert_eq!(failed["code"], "resume_failed", "{failed}");
    send(&mut ws, json!({"type": "join", "protocol": 1, "room": room, "token": server.token(room, identity)})).await;
    let joined = recv_type(&mut ws, "joined").await;
    (ws, joined)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_sfu_node_moves_its_rooms_and_clients_come_back_with_media() {
    let redis = RedisServer::start().await;
    let mut a = Node::sfu_with(&redis, &["--zone", "a"]).await;
    let b = Node::sfu_with(&redis, &["--zone", "b"]).await;
    let (id_a, id_b) = (a.id.clone().unwrap(), b.id.clone().unwrap());
    wait_registered(&redis, &[&id_a, &id_b]).await;
    let sig = Node::serve_with(&redis, "signaling", &["--zone", "a"]).await;

    let (ws_x, joined_x) = join(&sig, "survivor", "x").await;
    let (ws_y, joined_y) = join(&sig, "survivor", "y").await;
    let mut x = MediaClient::start(ws_x).await;
    let mut y = MediaClient::start(ws_y).await;
    assert!(x.wait_received(25, WAIT).await && y.wait_received(25, WAIT).await, "media flows on node a");
    assert_eq!(placed(&redis, "survivor").await, id_a);

    a.child.start_kill().expect("kill -9 node a");
    let killed = Instant::now();
    let (cx, cy) = tokio::join!(x.next_of("closed", WAIT), y.next_of("closed", WAIT));
    assert_eq!(cx.expect("x's socket closes")["code"], 1012);
    assert_eq!(cy.expect("y's socket closes")["code"], 1012);
    let noticed = killed.elapsed();
    x.stop();
    y.stop();

    let (token_x, token_y) = (joined_x["resume_token"].as_str().unwrap(), joined_y["resume_token"].as_str().unwrap());
    let ((ws_x, _), (ws_y, rejoined_y)) =
        tokio::join!(come_back(&sig, "survivor", "x", token_x), come_back(&sig, "survivor", "y", token_y));
    assert!(rejoined_y["participants"].as_array().unwrap().len() <= 1, "no ghost of the old x: {rejoined_y}");
    let x = MediaClient::start(ws_x).await;
    let y = MediaClient::start(ws_y).await;
    assert!(x.wait_received(25, WAIT).await, "x hears y again: {}", x.received());
    assert!(y.wait_received(25, WAIT).await, "y hears x again: {}", y.received());
    let back = killed.elapsed();
    assert_eq!(redis.room_node("survivor").await.as_deref(), Some(id_b.as_str()), "the room moved to node b");
    eprintln!("node killed: sockets closed after {noticed:?}, media back after {back:?}");
    let metrics = sig.metrics().await;
    // "new" when the dead node's record had expired by then (it usually has: same 5 s), else "replaced".
    let moved = ["new", "replaced"]
        .iter()
        .any(|o| metrics.contains(&format!("plenum_cluster_placements_total{{node=\"{id_b}\",outcome=\"{o}\"}} 1")));
    assert!(moved, "{metrics}");
    assert!(
        metrics.contains(&format!("plenum_cluster_node_workers{{node=\"{id_a}\"}} 0")),
        "the dead node shows no capacity"
    );
    assert!(metrics.contains("plenum_cluster_media_lost_total 2"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_still_on_a_drained_node_at_its_deadline_moves_on() {
    let redis = RedisServer::start().await;
    let a = Node::sfu_with(&redis, &["--zone", "a", "--drain-timeout", "2s"]).await;
    let b = Node::sfu_with(&redis, &["--zone", "b"]).await;
    let (id_a, id_b) = (a.id.clone().unwrap(), b.id.clone().unwrap());
    wait_registered(&redis, &[&id_a, &id_b]).await;
    let sig = Node::serve_with(&redis, "signaling", &["--zone", "a"]).await;
    let (ws_x, joined_x) = join(&sig, "overtime", "x").await;
    let (ws_y, joined_y) = join(&sig, "overtime", "y").await;
    let mut x = MediaClient::start(ws_x).await;
    let mut y = MediaClient::start(ws_y).await;
    assert!(x.wait_received(10, WAIT).await && y.wait_received(10, WAIT).await, "media flows on node a");
    assert_eq!(placed(&redis, "overtime").await, id_a);

    a.signal("-TERM");
    let (cx, cy) = tokio::join!(x.next_of("closed", WAIT), y.next_of("closed", WAIT));
    assert_eq!((cx.expect("x closed")["code"].clone(), cy.expect("y closed")["code"].clone()), (json!(1012), json!(1012)));
    assert!(redis.node_info(&id_a).await.is_none(), "the drained node deregistered");
    x.stop();
    y.stop();
    let (token_x, token_y) = (joined_x["resume_token"].as_str().unwrap(), joined_y["resume_token"].as_str().unwrap());
    let ((ws_x, _), (ws_y, _)) =
        tokio::join!(come_back(&sig, "overtime", "x", token_x), come_back(&sig, "overtime", "y", token_y));
    let (x, y) = (MediaClient::start(ws_x).await, MediaClient::start(ws_y).await);
    assert!(x.wait_received(10, WAIT).await && y.wait_received(10, WAIT).await, "media flows again");
    assert_eq!(redis.room_node("overtime").await.as_deref(), Some(id_b.as_str()));
}

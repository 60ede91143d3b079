//! Two signaling nodes share rooms through Redis: participants connected to different nodes meet, see each other's
//! tracks and chat, hear each other (media through one SFU node), and a moderator on one node runs the lobby and
//! moderates participants on the other.

mod cluster_support;
mod common;

use std::time::Duration;

use cluster_support::media::MediaClient;
use cluster_support::{Node, RedisServer, chat, recv_type, recv_type_within, wait_registered};
use common::{Ws, recv, send};
use plenum_signaling::token::Claims;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

async fn join_as(node: &Node, room: &str, identity: &str, moderator: bool, lobby: bool) -> (Ws, Value) {
    let server = node.client();
    let mut claims = Claims::new(room, identity, &format!("Name {identity}"), moderator, Duration::from_secs(600));
    (claims.lobby, claims.guest) = (lobby, lobby);
    let token = server.keys.sign(&claims).unwrap();
    let mut ws = server.connect().await;
    send(&mut ws, json!({"type": "join", "protocol": 1, "room": room, "token": token})).await;
    let first = recv(&mut ws).await;
    (ws, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_on_two_signaling_nodes_meet_chat_and_hear_each_other() {
    let redis = RedisServer::start().await;
    let sfu = Node::sfu(&redis).await;
    wait_registered(&redis, &[sfu.id.as_deref().unwrap()]).await;
    let (s1, s2) = tokio::join!(Node::signaling(&redis), Node::signaling(&redis));

    let (ws_a, joined_a) = join_as(&s1, "shared", "alice", false, false).await;
    assert_eq!(joined_a["type"], "joined", "{joined_a}");
    let mut alice = MediaClient::start(ws_a).await;
    // Alice's audio track is announced before Bob arrives: Bob's snapshot must carry it.
    alice.next_of("publish_answer", WAIT).await.expect("alice publishes");
    let (ws_b, joined_b) = join_as(&s2, "shared", "bob", false, false).await;
    assert_eq!(joined_b["type"], "joined", "{joined_b}");
    let alice_sid = joined_a["you"]["sid"].as_str().unwrap().to_owned();
    let bob_sid = joined_b["you"]["sid"].as_str().unwrap().to_owned();
    assert_ne!(alice_sid, bob_sid, "sids are unique across signaling nodes");
    let others: Vec<&str> =
        joined_b["participants"].as_array().unwrap().iter().map(|p| p["sid"].as_str().unwrap()).collect();
    assert_eq!(others, vec![alice_sid.as_str()], "bob (node 2) sees alice (node 1): {joined_b}");

    let mut bob = MediaClient::start(ws_b).await;
    let joined = alice.next_of("participant_joined", WAIT).await.expect("alice hears of bob");
    assert_eq!(joined["participant"]["sid"], bob_sid.as_str());
    let track = alice.next_of("track_published", WAIT).await.expect("alice sees bob's track");
    assert_eq!(track["sid"], bob_sid.as_str());
    let tracks_in_snapshot = joined_b["tracks"].as_array().unwrap().iter().any(|t| t["sid"] == alice_sid.as_str());
    let track_later = tracks_in_snapshot
        || bob.next_of("track_published", WAIT).await.is_some_and(|t| t["sid"] == alice_sid.as_str());
    assert!(track_later, "bob sees alice's track");

    assert!(alice.wait_received(25, WAIT).await, "alice hears bob: {}", alice.received());
    assert!(bob.wait_received(25, WAIT).await, "bob hears alice: {}", bob.received());

    bob.send(json!({"type": "chat", "text": "Grüße von Knoten 2"}));
    let line = alice.next_of("chat", WAIT).await.expect("the chat crosses nodes");
    assert_eq!(
        (line["message"]["text"].as_str(), line["message"]["sid"].as_str()),
        (Some("Grüße von Knoten 2"), Some(bob_sid.as_str()))
    );
    bob.send(json!({"type": "update", "muted": true}));
    let updated = alice.next_of("participant_updated", WAIT).await.expect("the update crosses nodes");
    assert_eq!(updated["participant"]["muted"], true);

    bob.leave().await;
    let left = alice.next_of("participant_left", WAIT).await.expect("the leave crosses nodes");
    assert_eq!((left["sid"].as_str(), left["reason"].as_str()), (Some(bob_sid.as_str()), Some("left")));
    alice.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_on_one_node_admits_mutes_and_bans_on_the_other() {
    let redis = RedisServer::start().await;
    let sfu = Node::sfu(&redis).await;
    wait_registered(&redis, &[sfu.id.as_deref().unwrap()]).await;
    let (s1, s2) = tokio::join!(Node::signaling(&redis), Node::signaling(&redis));

    let (mut chair, joined) = join_as(&s1, "board", "chair", true, false).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    let chair_sid = joined["you"]["sid"].as_str().unwrap().to_owned();
    let (mut guest, waiting) = join_as(&s2, "board", "guest", false, true).await;
    assert_eq!(waiting["type"], "lobby_waiting", "{waiting}");
    if waiting["moderators_present"] == false {
        // The chair's join may still be on its way through Redis: node 2 says so as soon as it arrives.
        assert_eq!(recv_type(&mut guest, "lobby_waiting").await["moderators_present"], true, "node 2 learns of the chair");
    }

    let lobby = recv_type(&mut chair, "lobby").await;
    let sid = lobby["waiting"][0]["sid"].clone();
    send(&mut chair, json!({"type": "lobby_response", "sid": sid, "admit": true})).await;
    let joined = recv_type(&mut guest, "joined").await;
    assert_eq!(joined["you"]["sid"], sid);
    assert_eq!(recv_type(&mut chair, "participant_joined").await["participant"]["sid"], sid);

    send(&mut chair, json!({"type": "moderate", "action": "mute", "sid": sid})).await;
    let moderated = recv_type(&mut guest, "moderated").await;
    assert_eq!(moderated, json!({"type": "moderated", "action": "mute", "by": chair_sid}));
    assert_eq!(recv_type(&mut chair, "participant_updated").await["participant"]["muted"], true);

    chat(&mut chair, "bitte ruhig").await;
    assert_eq!(recv_type(&mut guest, "chat").await["message"]["text"], "bitte ruhig");

    send(&mut chair, json!({"type": "moderate", "action": "remove", "sid": sid, "ban": true})).await;
    let removed = recv_type(&mut guest, "error").await;
    assert_eq!((removed["code"].as_str(), removed["fatal"].as_bool()), (Some("removed"), Some(true)));
    let left = recv_type(&mut chair, "participant_left").await;
    assert_eq!((left["sid"].clone(), left["reason"].clone()), (sid, json!("removed")));

    // The ban holds on node 2 as well.
    let (_again, refused) = join_as(&s2, "board", "guest", false, true).await;
    assert_eq!((refused["type"].as_str(), refused["code"].as_str()), (Some("error"), Some("banned")), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_full_nodes_role_both_share_a_room_and_its_media() {
    let redis = RedisServer::start().await;
    let (n1, n2) = tokio::join!(Node::serve(&redis, "both"), Node::serve(&redis, "both"));
    let (ws_a, joined_a) = join_as(&n1, "both-room", "alice", false, false).await;
    let mut alice = MediaClient::start(ws_a).await;
    alice.next_of("publish_answer", WAIT).await.expect("alice publishes");
    let (ws_b, joined_b) = join_as(&n2, "both-room", "bob", false, false).await;
    assert_eq!(joined_b["participants"][0]["sid"], joined_a["you"]["sid"], "{joined_b}");
    let bob = MediaClient::start(ws_b).await;
    assert_eq!(
        alice.next_of("participant_joined", WAIT).await.expect("alice hears of bob")["participant"]["sid"],
        joined_b["you"]["sid"]
    );
    assert!(alice.wait_received(25, WAIT).await, "alice hears bob: {}", alice.received());
    assert!(bob.wait_received(25, WAIT).await, "bob hears alice: {}", bob.received());
    let node = redis.room_node("both-room").await.expect("placed");
    assert!(node.starts_with("sfu-"), "{node}");
    alice.leave().await;
    bob.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_participants_of_a_signaling_node_that_dies_leave_the_others_rosters() {
    let redis = RedisServer::start().await;
    let sfu = Node::sfu(&redis).await;
    wait_registered(&redis, &[sfu.id.as_deref().unwrap()]).await;
    let (s1, mut s2) = tokio::join!(Node::signaling(&redis), Node::signaling(&redis));
    let (mut alice, _) = join_as(&s1, "fragile", "alice", false, false).await;
    let (_bob, joined_b) = join_as(&s2, "fragile", "bob", false, false).await;
    let bob_sid = joined_b["you"]["sid"].clone();
    assert_eq!(recv_type(&mut alice, "participant_joined").await["participant"]["sid"], bob_sid);

    s2.child.start_kill().expect("kill -9 signaling node 2");
    let left = recv_type_within(&mut alice, "participant_left", WAIT).await;
    assert_eq!((left["sid"].clone(), left["reason"].clone()), (bob_sid, json!("disconnected")));
    // Nor does a newcomer through a new node, which replays the room log: it says that bob left.
    let s3 = Node::signaling(&redis).await;
    let (_carol, joined_c) = join_as(&s3, "fragile", "carol", false, false).await;
    assert_eq!(joined_c["participants"].as_array().unwrap().len(), 1, "only alice: {joined_c}");
}

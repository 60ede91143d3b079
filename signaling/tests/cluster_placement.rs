//! A cluster of real `plenum` processes around a real `redis-server`: signaling-only nodes drive `plenum sfu` nodes
//! through Redis, rooms are placed on the node with the most headroom, and concurrent first joins agree.

mod cluster_support;
mod common;

use std::time::Duration;

use cluster_support::media::MediaClient;
use cluster_support::{Node, RedisServer, join, wait_registered};
use serde_json::Value;

const MEDIA_WAIT: Duration = Duration::from_secs(10);

/// The `ip port` of the SFU candidate in an SDP answer.
fn candidate(answer: &Value) -> String {
    let sdp = answer["sdp"].as_str().expect("an SDP");
    let line = sdp.lines().find(|l| l.starts_with("a=candidate:")).expect("a candidate");
    let fields: Vec<&str> = line.split_whitespace().collect();
    format!("{} {}", fields[4], fields[5])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signaling_node_drives_a_remote_sfu_node_and_media_flows() {
    let redis = RedisServer::start().await;
    let sfu = Node::sfu(&redis).await;
    let sfu_id = sfu.id.clone().unwrap();
    wait_registered(&redis, &[&sfu_id]).await;
    let sig = Node::signaling(&redis).await;

    let (ws_a, _) = join(&sig, "remote-room", "alice").await;
    let (ws_b, joined_b) = join(&sig, "remote-room", "bob").await;
    assert_eq!(joined_b["participants"].as_array().unwrap().len(), 1, "{joined_b}");
    let started = std::time::Instant::now();
    let mut a = MediaClient::start(ws_a).await;
    let b = MediaClient::start(ws_b).await;
    let answer = a.next_of("publish_answer", MEDIA_WAIT).await.expect("a publish answer from the SFU node");
    let answered = started.elapsed();
    let info = redis.node_info(&sfu_id).await.expect("the SFU node is registered");
    let media: Vec<String> =
        info["media_addrs"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().replace(':', " ")).collect();
    assert!(media.contains(&candidate(&answer)), "the answer names the SFU node's socket {media:?}: {answer}");
    assert_eq!(redis.room_node("remote-room").await.as_deref(), Some(sfu_id.as_str()));

    assert!(a.wait_received(1, MEDIA_WAIT).await, "alice hears bob");
    eprintln!("through Redis: publish_answer after {answered:?}, first packet after {:?}", started.elapsed());
    assert!(a.wait_received(25, MEDIA_WAIT).await, "alice hears bob: {} packets", a.received());
    assert!(b.wait_received(25, MEDIA_WAIT).await, "bob hears alice: {} packets", b.received());

    // The node reports its load; signaling shows it and the placement.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let info = redis.node_info(&sfu_id).await.unwrap();
    assert!(info["packets_per_sec"].as_f64().unwrap() > 10.0, "{info}");
    assert!(info["cpu"].as_f64().unwrap() > 0.0, "{info}");
    assert_eq!(info["participants"], 2, "{info}");
    let metrics = sig.metrics().await;
    let placed = format!("plenum_cluster_placements_total{{node=\"{sfu_id}\",outcome=\"new\"}} 1");
    assert!(metrics.contains(&placed), "{placed} in:\n{metrics}");
    assert!(metrics.contains(&format!("plenum_cluster_node_packets_per_second{{node=\"{sfu_id}\"}}")));

    // When the room empties, its record goes.
    a.leave().await;
    b.leave().await;
    for _ in 0..100 {
        if redis.room_node("remote-room").await.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the room record outlived the room");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placement_prefers_the_node_with_headroom() {
    let redis = RedisServer::start().await;
    let busy = Node::sfu(&redis).await;
    let busy_id = busy.id.clone().unwrap();
    wait_registered(&redis, &[&busy_id]).await;
    let sig = Node::signaling(&redis).await;
    // A meeting with media on the only node.
    let a = MediaClient::start(join(&sig, "busy-room", "a").await.0).await;
    let b = MediaClient::start(join(&sig, "busy-room", "b").await.0).await;
    assert!(a.wait_received(25, MEDIA_WAIT).await && b.wait_received(25, MEDIA_WAIT).await, "media flows");
    assert_eq!(redis.room_node("busy-room").await.as_deref(), Some(busy_id.as_str()));

    // An idle node joins the cluster: it has more headroom (CPU and packet rate), so new rooms go there.
    let idle = Node::sfu(&redis).await;
    let idle_id = idle.id.clone().unwrap();
    wait_registered(&redis, &[&idle_id]).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (busy_info, idle_info) = (redis.node_info(&busy_id).await.unwrap(), redis.node_info(&idle_id).await.unwrap());
    assert!(busy_info["packets_per_sec"].as_f64().unwrap() > 10.0, "{busy_info}");
    // (One room: right after it, a second would count that one's assumed cost, see a_burst_of_new_rooms_spreads.)
    {
        let room = "new-room".to_owned();
        let (_ws, _) = join(&sig, &room, "c").await;
        let mut placed = None;
        for _ in 0..50 {
            placed = redis.room_node(&room).await;
            if placed.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(placed.as_deref(), Some(idle_id.as_str()), "busy {busy_info}\nidle {idle_info}");
    }
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_joins_through_two_signaling_nodes_agree() {
    let redis = RedisServer::start().await;
    // Each signaling node prefers "its" SFU node (zones), so racing first joins propose different nodes.
    let sfu_a = Node::sfu_with(&redis, &["--zone", "a"]).await;
    let sfu_b = Node::sfu_with(&redis, &["--zone", "b"]).await;
    let (id_a, id_b) = (sfu_a.id.clone().unwrap(), sfu_b.id.clone().unwrap());
    wait_registered(&redis, &[&id_a, &id_b]).await;
    let sig_a = Node::serve_with(&redis, "signaling", &["--zone", "a"]).await;
    let sig_b = Node::serve_with(&redis, "signaling", &["--zone", "b"]).await;

    let mut nodes_used = std::collections::BTreeSet::new();
    for n in 0..6 {
        let room = format!("race-{n}");
        let (ra, rb) = tokio::join!(join(&sig_a, &room, "x"), join(&sig_b, &room, "y"));
        let (mut x, mut y) = tokio::join!(MediaClient::start(ra.0), MediaClient::start(rb.0));
        let (ax, ay) = tokio::join!(x.next_of("publish_answer", MEDIA_WAIT), y.next_of("publish_answer", MEDIA_WAIT));
        let (ax, ay) = (ax.expect("answer x"), ay.expect("answer y"));
        assert_eq!(candidate(&ax), candidate(&ay), "both participants of {room} are on one SFU node");
        let node = redis.room_node(&room).await.expect("a record");
        nodes_used.insert(node);
        assert!(x.wait_received(10, MEDIA_WAIT).await && y.wait_received(10, MEDIA_WAIT).await, "{room}: media flows");
        x.stop();
        y.stop();
    }
    assert!(nodes_used.iter().all(|n| *n == id_a || *n == id_b), "{nodes_used:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_new_rooms_spreads_over_the_nodes() {
    let redis = RedisServer::start().await;
    let (a, b) = tokio::join!(Node::sfu(&redis), Node::sfu(&redis));
    let (id_a, id_b) = (a.id.clone().unwrap(), b.id.clone().unwrap());
    wait_registered(&redis, &[&id_a, &id_b]).await;
    let sig = Node::signaling(&redis).await;
    // Six rooms within a second, faster than the nodes' load figures can show them.
    let mut sockets = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for n in 0..6 {
        let room = format!("burst-{n}");
        sockets.push(join(&sig, &room, "p").await.0);
        let mut node = None;
        for _ in 0..100 {
            node = redis.room_node(&room).await;
            if node.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        *counts.entry(node.expect("placed")).or_default() += 1;
    }
    assert_eq!(counts.get(&id_a).copied().unwrap_or(0) + counts.get(&id_b).copied().unwrap_or(0), 6, "{counts:?}");
    assert!(counts.values().all(|n| *n >= 2) && counts.len() == 2, "both idle nodes get rooms: {counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signaling_node_is_ready_only_while_an_sfu_node_takes_rooms() {
    let redis = RedisServer::start().await;
    let sig = Node::signaling(&redis).await;
    let (status, _, body) = common::http_get(sig.addr, "/readyz").await;
    assert_eq!((status, body.contains("cluster")), (503, true), "{body}");
    let sfu = Node::sfu(&redis).await;
    wait_registered(&redis, &[sfu.id.as_deref().unwrap()]).await;
    assert_eq!(common::http_get(sig.addr, "/readyz").await.0, 200);
    sfu.signal("-TERM");
    let mut status = 200;
    for _ in 0..30 {
        status = common::http_get(sig.addr, "/readyz").await.0;
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 503, "the only SFU node drains (it stops at once: no rooms)");
}

//! Cascading across real processes: redis-server, three `plenum sfu` nodes (`--cascade-after 2`) and two signaling
//! nodes. A presenter publishes audio and VP8 video on the room's home node; the first viewer is seated there too,
//! the next two viewers (no publish grant) on a second node, which relays the room from the home node over its own
//! WebRTC leg, and once that one holds two, the next viewer on the third node. The edge viewers receive the
//! presenter's audio and video, the edge nodes' metrics show their legs, and when the presenter leaves, the edge
//! viewers' tracks end.

mod cluster_support;
mod common;

use std::time::{Duration, Instant};

use cluster_support::media::{MediaClient, Publish};
use cluster_support::{Node, RedisServer, wait_registered};
use common::{Ws, recv, send};
use plenum_signaling::token::Claims;
use redis::AsyncCommands;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(15);
const ROOM: &str = "townhall";

async fn join(node: &Node, identity: &str, publish: bool) -> (Ws, Value) {
    let server = node.client();
    let mut claims = Claims::new(ROOM, identity, &format!("Name {identity}"), publish, Duration::from_secs(600));
    claims.grants.publish = publish;
    let token = server.keys.sign(&claims).unwrap();
    let mut ws = server.connect().await;
    send(&mut ws, json!({"type": "join", "protocol": 1, "room": ROOM, "token": token})).await;
    let joined = recv(&mut ws).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    (ws, joined)
}

/// The value of the first sample of `name` in a Prometheus text (summed over label sets).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn wait_metric(node: &Node, name: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let end = Instant::now() + WAIT;
    loop {
        let v = metric(&node.metrics().await, name);
        if ok(v) || Instant::now() > end {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webinar_beyond_the_home_node_is_relayed_to_viewers_on_an_edge_node() {
    let started = Instant::now();
    let redis = RedisServer::start().await;
    let cascade = ["--cascade-after", "2"];
    let (a, b, c) =
        tokio::join!(Node::sfu_with(&redis, &cascade), Node::sfu_with(&redis, &cascade), Node::sfu_with(&redis, &cascade));
    wait_registered(&redis, &[a.id.as_deref().unwrap(), b.id.as_deref().unwrap(), c.id.as_deref().unwrap()]).await;
    let (s1, s2) = tokio::join!(Node::signaling(&redis), Node::signaling(&redis));

    let (ws, joined) = join(&s1, "presenter", true).await;
    let presenter_sid = joined["you"]["sid"].as_str().unwrap().to_owned();
    let mut presenter = MediaClient::start_with(ws, Publish::AudioVideo).await;
    presenter.next_of("publish_answer", WAIT).await.expect("the presenter publishes");
    let home_id = redis.room_node(ROOM).await.expect("the room is placed");
    let sfus = [&a, &b, &c];
    let home = *sfus.iter().find(|n| n.id.as_deref() == Some(home_id.as_str())).unwrap();

    // Seat 2 of the home node: a viewer there.
    let (ws, _) = join(&s2, "viewer-home", false).await;
    let near = MediaClient::start_with(ws, Publish::Nothing).await;
    assert!(near.wait_media(25, 25, WAIT).await, "the home viewer gets media: {} packets", near.received());

    // Beyond the limit: viewers through both signaling nodes land on the edge node.
    let (ws1, _) = join(&s1, "viewer-edge-1", false).await;
    let (ws2, _) = join(&s2, "viewer-edge-2", false).await;
    let mut far1 = MediaClient::start_with(ws1, Publish::Nothing).await;
    let far2 = MediaClient::start_with(ws2, Publish::Nothing).await;
    // (`joined` comes before the seat is taken through Redis: wait for the records.)
    let mut conn = redis.conn().await;
    let edges_key = format!("plenum:room:{ROOM}:edges");
    let seats_key = format!("plenum:room:{ROOM}:seats");
    let end = Instant::now() + WAIT;
    let (edge_id, seats) = loop {
        let recorded: Vec<String> = conn.zrange(&edges_key, 0, -1).await.unwrap();
        let seats: std::collections::HashMap<String, u64> = conn.hgetall(&seats_key).await.unwrap();
        if let [edge] = recorded.as_slice()
            && seats.get(edge) == Some(&2)
        {
            break (edge.clone(), seats);
        }
        assert!(Instant::now() < end, "one edge node with two viewers: {recorded:?}, {seats:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(edge_id, home_id);
    // The presenter and one viewer, and soon the relay leg.
    assert!(seats.get(&home_id).is_some_and(|n| *n >= 2), "the home node's seats: {seats:?}");
    let edge = *sfus.iter().find(|n| n.id.as_deref() == Some(edge_id.as_str())).unwrap();
    // That edge node is full for the room too: the next viewer opens a second edge node.
    let (ws3, _) = join(&s1, "viewer-edge-3", false).await;
    let far3 = MediaClient::start_with(ws3, Publish::Nothing).await;
    let end = Instant::now() + WAIT;
    loop {
        let recorded: Vec<String> = conn.zrange(&edges_key, 0, -1).await.unwrap();
        if recorded.len() == 2 {
            break;
        }
        assert!(Instant::now() < end, "a second edge node is recorded: {recorded:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let edge2 = *sfus.iter().find(|n| n.id.as_deref() != Some(home_id.as_str()) && n.id != edge.id).unwrap();

    let relayed_from = Instant::now();
    for (name, far) in [("edge viewer 1", &far1), ("edge viewer 2", &far2), ("viewer on the second edge", &far3)] {
        assert!(
            far.wait_media(50, 60, WAIT).await,
            "{name} gets the presenter's audio and video through the relay: {} packets, {} video",
            far.received(),
            far.received_video()
        );
        assert!(far.received_keyframes() >= 1, "{name} starts at a keyframe");
    }
    println!("edge viewers: media within {:?} of joining", relayed_from.elapsed());
    // The relay's added latency: the same frames at the home viewer and at an edge viewer (one process, one clock).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut extra: Vec<f64> = {
        let (near_at, far_at) = (near.frame_arrivals.lock().unwrap(), far1.frame_arrivals.lock().unwrap());
        let signed = |far: Instant, near: Instant| match far.checked_duration_since(near) {
            Some(d) => d.as_secs_f64() * 1000.0,
            None => -(near.duration_since(far).as_secs_f64() * 1000.0),
        };
        far_at.iter().filter_map(|(n, t)| Some(signed(*t, *near_at.get(n)?))).collect()
    };
    extra.sort_by(f64::total_cmp);
    assert!(extra.len() >= 30, "frames seen by both viewers: {}", extra.len());
    let (median, p95) = (extra[extra.len() / 2], extra[extra.len() * 95 / 100]);
    println!(
        "relay hop: edge viewers get frames {median:.2} ms (median) / {p95:.2} ms (p95) after the home viewer ({} frames, min {:.2} ms)",
        extra.len(),
        extra[0]
    );
    assert!(median < 200.0, "the relay adds {median} ms");

    assert_eq!(wait_metric(edge, "plenum_cluster_cascade_legs", |v| v == 1.0).await, 1.0, "one relay leg on the edge");
    assert_eq!(wait_metric(edge, "plenum_cluster_cascade_tracks", |v| v == 2.0).await, 2.0, "audio and video relayed");
    let packets = wait_metric(edge, "plenum_cluster_cascade_packets_total", |v| v >= 100.0).await;
    assert!(packets >= 100.0, "packets relayed: {packets}");
    assert_eq!(wait_metric(edge2, "plenum_cluster_cascade_legs", |v| v == 1.0).await, 1.0, "a leg on the second edge");
    assert_eq!(metric(&home.metrics().await, "plenum_cluster_cascade_legs"), 0.0, "the home node relays nothing in");
    // The presenter's media crossed once: the edge node forwards it twice, the home node once per receiver.
    let edge_in = metric(&edge.metrics().await, "plenum_sfu_rtp_packets_forwarded_total");
    assert!(edge_in > 0.0);

    // The presenter leaves: the edge viewers hear it, and their copies of its tracks end.
    while far1.messages.try_recv().is_ok() {}
    let before = far1.received();
    presenter.leave().await;
    let end = tokio::time::Instant::now() + WAIT;
    let (mut left, mut ended) = (false, false);
    while !(left && ended) {
        let Ok(Some(msg)) = tokio::time::timeout_at(end, far1.messages.recv()).await else { break };
        match msg["type"].as_str() {
            Some("participant_left") => left |= msg["sid"] == presenter_sid.as_str(),
            Some("subscribe_offer") => {
                // The presenter's m-lines are no longer sent.
                let sdp = msg["sdp"].as_str().unwrap_or_default();
                let tag = format!("msid:{presenter_sid} ");
                ended |= !sdp.split("\nm=").any(|m| m.contains(&tag) && m.contains("a=sendonly"));
            }
            _ => {}
        }
    }
    assert!(left, "the edge viewer hears that the presenter left");
    assert!(ended, "the edge viewer's copies of the presenter's tracks end");
    assert_eq!(wait_metric(edge, "plenum_cluster_cascade_tracks", |v| v == 0.0).await, 0.0, "nothing relayed any more");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = far1.received();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(far1.received(), after, "no media after the presenter left (had {before} before)");

    // The last edge viewers leave: the leg closes.
    far1.leave().await;
    far2.leave().await;
    far3.leave().await;
    assert_eq!(wait_metric(edge, "plenum_cluster_cascade_legs", |v| v == 0.0).await, 0.0, "the leg closes without viewers");
    near.leave().await;
    println!("cascade test took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_viewers_are_sent_to_join_again_when_the_home_node_dies() {
    let redis = RedisServer::start().await;
    let cascade = ["--cascade-after", "1"];
    let (a, b) = tokio::join!(Node::sfu_with(&redis, &cascade), Node::sfu_with(&redis, &cascade));
    wait_registered(&redis, &[a.id.as_deref().unwrap(), b.id.as_deref().unwrap()]).await;
    let s1 = Node::signaling(&redis).await;
    let (ws, _) = join(&s1, "presenter", true).await;
    let mut presenter = MediaClient::start_with(ws, Publish::AudioVideo).await;
    presenter.next_of("publish_answer", WAIT).await.expect("the presenter publishes");
    let home_id = redis.room_node(ROOM).await.expect("the room is placed");
    let (mut home, edge) = if a.id.as_deref() == Some(home_id.as_str()) { (a, b) } else { (b, a) };
    let (ws, _) = join(&s1, "viewer", false).await;
    let mut viewer = MediaClient::start_with(ws, Publish::Nothing).await;
    assert!(viewer.wait_media(25, 25, WAIT).await, "the edge viewer gets media: {}", viewer.received());
    assert_eq!(wait_metric(&edge, "plenum_cluster_cascade_legs", |v| v == 1.0).await, 1.0);

    home.child.start_kill().expect("kill -9 the home node");
    let closed = viewer.next_of("closed", WAIT).await.expect("the edge viewer is sent away");
    assert_eq!(closed["code"], 1012, "reconnect: the media node went away");
    // The edge node let the viewer go: its leg closes with its last viewer.
    assert_eq!(wait_metric(&edge, "plenum_cluster_cascade_legs", |v| v == 0.0).await, 0.0, "the dead leg is gone");
}

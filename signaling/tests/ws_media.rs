//! SDP through signaling to the real SFU: a str0m client's publish offer is answered.

mod common;

use std::time::Instant;

use common::*;
use serde_json::json;
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind};
use str0m::{Candidate, RtcConfig};

#[tokio::test]
async fn publish_offer_gets_an_answer_the_client_accepts() {
    let server = start("media").await;
    let (mut observer, _) = server.join("media-room", "observer").await;
    let (mut ws, _) = server.join("media-room", "publisher").await;
    assert_eq!(recv(&mut observer).await["type"], "participant_joined");

    let mut rtc = RtcConfig::new().build(Instant::now());
    rtc.add_local_candidate(Candidate::host("127.0.0.1:40000".parse().unwrap(), "udp").unwrap());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().expect("an offer");

    send(&mut ws, json!({"type": "ice_candidate", "target": "publisher", "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host"})).await;
    send(&mut ws, json!({"type": "publish_offer", "sdp": offer.to_sdp_string()})).await;
    let answer = recv(&mut ws).await;
    assert_eq!(answer["type"], "publish_answer", "{answer}");
    let sdp = answer["sdp"].as_str().unwrap();
    assert!(sdp.contains("a=ice-lite"), "the SFU is ICE-lite:\n{sdp}");
    let addrs = server.server.as_ref().unwrap().media_addrs();
    assert!(addrs.iter().any(|a| sdp.contains(&format!("{} {}", a.ip(), a.port()))), "candidate {addrs:?} in:\n{sdp}");
    let answer = SdpAnswer::from_sdp_string(sdp).expect("parseable answer");
    rtc.sdp_api().accept_answer(pending, answer).expect("the client accepts the answer");
    assert_served(&mut observer, 1).await;
}

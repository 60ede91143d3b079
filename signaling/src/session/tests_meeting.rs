//! Chat, hands and track sources through the session state machine.

use std::time::Duration;

use plenum_sfu::{TrackInfo, TrackKind};

use super::tests::{Client, ROOM, SECRET, error_code, only_error, setup};
use super::*;
use crate::protocol::{ChatEntry, Kind, LayerState};
use crate::room::chat::MAX_CHAT_CHARS;
use crate::token::Claims;

fn messages(out: Vec<Outgoing>) -> Vec<ServerMessage> {
    out.into_iter()
        .map(|o| match o {
            Outgoing::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        })
        .collect()
}

fn chat_texts(out: Vec<Outgoing>) -> Vec<String> {
    messages(out)
        .into_iter()
        .map(|m| match m {
            ServerMessage::Chat { message } => message.text,
            other => panic!("expected chat, got {other:?}"),
        })
        .collect()
}

fn join_moderator(shared: &Arc<Shared>, identity: &str) -> Client {
    let claims = Claims::new(ROOM, identity, identity, true, Duration::from_secs(60));
    let token = TokenKeys::new(SECRET).sign(&claims).unwrap();
    let mut c = Client::new(shared);
    let out = c.send(&format!(r#"{{"type":"join","protocol":1,"room":"{ROOM}","token":"{token}"}}"#));
    assert!(matches!(&out[..], [Outgoing::Message(ServerMessage::Joined { you, .. })] if you.moderator), "{out:?}");
    c
}

#[test]
fn chat_reaches_everyone_and_late_joiners_get_the_history() {
    let (shared, _media) = setup();
    let (mut a, _) = Client::join(&shared, "erika");
    let (mut b, _) = Client::join(&shared, "max");
    a.pump();
    let echo = a.send(r#"{"type":"chat","text":"  Guten Morgen!  "}"#);
    assert_eq!(chat_texts(echo), ["Guten Morgen!"], "the sender sees its own message, through the room");
    let out = messages(b.pump());
    let [ServerMessage::Chat { message }] = &out[..] else { panic!("{out:?}") };
    assert_eq!((message.id, message.identity.as_str(), message.name.as_str()), (1, "erika", "Name of erika"));
    assert_eq!(message.sid, a.id().to_string());
    b.send(r#"{"type":"chat","text":"Moin"}"#);

    let (_c, joined) = Client::join(&shared, "late");
    let ServerMessage::Joined { chat, .. } = joined else { unreachable!() };
    let history: Vec<(u64, &str)> = chat.iter().map(|m: &ChatEntry| (m.id, m.text.as_str())).collect();
    assert_eq!(history, [(1, "Guten Morgen!"), (2, "Moin")]);
}

#[test]
fn chat_is_checked_and_rate_limited() {
    let (shared, _media) = setup();
    let (mut a, _) = Client::join(&shared, "erika");
    assert_eq!(only_error(a.send(r#"{"type":"chat","text":"   "}"#)), (ErrorCode::BadRequest, false));
    let long = format!(r#"{{"type":"chat","text":"{}"}}"#, "x".repeat(MAX_CHAT_CHARS + 1));
    assert_eq!(only_error(a.send(&long)), (ErrorCode::BadRequest, false));
    for i in 0..10 {
        assert_eq!(chat_texts(a.send(&format!(r#"{{"type":"chat","text":"m{i}"}}"#))).len(), 1, "a burst of ten");
    }
    assert_eq!(only_error(a.send(r#"{"type":"chat","text":"one too many"}"#)), (ErrorCode::RateLimited, false));
    a.now += Duration::from_secs(1);
    assert_eq!(chat_texts(a.send(r#"{"type":"chat","text":"later"}"#)), ["later"]);
}

#[test]
fn hands_queue_in_order_and_everyone_sees_changes() {
    let (shared, _media) = setup();
    let (mut a, _) = Client::join(&shared, "a");
    let (mut b, _) = Client::join(&shared, "b");
    let (mut c, _) = Client::join(&shared, "c");
    a.pump();
    b.pump();
    let (sa, sb, sc) = (a.id().to_string(), b.id().to_string(), c.id().to_string());
    c.send(r#"{"type":"hand","raised":true}"#);
    let mut seen = messages(a.pump());
    seen.extend(messages(a.send(r#"{"type":"hand","raised":true}"#)));
    b.send(r#"{"type":"hand","raised":true}"#);
    assert!(b.send(r#"{"type":"hand","raised":true}"#).is_empty(), "raising twice changes nothing");
    seen.extend(messages(a.pump()));
    let queues: Vec<Vec<String>> = seen
        .iter()
        .map(|m| match m {
            ServerMessage::HandChanged { queue, raised: true, .. } => queue.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(queues, [vec![sc.clone()], vec![sc.clone(), sa.clone()], vec![sc.clone(), sa.clone(), sb.clone()]]);

    a.send(r#"{"type":"hand","raised":false}"#);
    let out = messages(c.pump());
    let last = out.last().unwrap();
    assert_eq!(
        *last,
        ServerMessage::HandChanged { sid: sa.clone(), raised: false, by: sa.clone(), queue: vec![sc.clone(), sb.clone()] }
    );
    let (_d, joined) = Client::join(&shared, "d");
    let ServerMessage::Joined { hands, .. } = joined else { unreachable!() };
    assert_eq!(hands, [sc, sb]);
}

#[test]
fn only_moderators_lower_other_hands() {
    let (shared, _media) = setup();
    let (mut a, _) = Client::join(&shared, "a");
    let (mut b, _) = Client::join(&shared, "b");
    let mut m = join_moderator(&shared, "chair");
    let sa = a.id().to_string();
    a.send(r#"{"type":"hand","raised":true}"#);
    b.pump();
    m.pump();

    let lower_a = format!(r#"{{"type":"hand","raised":false,"sid":"{sa}"}}"#);
    let out = b.send(&lower_a);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(error_code(&out[0]), Some((ErrorCode::Forbidden, false)));
    let raise_a = format!(r#"{{"type":"hand","raised":true,"sid":"{sa}"}}"#);
    assert_eq!(only_error(m.send(&raise_a)), (ErrorCode::Forbidden, false), "nobody raises someone else's hand");
    assert!(a.pump().is_empty(), "nothing changed");

    m.send(&lower_a);
    let by = m.id().to_string();
    let expected = ServerMessage::HandChanged { sid: sa.clone(), raised: false, by, queue: vec![] };
    assert_eq!(messages(a.pump()), std::slice::from_ref(&expected));
    assert_eq!(messages(b.pump()), [expected]);
    assert_eq!(only_error(m.send(r#"{"type":"hand","raised":false,"sid":"p999999"}"#)), (ErrorCode::BadRequest, false));
    assert_eq!(only_error(m.send(r#"{"type":"hand","raised":false,"sid":"max"}"#)), (ErrorCode::BadRequest, false));
}

/// A parseable SDP offer (from str0m).
pub(super) fn real_offer() -> String {
    use str0m::media::{Direction, MediaKind};
    let mut rtc = str0m::RtcConfig::new().build(std::time::Instant::now());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _pending) = api.apply().expect("an offer");
    offer.to_sdp_string()
}

#[test]
fn publish_offer_sources_label_the_tracks() {
    let (shared, media) = setup();
    let (mut a, _) = Client::join(&shared, "a");
    let (mut b, _) = Client::join(&shared, "b");
    a.pump();
    let offer = serde_json::json!({
        "type": "publish_offer",
        "sdp": real_offer(),
        "sources": {"0": "microphone", "1": "camera", "2": "screen"},
    });
    assert!(a.send(&offer.to_string()).is_empty());
    assert!(media.commands_for(a.id())[0].starts_with("PublisherOffer"));
    media.emit(a.id(), SfuEvent::TrackPublished(TrackInfo { track_id: "2".into(), kind: TrackKind::Video }));
    media.emit(a.id(), SfuEvent::TrackPublished(TrackInfo { track_id: "3".into(), kind: TrackKind::Audio }));
    a.pump();
    let sa = a.id().to_string();
    assert_eq!(
        messages(b.pump()),
        [
            ServerMessage::TrackPublished { sid: sa.clone(), track_id: "2".into(), kind: Kind::Video, source: TrackSource::Screen },
            ServerMessage::TrackPublished { sid: sa, track_id: "3".into(), kind: Kind::Audio, source: TrackSource::Microphone },
        ]
    );
    let too_many: serde_json::Map<String, serde_json::Value> = (0..20).map(|i| (i.to_string(), "camera".into())).collect();
    let bad = serde_json::json!({"type": "publish_offer", "sdp": "v=0", "sources": too_many});
    assert_eq!(only_error(a.send(&bad.to_string())), (ErrorCode::BadRequest, false));
}

#[test]
fn restart_ice_reaches_the_sfu() {
    let (shared, media) = setup();
    let (mut a, _) = Client::join(&shared, "a");
    assert!(a.send(r#"{"type":"restart_ice"}"#).is_empty());
    assert_eq!(media.commands_for(a.id()), ["RestartIce"]);
}

#[test]
fn screen_tracks_get_priority_and_video_sizes_reach_the_sfu() {
    let (shared, media) = setup();
    let (mut a, _) = Client::join(&shared, "a");
    let (mut b, _) = Client::join(&shared, "b");
    a.pump();
    let offer = serde_json::json!({"type": "publish_offer", "sdp": real_offer(), "sources": {"0": "microphone", "2": "screen"}});
    a.send(&offer.to_string());
    media.emit(a.id(), SfuEvent::TrackPublished(TrackInfo { track_id: "2".into(), kind: TrackKind::Video }));
    a.pump();
    assert!(media.commands_for(a.id()).iter().any(|c| c.contains("SetTrackSource") && c.contains("screen: true")));

    let sizes = format!(
        r#"{{"type":"video_sizes","sizes":[{{"sid":"{}","track_id":"2","width":1280,"height":720}},{{"sid":"{}","track_id":"1","width":0,"height":0}}]}}"#,
        a.id(),
        a.id()
    );
    assert_eq!(b.pump().len(), 1, "track_published");
    assert!(b.send(&sizes).is_empty());
    let cmds = media.commands_for(b.id());
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    assert!(cmds[0].contains("SetVideoSize") && cmds[0].contains("width: 1280"));
    let bad = r#"{"type":"video_sizes","sizes":[{"sid":"p1","track_id":"1","width":99999,"height":1}]}"#;
    assert_eq!(only_error(b.send(bad)), (ErrorCode::BadRequest, false));
    media.emit(b.id(), SfuEvent::Error { code: plenum_sfu::ErrorCode::UnknownTrack, message: "no such video".into() });
    assert_eq!(only_error(b.pump()), (ErrorCode::UnknownTrack, false));
}

#[test]
fn speaker_pause_and_layer_events_reach_the_client() {
    let (shared, media) = setup();
    let (mut a, _) = Client::join(&shared, "a");
    let id = a.id();
    media.emit(id, SfuEvent::Speakers { dominant: Some(ParticipantId(7)), speaking: vec![ParticipantId(7), ParticipantId(9)] });
    media.emit(id, SfuEvent::VideoPaused { publisher: ParticipantId(7), track_id: "1".into(), paused: true });
    media.emit(id, SfuEvent::PublisherLayers { track_id: "1".into(), active: vec![("q".into(), true), ("f".into(), false)] });
    let out = messages(a.pump());
    assert_eq!(
        out,
        [
            ServerMessage::Speakers { dominant: Some("p7".into()), speaking: vec!["p7".into(), "p9".into()] },
            ServerMessage::VideoPaused { sid: "p7".into(), track_id: "1".into(), paused: true },
            ServerMessage::PublisherLayers {
                track_id: "1".into(),
                active: vec![LayerState { rid: "q".into(), active: true }, LayerState { rid: "f".into(), active: false }],
            },
        ]
    );
    assert_eq!(
        serde_json::to_string(&out[2]).unwrap(),
        r#"{"type":"publisher_layers","track_id":"1","active":[{"rid":"q","active":true},{"rid":"f","active":false}]}"#
    );
}

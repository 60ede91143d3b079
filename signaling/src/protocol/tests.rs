use super::*;

#[test]
fn parses_the_documented_examples() {
    let join = r#"{"type": "join", "protocol": 1, "room": "team-weekly", "token": "eyJ", "name": "Erika"}"#;
    assert_eq!(
        parse_client_message(join),
        Ok(ClientMessage::Join { protocol: 1, room: "team-weekly".into(), token: "eyJ".into(), name: Some("Erika".into()) })
    );
    let ice = r#"{"type": "ice_candidate", "target": "publisher", "candidate": null}"#;
    assert_eq!(parse_client_message(ice), Ok(ClientMessage::IceCandidate { target: Target::Publisher, candidate: None }));
    assert_eq!(parse_client_message(r#"{"type":"leave","extra":1}"#), Ok(ClientMessage::Leave {}));
    assert_eq!(parse_client_message(r#"{"type":"ping","id":7}"#), Ok(ClientMessage::Ping { id: 7 }));
    assert_eq!(
        parse_client_message(r#"{"type":"update","muted":true}"#),
        Ok(ClientMessage::Update { muted: Some(true), camera_off: None })
    );
}

#[test]
fn parses_the_meeting_messages() {
    let resume = r#"{"type": "resume", "protocol": 1, "room": "team-weekly", "resume_token": "9f2c"}"#;
    assert_eq!(
        parse_client_message(resume),
        Ok(ClientMessage::Resume { protocol: 1, room: "team-weekly".into(), resume_token: "9f2c".into() })
    );
    let offer = r#"{"type": "publish_offer", "sdp": "v=0", "sources": {"0": "microphone", "1": "camera", "2": "screen"}}"#;
    let Ok(ClientMessage::PublishOffer { sources, .. }) = parse_client_message(offer) else { panic!() };
    assert_eq!(sources.get("2"), Some(&TrackSource::Screen));
    assert_eq!(sources.len(), 3);
    // Without sources it is the version-1 message it always was.
    let plain = parse_client_message(r#"{"type": "publish_offer", "sdp": "v=0"}"#).unwrap();
    assert_eq!(plain, ClientMessage::PublishOffer { sdp: "v=0".into(), sources: Default::default() });
    assert_eq!(serde_json::to_string(&plain).unwrap(), r#"{"type":"publish_offer","sdp":"v=0"}"#);
    let bad_source = r#"{"type": "publish_offer", "sdp": "v=0", "sources": {"0": "hologram"}}"#;
    assert_eq!(parse_client_message(bad_source).unwrap_err().code(), ErrorCode::BadRequest);

    assert_eq!(parse_client_message(r#"{"type":"restart_ice"}"#), Ok(ClientMessage::RestartIce {}));
    let sizes = r#"{"type": "video_sizes", "sizes": [{"sid": "p13", "track_id": "1", "width": 480, "height": 270}]}"#;
    assert_eq!(
        parse_client_message(sizes),
        Ok(ClientMessage::VideoSizes {
            sizes: vec![VideoSize { sid: "p13".into(), track_id: "1".into(), width: 480, height: 270 }]
        })
    );
    let negative = r#"{"type": "video_sizes", "sizes": [{"sid": "p13", "track_id": "1", "width": -1, "height": 0}]}"#;
    assert_eq!(parse_client_message(negative).unwrap_err().code(), ErrorCode::BadRequest);
    assert_eq!(parse_client_message(r#"{"type":"chat","text":"Hallo"}"#), Ok(ClientMessage::Chat { text: "Hallo".into() }));
    assert_eq!(parse_client_message(r#"{"type":"hand","raised":true}"#), Ok(ClientMessage::Hand { raised: true, sid: None }));
    assert_eq!(
        parse_client_message(r#"{"type":"hand","raised":false,"sid":"p9"}"#),
        Ok(ClientMessage::Hand { raised: false, sid: Some("p9".into()) })
    );
    assert_eq!(parse_client_message(r#"{"type":"hand"}"#).unwrap_err().code(), ErrorCode::BadRequest);
    assert_eq!(parse_client_message(r#"{"type":"chat","text":5}"#).unwrap_err().code(), ErrorCode::BadRequest);
}

#[test]
fn classifies_bad_frames() {
    for bad in ["", "not json", "[1,2]", "{\"type\": 5}", "{\"no_type\": 1}", "\"join\"", "{\"type\":"] {
        assert_eq!(parse_client_message(bad), Err(ParseError::BadJson), "{bad:?}");
    }
    assert_eq!(parse_client_message(r#"{"type":"dance"}"#), Err(ParseError::UnknownMessage));
    assert_eq!(parse_client_message(r#"{"type":"joined"}"#), Err(ParseError::UnknownMessage));
    assert_eq!(parse_client_message(r#"{"type":"resumed"}"#), Err(ParseError::UnknownMessage));
    let missing = parse_client_message(r#"{"type":"publish_offer"}"#).unwrap_err();
    assert_eq!(missing.code(), ErrorCode::BadRequest);
    let wrong = parse_client_message(r#"{"type":"ice_candidate","target":"both","candidate":null}"#);
    assert_eq!(wrong.unwrap_err().code(), ErrorCode::BadRequest);
}

#[test]
fn serializes_server_messages_as_documented() {
    let msg = ServerMessage::ParticipantLeft { sid: "p13".into(), reason: LeaveReason::ConnectionFailed };
    assert_eq!(serde_json::to_string(&msg).unwrap(), r#"{"type":"participant_left","sid":"p13","reason":"connection_failed"}"#);
    let err = ServerMessage::error(ErrorCode::TokenExpired, "expired");
    assert_eq!(serde_json::to_string(&err).unwrap(), r#"{"type":"error","code":"token_expired","message":"expired","fatal":true}"#);
    let track = ServerMessage::TrackPublished {
        sid: "p1".into(),
        track_id: "2".into(),
        kind: Kind::Video,
        source: TrackSource::Screen,
    };
    assert_eq!(
        serde_json::to_string(&track).unwrap(),
        r#"{"type":"track_published","sid":"p1","track_id":"2","kind":"video","source":"screen"}"#
    );
    let chat = ServerMessage::Chat {
        message: ChatEntry {
            id: 7,
            sid: "p12".into(),
            identity: "erika".into(),
            name: "Erika".into(),
            text: "Hallo".into(),
            at: 1_763_884_800_000,
        },
    };
    assert_eq!(
        serde_json::to_string(&chat).unwrap(),
        r#"{"type":"chat","message":{"id":7,"sid":"p12","identity":"erika","name":"Erika","text":"Hallo","at":1763884800000}}"#
    );
    let hand = ServerMessage::HandChanged { sid: "p9".into(), raised: false, by: "p12".into(), queue: vec!["p13".into()] };
    assert_eq!(
        serde_json::to_string(&hand).unwrap(),
        r#"{"type":"hand_changed","sid":"p9","raised":false,"by":"p12","queue":["p13"]}"#
    );
    let speakers = ServerMessage::Speakers { dominant: None, speaking: vec![] };
    assert_eq!(serde_json::to_string(&speakers).unwrap(), r#"{"type":"speakers","speaking":[]}"#);
}

#[test]
fn error_code_strings_match_serde() {
    for code in [
        ErrorCode::BadJson,
        ErrorCode::TokenWrongRoom,
        ErrorCode::Removed,
        ErrorCode::FrameTooLarge,
        ErrorCode::ResumeFailed,
        ErrorCode::Forbidden,
    ] {
        assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::String(code.as_str().into()));
    }
    assert!(!ErrorCode::ResumeFailed.is_fatal(), "the client may send join on the same socket");
    assert!(!ErrorCode::Forbidden.is_fatal());
}

#[test]
fn parses_the_lobby_and_moderation_messages() {
    assert_eq!(
        parse_client_message(r#"{"type":"lobby_response","sid":"p4","admit":true}"#),
        Ok(ClientMessage::LobbyResponse { sid: Some("p4".into()), all: false, admit: true })
    );
    assert_eq!(
        parse_client_message(r#"{"type":"lobby_response","all":true,"admit":false}"#),
        Ok(ClientMessage::LobbyResponse { sid: None, all: true, admit: false })
    );
    assert_eq!(
        parse_client_message(r#"{"type":"moderate","action":"remove","sid":"p4","ban":true}"#),
        Ok(ClientMessage::Moderate { action: ModerateAction::Remove, sid: Some("p4".into()), ban: true })
    );
    assert_eq!(
        parse_client_message(r#"{"type":"moderate","action":"mute_all"}"#),
        Ok(ClientMessage::Moderate { action: ModerateAction::MuteAll, sid: None, ban: false })
    );
    for bad in [
        r#"{"type":"lobby_response","sid":"p4"}"#,
        r#"{"type":"moderate","action":"explode","sid":"p4"}"#,
        r#"{"type":"moderate","sid":"p4"}"#,
        r#"{"type":"moderate","action":"mute","ban":"yes"}"#,
    ] {
        assert_eq!(parse_client_message(bad).unwrap_err().code(), ErrorCode::BadRequest, "{bad}");
    }
    let moderated = ServerMessage::Moderated { action: ModerateAction::Mute, by: "p1".into(), ban: false };
    assert_eq!(serde_json::to_string(&moderated).unwrap(), r#"{"type":"moderated","action":"mute","by":"p1"}"#);
    let error = ServerMessage::error(ErrorCode::Banned, "x");
    assert!(matches!(error, ServerMessage::Error { fatal: true, .. }));
    assert_eq!(serde_json::to_value(ErrorCode::LobbyDenied).unwrap(), "lobby_denied");
}

//! The signaling protocol, version 1: the JSON messages of `docs/protocol.md`.
//!
//! Parsing is in two steps so that every bad frame gets the right typed error: first the frame must be a JSON
//! object with a string `type` (`bad_json`), then the type must be known (`unknown_message`), and only then are
//! the fields checked (`bad_request`). Unknown fields are ignored.

use serde::{Deserialize, Serialize};

/// The only protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The `type`s a client may send.
const CLIENT_TYPES: &[&str] =
    &["join", "publish_offer", "subscribe_answer", "ice_candidate", "update", "leave", "ping"];

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Join {
        protocol: u32,
        room: String,
        token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    PublishOffer {
        sdp: String,
    },
    SubscribeAnswer {
        sdp: String,
    },
    IceCandidate {
        target: Target,
        /// `None` (JSON `null`) is end-of-candidates.
        #[serde(default)]
        candidate: Option<String>,
    },
    Update {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        muted: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        camera_off: Option<bool>,
    },
    Leave {},
    Ping {
        #[serde(default)]
        id: u64,
    },
}

/// Which of the client's two peer connections an `ice_candidate` belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Publisher,
    Subscriber,
}

/// A message to the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Joined {
        protocol: u32,
        room: String,
        you: ParticipantInfo,
        participants: Vec<ParticipantInfo>,
        tracks: Vec<TrackEntry>,
        ice_servers: Vec<IceServer>,
    },
    PublishAnswer {
        sdp: String,
    },
    SubscribeOffer {
        sdp: String,
    },
    ParticipantJoined {
        participant: ParticipantInfo,
    },
    ParticipantUpdated {
        participant: ParticipantInfo,
    },
    ParticipantLeft {
        sid: String,
        reason: LeaveReason,
    },
    TrackPublished {
        sid: String,
        track_id: String,
        kind: Kind,
    },
    TrackUnpublished {
        sid: String,
        track_id: String,
    },
    Pong {
        id: u64,
    },
    Error {
        code: ErrorCode,
        message: String,
        fatal: bool,
    },
}

impl ServerMessage {
    /// An `error` message; `fatal` follows from the code.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMessage::Error { code, message: message.into(), fatal: code.is_fatal() }
    }
}

/// A participant as shown to the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantInfo {
    pub sid: String,
    pub identity: String,
    pub name: String,
    pub moderator: bool,
    pub muted: bool,
    pub camera_off: bool,
}

/// A track someone publishes (in `joined.tracks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackEntry {
    pub sid: String,
    pub track_id: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Audio,
    Video,
}

impl From<plenum_sfu::TrackKind> for Kind {
    fn from(kind: plenum_sfu::TrackKind) -> Self {
        match kind {
            plenum_sfu::TrackKind::Audio => Kind::Audio,
            plenum_sfu::TrackKind::Video => Kind::Video,
        }
    }
}

/// An entry of `RTCPeerConnection`'s `iceServers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Why a participant left (`participant_left.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Disconnected,
    ConnectionFailed,
    Error,
    Shutdown,
}

/// The error codes of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadJson,
    UnknownMessage,
    BadRequest,
    FrameTooLarge,
    RateLimited,
    NotJoined,
    AlreadyJoined,
    ProtocolUnsupported,
    TokenInvalid,
    TokenExpired,
    TokenWrongRoom,
    JoinTimeout,
    BadSdp,
    BadCandidate,
    UnexpectedAnswer,
    Internal,
    Removed,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::UnknownMessage => "unknown_message",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::AlreadyJoined => "already_joined",
            ErrorCode::ProtocolUnsupported => "protocol_unsupported",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenWrongRoom => "token_wrong_room",
            ErrorCode::JoinTimeout => "join_timeout",
            ErrorCode::BadSdp => "bad_sdp",
            ErrorCode::BadCandidate => "bad_candidate",
            ErrorCode::UnexpectedAnswer => "unexpected_answer",
            ErrorCode::Internal => "internal",
            ErrorCode::Removed => "removed",
        }
    }

    /// Whether the server closes the socket after sending this error.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            ErrorCode::ProtocolUnsupported
                | ErrorCode::TokenInvalid
                | ErrorCode::TokenExpired
                | ErrorCode::TokenWrongRoom
                | ErrorCode::JoinTimeout
                | ErrorCode::Removed
        )
    }
}

impl From<plenum_sfu::ErrorCode> for ErrorCode {
    fn from(code: plenum_sfu::ErrorCode) -> Self {
        match code {
            plenum_sfu::ErrorCode::BadSdp => ErrorCode::BadSdp,
            plenum_sfu::ErrorCode::BadCandidate => ErrorCode::BadCandidate,
            plenum_sfu::ErrorCode::UnexpectedAnswer => ErrorCode::UnexpectedAnswer,
            // The participant is gone from the SFU (a race with its removal): nothing the client did wrong.
            plenum_sfu::ErrorCode::NotInRoom | plenum_sfu::ErrorCode::Internal => ErrorCode::Internal,
        }
    }
}

/// Why a client frame could not be turned into a [`ClientMessage`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the frame is not a JSON object with a string \"type\"")]
    BadJson,
    #[error("unknown message type")]
    UnknownMessage,
    #[error("invalid {kind} message: {detail}")]
    BadRequest { kind: &'static str, detail: String },
}

impl ParseError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ParseError::BadJson => ErrorCode::BadJson,
            ParseError::UnknownMessage => ErrorCode::UnknownMessage,
            ParseError::BadRequest { .. } => ErrorCode::BadRequest,
        }
    }
}

/// Parse one text frame from a client.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, ParseError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| ParseError::BadJson)?;
    let kind = match value.get("type") {
        Some(serde_json::Value::String(kind)) if value.is_object() => kind.as_str(),
        _ => return Err(ParseError::BadJson),
    };
    let Some(kind) = CLIENT_TYPES.iter().copied().find(|known| *known == kind) else {
        return Err(ParseError::UnknownMessage);
    };
    serde_json::from_value(value).map_err(|e| ParseError::BadRequest { kind, detail: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_examples() {
        let join = r#"{"type": "join", "protocol": 1, "room": "team-weekly", "token": "eyJ", "name": "Erika"}"#;
        assert_eq!(
            parse_client_message(join),
            Ok(ClientMessage::Join {
                protocol: 1,
                room: "team-weekly".into(),
                token: "eyJ".into(),
                name: Some("Erika".into())
            })
        );
        let ice = r#"{"type": "ice_candidate", "target": "publisher", "candidate": null}"#;
        assert_eq!(
            parse_client_message(ice),
            Ok(ClientMessage::IceCandidate { target: Target::Publisher, candidate: None })
        );
        assert_eq!(parse_client_message(r#"{"type":"leave","extra":1}"#), Ok(ClientMessage::Leave {}));
        assert_eq!(parse_client_message(r#"{"type":"ping","id":7}"#), Ok(ClientMessage::Ping { id: 7 }));
        assert_eq!(
            parse_client_message(r#"{"type":"update","muted":true}"#),
            Ok(ClientMessage::Update { muted: Some(true), camera_off: None })
        );
    }

    #[test]
    fn classifies_bad_frames() {
        for bad in ["", "not json", "[1,2]", "{\"type\": 5}", "{\"no_type\": 1}", "\"join\"", "{\"type\":"] {
            assert_eq!(parse_client_message(bad), Err(ParseError::BadJson), "{bad:?}");
        }
        assert_eq!(parse_client_message(r#"{"type":"dance"}"#), Err(ParseError::UnknownMessage));
        assert_eq!(parse_client_message(r#"{"type":"joined"}"#), Err(ParseError::UnknownMessage));
        let missing = parse_client_message(r#"{"type":"publish_offer"}"#).unwrap_err();
        assert_eq!(missing.code(), ErrorCode::BadRequest);
        let wrong = parse_client_message(r#"{"type":"ice_candidate","target":"both","candidate":null}"#);
        assert_eq!(wrong.unwrap_err().code(), ErrorCode::BadRequest);
    }

    #[test]
    fn serializes_server_messages_as_documented() {
        let msg = ServerMessage::ParticipantLeft { sid: "p13".into(), reason: LeaveReason::ConnectionFailed };
        assert_eq!(
            serde_json::to_string(&msg).unwrap(),
            r#"{"type":"participant_left","sid":"p13","reason":"connection_failed"}"#
        );
        let err = ServerMessage::error(ErrorCode::TokenExpired, "expired");
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"type":"error","code":"token_expired","message":"expired","fatal":true}"#
        );
        let track = ServerMessage::TrackPublished { sid: "p1".into(), track_id: "0".into(), kind: Kind::Audio };
        assert_eq!(
            serde_json::to_string(&track).unwrap(),
            r#"{"type":"track_published","sid":"p1","track_id":"0","kind":"audio"}"#
        );
    }

    #[test]
    fn error_code_strings_match_serde() {
        for code in [ErrorCode::BadJson, ErrorCode::TokenWrongRoom, ErrorCode::Removed, ErrorCode::FrameTooLarge] {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::String(code.as_str().into()));
        }
    }
}

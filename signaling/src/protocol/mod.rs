//! The signaling protocol, version 1: the JSON messages of `docs/protocol.md`.
//!
//! Parsing is in two steps so that every bad frame gets the right typed error: first the frame must be a JSON
//! object with a string `type` (`bad_json`), then the type must be known (`unknown_message`), and only then are
//! the fields checked (`bad_request`). Unknown fields are ignored.
//!
//! Client messages are here, server messages in [`server`], error codes in [`error`].

mod error;
mod server;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use error::{ErrorCode, ParseError};
pub use server::{
    ChatEntry, IceServer, IceTransportPolicy, Kind, LayerState, LeaveReason, LobbyEntry, ParticipantInfo, ServerMessage,
    TrackEntry,
};

/// The only protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The `type`s a client may send.
const CLIENT_TYPES: &[&str] = &[
    "join",
    "resume",
    "publish_offer",
    "subscribe_answer",
    "ice_candidate",
    "restart_ice",
    "video_sizes",
    "update",
    "chat",
    "hand",
    "lobby_response",
    "moderate",
    "leave",
    "ping",
];

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
    /// Take over a participant whose connection dropped, instead of `join` (see "Reconnecting").
    Resume {
        protocol: u32,
        room: String,
        resume_token: String,
    },
    PublishOffer {
        sdp: String,
        /// What each of the offer's mids carries; mids not named default by kind (microphone, camera).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        sources: BTreeMap<String, TrackSource>,
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
    /// Restart ICE on the subscriber connection: the server sends a `subscribe_offer` with new credentials.
    RestartIce {},
    /// How large the client shows others' videos (0x0: not at all); the SFU picks layers by it.
    VideoSizes {
        sizes: Vec<VideoSize>,
    },
    Update {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        muted: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        camera_off: Option<bool>,
    },
    Chat {
        text: String,
    },
    /// Raise or lower the own hand; with `sid`, a moderator lowers someone else's.
    Hand {
        raised: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sid: Option<String>,
    },
    /// A moderator admits or denies one waiting person (`sid`) or everyone in the lobby (`all: true`).
    LobbyResponse {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sid: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        all: bool,
        admit: bool,
    },
    /// A moderator acts on a participant (`sid`) or on the room.
    Moderate {
        action: ModerateAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sid: Option<String>,
        /// With `remove`: the person (by token identity) cannot rejoin this meeting.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ban: bool,
    },
    Leave {},
    Ping {
        #[serde(default)]
        id: u64,
    },
}

/// What a moderator does with `moderate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerateAction {
    /// Stop forwarding `sid`'s audio (the participant unmutes itself, if it wants).
    Mute,
    /// Mute everyone but the moderator.
    MuteAll,
    /// Ask `sid` to unmute (nothing is forced).
    AskUnmute,
    /// Stop forwarding `sid`'s camera.
    StopVideo,
    /// Stop forwarding `sid`'s screen share.
    StopScreen,
    /// Remove `sid` from the meeting (`ban`: for good).
    Remove,
    /// No new participants (moderators excepted), not even into the lobby.
    Lock,
    Unlock,
    /// End the meeting for everyone, the lobby included.
    End,
}

impl ModerateAction {
    /// Whether the action needs a `sid`.
    pub fn targets_one(self) -> bool {
        matches!(
            self,
            ModerateAction::Mute
                | ModerateAction::AskUnmute
                | ModerateAction::StopVideo
                | ModerateAction::StopScreen
                | ModerateAction::Remove
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModerateAction::Mute => "mute",
            ModerateAction::MuteAll => "mute_all",
            ModerateAction::AskUnmute => "ask_unmute",
            ModerateAction::StopVideo => "stop_video",
            ModerateAction::StopScreen => "stop_screen",
            ModerateAction::Remove => "remove",
            ModerateAction::Lock => "lock",
            ModerateAction::Unlock => "unlock",
            ModerateAction::End => "end",
        }
    }
}

/// Which of the client's two peer connections an `ice_candidate` belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Publisher,
    Subscriber,
}

/// One entry of `video_sizes`: `sid`'s video `track_id` is shown at `width` x `height` CSS pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoSize {
    pub sid: String,
    pub track_id: String,
    pub width: u32,
    pub height: u32,
}

/// What a published track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSource {
    Microphone,
    Camera,
    Screen,
    ScreenAudio,
}

impl TrackSource {
    /// The source assumed for a track the client did not describe.
    pub fn default_for(kind: Kind) -> TrackSource {
        match kind {
            Kind::Audio => TrackSource::Microphone,
            Kind::Video => TrackSource::Camera,
        }
    }

    pub fn is_screen(self) -> bool {
        matches!(self, TrackSource::Screen | TrackSource::ScreenAudio)
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
mod tests;

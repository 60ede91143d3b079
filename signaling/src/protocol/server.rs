//! Messages from the server to the client, and the objects they carry.

use serde::{Deserialize, Serialize};

use super::{ErrorCode, ModerateAction, TrackSource};

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
        /// `relay`: the client must use only the TURN servers (RTCConfiguration.iceTransportPolicy).
        #[serde(default)]
        ice_transport_policy: IceTransportPolicy,
        /// Secret for `resume` after a dropped connection.
        resume_token: String,
        /// The room's chat so far (oldest first, at most the history cap).
        chat: Vec<ChatEntry>,
        /// Sids with a raised hand, in the order they were raised.
        hands: Vec<String>,
    },
    /// Answer to `resume`: the participant is back; the room as it is now (the same fields as `joined`).
    Resumed {
        protocol: u32,
        room: String,
        you: ParticipantInfo,
        participants: Vec<ParticipantInfo>,
        tracks: Vec<TrackEntry>,
        ice_servers: Vec<IceServer>,
        #[serde(default)]
        ice_transport_policy: IceTransportPolicy,
        chat: Vec<ChatEntry>,
        hands: Vec<String>,
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
        source: TrackSource,
    },
    TrackUnpublished {
        sid: String,
        track_id: String,
    },
    /// A chat message, to everyone in the room including its sender.
    Chat {
        message: ChatEntry,
    },
    /// `sid` raised or lowered its hand (`by` did it: the participant itself or a moderator); `queue` is the new
    /// order of raised hands.
    HandChanged {
        sid: String,
        raised: bool,
        by: String,
        queue: Vec<String>,
    },
    /// Who speaks, from the SFU's speaker detection: the dominant speaker and everyone speaking now.
    Speakers {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dominant: Option<String>,
        speaking: Vec<String>,
    },
    /// `sid`'s video `track_id` is paused for this client because its bandwidth does not carry it (or resumed).
    VideoPaused {
        sid: String,
        track_id: String,
        paused: bool,
    },
    /// To a publisher: which simulcast encodings (by rid) of its `track_id` anyone receives; inactive ones can
    /// stop being encoded.
    PublisherLayers {
        track_id: String,
        active: Vec<LayerState>,
    },
    /// The server drains (it is being restarted or stopped): it starts no new meetings and ends this one in at most
    /// `seconds` seconds.
    Draining {
        seconds: u64,
    },
    /// To moderators: everyone waiting in the lobby now (sent whenever it changes; empty when nobody waits).
    Lobby {
        waiting: Vec<LobbyEntry>,
    },
    /// To someone waiting in the lobby: still waiting; whether a moderator is in the meeting to admit them.
    LobbyWaiting {
        moderators_present: bool,
    },
    /// To everyone in the room: a moderator (`by`) locked or unlocked it.
    RoomLocked {
        locked: bool,
        by: String,
    },
    /// To the participant a moderator (`by`) acted on: muted, asked to unmute, stopped video or share, removed.
    Moderated {
        action: ModerateAction,
        by: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ban: bool,
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

/// One simulcast encoding in `publisher_layers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerState {
    pub rid: String,
    pub active: bool,
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

/// Someone waiting in the lobby.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LobbyEntry {
    pub sid: String,
    pub identity: String,
    pub name: String,
    /// Came by a guest link (no account).
    pub guest: bool,
}

/// A track someone publishes (in `joined.tracks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackEntry {
    pub sid: String,
    pub track_id: String,
    pub kind: Kind,
    pub source: TrackSource,
}

/// One chat message as kept in the room's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEntry {
    /// Increases by one per message in the room.
    pub id: u64,
    pub sid: String,
    pub identity: String,
    /// The sender's display name when it was sent.
    pub name: String,
    pub text: String,
    /// Milliseconds since the Unix epoch, server time.
    pub at: u64,
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

/// Which candidates the client may use (`RTCConfiguration.iceTransportPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum IceTransportPolicy {
    /// Any path: direct UDP, ICE-TCP, or through TURN.
    #[default]
    All,
    /// Only through TURN (the media server never sees the client's addresses).
    Relay,
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
    /// A moderator removed them.
    Removed,
    /// A moderator ended the meeting.
    Ended,
}

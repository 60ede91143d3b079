//! Identifiers, commands and events: the vocabulary shared by the sans-IO core, the I/O driver and signaling.

use std::fmt;

/// Server-wide unique id of one participant's session (assigned by signaling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParticipantId(pub u64);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

/// Name of a room (the room part of a join token).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RoomId(pub String);

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a datagram reached the SFU: UDP, or a passive ICE-TCP connection (RFC 6544, RFC 4571 framing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

/// Which of a participant's two peer connections a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PcTarget {
    /// The client's sending connection: the client offers, the SFU answers.
    Publisher,
    /// The client's receiving connection: the SFU offers, the client answers.
    Subscriber,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TrackKind {
    Audio,
    Video,
}

impl TrackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Audio => "audio",
            TrackKind::Video => "video",
        }
    }
}

/// A published track as announced to the room.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrackInfo {
    /// Stable id within the publisher (the publisher-side mid).
    pub track_id: String,
    pub kind: TrackKind,
}

/// Control input for one participant, queued to the worker that owns its room.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ParticipantCommand {
    /// SDP offer for the publisher connection. Answered by [`SfuEvent::PublisherAnswer`].
    PublisherOffer(String),
    /// SDP answer for the subscriber connection (to the last [`SfuEvent::SubscriberOffer`]).
    SubscriberAnswer(String),
    /// A trickled ICE candidate (`candidate:` line) from the client; `None` is end-of-candidates.
    RemoteCandidate { target: PcTarget, candidate: Option<String> },
    /// The subscriber renders `publisher`'s video `track_id` at this size in CSS pixels; `0x0` when the tile is
    /// hidden or off-screen (then nothing is sent). Drives the layer the Allocator picks.
    SetVideoSize { publisher: ParticipantId, track_id: String, width: u32, height: u32 },
    /// The publisher says what one of its tracks is (a screen share is served before cameras).
    SetTrackSource { track_id: String, screen: bool },
    /// Restart ICE on the subscriber connection (the client's network changed): the SFU sends a new
    /// [`SfuEvent::SubscriberOffer`] with fresh ICE credentials. The publisher connection is restarted by the
    /// client with a [`ParticipantCommand::PublisherOffer`] carrying new credentials.
    RestartIce,
    /// A moderator stopped (`blocked: true`) or the participant itself resumed (`false`) the forwarding of this
    /// participant's tracks of one class. Enforced on the forwarding path: while blocked, their packets are dropped
    /// (they still count for the layer estimates); video resumes for each subscriber at a keyframe. Applies to the
    /// tracks published now: signaling sends it again for a track published later while the block lasts.
    BlockMedia { media: MediaClass, blocked: bool },
    /// Leave the room: tracks are unpublished for the others and the connections closed.
    Leave,
    /// Cascading, to a relay leg (see `Sfu::open_relay`): the home node's subscriber offer for the leg. Answered
    /// by [`SfuEvent::RelayAnswer`]; the tracks it carries are republished in the local room.
    RelayOffer(String),
}

/// What [`ParticipantCommand::BlockMedia`] stops: all audio, the camera (video not marked as a screen share), or
/// the screen share's video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MediaClass {
    Audio,
    Camera,
    Screen,
}

/// A set of media classes (which ones a moderator blocked, see [`ParticipantCommand::BlockMedia`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BlockedMedia {
    pub audio: bool,
    pub camera: bool,
    pub screen: bool,
}

impl BlockedMedia {
    pub fn set(&mut self, media: MediaClass, blocked: bool) {
        match media {
            MediaClass::Audio => self.audio = blocked,
            MediaClass::Camera => self.camera = blocked,
            MediaClass::Screen => self.screen = blocked,
        }
    }

    /// Whether a track of `kind` (a screen share if `screen`) is blocked.
    pub fn blocks(&self, kind: TrackKind, screen: bool) -> bool {
        match kind {
            TrackKind::Audio => self.audio,
            TrackKind::Video if screen => self.screen,
            TrackKind::Video => self.camera,
        }
    }
}

/// Why a participant was removed by the SFU.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CloseReason {
    /// Asked to leave.
    Left,
    /// Its connection failed or timed out (ICE/DTLS).
    ConnectionFailed,
    /// Its input made the core fail (an error or a caught panic); isolated and dropped.
    Isolated(String),
    /// The SFU is shutting down.
    Shutdown,
    /// The media server (a remote SFU node of a cluster) went away or stopped: the participant must join again and
    /// is placed on another node. Never emitted by the SFU itself.
    MediaLost,
}

/// Output of the SFU for one participant (routed by the driver to that participant's sink).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SfuEvent {
    /// SDP answer to a [`ParticipantCommand::PublisherOffer`].
    PublisherAnswer(String),
    /// SDP offer for the subscriber connection; answer with [`ParticipantCommand::SubscriberAnswer`].
    SubscriberOffer(String),
    /// Both connections' ICE+DTLS came up (emitted per connection).
    Connected(PcTarget),
    /// This participant's own track started arriving at the SFU: announce it to the room.
    TrackPublished(TrackInfo),
    /// This participant's own track is gone.
    TrackUnpublished { track_id: String },
    /// To a subscriber: `publisher`'s video `track_id` is paused because the bandwidth does not carry it (or
    /// resumed).
    VideoPaused { publisher: ParticipantId, track_id: String, paused: bool },
    /// To a publisher: enable or disable its simulcast encodings (by rid) for `track_id`, because nobody
    /// receives a layer (or someone wants it again).
    PublisherLayers { track_id: String, active: Vec<(String, bool)> },
    /// To everyone in a room: the dominant speaker and who is speaking now.
    Speakers { dominant: Option<ParticipantId>, speaking: Vec<ParticipantId> },
    /// Cascading, from a relay leg: the answer to a [`ParticipantCommand::RelayOffer`], for the home node.
    RelayAnswer(String),
    /// A command could not be applied; the participant stays in the room.
    Error { code: ErrorCode, message: String },
    /// The participant is no longer in the SFU. Last event for it.
    Closed(CloseReason),
}

/// Typed error codes, shared with the signaling protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ErrorCode {
    BadSdp,
    BadCandidate,
    UnexpectedAnswer,
    NotInRoom,
    UnknownTrack,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadSdp => "bad_sdp",
            ErrorCode::BadCandidate => "bad_candidate",
            ErrorCode::UnexpectedAnswer => "unexpected_answer",
            ErrorCode::NotInRoom => "not_in_room",
            ErrorCode::UnknownTrack => "unknown_track",
            ErrorCode::Internal => "internal",
        }
    }
}

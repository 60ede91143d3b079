//! The protocol's error codes, and why a client frame could not be parsed.

use serde::{Deserialize, Serialize};

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
    /// `resume` found nothing to resume (unknown token, or the grace period is over): send `join`.
    ResumeFailed,
    /// The join token does not grant this (e.g. lowering someone else's hand without being a moderator).
    Forbidden,
    /// A message named a track the media server does not know (e.g. a `video_sizes` entry for a track that just
    /// ended).
    UnknownTrack,
    /// The server drains (restart or shutdown) and starts no new meetings; running ones can still be joined.
    Draining,
    /// A moderator locked the meeting: no new participants (moderators excepted).
    RoomLocked,
    /// A moderator removed this person from the meeting for good.
    Banned,
    /// A moderator did not let this person in from the lobby.
    LobbyDenied,
    /// A moderator ended the meeting for everyone (also: a join with a token issued before the end).
    MeetingEnded,
    /// The scheduled meeting was deleted.
    MeetingDeleted,
    /// The join token belongs to an account an admin disabled.
    AccountDisabled,
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
            ErrorCode::ResumeFailed => "resume_failed",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::UnknownTrack => "unknown_track",
            ErrorCode::Draining => "draining",
            ErrorCode::RoomLocked => "room_locked",
            ErrorCode::Banned => "banned",
            ErrorCode::LobbyDenied => "lobby_denied",
            ErrorCode::MeetingEnded => "meeting_ended",
            ErrorCode::MeetingDeleted => "meeting_deleted",
            ErrorCode::AccountDisabled => "account_disabled",
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
                | ErrorCode::Draining
                | ErrorCode::RoomLocked
                | ErrorCode::Banned
                | ErrorCode::LobbyDenied
                | ErrorCode::MeetingEnded
                | ErrorCode::MeetingDeleted
                | ErrorCode::AccountDisabled
        )
    }
}

impl From<plenum_sfu::ErrorCode> for ErrorCode {
    fn from(code: plenum_sfu::ErrorCode) -> Self {
        #[allow(unreachable_patterns)] // codes the SFU may add map to `internal`
        match code {
            plenum_sfu::ErrorCode::BadSdp => ErrorCode::BadSdp,
            plenum_sfu::ErrorCode::BadCandidate => ErrorCode::BadCandidate,
            plenum_sfu::ErrorCode::UnexpectedAnswer => ErrorCode::UnexpectedAnswer,
            plenum_sfu::ErrorCode::UnknownTrack => ErrorCode::UnknownTrack,
            // The participant is gone from the SFU (a race with its removal): nothing the client did wrong.
            plenum_sfu::ErrorCode::NotInRoom | plenum_sfu::ErrorCode::Internal => ErrorCode::Internal,
            _ => ErrorCode::Internal,
        }
    }
}

/// Why a client frame could not be turned into a [`super::ClientMessage`].
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

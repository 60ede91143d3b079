//! Messages between signaling nodes and SFU nodes (JSON in the `m` field of a stream entry).

use plenum_sfu::{ParticipantCommand, ParticipantId, RoomId, SfuEvent};
use serde::{Deserialize, Serialize};

/// To an SFU node (its stream `plenum:sfu:{id}:in`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ToSfu {
    /// Add a participant; its events go to the signaling node `reply_to`. With `home` (cascading), this node is
    /// the room's edge: it relays the room from the node `home` (see `cascade`).
    Join {
        room: RoomId,
        participant: ParticipantId,
        reply_to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        home: Option<String>,
    },
    /// A command for a participant.
    Command { participant: ParticipantId, cmd: ParticipantCommand },
}

/// To a signaling node (its stream `plenum:sig:{id}:in`): one participant's SFU event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToSignaling {
    pub participant: ParticipantId,
    /// The SFU node that sent it.
    pub node: String,
    pub event: SfuEvent,
}

#[cfg(test)]
mod tests {
    use plenum_sfu::{CloseReason, PcTarget, TrackInfo, TrackKind};

    use super::*;

    #[test]
    fn commands_and_events_round_trip() {
        let msgs = [
            ToSfu::Join { room: RoomId("r".into()), participant: ParticipantId(7), reply_to: "sig-1".into(), home: None },
            ToSfu::Join {
                room: RoomId("r".into()),
                participant: ParticipantId(8),
                reply_to: "sig-1".into(),
                home: Some("sfu-1".into()),
            },
            ToSfu::Command {
                participant: ParticipantId(7),
                cmd: ParticipantCommand::RemoteCandidate { target: PcTarget::Publisher, candidate: Some("c".into()) },
            },
        ];
        for msg in msgs {
            let text = serde_json::to_string(&msg).unwrap();
            let back: ToSfu = serde_json::from_str(&text).unwrap();
            assert_eq!(format!("{back:?}"), format!("{msg:?}"));
        }
        for event in [
            SfuEvent::TrackPublished(TrackInfo { track_id: "0".into(), kind: TrackKind::Video }),
            SfuEvent::Speakers { dominant: Some(ParticipantId(3)), speaking: vec![ParticipantId(3)] },
            SfuEvent::Closed(CloseReason::Isolated("x".into())),
        ] {
            let msg = ToSignaling { participant: ParticipantId(1), node: "sfu-1".into(), event: event.clone() };
            let back: ToSignaling = serde_json::from_str(&serde_json::to_string(&msg).unwrap()).unwrap();
            assert_eq!(back.event, event);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(serde_json::from_str::<ToSfu>(r#"{"t":"nope"}"#).is_err());
        assert!(serde_json::from_str::<ToSignaling>("[]").is_err());
    }
}

//! What signaling needs from the SFU, as a trait: the real [`plenum_sfu::Sfu`] in the server, a fake in the
//! session tests.

use plenum_sfu::{EventSink, ParticipantCommand, ParticipantId, RoomId, Sfu, SfuError};

pub trait Media: Send + Sync + 'static {
    /// Add a participant; its events go to `sink` (called on an SFU worker thread), ending with `Closed`.
    fn join(&self, room: &RoomId, participant: ParticipantId, sink: EventSink) -> Result<(), SfuError>;
    /// [`Media::join`] for a participant that cannot publish (a viewer): in a cluster it may be seated on an edge
    /// node that relays the room (cascading).
    fn join_viewer(&self, room: &RoomId, participant: ParticipantId, sink: EventSink) -> Result<(), SfuError> {
        self.join(room, participant, sink)
    }
    /// Queue a command for a participant.
    fn command(&self, participant: ParticipantId, cmd: ParticipantCommand) -> Result<(), SfuError>;
}

impl Media for Sfu {
    fn join(&self, room: &RoomId, participant: ParticipantId, sink: EventSink) -> Result<(), SfuError> {
        Sfu::join(self, room, participant, sink)
    }

    fn command(&self, participant: ParticipantId, cmd: ParticipantCommand) -> Result<(), SfuError> {
        Sfu::command(self, participant, cmd)
    }
}

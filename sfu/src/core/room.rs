//! A Room: who is in it, and its speaker state.

use super::speaker::SpeakerDetector;
use super::types::ParticipantId;

#[derive(Debug, Default)]
pub struct Room {
    pub members: Vec<ParticipantId>,
    pub speakers: SpeakerDetector,
}

//! The room registry: who is in which room, what they publish, and fan-out of room events to the others.
//!
//! Every change and its broadcast happen under one lock, so a joining participant's snapshot (`joined`) and the
//! events it receives afterwards never overlap or leave a gap. Sending to a member is a non-blocking push into its
//! session's channel.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use plenum_sfu::{ParticipantId, RoomId, TrackInfo};
use tokio::sync::mpsc::UnboundedSender;

use crate::protocol::{LeaveReason, ParticipantInfo, ServerMessage, TrackEntry};

/// Longest room name.
pub const MAX_ROOM_NAME: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid room name {0:?}: use 1-{MAX_ROOM_NAME} characters of A-Z, a-z, 0-9, '.', '_' and '-'")]
pub struct BadRoomName(pub String);

/// Check a room name: 1–64 characters of `[A-Za-z0-9._-]`.
pub fn validate_room_name(name: &str) -> Result<(), BadRoomName> {
    let ok = !name.is_empty()
        && name.len() <= MAX_ROOM_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok { Ok(()) } else { Err(BadRoomName(name.to_owned())) }
}

/// The channel through which a session receives room events.
pub type MemberTx = UnboundedSender<ServerMessage>;

struct Member {
    info: ParticipantInfo,
    tracks: Vec<TrackEntry>,
    tx: MemberTx,
}

#[derive(Default)]
struct Room {
    /// Ordered by id, i.e. by join order.
    members: BTreeMap<ParticipantId, Member>,
}

impl Room {
    fn broadcast_except(&self, except: ParticipantId, msg: &ServerMessage) {
        for (id, member) in &self.members {
            if *id != except {
                // A closed channel means that session is ending; it removes itself.
                let _ = member.tx.send(msg.clone());
            }
        }
    }
}

/// What a joining participant sees: the others and their tracks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub participants: Vec<ParticipantInfo>,
    pub tracks: Vec<TrackEntry>,
}

/// All rooms of this server.
#[derive(Default)]
pub struct Registry {
    rooms: Mutex<HashMap<RoomId, Room>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, Room>> {
        // Nothing under this lock can leave the map inconsistent, so a poisoned lock is still usable.
        self.rooms.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Add a participant; tell the others (`participant_joined`) and return what it should see.
    pub fn join(&self, room: &RoomId, id: ParticipantId, info: ParticipantInfo, tx: MemberTx) -> Snapshot {
        let mut rooms = self.lock();
        let r = rooms.entry(room.clone()).or_default();
        let snapshot = Snapshot {
            participants: r.members.values().map(|m| m.info.clone()).collect(),
            tracks: r.members.values().flat_map(|m| m.tracks.iter().cloned()).collect(),
        };
        r.broadcast_except(id, &ServerMessage::ParticipantJoined { participant: info.clone() });
        r.members.insert(id, Member { info, tracks: Vec::new(), tx });
        snapshot
    }

    /// Change a participant's media state; if anything changed, tell the others and return the new state.
    pub fn update(
        &self,
        room: &RoomId,
        id: ParticipantId,
        muted: Option<bool>,
        camera_off: Option<bool>,
    ) -> Option<ParticipantInfo> {
        let mut rooms = self.lock();
        let r = rooms.get_mut(room)?;
        let member = r.members.get_mut(&id)?;
        let before = member.info.clone();
        if let Some(muted) = muted {
            member.info.muted = muted;
        }
        if let Some(camera_off) = camera_off {
            member.info.camera_off = camera_off;
        }
        if member.info == before {
            return None;
        }
        let info = member.info.clone();
        r.broadcast_except(id, &ServerMessage::ParticipantUpdated { participant: info.clone() });
        Some(info)
    }

    /// Record a track the participant now publishes and announce it.
    pub fn track_published(&self, room: &RoomId, id: ParticipantId, track: &TrackInfo) {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return };
        let Some(member) = r.members.get_mut(&id) else { return };
        let entry = TrackEntry { sid: member.info.sid.clone(), track_id: track.track_id.clone(), kind: track.kind.into() };
        member.tracks.retain(|t| t.track_id != entry.track_id);
        member.tracks.push(entry.clone());
        let msg = ServerMessage::TrackPublished { sid: entry.sid, track_id: entry.track_id, kind: entry.kind };
        r.broadcast_except(id, &msg);
    }

    /// Forget a track and announce that it is gone (if it was known).
    pub fn track_unpublished(&self, room: &RoomId, id: ParticipantId, track_id: &str) {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return };
        let Some(member) = r.members.get_mut(&id) else { return };
        let before = member.tracks.len();
        member.tracks.retain(|t| t.track_id != track_id);
        if member.tracks.len() == before {
            return;
        }
        let msg = ServerMessage::TrackUnpublished { sid: member.info.sid.clone(), track_id: track_id.to_owned() };
        r.broadcast_except(id, &msg);
    }

    /// Remove a participant and tell the others (`participant_left`); a room left empty is removed.
    /// Returns false if it was not in the room (so each departure is announced once).
    pub fn leave(&self, room: &RoomId, id: ParticipantId, reason: LeaveReason) -> bool {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return false };
        let Some(member) = r.members.remove(&id) else { return false };
        r.broadcast_except(id, &ServerMessage::ParticipantLeft { sid: member.info.sid, reason });
        if r.members.is_empty() {
            rooms.remove(room);
        }
        true
    }

    /// Number of rooms with at least one participant.
    pub fn room_count(&self) -> usize {
        self.lock().len()
    }

    /// Participants in `room`.
    pub fn participant_count(&self, room: &RoomId) -> usize {
        self.lock().get(room).map_or(0, |r| r.members.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_sfu::TrackKind;
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

    fn info(id: u64) -> ParticipantInfo {
        ParticipantInfo {
            sid: ParticipantId(id).to_string(),
            identity: format!("user{id}"),
            name: format!("User {id}"),
            moderator: false,
            muted: false,
            camera_off: false,
        }
    }

    fn drain(rx: &mut UnboundedReceiver<ServerMessage>) -> Vec<ServerMessage> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    #[test]
    fn room_names() {
        assert!(validate_room_name("team-weekly").is_ok());
        assert!(validate_room_name("A.b_c-9").is_ok());
        assert!(validate_room_name(&"x".repeat(64)).is_ok());
        for bad in ["", "has space", "slash/", "ümlaut", "a#b"] {
            assert!(validate_room_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_room_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn join_update_publish_leave_fan_out_to_the_others() {
        let reg = Registry::new();
        let room = RoomId("r".into());
        let (tx1, mut rx1) = unbounded_channel();
        let (tx2, mut rx2) = unbounded_channel();

        assert_eq!(reg.join(&room, ParticipantId(1), info(1), tx1), Snapshot::default());
        reg.track_published(&room, ParticipantId(1), &TrackInfo { track_id: "0".into(), kind: TrackKind::Audio });
        let snap = reg.join(&room, ParticipantId(2), info(2), tx2);
        assert_eq!(snap.participants, vec![info(1)]);
        assert_eq!(snap.tracks, vec![TrackEntry { sid: "p1".into(), track_id: "0".into(), kind: crate::protocol::Kind::Audio }]);
        assert_eq!(drain(&mut rx1), vec![ServerMessage::ParticipantJoined { participant: info(2) }]);

        let updated = reg.update(&room, ParticipantId(2), Some(true), None).unwrap();
        assert!(updated.muted);
        assert_eq!(reg.update(&room, ParticipantId(2), Some(true), None), None, "no change, no event");
        assert_eq!(drain(&mut rx1), vec![ServerMessage::ParticipantUpdated { participant: updated }]);

        reg.track_unpublished(&room, ParticipantId(1), "0");
        reg.track_unpublished(&room, ParticipantId(1), "0");
        assert_eq!(drain(&mut rx2), vec![ServerMessage::TrackUnpublished { sid: "p1".into(), track_id: "0".into() }]);

        assert!(reg.leave(&room, ParticipantId(1), LeaveReason::Left));
        assert!(!reg.leave(&room, ParticipantId(1), LeaveReason::Disconnected), "announced once");
        assert_eq!(drain(&mut rx2), vec![ServerMessage::ParticipantLeft { sid: "p1".into(), reason: LeaveReason::Left }]);
        assert!(drain(&mut rx1).is_empty(), "no echo to the one leaving");
        assert_eq!(reg.room_count(), 1);
        assert!(reg.leave(&room, ParticipantId(2), LeaveReason::Disconnected));
        assert_eq!(reg.room_count(), 0, "empty room removed");
    }
}

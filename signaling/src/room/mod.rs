//! The room registry: who is in which room, what they publish, the chat history and the raised hands, and fan-out
//! of room events.
//!
//! Every change and its broadcast happen under one lock, so a joining (or resuming) participant's snapshot and the
//! events it receives afterwards never overlap or leave a gap. Sending to a member is a non-blocking push into its
//! session's channel.

pub mod chat;
pub mod hands;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use plenum_sfu::{ParticipantId, RoomId, TrackInfo};
use tokio::sync::mpsc::UnboundedSender;

use crate::protocol::{ChatEntry, LeaveReason, ParticipantInfo, ServerMessage, TrackEntry, TrackSource};
use chat::ChatLog;
use hands::HandQueue;

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
    chat: ChatLog,
    hands: HandQueue,
}

impl Room {
    fn broadcast_except(&self, except: ParticipantId, msg: &ServerMessage) {
        for (id, member) in &self.members {
            if *id != except {
                // A closed channel means that session is ending (or parked); it catches up on resume.
                let _ = member.tx.send(msg.clone());
            }
        }
    }

    fn broadcast_all(&self, msg: &ServerMessage) {
        for member in self.members.values() {
            let _ = member.tx.send(msg.clone());
        }
    }

    fn snapshot_for(&self, id: ParticipantId) -> Snapshot {
        let others = self.members.iter().filter(|(m, _)| **m != id).map(|(_, m)| m);
        Snapshot {
            participants: others.clone().map(|m| m.info.clone()).collect(),
            tracks: others.flat_map(|m| m.tracks.iter().cloned()).collect(),
            chat: self.chat.history(),
            hands: self.hands.sids(),
        }
    }
}

/// What a joining or resuming participant sees: the others, their tracks, the chat and the raised hands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub participants: Vec<ParticipantInfo>,
    pub tracks: Vec<TrackEntry>,
    pub chat: Vec<ChatEntry>,
    pub hands: Vec<String>,
}

/// What [`Registry::set_hand`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandOutcome {
    /// Changed and announced to everyone (`hand_changed`, also to the one who changed it).
    Changed,
    /// Already so: nothing sent.
    Unchanged,
    /// No such participant in the room.
    NotFound,
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
        let snapshot = r.snapshot_for(id);
        r.broadcast_except(id, &ServerMessage::ParticipantJoined { participant: info.clone() });
        r.members.insert(id, Member { info, tracks: Vec::new(), tx });
        snapshot
    }

    /// A participant's session changed (resume): events go to `tx` from now on. Returns its own info and the room
    /// as it is now, or `None` if it is no longer in the room. The others hear nothing.
    pub fn reattach(&self, room: &RoomId, id: ParticipantId, tx: MemberTx) -> Option<(ParticipantInfo, Snapshot)> {
        let mut rooms = self.lock();
        let r = rooms.get_mut(room)?;
        let member = r.members.get_mut(&id)?;
        member.tx = tx;
        let info = member.info.clone();
        Some((info, r.snapshot_for(id)))
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
    pub fn track_published(&self, room: &RoomId, id: ParticipantId, track: &TrackInfo, source: TrackSource) {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return };
        let Some(member) = r.members.get_mut(&id) else { return };
        let entry = TrackEntry {
            sid: member.info.sid.clone(),
            track_id: track.track_id.clone(),
            kind: track.kind.into(),
            source,
        };
        member.tracks.retain(|t| t.track_id != entry.track_id);
        member.tracks.push(entry.clone());
        let msg =
            ServerMessage::TrackPublished { sid: entry.sid, track_id: entry.track_id, kind: entry.kind, source };
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

    /// Add a chat message (already checked) to the room's history and send it to everyone, the sender included.
    pub fn chat(&self, room: &RoomId, id: ParticipantId, text: String, at: u64) -> Option<ChatEntry> {
        let mut rooms = self.lock();
        let r = rooms.get_mut(room)?;
        let info = &r.members.get(&id)?.info;
        let entry = r.chat.push(info.sid.clone(), info.identity.clone(), info.name.clone(), text, at);
        r.broadcast_all(&ServerMessage::Chat { message: entry.clone() });
        Some(entry)
    }

    /// Raise or lower `target`'s hand on behalf of `by` (permissions are the caller's business).
    pub fn set_hand(&self, room: &RoomId, by: ParticipantId, target: ParticipantId, raised: bool) -> HandOutcome {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return HandOutcome::NotFound };
        if !r.members.contains_key(&target) {
            return HandOutcome::NotFound;
        }
        if !r.hands.set(target, raised) {
            return HandOutcome::Unchanged;
        }
        let msg =
            ServerMessage::HandChanged { sid: target.to_string(), raised, by: by.to_string(), queue: r.hands.sids() };
        r.broadcast_all(&msg);
        HandOutcome::Changed
    }

    /// Remove a participant and tell the others (`participant_left`); its hand leaves the queue silently (the
    /// others drop it with the participant). A room left empty is removed, with its chat.
    /// Returns false if it was not in the room (so each departure is announced once).
    pub fn leave(&self, room: &RoomId, id: ParticipantId, reason: LeaveReason) -> bool {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return false };
        let Some(member) = r.members.remove(&id) else { return false };
        r.hands.set(id, false);
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
mod tests;

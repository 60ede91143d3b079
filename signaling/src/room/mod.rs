//! The room registry: who is in which room, what they publish, the chat history and the raised hands, who waits in
//! the lobby, whether the room is locked and who is banned, and fan-out of room events.
//!
//! Every change and its broadcast happen under one lock, so a joining (or resuming) participant's snapshot and the
//! events it receives afterwards never overlap or leave a gap. Sending to a member is a non-blocking push into its
//! session's channel.

pub mod audit;
pub mod chat;
pub mod hands;
mod lobby;
pub use lobby::LobbyTarget;
mod moderation;
pub mod replica;
pub use replica::{RoomBus, RoomOp};

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use plenum_sfu::{ParticipantId, RoomId, TrackInfo};
use tokio::sync::mpsc::UnboundedSender;

use crate::protocol::{ChatEntry, LeaveReason, LobbyEntry, ParticipantInfo, ServerMessage, TrackEntry, TrackSource};
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

/// What a session receives from its room.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// A message for the client.
    Message(ServerMessage),
    /// To someone in the lobby: a moderator let them in.
    Admitted,
    /// To someone in the lobby: a moderator did not let them in.
    Denied,
    /// To a participant (or lobby entry) a moderator (`by`, a sid) acted on; the session applies it.
    Moderated { action: Moderation, by: String },
}

/// What a moderator did to a participant, as its session applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moderation {
    Mute,
    AskUnmute,
    StopVideo,
    StopScreen,
    Remove { ban: bool },
    End,
    /// Not a moderator's action: an admin disabled the participant's account (`by` is empty).
    AccountDisabled,
}

/// The channel through which a session receives room events.
pub type MemberTx = UnboundedSender<RoomEvent>;

/// A room that takes nobody in any more: its meeting was ended by a moderator (tokens issued up to `at` are
/// refused; the next occurrence's links issue newer ones) or deleted (every token is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Seconds since the epoch.
    Ended { at: i64 },
    Deleted { at: i64 },
}

impl Closed {
    /// Whether a join token issued at `iat` (seconds) is refused.
    pub fn refuses(self, iat: u64) -> bool {
        match self {
            Closed::Ended { at } => i64::try_from(iat).map_or(false, |iat| iat <= at),
            Closed::Deleted { .. } => true,
        }
    }
}

/// What a room keeps beyond the process (the database, see [`crate::meetings::room_store`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredRoom {
    /// Banned identities.
    pub bans: Vec<String>,
    pub closed: Option<Closed>,
}

/// Why a join (or a lobby entry) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a moderator removed you from this meeting; you cannot rejoin it")]
    Banned,
    #[error("a moderator locked this meeting; nobody new can join")]
    Locked,
}

struct Member {
    info: ParticipantInfo,
    tracks: Vec<TrackEntry>,
    /// `None`: a member connected to another signaling node (see [`replica`]).
    tx: Option<MemberTx>,
    /// The signaling node of a member of another node.
    origin: Option<String>,
}

impl Member {
    fn send(&self, event: RoomEvent) {
        if let Some(tx) = &self.tx {
            // A closed channel means that session is ending (or parked); it catches up on resume.
            let _ = tx.send(event);
        }
    }
}

struct Waiter {
    entry: LobbyEntry,
    /// `None`: waiting on another signaling node.
    tx: Option<MemberTx>,
    /// The signaling node of an entry of another node.
    origin: Option<String>,
}

impl Waiter {
    fn send(&self, event: RoomEvent) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(event);
        }
    }
}

#[derive(Default)]
struct Room {
    /// Ordered by id, i.e. by join order.
    members: BTreeMap<ParticipantId, Member>,
    chat: ChatLog,
    hands: HandQueue,
    /// Waiting to be admitted, in order of arrival (ids only grow).
    lobby: BTreeMap<ParticipantId, Waiter>,
    /// The sid of the moderator who locked the room.
    locked_by: Option<String>,
}

impl Room {
    fn send_to(&self, id: ParticipantId, event: RoomEvent) -> bool {
        match self.members.get(&id) {
            Some(member) => {
                member.send(event);
                true
            }
            None => false,
        }
    }

    fn has_moderator(&self) -> bool {
        self.members.values().any(|m| m.info.moderator)
    }

    fn lobby_entries(&self) -> Vec<LobbyEntry> {
        self.lobby.values().map(|w| w.entry.clone()).collect()
    }

    /// Tell the moderators who waits now.
    fn announce_lobby(&self) {
        let msg = ServerMessage::Lobby { waiting: self.lobby_entries() };
        for member in self.members.values().filter(|m| m.info.moderator) {
            member.send(RoomEvent::Message(msg.clone()));
        }
    }

    /// Tell the lobby whether a moderator is there to admit them.
    fn announce_moderator_presence(&self) {
        let msg = ServerMessage::LobbyWaiting { moderators_present: self.has_moderator() };
        for waiter in self.lobby.values() {
            waiter.send(RoomEvent::Message(msg.clone()));
        }
    }

    fn is_empty(&self) -> bool {
        self.members.is_empty() && self.lobby.is_empty()
    }

    /// Members or lobby entries of this node's sessions.
    fn has_local(&self) -> bool {
        self.members.values().any(|m| m.tx.is_some()) || self.lobby.values().any(|w| w.tx.is_some())
    }

    fn broadcast_except(&self, except: ParticipantId, msg: &ServerMessage) {
        for (id, member) in &self.members {
            if *id != except {
                member.send(RoomEvent::Message(msg.clone()));
            }
        }
    }

    fn broadcast_all(&self, msg: &ServerMessage) {
        for member in self.members.values() {
            member.send(RoomEvent::Message(msg.clone()));
        }
    }

    fn snapshot_for(&self, id: ParticipantId) -> Snapshot {
        let others = self.members.iter().filter(|(m, _)| **m != id).map(|(_, m)| m);
        Snapshot {
            participants: others.clone().map(|m| m.info.clone()).collect(),
            tracks: others.flat_map(|m| m.tracks.iter().cloned()).collect(),
            chat: self.chat.history(),
            hands: self.hands.sids(),
            lobby: self.lobby_entries(),
            locked_by: self.locked_by.clone(),
        }
    }
}

/// What a joining or resuming participant sees: the others, their tracks, the chat and the raised hands; and, for
/// moderators, the lobby and the lock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub participants: Vec<ParticipantInfo>,
    pub tracks: Vec<TrackEntry>,
    pub chat: Vec<ChatEntry>,
    pub hands: Vec<String>,
    pub lobby: Vec<LobbyEntry>,
    /// The sid of the moderator who locked the room, if it is locked.
    pub locked_by: Option<String>,
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

/// Most identities banned per room (a bound on memory; further bans still remove, but are not remembered).
pub const MAX_BANS_PER_ROOM: usize = 1000;

/// A room's banned identities; the time is when this process made the ban (`None`: read from the database).
pub(crate) type Bans = HashMap<String, Option<std::time::Instant>>;

/// Record a ban made in this process (a moderator here or on another node) in `bans`, within the bound.
fn add_ban(bans: &mut HashMap<RoomId, Bans>, room: &RoomId, identity: &str) -> bool {
    let banned = bans.entry(room.clone()).or_default();
    if banned.len() >= MAX_BANS_PER_ROOM && !banned.contains_key(identity) {
        return false;
    }
    banned.insert(identity.to_owned(), Some(std::time::Instant::now()));
    true
}

/// All rooms of this server.
#[derive(Default)]
pub struct Registry {
    rooms: Mutex<HashMap<RoomId, Room>>,
    /// Identities banned per room (kept when the room empties), with when a ban was made in this process (`None`:
    /// read from the database). Locked only while `rooms` is held, so the two never deadlock.
    bans: Mutex<HashMap<RoomId, Bans>>,
    /// Rooms ended or deleted (see [`Closed`]); locked alone or while `rooms` is held.
    closed: Mutex<HashMap<RoomId, Closed>>,
    /// In a cluster: where changes go to reach the other signaling nodes (see [`replica`]).
    bus: OnceLock<RoomBus>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, Room>> {
        // Nothing under this lock can leave the map inconsistent, so a poisoned lock is still usable.
        self.rooms.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_bans(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, Bans>> {
        self.bans.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_banned(&self, room: &RoomId, identity: &str) -> bool {
        self.lock_bans().get(room).is_some_and(|b| b.contains_key(identity))
    }

    /// Add a participant; tell the others (`participant_joined`) and return what it should see. Refused if its
    /// identity is banned, or if the room is locked and it is no moderator.
    pub fn join(&self, room: &RoomId, id: ParticipantId, info: ParticipantInfo, tx: MemberTx) -> Result<Snapshot, Refusal> {
        self.join_inner(room, id, info, tx, true)
    }

    /// Add a participant a moderator admitted from the lobby: a lock does not keep it out (a ban does).
    pub fn join_admitted(
        &self,
        room: &RoomId,
        id: ParticipantId,
        info: ParticipantInfo,
        tx: MemberTx,
    ) -> Result<Snapshot, Refusal> {
        self.join_inner(room, id, info, tx, false)
    }

    fn join_inner(
        &self,
        room: &RoomId,
        id: ParticipantId,
        info: ParticipantInfo,
        tx: MemberTx,
        check_lock: bool,
    ) -> Result<Snapshot, Refusal> {
        let mut rooms = self.lock();
        if self.is_banned(room, &info.identity) {
            return Err(Refusal::Banned);
        }
        let r = rooms.entry(room.clone()).or_default();
        if check_lock && r.locked_by.is_some() && !info.moderator {
            return Err(Refusal::Locked);
        }
        let snapshot = r.snapshot_for(id);
        let had_moderator = r.has_moderator();
        r.broadcast_except(id, &ServerMessage::ParticipantJoined { participant: info.clone() });
        r.members.insert(id, Member { info: info.clone(), tracks: Vec::new(), tx: Some(tx), origin: None });
        if r.has_moderator() != had_moderator {
            r.announce_moderator_presence();
        }
        self.publish(room, RoomOp::Joined { info });
        Ok(snapshot)
    }

    /// A participant's session changed (resume): events go to `tx` from now on. Returns its own info and the room
    /// as it is now, or `None` if it is no longer in the room. The others hear nothing.
    pub fn reattach(&self, room: &RoomId, id: ParticipantId, tx: MemberTx) -> Option<(ParticipantInfo, Snapshot)> {
        let mut rooms = self.lock();
        let r = rooms.get_mut(room)?;
        let member = r.members.get_mut(&id)?;
        member.tx = Some(tx);
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
        self.publish(room, RoomOp::Updated { info: info.clone() });
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
        self.publish(room, RoomOp::TrackPublished { track: entry.clone() });
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
        let sid = member.info.sid.clone();
        self.publish(room, RoomOp::TrackUnpublished { sid: sid.clone(), track_id: track_id.to_owned() });
        r.broadcast_except(id, &ServerMessage::TrackUnpublished { sid, track_id: track_id.to_owned() });
    }

    /// Add a chat message (already checked) to the room's history and send it to everyone, the sender included.
    pub fn chat(&self, room: &RoomId, id: ParticipantId, text: String, at: u64) -> Option<ChatEntry> {
        let mut rooms = self.lock();
        let r = rooms.get_mut(room)?;
        let info = &r.members.get(&id)?.info;
        let entry = r.chat.push(info.sid.clone(), info.identity.clone(), info.name.clone(), text, at);
        r.broadcast_all(&ServerMessage::Chat { message: entry.clone() });
        self.publish(room, RoomOp::Chat { entry: entry.clone() });
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
        self.publish(room, RoomOp::Hand { target: target.to_string(), raised, by: by.to_string() });
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
        self.publish(room, RoomOp::Left { sid: member.info.sid.clone(), reason });
        r.broadcast_except(id, &ServerMessage::ParticipantLeft { sid: member.info.sid, reason });
        if member.info.moderator && !r.has_moderator() {
            r.announce_moderator_presence();
        }
        if r.is_empty() {
            rooms.remove(room);
        }
        true
    }

    /// Number of rooms with at least one participant (not counting rooms where people only wait in the lobby).
    pub fn room_count(&self) -> usize {
        self.lock().values().filter(|r| r.members.values().any(|m| m.tx.is_some())).count()
    }

    /// Participants in `room`.
    pub fn participant_count(&self, room: &RoomId) -> usize {
        self.lock().get(room).map_or(0, |r| r.members.len())
    }
}

#[cfg(test)]
mod tests;

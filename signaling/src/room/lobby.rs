//! The lobby: people whose token says `lobby` wait here, outside the room (no media, roster or chat), until a
//! moderator admits or denies them.

use plenum_sfu::{ParticipantId, RoomId};

use super::{MemberTx, Refusal, Registry, RoomEvent, RoomOp, Waiter};
use crate::protocol::LobbyEntry;

/// Whom a moderator's lobby decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LobbyTarget {
    One(ParticipantId),
    All,
}

impl Registry {
    /// Put `id` into `room`'s lobby and tell the moderators. Returns whether a moderator is in the room to admit
    /// it. Refused if its identity is banned or the room is locked.
    pub fn enter_lobby(&self, room: &RoomId, id: ParticipantId, entry: LobbyEntry, tx: MemberTx) -> Result<bool, Refusal> {
        let mut rooms = self.lock();
        if self.is_banned(room, &entry.identity) {
            return Err(Refusal::Banned);
        }
        let r = rooms.entry(room.clone()).or_default();
        if r.locked_by.is_some() {
            return Err(Refusal::Locked);
        }
        r.lobby.insert(id, Waiter { entry: entry.clone(), tx: Some(tx), origin: None });
        r.announce_lobby();
        self.publish(room, RoomOp::LobbyEntered { entry });
        Ok(r.has_moderator())
    }

    /// `id` stopped waiting (left or lost its connection): off the list. Returns whether it was waiting.
    pub fn leave_lobby(&self, room: &RoomId, id: ParticipantId) -> bool {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return false };
        if r.lobby.remove(&id).is_none() {
            return false;
        }
        r.announce_lobby();
        self.publish(room, RoomOp::LobbyLeft { sid: id.to_string() });
        if r.is_empty() {
            rooms.remove(room);
        }
        true
    }

    /// A moderator admits (or denies) one waiting person or all of them: they leave the lobby and their sessions
    /// get [`RoomEvent::Admitted`] (or [`RoomEvent::Denied`]). Returns who was decided on (empty: nobody waits by
    /// that sid).
    pub fn decide(&self, room: &RoomId, target: LobbyTarget, admit: bool) -> Vec<LobbyEntry> {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return Vec::new() };
        let ids: Vec<ParticipantId> = match target {
            LobbyTarget::One(id) if r.lobby.contains_key(&id) => vec![id],
            LobbyTarget::One(_) => Vec::new(),
            LobbyTarget::All => r.lobby.keys().copied().collect(),
        };
        let mut decided = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(waiter) = r.lobby.remove(&id) {
                waiter.send(if admit { RoomEvent::Admitted } else { RoomEvent::Denied });
                decided.push(waiter.entry);
            }
        }
        if !decided.is_empty() {
            r.announce_lobby();
            let sids = decided.iter().map(|e| e.sid.clone()).collect();
            self.publish(room, RoomOp::Decided { sids, admit });
        }
        decided
    }

    /// People waiting in `room`'s lobby.
    pub fn lobby_count(&self, room: &RoomId) -> usize {
        self.lock().get(room).map_or(0, |r| r.lobby.len())
    }
}

//! Moderators acting on participants and on the room. Permissions are the caller's business; these only deliver
//! the action to the affected sessions (which apply it: SFU blocks, leaving) and keep the room's lock and bans.

use plenum_sfu::{ParticipantId, RoomId};

use super::{Closed, MAX_BANS_PER_ROOM, Moderation, Registry, RoomEvent, RoomOp, StoredRoom};
use crate::protocol::{ParticipantInfo, ServerMessage};

impl Registry {
    /// Deliver `action` from `by` to `target`. Returns the target as it is now, or `None` if it is not in the
    /// room. A ban (`Remove { ban: true }`) is recorded for the target's identity first, so a rejoin is refused;
    /// other sessions of that identity (in the room or the lobby) are removed with it.
    pub fn moderate(
        &self,
        room: &RoomId,
        by: ParticipantId,
        target: ParticipantId,
        action: Moderation,
    ) -> Option<ParticipantInfo> {
        let rooms = self.lock();
        let r = rooms.get(room)?;
        let info = r.members.get(&target)?.info.clone();
        let event = RoomEvent::Moderated { action, by: by.to_string() };
        self.publish(room, RoomOp::Moderated { target: info.sid.clone(), action, by: by.to_string() });
        if action == (Moderation::Remove { ban: true }) {
            if !super::add_ban(&mut self.lock_bans(), room, &info.identity) {
                tracing::warn!(room = %room, "ban list full; {} removed but not banned", info.sid);
            }
            let same: Vec<ParticipantId> = r
                .members
                .iter()
                .filter(|(_, m)| m.info.identity == info.identity)
                .map(|(id, _)| *id)
                .collect();
            for id in same {
                r.send_to(id, event.clone());
            }
            for waiter in r.lobby.values().filter(|w| w.entry.identity == info.identity) {
                waiter.send(event.clone());
            }
        } else {
            r.send_to(target, event);
        }
        Some(info)
    }

    /// Mute everyone but `by`; returns who was told.
    pub fn mute_all(&self, room: &RoomId, by: ParticipantId) -> Vec<ParticipantInfo> {
        let rooms = self.lock();
        let Some(r) = rooms.get(room) else { return Vec::new() };
        let event = RoomEvent::Moderated { action: Moderation::Mute, by: by.to_string() };
        let mut muted = Vec::new();
        for (_, member) in r.members.iter().filter(|(id, _)| **id != by) {
            member.send(event.clone());
            muted.push(member.info.clone());
        }
        self.publish(room, RoomOp::MuteAll { by: by.to_string() });
        muted
    }

    /// Lock or unlock the room; tells everyone (`room_locked`) if that changed it. Returns whether it did.
    pub fn set_locked(&self, room: &RoomId, by: ParticipantId, locked: bool) -> bool {
        let mut rooms = self.lock();
        let Some(r) = rooms.get_mut(room) else { return false };
        if r.locked_by.is_some() == locked {
            return false;
        }
        r.locked_by = locked.then(|| by.to_string());
        r.broadcast_all(&ServerMessage::RoomLocked { locked, by: by.to_string() });
        self.publish(room, RoomOp::Locked { locked, by: by.to_string() });
        true
    }

    /// End the meeting: every participant and everyone in the lobby is told to go ([`Moderation::End`]); the
    /// lobby and the lock are cleared (bans stay). Join tokens issued up to `at` (seconds) are refused from now on
    /// ([`Closed::Ended`]). Returns how many sessions were told.
    pub fn end(&self, room: &RoomId, by: ParticipantId, at: i64) -> usize {
        let mut rooms = self.lock();
        self.set_closed(room, Closed::Ended { at });
        let Some(r) = rooms.get_mut(room) else { return 0 };
        let event = RoomEvent::Moderated { action: Moderation::End, by: by.to_string() };
        for member in r.members.values() {
            member.send(event.clone());
        }
        let lobby = std::mem::take(&mut r.lobby);
        let told_lobby = lobby.len();
        for waiter in lobby.into_values() {
            waiter.send(event.clone());
        }
        r.locked_by = None;
        self.publish(room, RoomOp::Ended { by: by.to_string(), at: Some(at) });
        r.members.len() + told_lobby
    }
}

const MAX_CLOSED_ROOMS: usize = 100_000;

/// How long a ban made in this process is kept without the database confirming it (it is written in the
/// background, usually within milliseconds).
pub const UNSTORED_BAN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

impl Registry {
    fn lock_closed(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<RoomId, Closed>> {
        self.closed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether (and how) `room` was closed: ended or deleted.
    pub fn closed(&self, room: &RoomId) -> Option<Closed> {
        self.lock_closed().get(room).copied()
    }

    /// Record that `room` was closed; a deletion outranks an end, a later end an earlier one.
    pub fn set_closed(&self, room: &RoomId, closed: Closed) {
        let mut map = self.lock_closed();
        if map.len() >= MAX_CLOSED_ROOMS && !map.contains_key(room) {
            // A bound on memory: the database still knows every meeting's state.
            map.clear();
        }
        let keep = match (map.get(room), closed) {
            (Some(Closed::Deleted { .. }), _) => false,
            (Some(Closed::Ended { at: old }), Closed::Ended { at }) => at > *old,
            _ => true,
        };
        if keep {
            map.insert(room.clone(), closed);
        }
    }

    /// Take over what the database knows about `room` (bans, ended or deleted), e.g. after a restart. The database
    /// is the truth about bans (a lifted ban is gone from it), except for bans made here in the last
    /// [`UNSTORED_BAN_GRACE`], which may not be written yet.
    pub fn restore(&self, room: &RoomId, stored: &StoredRoom) {
        if let Some(closed) = stored.closed {
            self.set_closed(room, closed);
        }
        let _rooms = self.lock();
        let mut bans = self.lock_bans();
        let banned = bans.entry(room.clone()).or_default();
        banned.retain(|_, made| made.is_some_and(|at| at.elapsed() < UNSTORED_BAN_GRACE));
        for identity in &stored.bans {
            if banned.len() >= MAX_BANS_PER_ROOM {
                break;
            }
            banned.entry(identity.clone()).or_insert(None);
        }
        if banned.is_empty() {
            bans.remove(room);
        }
    }

    /// Forget the ban of `identity` from `room` (a moderator lifted it in the database). Returns whether there was one.
    pub fn lift_ban(&self, room: &RoomId, identity: &str) -> bool {
        let _rooms = self.lock();
        let mut bans = self.lock_bans();
        let Some(banned) = bans.get_mut(room) else { return false };
        let was = banned.remove(identity).is_some();
        if banned.is_empty() {
            bans.remove(room);
        }
        was
    }

    /// An admin disabled the account `identity`: its sessions in every room (on this node, and through the room
    /// bus on others) and in lobbies here are told to go ([`Moderation::AccountDisabled`]). Returns how many
    /// participants and lobby entries were told.
    pub fn expel_identity(&self, identity: &str) -> usize {
        let rooms = self.lock();
        let event = RoomEvent::Moderated { action: Moderation::AccountDisabled, by: String::new() };
        let mut told = 0;
        for (room, r) in rooms.iter() {
            for member in r.members.values().filter(|m| m.info.identity == identity) {
                // A member of another node has no channel here: its own node delivers the published op.
                member.send(event.clone());
                let (target, action) = (member.info.sid.clone(), Moderation::AccountDisabled);
                self.publish(room, RoomOp::Moderated { target, action, by: String::new() });
                told += 1;
            }
            for waiter in r.lobby.values().filter(|w| w.entry.identity == identity) {
                waiter.send(event.clone());
                told += 1;
            }
        }
        told
    }
}

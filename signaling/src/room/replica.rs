//! Rooms shared by several signaling nodes (a cluster): every change a node makes to a room is also handed to the
//! room bus as a [`RoomOp`] (in the order it was applied, under the registry lock); the cluster writes it to the
//! room's log in Redis, and the other nodes following that room apply it here with [`Registry::apply_remote`].
//!
//! A member (or lobby entry) of another node is kept without a channel: it is in snapshots and rosters, events
//! reach only local sessions. Each node applies its own changes at once and the others' in log order; two changes
//! made at the same instant on two nodes may be seen in different orders (chat lines, hand queue), nothing else.

use std::collections::HashSet;

use plenum_sfu::{ParticipantId, RoomId};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use super::{Member, Moderation, Registry, Room, RoomEvent, Waiter};
use crate::protocol::{ChatEntry, LeaveReason, LobbyEntry, ParticipantInfo, ServerMessage, TrackEntry};

/// One change to a room, as it crosses signaling nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RoomOp {
    Joined { info: ParticipantInfo },
    Left { sid: String, reason: LeaveReason },
    Updated { info: ParticipantInfo },
    TrackPublished { track: TrackEntry },
    TrackUnpublished { sid: String, track_id: String },
    Chat { entry: ChatEntry },
    Hand { target: String, raised: bool, by: String },
    LobbyEntered { entry: LobbyEntry },
    LobbyLeft { sid: String },
    Decided { sids: Vec<String>, admit: bool },
    Moderated { target: String, action: Moderation, by: String },
    MuteAll { by: String },
    Locked { locked: bool, by: String },
    /// `at`: when (seconds), so the other nodes refuse older join tokens too (absent from older nodes).
    Ended {
        by: String,
        #[serde(default)]
        at: Option<i64>,
    },
}

/// Where a registry hands its changes (set once, by the cluster).
pub type RoomBus = UnboundedSender<(RoomId, RoomOp)>;

fn id_of(sid: &str) -> Option<ParticipantId> {
    sid.strip_prefix('p').and_then(|n| n.parse().ok()).map(ParticipantId)
}

impl Registry {
    /// Hand every change from now on to `bus` (a cluster). Returns false if a bus was set already.
    pub fn set_bus(&self, bus: RoomBus) -> bool {
        self.bus.set(bus).is_ok()
    }

    pub(super) fn publish(&self, room: &RoomId, op: RoomOp) {
        if let Some(bus) = self.bus.get() {
            let _ = bus.send((room.clone(), op));
        }
    }

    /// Whether this node has sessions (members or lobby entries) in `room`.
    pub fn has_local(&self, room: &RoomId) -> bool {
        self.lock().get(room).is_some_and(Room::has_local)
    }

    /// Forget a room this node no longer has sessions in (its replica); false if it has some again.
    pub fn drop_replica(&self, room: &RoomId) -> bool {
        let mut rooms = self.lock();
        if rooms.get(room).is_some_and(Room::has_local) {
            return false;
        }
        rooms.remove(room);
        true
    }

    /// The signaling nodes that members or lobby entries of other nodes are connected to.
    pub fn remote_origins(&self) -> HashSet<String> {
        let rooms = self.lock();
        let members = rooms.values().flat_map(|r| r.members.values().filter_map(|m| m.origin.clone()));
        let waiters = rooms.values().flat_map(|r| r.lobby.values().filter_map(|w| w.origin.clone()));
        members.chain(waiters).collect()
    }

    /// Signaling node `origin` is gone: its members leave (`disconnected`) and its lobby entries go, here and, through
    /// the bus, in the room logs (so a node that replays a log later does not see them either). Returns how many.
    pub fn forget_origin(&self, origin: &str) -> usize {
        let mut rooms = self.lock();
        let mut gone = 0;
        for (room, r) in rooms.iter_mut() {
            let members: Vec<ParticipantId> =
                r.members.iter().filter(|(_, m)| m.origin.as_deref() == Some(origin)).map(|(id, _)| *id).collect();
            for id in members {
                let Some(member) = r.members.remove(&id) else { continue };
                gone += 1;
                r.hands.set(id, false);
                let reason = LeaveReason::Disconnected;
                self.publish(room, RoomOp::Left { sid: member.info.sid.clone(), reason });
                r.broadcast_except(id, &ServerMessage::ParticipantLeft { sid: member.info.sid, reason });
                if member.info.moderator && !r.has_moderator() {
                    r.announce_moderator_presence();
                }
            }
            let waiters: Vec<ParticipantId> =
                r.lobby.iter().filter(|(_, w)| w.origin.as_deref() == Some(origin)).map(|(id, _)| *id).collect();
            for id in &waiters {
                r.lobby.remove(id);
                gone += 1;
                self.publish(room, RoomOp::LobbyLeft { sid: id.to_string() });
            }
            if !waiters.is_empty() {
                r.announce_lobby();
            }
        }
        rooms.retain(|_, r| !r.is_empty());
        gone
    }

    /// Apply a change signaling node `origin` made: update the replica, tell the local sessions.
    pub fn apply_remote(&self, room: &RoomId, origin: &str, op: RoomOp) {
        let mut rooms = self.lock();
        let r = rooms.entry(room.clone()).or_default();
        match op {
            RoomOp::Joined { info } => {
                let Some(id) = id_of(&info.sid) else { return };
                if r.members.contains_key(&id) {
                    return;
                }
                let had_moderator = r.has_moderator();
                r.broadcast_except(id, &ServerMessage::ParticipantJoined { participant: info.clone() });
                r.members.insert(id, Member { info, tracks: Vec::new(), tx: None, origin: Some(origin.to_owned()) });
                if r.has_moderator() != had_moderator {
                    r.announce_moderator_presence();
                }
            }
            RoomOp::Left { sid, reason } => {
                let Some(id) = id_of(&sid) else { return };
                let Some(member) = r.members.remove(&id) else { return };
                r.hands.set(id, false);
                r.broadcast_except(id, &ServerMessage::ParticipantLeft { sid, reason });
                if member.info.moderator && !r.has_moderator() {
                    r.announce_moderator_presence();
                }
            }
            RoomOp::Updated { info } => {
                let Some(id) = id_of(&info.sid) else { return };
                let Some(member) = r.members.get_mut(&id) else { return };
                member.info = info.clone();
                r.broadcast_except(id, &ServerMessage::ParticipantUpdated { participant: info });
            }
            RoomOp::TrackPublished { track } => {
                let Some(id) = id_of(&track.sid) else { return };
                let Some(member) = r.members.get_mut(&id) else { return };
                member.tracks.retain(|t| t.track_id != track.track_id);
                member.tracks.push(track.clone());
                let TrackEntry { sid, track_id, kind, source } = track;
                r.broadcast_except(id, &ServerMessage::TrackPublished { sid, track_id, kind, source });
            }
            RoomOp::TrackUnpublished { sid, track_id } => {
                let Some(id) = id_of(&sid) else { return };
                let Some(member) = r.members.get_mut(&id) else { return };
                member.tracks.retain(|t| t.track_id != track_id);
                r.broadcast_except(id, &ServerMessage::TrackUnpublished { sid, track_id });
            }
            RoomOp::Chat { entry } => {
                let entry = r.chat.push(entry.sid, entry.identity, entry.name, entry.text, entry.at);
                r.broadcast_all(&ServerMessage::Chat { message: entry });
            }
            RoomOp::Hand { target, raised, by } => {
                let Some(id) = id_of(&target) else { return };
                if r.members.contains_key(&id) && r.hands.set(id, raised) {
                    let queue = r.hands.sids();
                    r.broadcast_all(&ServerMessage::HandChanged { sid: target, raised, by, queue });
                }
            }
            RoomOp::LobbyEntered { entry } => {
                let Some(id) = id_of(&entry.sid) else { return };
                r.lobby.insert(id, Waiter { entry, tx: None, origin: Some(origin.to_owned()) });
                r.announce_lobby();
            }
            RoomOp::LobbyLeft { sid } => {
                let Some(id) = id_of(&sid) else { return };
                if r.lobby.remove(&id).is_some() {
                    r.announce_lobby();
                }
            }
            RoomOp::Decided { sids, admit } => {
                let mut any = false;
                for id in sids.iter().filter_map(|s| id_of(s)) {
                    if let Some(waiter) = r.lobby.remove(&id) {
                        any = true;
                        if let Some(tx) = waiter.tx {
                            let _ = tx.send(if admit { RoomEvent::Admitted } else { RoomEvent::Denied });
                        }
                    }
                }
                if any {
                    r.announce_lobby();
                }
            }
            RoomOp::Moderated { target, action, by } => {
                let Some(id) = id_of(&target) else { return };
                let event = RoomEvent::Moderated { action, by };
                if action == (Moderation::Remove { ban: true }) {
                    let Some(identity) = r.members.get(&id).map(|m| m.info.identity.clone()) else { return };
                    super::add_ban(&mut self.lock_bans(), room, &identity);
                    for member in r.members.values().filter(|m| m.info.identity == identity) {
                        member.send(event.clone());
                    }
                    for waiter in r.lobby.values().filter(|w| w.entry.identity == identity) {
                        waiter.send(event.clone());
                    }
                } else {
                    r.send_to(id, event);
                }
            }
            RoomOp::MuteAll { by } => {
                let event = RoomEvent::Moderated { action: Moderation::Mute, by: by.clone() };
                for member in r.members.values().filter(|m| m.info.sid != by) {
                    member.send(event.clone());
                }
            }
            RoomOp::Locked { locked, by } => {
                if r.locked_by.is_some() != locked {
                    r.locked_by = locked.then(|| by.clone());
                    r.broadcast_all(&ServerMessage::RoomLocked { locked, by });
                }
            }
            RoomOp::Ended { by, at } => {
                if let Some(at) = at {
                    self.set_closed(room, super::Closed::Ended { at });
                }
                let event = RoomEvent::Moderated { action: Moderation::End, by };
                for member in r.members.values() {
                    member.send(event.clone());
                }
                for waiter in std::mem::take(&mut r.lobby).into_values() {
                    waiter.send(event.clone());
                }
                r.locked_by = None;
            }
        }
        if r.is_empty() {
            rooms.remove(room);
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::unbounded_channel;

    use super::*;

    fn info(id: u64, moderator: bool) -> ParticipantInfo {
        ParticipantInfo {
            sid: ParticipantId(id).to_string(),
            identity: format!("user{id}"),
            name: format!("User {id}"),
            moderator,
            muted: false,
            camera_off: false,
        }
    }

    /// Two registries joined by their buses, as two signaling nodes through Redis.
    fn relay(from: &mut tokio::sync::mpsc::UnboundedReceiver<(RoomId, RoomOp)>, to: &Registry) -> usize {
        let mut n = 0;
        while let Ok((room, op)) = from.try_recv() {
            to.apply_remote(&room, "other", op);
            n += 1;
        }
        n
    }

    #[test]
    fn members_of_two_nodes_meet_chat_and_leave() {
        let (a, b) = (Registry::new(), Registry::new());
        let (bus_a, mut ops_a) = unbounded_channel();
        let (bus_b, mut ops_b) = unbounded_channel();
        assert!(a.set_bus(bus_a) && b.set_bus(bus_b));
        let room = RoomId("r".into());
        let (tx1, mut rx1) = unbounded_channel();
        a.join(&room, ParticipantId(1), info(1, false), tx1).unwrap();
        relay(&mut ops_a, &b);
        let (tx2, mut rx2) = unbounded_channel();
        let snapshot = b.join(&room, ParticipantId(2), info(2, false), tx2).unwrap();
        assert_eq!(snapshot.participants, vec![info(1, false)], "the member of node a is in node b's snapshot");
        relay(&mut ops_b, &a);
        assert_eq!(
            rx1.try_recv().unwrap(),
            RoomEvent::Message(ServerMessage::ParticipantJoined { participant: info(2, false) })
        );

        b.chat(&room, ParticipantId(2), "hallo".into(), 5);
        relay(&mut ops_b, &a);
        let RoomEvent::Message(ServerMessage::Chat { message }) = rx1.try_recv().unwrap() else { panic!() };
        assert_eq!((message.text.as_str(), message.sid.as_str()), ("hallo", "p2"));
        assert!(matches!(rx2.try_recv().unwrap(), RoomEvent::Message(ServerMessage::Chat { .. })));

        assert!(a.leave(&room, ParticipantId(1), LeaveReason::Left));
        relay(&mut ops_a, &b);
        assert_eq!(
            rx2.try_recv().unwrap(),
            RoomEvent::Message(ServerMessage::ParticipantLeft { sid: "p1".into(), reason: LeaveReason::Left })
        );
        assert_eq!(a.room_count(), 0);
        assert!(!a.has_local(&room));
        assert_eq!(b.participant_count(&room), 1);
    }

    #[test]
    fn the_members_of_a_node_that_is_gone_leave() {
        let (a, b) = (Registry::new(), Registry::new());
        let (bus_a, mut ops_a) = unbounded_channel();
        let (bus_b, mut ops_b) = unbounded_channel();
        a.set_bus(bus_a);
        b.set_bus(bus_b);
        let room = RoomId("g".into());
        let (tx1, _rx1) = unbounded_channel();
        a.join(&room, ParticipantId(1), info(1, true), tx1).unwrap();
        relay(&mut ops_a, &b);
        let (tx2, mut rx2) = unbounded_channel();
        b.join(&room, ParticipantId(2), info(2, false), tx2).unwrap();
        let _ = ops_b.try_recv();
        assert_eq!(b.remote_origins(), HashSet::from(["other".to_owned()]));
        assert_eq!(b.forget_origin("other"), 1);
        let mut events = Vec::new();
        while let Ok(event) = rx2.try_recv() {
            events.push(event);
        }
        let left = ServerMessage::ParticipantLeft { sid: "p1".into(), reason: LeaveReason::Disconnected };
        assert!(events.contains(&RoomEvent::Message(left)), "{events:?}");
        assert!(b.remote_origins().is_empty());
        let (_, op) = ops_b.try_recv().expect("the departure goes to the room log too");
        assert_eq!(op, RoomOp::Left { sid: "p1".into(), reason: LeaveReason::Disconnected });
        assert_eq!(b.participant_count(&room), 1);
    }

    #[test]
    fn a_moderator_on_one_node_admits_and_removes_on_the_other() {
        let (a, b) = (Registry::new(), Registry::new());
        let (bus_a, mut ops_a) = unbounded_channel();
        let (bus_b, mut ops_b) = unbounded_channel();
        a.set_bus(bus_a);
        b.set_bus(bus_b);
        let room = RoomId("m".into());
        let (mod_tx, mut mod_rx) = unbounded_channel();
        a.join(&room, ParticipantId(1), info(1, true), mod_tx).unwrap();
        relay(&mut ops_a, &b);
        let (guest_tx, mut guest_rx) = unbounded_channel();
        let entry = LobbyEntry { sid: "p2".into(), identity: "user2".into(), name: "Guest".into(), guest: true };
        assert!(b.enter_lobby(&room, ParticipantId(2), entry.clone(), guest_tx).unwrap(), "a moderator is present");
        relay(&mut ops_b, &a);
        assert_eq!(mod_rx.try_recv().unwrap(), RoomEvent::Message(ServerMessage::Lobby { waiting: vec![entry] }));

        assert_eq!(a.decide(&room, super::super::LobbyTarget::One(ParticipantId(2)), true).len(), 1);
        relay(&mut ops_a, &b);
        let mut admitted = false;
        while let Ok(event) = guest_rx.try_recv() {
            admitted |= event == RoomEvent::Admitted;
        }
        assert!(admitted, "the waiting session on node b is admitted");
        let (tx2, mut rx2) = unbounded_channel();
        b.join_admitted(&room, ParticipantId(2), info(2, false), tx2).unwrap();
        relay(&mut ops_b, &a);

        a.moderate(&room, ParticipantId(1), ParticipantId(2), Moderation::Remove { ban: true }).expect("target known");
        relay(&mut ops_a, &b);
        assert_eq!(
            rx2.try_recv().unwrap(),
            RoomEvent::Moderated { action: Moderation::Remove { ban: true }, by: "p1".into() }
        );
        let (tx3, _rx3) = unbounded_channel();
        let again = b.join(&room, ParticipantId(3), info(2, false), tx3);
        assert_eq!(again, Err(super::super::Refusal::Banned), "node b knows the ban");
    }
}

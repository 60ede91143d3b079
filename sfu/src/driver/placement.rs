//! Which worker owns which room and participant. Touched only on join and leave, never per packet.

use std::collections::HashMap;

use crate::core::types::{ParticipantId, RoomId};

#[derive(Debug, Default)]
pub(crate) struct Placement {
    workers: usize,
    /// room → (worker, participants in it)
    rooms: HashMap<RoomId, (usize, usize)>,
    participants: HashMap<ParticipantId, (usize, RoomId)>,
}

impl Placement {
    pub fn new(workers: usize) -> Self {
        Placement { workers: workers.max(1), ..Default::default() }
    }

    /// Place a participant: its room's worker, or for a new room the worker with the fewest participants.
    pub fn place(&mut self, room: &RoomId, id: ParticipantId) -> Option<usize> {
        if self.participants.contains_key(&id) {
            return None;
        }
        let worker = match self.rooms.get(room) {
            Some((w, _)) => *w,
            None => {
                let mut load = vec![0usize; self.workers];
                for (w, _) in self.participants.values() {
                    load[*w] += 1;
                }
                (0..self.workers).min_by_key(|w| (load[*w], *w)).unwrap_or(0)
            }
        };
        self.rooms.entry(room.clone()).or_insert((worker, 0)).1 += 1;
        self.participants.insert(id, (worker, room.clone()));
        Some(worker)
    }

    pub fn worker_of(&self, id: ParticipantId) -> Option<usize> {
        self.participants.get(&id).map(|(w, _)| *w)
    }

    pub fn left(&mut self, id: ParticipantId) {
        let Some((_, room)) = self.participants.remove(&id) else { return };
        if let Some(entry) = self.rooms.get_mut(&room) {
            entry.1 -= 1;
            if entry.1 == 0 {
                self.rooms.remove(&room);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_stay_on_one_worker_and_new_rooms_go_to_the_least_loaded() {
        let mut p = Placement::new(2);
        let (a, b) = (RoomId("a".into()), RoomId("b".into()));
        assert_eq!(p.place(&a, ParticipantId(1)), Some(0));
        assert_eq!(p.place(&a, ParticipantId(2)), Some(0));
        assert_eq!(p.place(&b, ParticipantId(3)), Some(1));
        assert_eq!(p.place(&a, ParticipantId(1)), None, "double join refused");
        p.left(ParticipantId(1));
        p.left(ParticipantId(2));
        assert_eq!(p.worker_of(ParticipantId(2)), None);
        // Room a is gone; worker 0 is idle now.
        assert_eq!(p.place(&RoomId("c".into()), ParticipantId(4)), Some(0));
    }
}

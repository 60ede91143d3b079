//! Raised hands, in the order they were raised.

use plenum_sfu::ParticipantId;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HandQueue {
    order: Vec<ParticipantId>,
}

impl HandQueue {
    /// Raise (append if not raised yet) or lower (remove); returns whether anything changed.
    pub fn set(&mut self, id: ParticipantId, raised: bool) -> bool {
        let position = self.order.iter().position(|p| *p == id);
        match (raised, position) {
            (true, None) => {
                self.order.push(id);
                true
            }
            (false, Some(i)) => {
                self.order.remove(i);
                true
            }
            _ => false,
        }
    }

    pub fn is_raised(&self, id: ParticipantId) -> bool {
        self.order.contains(&id)
    }

    /// The queue as sids (the protocol's form).
    pub fn sids(&self) -> Vec<String> {
        self.order.iter().map(ToString::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_raised_first_in_line() {
        let mut q = HandQueue::default();
        assert!(q.set(ParticipantId(3), true));
        assert!(q.set(ParticipantId(1), true));
        assert!(!q.set(ParticipantId(3), true), "raising twice keeps the place");
        assert!(q.set(ParticipantId(2), true));
        assert_eq!(q.sids(), ["p3", "p1", "p2"]);
        assert!(q.set(ParticipantId(1), false));
        assert!(!q.set(ParticipantId(1), false));
        assert_eq!(q.sids(), ["p3", "p2"]);
        assert!(q.set(ParticipantId(1), true), "raised again: to the end");
        assert_eq!(q.sids(), ["p3", "p2", "p1"]);
        assert!(q.is_raised(ParticipantId(2)));
    }
}

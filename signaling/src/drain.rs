//! Graceful drain: after the first SIGTERM the node starts no new meetings, tells everyone in a meeting how long it
//! keeps running, and stops once the last meeting has ended or the deadline has passed.
//!
//! Rules (also in `docs/protocol.md` and `docs/operations.md`):
//! - `join` into a room that has nobody in it is refused with the fatal error `draining`;
//! - `join` into a running meeting is still allowed (someone whose browser reloaded gets back in), and `resume`
//!   works as always;
//! - every joined client gets `{"type": "draining", "seconds": N}` when the drain starts, and right after its
//!   `joined`/`resumed` while the drain lasts;
//! - `/readyz` answers 503, so load balancers send new users elsewhere.

use std::time::{Duration, Instant};

use tokio::sync::watch;

/// The drain as sessions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainNotice {
    /// When the server stops at the latest (monotonic clock of this process).
    pub deadline: Instant,
}

impl DrainNotice {
    /// Whole seconds until the deadline (rounded up, so a client never shows a deadline that already passed).
    pub fn seconds_left(&self, now: Instant) -> u64 {
        let left = self.deadline.saturating_duration_since(now);
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }
}

/// Whether this server drains, shared by all sessions.
#[derive(Debug)]
pub struct Drain {
    tx: watch::Sender<Option<DrainNotice>>,
}

impl Default for Drain {
    fn default() -> Self {
        Drain { tx: watch::channel(None).0 }
    }
}

impl Drain {
    /// Start draining with `timeout` until the hard stop. Returns the notice, or `None` if it already drains.
    pub fn start(&self, timeout: Duration) -> Option<DrainNotice> {
        let notice = DrainNotice { deadline: Instant::now() + timeout };
        let mut started = false;
        self.tx.send_if_modified(|state| {
            if state.is_some() {
                return false;
            }
            *state = Some(notice);
            started = true;
            true
        });
        started.then_some(notice)
    }

    /// The drain, if one is under way.
    pub fn notice(&self) -> Option<DrainNotice> {
        *self.tx.borrow()
    }

    pub fn is_draining(&self) -> bool {
        self.tx.borrow().is_some()
    }

    /// Changes of the drain state (a session waits on this to tell its client).
    pub fn subscribe(&self) -> watch::Receiver<Option<DrainNotice>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_once() {
        let drain = Drain::default();
        assert!(!drain.is_draining());
        let mut rx = drain.subscribe();
        let first = drain.start(Duration::from_secs(60)).expect("first start");
        assert!(drain.is_draining());
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), Some(first));
        assert_eq!(drain.start(Duration::from_secs(5)), None, "a second start changes nothing");
        assert!(!rx.has_changed().unwrap());
        assert_eq!(drain.notice(), Some(first));
    }

    #[test]
    fn seconds_round_up() {
        let now = Instant::now();
        let notice = DrainNotice { deadline: now + Duration::from_millis(1500) };
        assert_eq!(notice.seconds_left(now), 2);
        assert_eq!(notice.seconds_left(now + Duration::from_secs(2)), 0);
        let notice = DrainNotice { deadline: now + Duration::from_secs(1800) };
        assert_eq!(notice.seconds_left(now), 1800);
    }
}

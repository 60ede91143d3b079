//! Resuming a participant after its connection dropped.
//!
//! A joined participant lives in exactly one session task. When its WebSocket drops, the task keeps the
//! participant (in the room and in the SFU) for a grace period. A new connection that sends `resume` with the
//! participant's resume token asks that task, through this table, to hand the participant over; the old task sends
//! its state on a oneshot channel and ends without leaving. Nobody else in the room notices.
//!
//! The table maps a resume token to the channel of the task that owns the participant now. Each task has an
//! `owner` number, so a task that ends only removes the entry if it is still the owner.

use std::collections::HashMap;
use std::sync::Mutex;

use plenum_sfu::RoomId;
use rand::RngCore;
use tokio::sync::{mpsc, oneshot};

/// A request to hand over a participant: the owner sends its state on `reply`.
pub type TakeoverRequest<T> = oneshot::Sender<T>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error("unknown or expired resume token")]
    Unknown,
    #[error("the resume token belongs to another room")]
    WrongRoom,
    #[error("the participant is gone")]
    Gone,
}

struct Entry<T> {
    room: RoomId,
    owner: u64,
    tx: mpsc::UnboundedSender<TakeoverRequest<T>>,
}

/// Resume tokens of the participants in this server, and who owns each participant.
pub struct ResumeTable<T> {
    entries: Mutex<HashMap<String, Entry<T>>>,
}

impl<T> Default for ResumeTable<T> {
    fn default() -> Self {
        ResumeTable { entries: Mutex::new(HashMap::new()) }
    }
}

/// A new resume token: 128 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl<T> ResumeTable<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry<T>>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Make `owner` the owner of the participant behind `token`; returns where takeover requests arrive.
    pub fn register(&self, token: &str, room: &RoomId, owner: u64) -> mpsc::UnboundedReceiver<TakeoverRequest<T>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().insert(token.to_owned(), Entry { room: room.clone(), owner, tx });
        rx
    }

    /// Ask the owner of `token` to hand its participant over; the state arrives on the returned receiver (which
    /// fails if the owner ended meanwhile).
    pub fn request(&self, token: &str, room: &RoomId) -> Result<oneshot::Receiver<T>, ResumeError> {
        let mut entries = self.lock();
        let entry = entries.get(token).ok_or(ResumeError::Unknown)?;
        if entry.room != *room {
            return Err(ResumeError::WrongRoom);
        }
        let (reply, rx) = oneshot::channel();
        if entry.tx.send(reply).is_err() {
            entries.remove(token);
            return Err(ResumeError::Gone);
        }
        Ok(rx)
    }

    /// Forget `token` if `owner` still owns it.
    pub fn remove(&self, token: &str, owner: u64) {
        let mut entries = self.lock();
        if entries.get(token).is_some_and(|e| e.owner == owner) {
            entries.remove(token);
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn request_reaches_the_owner_and_only_the_owner_removes() {
        let table = ResumeTable::<u32>::default();
        let room = RoomId("r".into());
        let mut rx = table.register("t", &room, 1);
        assert_eq!(table.request("x", &room).unwrap_err(), ResumeError::Unknown);
        assert_eq!(table.request("t", &RoomId("other".into())).unwrap_err(), ResumeError::WrongRoom);
        let answer = table.request("t", &room).unwrap();
        rx.recv().await.unwrap().send(42).unwrap();
        assert_eq!(answer.await, Ok(42));

        // The new owner registers; the old one ending does not remove it.
        let rx2 = table.register("t", &room, 2);
        table.remove("t", 1);
        assert_eq!(table.len(), 1);
        drop(rx2);
        assert_eq!(table.request("t", &room).unwrap_err(), ResumeError::Gone, "owner task gone");
        assert!(table.is_empty());
    }
}

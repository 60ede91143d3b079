//! A room's chat history: the last [`HISTORY_CAP`] messages, kept as long as the room has participants.

use std::collections::VecDeque;

use crate::protocol::ChatEntry;

/// Messages kept per room (older ones are dropped; late joiners see these).
pub const HISTORY_CAP: usize = 200;
/// Longest chat message, in characters after trimming.
pub const MAX_CHAT_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("a chat message must not be empty")]
    Empty,
    #[error("chat messages are limited to {MAX_CHAT_CHARS} characters")]
    TooLong,
}

/// Trim a message and check it: 1–[`MAX_CHAT_CHARS`] characters; control characters other than line breaks and
/// tabs are removed.
pub fn clean_text(text: &str) -> Result<String, ChatError> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let count = cleaned.chars().count();
    if count == 0 {
        Err(ChatError::Empty)
    } else if count > MAX_CHAT_CHARS {
        Err(ChatError::TooLong)
    } else {
        Ok(cleaned)
    }
}

#[derive(Debug, Default)]
pub struct ChatLog {
    entries: VecDeque<ChatEntry>,
    next_id: u64,
}

impl ChatLog {
    /// Append a message (dropping the oldest beyond the cap) and return it with its id.
    pub fn push(&mut self, sid: String, identity: String, name: String, text: String, at: u64) -> ChatEntry {
        self.next_id += 1;
        let entry = ChatEntry { id: self.next_id, sid, identity, name, text, at };
        if self.entries.len() == HISTORY_CAP {
            self.entries.pop_front();
        }
        self.entries.push_back(entry.clone());
        entry
    }

    /// The history, oldest first.
    pub fn history(&self) -> Vec<ChatEntry> {
        self.entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_messages_with_increasing_ids() {
        let mut log = ChatLog::default();
        for i in 0..HISTORY_CAP + 5 {
            let e = log.push("p1".into(), "a".into(), "A".into(), format!("m{i}"), i as u64);
            assert_eq!(e.id, i as u64 + 1);
        }
        let h = log.history();
        assert_eq!(h.len(), HISTORY_CAP);
        assert_eq!(h[0].text, "m5");
        assert_eq!(h.last().unwrap().text, format!("m{}", HISTORY_CAP + 4));
    }

    #[test]
    fn cleans_and_bounds_text() {
        assert_eq!(clean_text("  Hallo\u{7}\n Welt \t"), Ok("Hallo\n Welt".into()));
        assert_eq!(clean_text(" \n\t "), Err(ChatError::Empty));
        assert_eq!(clean_text("\u{0}\u{1b}"), Err(ChatError::Empty));
        assert!(clean_text(&"ä".repeat(MAX_CHAT_CHARS)).is_ok());
        assert_eq!(clean_text(&"ä".repeat(MAX_CHAT_CHARS + 1)), Err(ChatError::TooLong));
    }
}

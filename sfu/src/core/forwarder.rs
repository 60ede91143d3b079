//! The Forwarder: rewrites sequence numbers and timestamps of one DownTrack.
//!
//! A subscriber sees one continuous RTP stream per DownTrack, whatever happens upstream: the source may be switched
//! (another simulcast layer, another publisher), and the SFU may drop packets on purpose (waiting for a keyframe,
//! filtering temporal layers). The rules:
//!
//! - the first packet maps to the chosen initial sequence number and timestamp;
//! - after [`Forwarder::switch_source`] the next packet continues at the last sequence number + 1 and at the last
//!   timestamp advanced by the wall-clock time since the last packet, so the receiver's jitter buffer sees no jump
//!   (the caller stops feeding packets of the old source: sequence numbers alone cannot tell sources apart);
//! - a packet skipped with [`Forwarder::skip`] shifts all later packets down by one, so no gap appears (receivers
//!   would NACK a gap forever); packets older than the skip keep their mapping, so reordered packets still fit;
//! - reordered and retransmitted packets map the same way as when first seen; packets from before a source switch
//!   are dropped.
//!
//! Sequence numbers are str0m's extended (64-bit, rollover-free) ones on both sides; timestamps are 32-bit RTP
//! timestamps and wrap.

use std::collections::VecDeque;
use std::time::Instant;

/// How many offset changes (skips) are remembered for mapping reordered packets.
const HISTORY: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// Send with these values.
    Send { seq: u64, ts: u32 },
    /// Do not send: the packet is from before a source switch, older than the remembered history, or was skipped.
    Drop,
}

#[derive(Debug)]
pub struct Forwarder {
    clock_rate: u32,
    initial_seq: u64,
    initial_ts: u32,
    /// Set until the first packet (of the first or of a new source) arrives.
    rebase: bool,
    started: bool,
    /// First incoming seq of the current source; older packets are dropped.
    base_in_seq: u64,
    highest_in_seq: u64,
    /// `(from_in_seq, seq_offset)`: packets with seq >= `from_in_seq` use `seq_offset` (wrapping add).
    offsets: VecDeque<(u64, u64)>,
    ts_offset: u32,
    last_out_seq: u64,
    last_out_ts: u32,
    last_at: Option<Instant>,
}

impl Forwarder {
    /// `initial_seq` must be below 65 536 (str0m's rule for a new outgoing stream).
    pub fn new(clock_rate: u32, initial_seq: u16, initial_ts: u32) -> Self {
        Forwarder {
            clock_rate: clock_rate.max(1),
            initial_seq: initial_seq as u64,
            initial_ts,
            rebase: true,
            started: false,
            base_in_seq: 0,
            highest_in_seq: 0,
            offsets: VecDeque::with_capacity(HISTORY),
            ts_offset: 0,
            last_out_seq: 0,
            last_out_ts: 0,
            last_at: None,
        }
    }

    /// The next packet starts a new source (layer or publisher switch).
    pub fn switch_source(&mut self) {
        self.rebase = true;
    }

    /// Has any packet been forwarded yet?
    pub fn started(&self) -> bool {
        self.started
    }

    /// Map one incoming packet.
    pub fn forward(&mut self, in_seq: u64, in_ts: u32, now: Instant) -> Forwarded {
        if self.rebase {
            self.rebase_to(in_seq, in_ts, now);
            return Forwarded::Send { seq: self.last_out_seq, ts: self.last_out_ts };
        }
        if in_seq > self.highest_in_seq {
            let seq = in_seq.wrapping_add(self.current_offset());
            let ts = in_ts.wrapping_add(self.ts_offset);
            self.highest_in_seq = in_seq;
            self.last_out_seq = seq;
            // Timestamps move forward with the sequence except for reordered frames; keep the newest.
            if is_newer_ts(ts, self.last_out_ts) {
                self.last_out_ts = ts;
            }
            self.last_at = Some(now);
            return Forwarded::Send { seq, ts };
        }
        if in_seq < self.base_in_seq {
            return Forwarded::Drop;
        }
        match self.offset_for(in_seq) {
            Some(off) => Forwarded::Send { seq: in_seq.wrapping_add(off), ts: in_ts.wrapping_add(self.ts_offset) },
            None => Forwarded::Drop,
        }
    }

    /// Leave out one incoming packet on purpose; later packets close the gap.
    ///
    /// Only a packet newer than everything seen so far can be skipped without a trace; an older one (it arrived
    /// late) is dropped and its slot stays a gap.
    pub fn skip(&mut self, in_seq: u64) {
        if self.rebase || in_seq <= self.highest_in_seq {
            return;
        }
        let new_off = self.current_offset().wrapping_sub(1);
        if self.offsets.len() == HISTORY {
            self.offsets.pop_front();
        }
        self.offsets.push_back((in_seq + 1, new_off));
        self.highest_in_seq = in_seq;
    }

    fn rebase_to(&mut self, in_seq: u64, in_ts: u32, now: Instant) {
        let (out_seq, out_ts) = if !self.started {
            (self.initial_seq, self.initial_ts)
        } else {
            let elapsed = self.last_at.map(|t| now.saturating_duration_since(t)).unwrap_or_default();
            let ticks = (elapsed.as_micros() as u64 * self.clock_rate as u64 / 1_000_000).max(1);
            (self.last_out_seq + 1, self.last_out_ts.wrapping_add(ticks as u32))
        };
        self.offsets.clear();
        self.offsets.push_back((in_seq, out_seq.wrapping_sub(in_seq)));
        self.ts_offset = out_ts.wrapping_sub(in_ts);
        self.base_in_seq = in_seq;
        self.highest_in_seq = in_seq;
        self.rebase = false;
        self.started = true;
        self.last_out_seq = out_seq;
        self.last_out_ts = out_ts;
        self.last_at = Some(now);
    }

    fn current_offset(&self) -> u64 {
        self.offsets.back().map(|(_, o)| *o).unwrap_or(0)
    }

    fn offset_for(&self, in_seq: u64) -> Option<u64> {
        // A skipped packet `s` left a change point at `s + 1`; it has no slot of its own.
        if self.offsets.iter().any(|(from, _)| *from > self.base_in_seq && *from == in_seq + 1) {
            return None;
        }
        // The newest change point at or below `in_seq`; none when it is older than the remembered history.
        self.offsets.iter().rev().find(|(from, _)| *from <= in_seq).map(|(_, off)| *off)
    }
}

/// RFC 3550 style serial comparison of 32-bit timestamps.
fn is_newer_ts(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

#[cfg(test)]
mod tests;

//! The load test's own trailer at the end of every RTP payload it sends: who sent it and when.
//!
//! Layout (16 bytes, big-endian): `b"PL"`, kind (0 audio, 1 video), layer, publisher index (u32), send time in
//! microseconds since the process's load-test epoch (u64). Sender and receivers live in the same process, so one
//! monotonic clock gives end-to-end latency without clock sync. Real decoders never see these payloads; the SFU
//! only reads the start of a VP8 payload (the keyframe bit), which the trailer leaves alone.

use bytes::{BufMut, BytesMut};

pub const LEN: usize = 16;
const MAGIC: [u8; 2] = *b"PL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    pub video: bool,
    pub layer: u8,
    pub publisher: u32,
    pub sent_us: u64,
}

impl Trailer {
    pub fn append(&self, payload: &mut BytesMut) {
        payload.put_slice(&MAGIC);
        payload.put_u8(self.video as u8);
        payload.put_u8(self.layer);
        payload.put_u32(self.publisher);
        payload.put_u64(self.sent_us);
    }

    /// Read the trailer of a received payload; `None` when the payload carries none (never panics).
    pub fn parse(payload: &[u8]) -> Option<Trailer> {
        let t = payload.len().checked_sub(LEN).map(|start| &payload[start..])?;
        if t[0..2] != MAGIC || t[2] > 1 {
            return None;
        }
        let publisher = u32::from_be_bytes(t[4..8].try_into().ok()?);
        let sent_us = u64::from_be_bytes(t[8..16].try_into().ok()?);
        Some(Trailer { video: t[2] == 1, layer: t[3], publisher, sent_us })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let t = Trailer { video: true, layer: 2, publisher: 77, sent_us: 123_456_789 };
        let mut p = BytesMut::from(&b"vp8 payload"[..]);
        t.append(&mut p);
        assert_eq!(p.len(), 11 + LEN);
        assert_eq!(Trailer::parse(&p), Some(t));
        assert_eq!(Trailer::parse(&p[..LEN - 1]), None);
        assert_eq!(Trailer::parse(&[0u8; 40]), None);
        assert_eq!(Trailer::parse(&[]), None);
    }
}

//! RFC 2198 redundant audio (RED): where the primary block sits in a RED payload, for subscribers that did not
//! negotiate RED and get the primary Opus packet alone.
//!
//! A RED payload is a list of block headers — 4 bytes per redundant block (F=1, block PT, timestamp offset,
//! length), one final byte (F=0, primary PT) — followed by the redundant blocks' data, then the primary's.
//! Parses untrusted payloads: bounds-checked, malformed input gives `None`.
//!
//! [`without_redundancy`] keeps the RED format but drops the redundant blocks, for subscribers whose link cannot
//! carry the audio twice (see `redundancy.rs`).

use std::ops::Range;

/// Byte range of the primary block in a RED payload.
pub fn primary(payload: &[u8]) -> Option<Range<usize>> {
    split(payload).map(|(_, r)| r)
}

/// The payload as RED with the primary block alone: its one-byte block header (F=0, primary PT) and its data.
pub fn without_redundancy(payload: &[u8]) -> Option<Vec<u8>> {
    let (header, r) = split(payload)?;
    let mut out = Vec::with_capacity(1 + r.len());
    out.push(header);
    out.extend_from_slice(&payload[r]);
    Some(out)
}

/// The primary block's header byte and its data range.
fn split(payload: &[u8]) -> Option<(u8, Range<usize>)> {
    let mut i = 0;
    let mut redundant = 0usize;
    loop {
        let b = *payload.get(i)?;
        if b & 0x80 == 0 {
            i += 1;
            let start = i.checked_add(redundant)?;
            return (start <= payload.len()).then_some((b, start..payload.len()));
        }
        let hdr = payload.get(i..i + 4)?;
        redundant += usize::from(u16::from_be_bytes([hdr[2], hdr[3]]) & 0x03ff);
        i += 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_primary_after_redundant_blocks() {
        // One redundant block of 3 bytes (PT 111, offset 960), then the primary (PT 111) of 2 bytes.
        let ts_len: u32 = (960 << 10) | 3;
        let mut p = vec![0x80 | 111, (ts_len >> 16) as u8, (ts_len >> 8) as u8, ts_len as u8, 111];
        p.extend_from_slice(&[1, 2, 3, 9, 8]);
        assert_eq!(primary(&p), Some(8..10));
        assert_eq!(&p[primary(&p).unwrap()], &[9, 8]);
        // No redundancy: a single header byte.
        assert_eq!(primary(&[111, 5, 6]), Some(1..3));
        // A primary that is empty (DTX) is still a valid, empty range.
        assert_eq!(primary(&[111]), Some(1..1));
    }

    #[test]
    fn without_redundancy_keeps_the_primary_block_alone() {
        let ts_len: u32 = (960 << 10) | 3;
        let mut p = vec![0x80 | 111, (ts_len >> 16) as u8, (ts_len >> 8) as u8, ts_len as u8, 111];
        p.extend_from_slice(&[1, 2, 3, 9, 8]);
        assert_eq!(without_redundancy(&p), Some(vec![111, 9, 8]));
        // Two redundant blocks (2 and 1 bytes).
        let (a, b): (u32, u32) = ((1920 << 10) | 2, (960 << 10) | 1);
        let mut q = vec![0x80 | 111, (a >> 16) as u8, (a >> 8) as u8, a as u8, 0x80 | 111, (b >> 16) as u8, (b >> 8) as u8, b as u8, 111];
        q.extend_from_slice(&[4, 4, 5, 7, 7, 7]);
        assert_eq!(without_redundancy(&q), Some(vec![111, 7, 7, 7]));
        // Already without redundancy: unchanged.
        assert_eq!(without_redundancy(&[111, 5, 6]), Some(vec![111, 5, 6]));
        assert_eq!(without_redundancy(&[0x80 | 111, 0, 0]), None);
    }

    #[test]
    fn malformed_payloads_never_panic() {
        assert_eq!(primary(&[]), None);
        assert_eq!(primary(&[0x80 | 111, 0, 0]), None, "truncated block header");
        assert_eq!(primary(&[0x80 | 111, 0, 0, 50, 111, 1]), None, "redundant length beyond the payload");
        for len in 0..12 {
            let _ = primary(&vec![0xff; len]);
            let _ = without_redundancy(&vec![0x80; len]);
        }
    }
}

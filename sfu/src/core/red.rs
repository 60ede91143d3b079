//! RFC 2198 redundant audio (RED): where the primary block sits in a RED payload, for subscribers that did not
//! negotiate RED and get the primary Opus packet alone.
//!
//! A RED payload is a list of block headers — 4 bytes per redundant block (F=1, block PT, timestamp offset,
//! length), one final byte (F=0, primary PT) — followed by the redundant blocks' data, then the primary's.
//! Parses untrusted payloads: bounds-checked, malformed input gives `None`.

use std::ops::Range;

/// Byte range of the primary block in a RED payload.
pub fn primary(payload: &[u8]) -> Option<Range<usize>> {
    let mut i = 0;
    let mut redundant = 0usize;
    loop {
        let b = *payload.get(i)?;
        if b & 0x80 == 0 {
            i += 1;
            break;
        }
        let hdr = payload.get(i..i + 4)?;
        redundant += usize::from(u16::from_be_bytes([hdr[2], hdr[3]]) & 0x03ff);
        i += 4;
    }
    let start = i.checked_add(redundant)?;
    (start <= payload.len()).then_some(start..payload.len())
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
    fn malformed_payloads_never_panic() {
        assert_eq!(primary(&[]), None);
        assert_eq!(primary(&[0x80 | 111, 0, 0]), None, "truncated block header");
        assert_eq!(primary(&[0x80 | 111, 0, 0, 50, 111, 1]), None, "redundant length beyond the payload");
        for len in 0..12 {
            let _ = primary(&vec![0xff; len]);
        }
    }
}

//! Reading received VP8 RTP payloads (RFC 7741): where a frame starts, and a keyframe's picture size (RFC 6386,
//! section 9.1) — how a subscriber tells which simulcast layer the SFU forwards to it.

/// What the start of one VP8 RTP payload says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp8Start {
    /// The packet starts a frame (S=1, partition 0).
    pub frame_start: bool,
    /// For a frame start: the frame is a keyframe, with its width and height (`None` otherwise).
    pub keyframe_size: Option<(u16, u16)>,
}

/// The length of the payload descriptor, `None` when the payload is too short for it.
pub fn descriptor_len(p: &[u8]) -> Option<usize> {
    let b0 = *p.first()?;
    let mut len = 1;
    if b0 & 0x80 != 0 {
        let x = *p.get(1)?;
        len += 1;
        if x & 0x80 != 0 {
            // PictureID: 15 bits when its first byte has M set, else 7.
            let m = *p.get(len)? & 0x80 != 0;
            len += if m { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            len += 1; // TL0PICIDX
        }
        if x & 0x30 != 0 {
            len += 1; // TID/Y/KEYIDX
        }
    }
    (len <= p.len()).then_some(len)
}

/// Parse the start of a VP8 RTP payload; `None` when it is not a well-formed one (never panics).
pub fn parse(p: &[u8]) -> Option<Vp8Start> {
    let d = descriptor_len(p)?;
    let frame_start = p[0] & 0x10 != 0 && p[0] & 0x07 == 0;
    if !frame_start {
        return Some(Vp8Start { frame_start, keyframe_size: None });
    }
    let f = &p[d..];
    // Frame tag: bit 0 of the first byte is 0 for a keyframe, which then has the start code and the size.
    let key = f.first().is_some_and(|b| b & 1 == 0);
    let keyframe_size = if key && f.len() >= 10 && f[3..6] == [0x9d, 0x01, 0x2a] {
        let w = u16::from_le_bytes([f[6], f[7]]) & 0x3fff;
        let h = u16::from_le_bytes([f[8], f[9]]) & 0x3fff;
        Some((w, h))
    } else {
        None
    };
    Some(Vp8Start { frame_start, keyframe_size })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::video::{Clip, MAX_PAYLOAD, packetize};

    #[test]
    fn keyframe_sizes_of_the_shipped_clips() {
        for (i, want) in [(0, (320, 180)), (1, (640, 360)), (2, (1280, 720))] {
            let clip = Clip::layer(i).unwrap();
            let mut out = vec![];
            packetize(&clip.frames[0].data, 0x1234, MAX_PAYLOAD, &mut out);
            let first = parse(&out[0]).unwrap();
            assert_eq!(first, Vp8Start { frame_start: true, keyframe_size: Some(want) });
            if out.len() > 1 {
                assert_eq!(parse(&out[1]).unwrap(), Vp8Start { frame_start: false, keyframe_size: None });
            }
            // A delta frame starts a frame but has no size.
            let delta = clip.frames.iter().find(|f| !f.keyframe).unwrap();
            packetize(&delta.data, 7, MAX_PAYLOAD, &mut out);
            assert_eq!(parse(&out[0]).unwrap(), Vp8Start { frame_start: true, keyframe_size: None });
        }
    }

    #[test]
    fn descriptor_variants_and_garbage() {
        // Minimal descriptor (X=0): S=1, then a keyframe header for 20x10.
        let kf = [0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 20, 0, 10, 0];
        assert_eq!(parse(&kf).unwrap().keyframe_size, Some((20, 10)));
        // X, I with a 7-bit PictureID, L, T: 5 bytes of descriptor.
        let mut long = vec![0x90, 0xe0, 0x05, 0x01, 0x40];
        long.extend_from_slice(&kf[1..]);
        assert_eq!(descriptor_len(&long), Some(5));
        assert_eq!(parse(&long).unwrap().keyframe_size, Some((20, 10)));
        // The scale bits above the 14-bit size are ignored.
        let mut scaled = kf;
        scaled[8] = 0x40;
        assert_eq!(parse(&scaled).unwrap().keyframe_size, Some((20, 10)));
        // Not partition 0: not a frame start.
        assert!(!parse(&[0x11, 0, 0, 0]).unwrap().frame_start);
        // Truncated or empty payloads are no frames, and no panic.
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0x80]), None);
        assert_eq!(parse(&[0x90, 0x80, 0x80]), None);
        assert_eq!(parse(&kf[..6]).unwrap().keyframe_size, None);
    }
}

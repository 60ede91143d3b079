//! What the forwarding path needs to know about payload formats: is this packet the start of a keyframe.
//!
//! Parses untrusted payloads: every access is bounds-checked and malformed input answers `false`.

/// Codecs Plenum forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaCodec {
    Opus,
    Vp8,
    H264,
    /// Anything else negotiated (forwarded, never treated as a keyframe).
    Other,
}

impl MediaCodec {
    pub fn from_str0m(c: str0m::format::Codec) -> Self {
        use str0m::format::Codec;
        match c {
            Codec::Opus => MediaCodec::Opus,
            Codec::Vp8 => MediaCodec::Vp8,
            Codec::H264 => MediaCodec::H264,
            _ => MediaCodec::Other,
        }
    }

    pub fn is_video(self) -> bool {
        matches!(self, MediaCodec::Vp8 | MediaCodec::H264)
    }
}

/// True when the RTP payload is the first packet of a keyframe (a decoder can start here).
pub fn starts_keyframe(codec: MediaCodec, payload: &[u8]) -> bool {
    match codec {
        MediaCodec::Vp8 => vp8_starts_keyframe(payload),
        MediaCodec::H264 => h264_has_keyframe_start(payload),
        MediaCodec::Opus | MediaCodec::Other => false,
    }
}

/// VP8 (RFC 7741): payload descriptor, then on the first packet of a frame the payload header whose P bit is 0
/// for keyframes.
fn vp8_starts_keyframe(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else { return false };
    let x = b0 & 0x80 != 0;
    let s = b0 & 0x10 != 0;
    let pid = b0 & 0x07;
    if !s || pid != 0 {
        return false;
    }
    let mut i = 1;
    if x {
        let Some(&ext) = p.get(i) else { return false };
        i += 1;
        if ext & 0x80 != 0 {
            // I: PictureID, 7 or 15 bits.
            let Some(&pic) = p.get(i) else { return false };
            i += if pic & 0x80 != 0 { 2 } else { 1 };
        }
        if ext & 0x40 != 0 {
            i += 1; // L: TL0PICIDX
        }
        if ext & 0x30 != 0 {
            i += 1; // T/K: TID/Y/KEYIDX
        }
    }
    match p.get(i) {
        Some(h) => h & 0x01 == 0,
        None => false,
    }
}

/// H.264 (RFC 6184): an IDR slice or SPS at the start of a single NAL, inside a STAP-A, or starting an FU-A.
fn h264_has_keyframe_start(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else { return false };
    match b0 & 0x1f {
        5 | 7 => true,
        // STAP-A: [hdr] then (size u16, NAL)*
        24 => {
            let mut i = 1;
            while i + 2 < p.len() {
                let size = u16::from_be_bytes([p[i], p[i + 1]]) as usize;
                let Some(&nal) = p.get(i + 2) else { return false };
                if matches!(nal & 0x1f, 5 | 7) {
                    return true;
                }
                i += 2 + size;
            }
            false
        }
        // FU-A: [indicator][header: S E R type]
        28 => match p.get(1) {
            Some(h) => h & 0x80 != 0 && matches!(h & 0x1f, 5 | 7),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_keyframe_and_delta() {
        // S=1, PID=0, no extension; payload header P=0 → keyframe.
        assert!(starts_keyframe(MediaCodec::Vp8, &[0x10, 0x00, 0x9d, 0x01, 0x2a]));
        // P=1 → interframe.
        assert!(!starts_keyframe(MediaCodec::Vp8, &[0x10, 0x01]));
        // Not the start of a partition.
        assert!(!starts_keyframe(MediaCodec::Vp8, &[0x00, 0x00]));
    }

    #[test]
    fn vp8_with_extensions_as_chrome_sends() {
        // X=1, S=1; I=1 with 15-bit picture id, L=1, T=1; then P=0.
        let p = [0x90, 0xe0, 0x80 | 0x12, 0x34, 0x05, 0x20, 0x00];
        assert!(starts_keyframe(MediaCodec::Vp8, &p));
        let mut d = p;
        d[6] = 0x01;
        assert!(!starts_keyframe(MediaCodec::Vp8, &d));
        // Truncated in the middle of the extension.
        assert!(!starts_keyframe(MediaCodec::Vp8, &p[..4]));
    }

    #[test]
    fn h264_forms() {
        assert!(starts_keyframe(MediaCodec::H264, &[0x65, 0x88])); // IDR
        assert!(starts_keyframe(MediaCodec::H264, &[0x67, 0x42])); // SPS
        assert!(!starts_keyframe(MediaCodec::H264, &[0x41, 0x9a])); // non-IDR
        // STAP-A with SPS inside.
        assert!(starts_keyframe(MediaCodec::H264, &[0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68]));
        // FU-A start of IDR; continuation is not a start.
        assert!(starts_keyframe(MediaCodec::H264, &[0x7c, 0x85, 0x00]));
        assert!(!starts_keyframe(MediaCodec::H264, &[0x7c, 0x05, 0x00]));
    }

    #[test]
    fn garbage_is_never_a_keyframe_and_never_panics() {
        for len in 0..8 {
            for b in [0x00u8, 0xff, 0x10, 0x90, 0x78, 0x7c] {
                let p = vec![b; len];
                let _ = starts_keyframe(MediaCodec::Vp8, &p);
                let _ = starts_keyframe(MediaCodec::H264, &p);
            }
        }
        assert!(!starts_keyframe(MediaCodec::Opus, &[0x10, 0x00]));
        assert!(!starts_keyframe(MediaCodec::Vp8, &[]));
    }
}

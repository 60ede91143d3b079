//! VP8 video: frames looped from the IVF clips shipped in `loadtest/media/`, packetized per RFC 7741.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::LoadError;

/// The three layers, smallest first (what a simulcast publisher would send).
pub const LAYERS: [(&str, &[u8]); 3] = [
    ("low", include_bytes!("../../media/low.ivf")),
    ("mid", include_bytes!("../../media/mid.ivf")),
    ("high", include_bytes!("../../media/high.ivf")),
];

/// RTP payload budget per packet (before the load test's trailer), as browsers use.
pub const MAX_PAYLOAD: usize = 1100;

/// One encoded frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub data: Bytes,
    pub keyframe: bool,
}

/// A clip: its frames and frame rate.
#[derive(Debug, Clone)]
pub struct Clip {
    pub name: &'static str,
    pub width: u16,
    pub height: u16,
    pub fps: f64,
    pub frames: Vec<Frame>,
}

impl Clip {
    /// The shipped clip of layer `index` (0 = low, 1 = mid, 2 = high).
    pub fn layer(index: usize) -> Result<Clip, LoadError> {
        let (name, data) = LAYERS[index.min(LAYERS.len() - 1)];
        parse_ivf(name, data)
    }

    /// Average bitrate of the clip in kbit/s.
    pub fn kbps(&self) -> f64 {
        let bytes: usize = self.frames.iter().map(|f| f.data.len()).sum();
        bytes as f64 * 8.0 * self.fps / self.frames.len().max(1) as f64 / 1000.0
    }
}

/// Parse an IVF file (32-byte header, then 12-byte frame headers).
pub fn parse_ivf(name: &'static str, data: &[u8]) -> Result<Clip, LoadError> {
    let bad = |why: &str| LoadError::Media(format!("{name}.ivf: {why}"));
    if data.len() < 32 || &data[0..4] != b"DKIF" {
        return Err(bad("not an IVF file"));
    }
    if &data[8..12] != b"VP80" {
        return Err(bad("not VP8"));
    }
    let u16le = |i: usize| u16::from_le_bytes([data[i], data[i + 1]]);
    let u32le = |i: usize| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
    let header_len = u16le(6) as usize;
    let (width, height) = (u16le(12), u16le(14));
    let (rate, scale) = (u32le(16), u32le(20));
    let fps = if scale == 0 { 30.0 } else { rate as f64 / scale as f64 };
    let mut frames = Vec::new();
    let mut i = header_len.max(32);
    while i + 12 <= data.len() {
        let size = u32le(i) as usize;
        let start = i + 12;
        let end = start.checked_add(size).filter(|e| *e <= data.len()).ok_or_else(|| bad("truncated frame"))?;
        let frame = &data[start..end];
        // VP8 frame tag: bit 0 of the first byte is 0 for keyframes.
        let keyframe = frame.first().is_some_and(|b| b & 1 == 0);
        frames.push(Frame { data: Bytes::copy_from_slice(frame), keyframe });
        i = end;
    }
    if frames.is_empty() || !frames[0].keyframe {
        return Err(bad("no frames, or the first is not a keyframe"));
    }
    Ok(Clip { name, width, height, fps: if fps > 0.0 && fps < 240.0 { fps } else { 30.0 }, frames })
}

/// Split one frame into RTP payloads (RFC 7741): a payload descriptor with a 15-bit picture id, S=1 on the first.
pub fn packetize(frame: &[u8], picture_id: u16, max_payload: usize, out: &mut Vec<BytesMut>) {
    out.clear();
    let chunk = max_payload.saturating_sub(4).max(1);
    for (k, part) in frame.chunks(chunk).enumerate() {
        let mut p = BytesMut::with_capacity(4 + part.len() + crate::media::trailer::LEN);
        // X=1, S on the first packet, PID 0; then I=1 and a 15-bit PictureID (M=1).
        p.put_u8(0x80 | if k == 0 { 0x10 } else { 0 });
        p.put_u8(0x80);
        p.put_u16(0x8000 | (picture_id & 0x7fff));
        p.put_slice(part);
        out.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_clips_parse_and_start_with_a_keyframe() {
        let mut total = 0;
        for (i, (_, data)) in LAYERS.iter().enumerate() {
            let c = Clip::layer(i).unwrap();
            assert!(c.frames.len() >= 60, "{} has {} frames", c.name, c.frames.len());
            assert!(c.frames[0].keyframe);
            assert!(c.frames.iter().filter(|f| f.keyframe).count() >= 2, "periodic keyframes");
            assert!((c.fps - 30.0).abs() < 0.01);
            total += data.len();
        }
        assert!(total < 2 << 20, "clips must stay under 2 MB, are {total} bytes");
        let (l, h) = (Clip::layer(0).unwrap(), Clip::layer(2).unwrap());
        assert!(l.width < h.width && l.kbps() < h.kbps());
    }

    #[test]
    fn broken_ivf_is_an_error_not_a_panic() {
        assert!(parse_ivf("x", b"").is_err());
        assert!(parse_ivf("x", b"DKIF\0\0\x20\0VP90").is_err());
        let mut d = LAYERS[0].1[..32 + 12 + 10].to_vec();
        assert!(parse_ivf("x", &d).is_err(), "frame size beyond the data");
        d.truncate(32);
        assert!(parse_ivf("x", &d).is_err(), "no frames");
    }

    #[test]
    fn packetizer_marks_start_and_keeps_every_byte() {
        let frame: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        packetize(&frame, 0x1234, 1000, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0][0], 0x90);
        assert_eq!(out[1][0], 0x80);
        assert_eq!(u16::from_be_bytes([out[0][2], out[0][3]]), 0x8000 | 0x1234);
        let joined: Vec<u8> = out.iter().flat_map(|p| p[4..].to_vec()).collect();
        assert_eq!(joined, frame);
        assert!(out.iter().all(|p| p.len() <= 1000));
    }
}

//! VP8 payload descriptor (RFC 7741 §4.2): what layer selection needs, and the PictureID/TL0PICIDX munging that
//! keeps a subscriber's stream consistent across layer switches and dropped temporal layers.
//!
//! Parses untrusted payloads: bounds-checked everywhere, malformed input gives `None`.

use str0m::rtp::{Vp8Descriptor, Vp8Patch};

/// The fields of one packet's descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp8Info {
    /// S bit with PID 0: first packet of a frame.
    pub frame_start: bool,
    pub keyframe: bool,
    /// PictureID and whether it is the 15-bit form.
    pub picture_id: Option<(u16, bool)>,
    pub tl0_pic_idx: Option<u8>,
    /// Temporal layer; `None` when the sender does not signal temporal layers (treat as 0).
    pub tid: Option<u8>,
    /// Y bit: this frame references only temporal layer 0 frames, so a receiver can start decoding its temporal
    /// layer here (a temporal up-switch point).
    pub layer_sync: bool,
}

impl Vp8Info {
    pub fn parse(p: &[u8]) -> Option<Vp8Info> {
        let b0 = *p.first()?;
        let x = b0 & 0x80 != 0;
        let s = b0 & 0x10 != 0;
        let pid = b0 & 0x07;
        let mut info = Vp8Info { frame_start: s && pid == 0, ..Default::default() };
        let mut i = 1;
        if x {
            let ext = *p.get(i)?;
            i += 1;
            if ext & 0x80 != 0 {
                let b = *p.get(i)?;
                if b & 0x80 != 0 {
                    let lo = *p.get(i + 1)?;
                    info.picture_id = Some(((u16::from(b & 0x7f) << 8) | u16::from(lo), true));
                    i += 2;
                } else {
                    info.picture_id = Some((u16::from(b), false));
                    i += 1;
                }
            }
            if ext & 0x40 != 0 {
                info.tl0_pic_idx = Some(*p.get(i)?);
                i += 1;
            }
            if ext & 0x30 != 0 {
                let b = *p.get(i)?;
                if ext & 0x20 != 0 {
                    info.tid = Some(b >> 6);
                    info.layer_sync = b & 0x20 != 0;
                }
                i += 1;
            }
        }
        if info.frame_start {
            info.keyframe = p.get(i)? & 0x01 == 0;
        }
        Some(info)
    }

    pub fn temporal(&self) -> u8 {
        self.tid.unwrap_or(0)
    }
}

/// Per-DownTrack rewriting of PictureID and TL0PICIDX.
#[derive(Debug, Default)]
pub struct Vp8Munger {
    started: bool,
    rebase: bool,
    pic_offset: u16,
    tl0_offset: u8,
    last_in_pic: u16,
    last_out_pic: u16,
    last_out_tl0: u8,
    /// PictureID of the frame whose packets are being dropped (so the offset moves once per frame).
    dropped_pic: Option<u16>,
}

const PIC_MASK_15: u16 = 0x7fff;

impl Vp8Munger {
    /// The next forwarded packet starts a new source (layer switch): continue the numbering from there.
    pub fn switch_source(&mut self) {
        self.rebase = true;
    }

    /// A frame is left out (temporal layer dropped): later frames close the PictureID gap.
    pub fn drop_frame(&mut self, info: &Vp8Info) {
        let Some((pic, _)) = info.picture_id else { return };
        if !self.started || self.dropped_pic == Some(pic) {
            return;
        }
        // Only a frame newer than the last forwarded one can be closed over.
        if pic.wrapping_sub(self.last_in_pic) & PIC_MASK_15 > 0 && pic.wrapping_sub(self.last_in_pic) & PIC_MASK_15 < 0x4000 {
            self.pic_offset = self.pic_offset.wrapping_sub(1);
            self.dropped_pic = Some(pic);
        }
    }

    /// The rewritten (PictureID, TL0PICIDX) for a forwarded packet, or `None` to leave it as is.
    pub fn rewrite(&mut self, info: &Vp8Info) -> Option<(Option<u16>, Option<u8>)> {
        let (pic, long) = info.picture_id?;
        let mask = if long { PIC_MASK_15 } else { 0x7f };
        if !self.started || self.rebase {
            if self.started {
                self.pic_offset = self.last_out_pic.wrapping_add(1).wrapping_sub(pic);
                if let Some(tl0) = info.tl0_pic_idx {
                    self.tl0_offset = self.last_out_tl0.wrapping_add(1).wrapping_sub(tl0);
                }
            }
            self.started = true;
            self.rebase = false;
            self.last_in_pic = pic;
        }
        let out_pic = pic.wrapping_add(self.pic_offset) & mask;
        let out_tl0 = info.tl0_pic_idx.map(|t| t.wrapping_add(self.tl0_offset));
        let newer = pic.wrapping_sub(self.last_in_pic) & PIC_MASK_15;
        if newer < 0x4000 {
            self.last_in_pic = pic;
            self.last_out_pic = out_pic;
            if let Some(t) = out_tl0 {
                self.last_out_tl0 = t;
            }
        }
        Some((Some(out_pic), out_tl0))
    }
}

/// Build str0m's descriptor patch for rewritten fields (applied while serialising, no payload copy).
pub fn patch(payload: &[u8], picture_id: Option<u16>, tl0: Option<u8>) -> Option<Vp8Patch> {
    let d = Vp8Descriptor::parse(payload).ok()?;
    let mut b = d.patch();
    if let Some(p) = picture_id {
        b = b.picture_id(p);
    }
    if let Some(t) = tl0 {
        b = b.tl0_pic_idx(t);
    }
    b.build().ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// X=1, I (15-bit pic), L, T with tid; then the VP8 header byte.
    pub(crate) fn desc(start: bool, pic: u16, tl0: u8, tid: u8, key: bool) -> Vec<u8> {
        desc_sync(start, pic, tl0, tid, false, key)
    }

    /// As [`desc`], with the Y (layer sync) bit.
    pub(crate) fn desc_sync(start: bool, pic: u16, tl0: u8, tid: u8, sync: bool, key: bool) -> Vec<u8> {
        vec![
            0x80 | if start { 0x10 } else { 0 },
            0xe0,
            0x80 | (pic >> 8) as u8,
            pic as u8,
            tl0,
            tid << 6 | if sync { 0x20 } else { 0 },
            if key { 0x00 } else { 0x01 },
        ]
    }

    #[test]
    fn parses_chrome_descriptors() {
        let i = Vp8Info::parse(&desc(true, 0x1234, 7, 2, true)).unwrap();
        assert_eq!(
            i,
            Vp8Info { frame_start: true, keyframe: true, picture_id: Some((0x1234, true)), tl0_pic_idx: Some(7), tid: Some(2), layer_sync: false }
        );
        assert!(Vp8Info::parse(&desc_sync(true, 9, 7, 1, true, false)).unwrap().layer_sync);
        let i = Vp8Info::parse(&desc(false, 5, 1, 0, true)).unwrap();
        assert!(!i.frame_start && !i.keyframe);
        // Minimal descriptor, no extension.
        let i = Vp8Info::parse(&[0x10, 0x00]).unwrap();
        assert!(i.keyframe && i.picture_id.is_none() && i.temporal() == 0);
        // Truncations never panic.
        let d = desc(true, 0x1234, 7, 2, true);
        for n in 0..d.len() {
            let _ = Vp8Info::parse(&d[..n]);
        }
        assert!(Vp8Info::parse(&[]).is_none());
    }

    #[test]
    fn munger_keeps_picture_ids_continuous_across_a_switch() {
        let mut m = Vp8Munger::default();
        let a = |pic, tl0| Vp8Info::parse(&desc(true, pic, tl0, 0, false)).unwrap();
        assert_eq!(m.rewrite(&a(100, 10)), Some((Some(100), Some(10))));
        assert_eq!(m.rewrite(&a(101, 11)), Some((Some(101), Some(11))));
        m.switch_source();
        // The other layer numbers its frames differently.
        assert_eq!(m.rewrite(&a(9000, 200)), Some((Some(102), Some(12))));
        assert_eq!(m.rewrite(&a(9001, 201)), Some((Some(103), Some(13))));
    }

    #[test]
    fn munger_closes_gaps_of_dropped_temporal_frames_and_wraps() {
        let mut m = Vp8Munger::default();
        let f = |pic, tid| Vp8Info::parse(&desc(true, pic, 1, tid, false)).unwrap();
        assert_eq!(m.rewrite(&f(0x7ffe, 0)).unwrap().0, Some(0x7ffe));
        m.drop_frame(&f(0x7fff, 1));
        m.drop_frame(&f(0x7fff, 1)); // second packet of the same dropped frame
        assert_eq!(m.rewrite(&f(0, 0)).unwrap().0, Some(0x7fff));
        assert_eq!(m.rewrite(&f(1, 0)).unwrap().0, Some(0));
    }

    #[test]
    fn patch_rewrites_without_touching_the_payload() {
        let d = desc(true, 0x1234, 7, 0, true);
        assert!(patch(&d, Some(0x0042), Some(9)).is_some());
        assert!(patch(&[0x10, 0x00], Some(1), None).is_none(), "no PictureID field to rewrite");
    }
}

//! The media a publisher sends: Opus every 20 ms, VP8 frames at the clip's rate, each payload with a trailer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::rtp::header::Header;

use crate::media::audio::{AudioLoop, FRAME_SAMPLES};
use crate::media::trailer::{self, Trailer};
use crate::media::video::{Clip, MAX_PAYLOAD, packetize};
use crate::now_us;

const AUDIO_EVERY: Duration = Duration::from_millis(20);

/// Who talks when: with `switch_every`, one publisher per room at a time (round robin); without, everyone.
#[derive(Debug, Clone, Copy)]
pub struct SpeakerTurn {
    /// Position of this publisher among the room's publishers and their number.
    pub position: usize,
    pub publishers: usize,
    pub switch_every: Option<Duration>,
    pub since: Instant,
}

impl SpeakerTurn {
    pub fn talking(&self, now: Instant) -> bool {
        match self.switch_every {
            None => true,
            Some(every) => {
                let turn = (now.saturating_duration_since(self.since).as_secs_f64() / every.as_secs_f64().max(0.001))
                    as usize;
                turn % self.publishers.max(1) == self.position
            }
        }
    }
}

struct Stream {
    track: usize,
    seq: u16,
    ts: u32,
    next_at: Instant,
}

/// One RTP packet ready for [`crate::peer::Peer::send_rtp`].
pub struct Outgoing {
    pub track: usize,
    pub header: Header,
    pub payload: Bytes,
}

/// One video encoding a publisher sends: a clip, its layer (0 low, 1 mid, 2 high), and its RTP stream.
pub struct VideoSource {
    pub clip: Arc<Clip>,
    pub layer: u8,
    pub ssrc: u32,
}

struct VideoLayer {
    source: VideoSource,
    seq: u16,
    /// `false` while the SFU asked to pause this encoding (`publisher_layers`).
    active: bool,
}

/// The video: one encoding, or three simulcast ones sent in step (same frame index and RTP timestamp per tick,
/// so the SFU switches between pictures of the same instant).
struct Video {
    track: usize,
    ts: u32,
    next_at: Instant,
    /// Frame index into every layer's clip (all clips have the same frames per second and keyframe positions).
    pos: usize,
    fps: f64,
    layers: Vec<VideoLayer>,
}

pub struct MediaSender {
    publisher: u32,
    audio: Option<(Stream, Arc<AudioLoop>, usize, u32)>,
    video: Option<Video>,
    turn: SpeakerTurn,
    keyframe_wanted: bool,
    picture_id: u16,
    scratch: Vec<BytesMut>,
    pub sent: u64,
}

impl MediaSender {
    /// `audio`: `(track index on the peer, ssrc, source)`; `video`: `(track index, encodings lowest first)`.
    /// `offset` spreads loop positions.
    pub fn new(
        publisher: u32,
        now: Instant,
        audio: Option<(usize, u32, Arc<AudioLoop>)>,
        video: Option<(usize, Vec<VideoSource>)>,
        turn: SpeakerTurn,
        offset: usize,
    ) -> Self {
        let seed = publisher.wrapping_mul(2_654_435_761);
        let stream = |track| Stream { track, seq: (seed % 30_000) as u16, ts: seed, next_at: now };
        let video = video.filter(|(_, v)| !v.is_empty()).map(|(track, sources)| Video {
            track,
            ts: seed,
            next_at: now,
            pos: 0,
            fps: sources[0].clip.fps,
            layers: sources
                .into_iter()
                .enumerate()
                .map(|(i, source)| VideoLayer { source, seq: (seed % 30_000) as u16 + i as u16 * 10_000, active: true })
                .collect(),
        });
        MediaSender {
            publisher,
            audio: audio.map(|(t, ssrc, a)| (stream(t), a, offset, ssrc)),
            video,
            turn,
            keyframe_wanted: false,
            picture_id: (seed % 0x7fff) as u16,
            scratch: Vec::new(),
            sent: 0,
        }
    }

    pub fn request_keyframe(&mut self) {
        self.keyframe_wanted = true;
    }

    /// Pause or resume the video encodings by layer (`publisher_layers`). A resumed encoding starts with a
    /// keyframe, as a browser's encoder does. Returns how many encodings changed.
    pub fn set_active(&mut self, layer: u8, active: bool) -> usize {
        let Some(v) = self.video.as_mut() else { return 0 };
        let mut changed = 0;
        for l in v.layers.iter_mut().filter(|l| l.source.layer == layer && l.active != active) {
            l.active = active;
            changed += 1;
            if active {
                self.keyframe_wanted = true;
            }
        }
        changed
    }

    /// Encodings sent now, by layer.
    pub fn active_layers(&self) -> Vec<(u8, bool)> {
        self.video.as_ref().map_or(vec![], |v| v.layers.iter().map(|l| (l.source.layer, l.active)).collect())
    }

    pub fn next_at(&self) -> Option<Instant> {
        let a = self.audio.as_ref().map(|(s, ..)| s.next_at);
        let v = self.video.as_ref().map(|v| v.next_at);
        match (a, v) {
            (Some(a), Some(v)) => Some(a.min(v)),
            (a, v) => a.or(v),
        }
    }

    /// Everything due at `now`, with payload types `pts` = (audio, video). Never more than 1 s of media at once
    /// (after a stall the schedule skips ahead instead of bursting).
    pub fn poll(&mut self, now: Instant, pts: (u8, u8), out: &mut Vec<Outgoing>) {
        let talking = self.turn.talking(now);
        if let Some((s, audio, pos, ssrc)) = self.audio.as_mut() {
            if now.saturating_duration_since(s.next_at) > Duration::from_secs(1) {
                s.next_at = now;
            }
            while s.next_at <= now {
                let frames = if talking { &audio.speech } else { &audio.silence };
                let frame = &frames[*pos % frames.len().max(1)];
                *pos += 1;
                if let Some(f) = frame {
                    let mut p = BytesMut::with_capacity(f.len() + trailer::LEN);
                    p.extend_from_slice(f);
                    Trailer { video: false, layer: 0, publisher: self.publisher, sent_us: now_us(now) }.append(&mut p);
                    s.seq = s.seq.wrapping_add(1);
                    out.push(Outgoing { track: s.track, header: header(pts.0, s.seq, s.ts, *ssrc, true), payload: p.freeze() });
                    self.sent += 1;
                }
                s.ts = s.ts.wrapping_add(FRAME_SAMPLES as u32);
                s.next_at += AUDIO_EVERY;
            }
        }
        if let Some(v) = self.video.as_mut() {
            let every = Duration::from_secs_f64(1.0 / v.fps);
            if now.saturating_duration_since(v.next_at) > Duration::from_secs(1) {
                v.next_at = now;
            }
            while v.next_at <= now {
                if self.keyframe_wanted {
                    // The clips' first frames are keyframes: restarting there is a valid stream, on every layer.
                    v.pos = 0;
                    self.keyframe_wanted = false;
                }
                self.picture_id = (self.picture_id + 1) & 0x7fff;
                for l in v.layers.iter_mut().filter(|l| l.active) {
                    let clip = &l.source.clip;
                    let frame = &clip.frames[v.pos % clip.frames.len()];
                    packetize(&frame.data, self.picture_id, MAX_PAYLOAD, &mut self.scratch);
                    let n = self.scratch.len();
                    let layer = l.source.layer;
                    for (k, mut p) in self.scratch.drain(..).enumerate() {
                        Trailer { video: true, layer, publisher: self.publisher, sent_us: now_us(now) }.append(&mut p);
                        l.seq = l.seq.wrapping_add(1);
                        out.push(Outgoing {
                            track: v.track,
                            header: header(pts.1, l.seq, v.ts, l.source.ssrc, k + 1 == n),
                            payload: p.freeze(),
                        });
                        self.sent += 1;
                    }
                }
                v.pos += 1;
                v.ts = v.ts.wrapping_add((90_000.0 / v.fps) as u32);
                v.next_at += every;
            }
        }
    }
}

fn header(pt: u8, seq: u16, ts: u32, ssrc: u32, marker: bool) -> Header {
    Header { version: 2, marker, payload_type: pt, sequence_number: seq, timestamp: ts, ssrc, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_turns_rotate() {
        let t0 = Instant::now();
        let turn = |position| SpeakerTurn {
            position,
            publishers: 3,
            switch_every: Some(Duration::from_secs(5)),
            since: t0,
        };
        let at = |s| t0 + Duration::from_secs(s);
        assert!(turn(0).talking(at(1)) && !turn(1).talking(at(1)));
        assert!(turn(1).talking(at(6)) && !turn(0).talking(at(6)));
        assert!(turn(0).talking(at(16)));
        let all = SpeakerTurn { switch_every: None, ..turn(2) };
        assert!(all.talking(at(1)));
    }

    #[test]
    fn video_frames_share_a_timestamp_and_end_with_the_marker() {
        let t0 = Instant::now();
        let clip = Arc::new(Clip::layer(2).unwrap());
        let turn = SpeakerTurn { position: 0, publishers: 1, switch_every: None, since: t0 };
        let video = vec![VideoSource { clip, layer: 2, ssrc: 2 }];
        let mut s = MediaSender::new(5, t0, None, Some((1, video)), turn, 0);
        let mut out = vec![];
        s.poll(t0, (111, 96), &mut out);
        assert!(out.len() > 1, "a 720p keyframe needs several packets");
        let ts = out[0].header.timestamp;
        assert!(out.iter().all(|o| o.header.timestamp == ts && o.header.ssrc == 2 && o.track == 1));
        assert!(out.last().unwrap().header.marker && !out[0].header.marker);
        let seqs: Vec<u16> = out.iter().map(|o| o.header.sequence_number).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
        let t = Trailer::parse(&out[0].payload).unwrap();
        assert_eq!((t.video, t.layer, t.publisher), (true, 2, 5));
        // 100 ms later three more frames are due.
        out.clear();
        s.poll(t0 + Duration::from_millis(100), (111, 96), &mut out);
        let frames: std::collections::BTreeSet<u32> = out.iter().map(|o| o.header.timestamp).collect();
        assert_eq!(frames.len(), 3);
    }

    /// Per tick: one frame of every layer, same timestamp, same frame index (keyframes together), each layer on
    /// its own SSRC with its own gapless sequence numbers; paused layers send nothing, resumed ones restart with
    /// a keyframe.
    #[test]
    fn simulcast_layers_go_in_step() {
        use crate::media::vp8;
        let t0 = Instant::now();
        let turn = SpeakerTurn { position: 0, publishers: 1, switch_every: None, since: t0 };
        let video: Vec<VideoSource> = (0..3)
            .map(|i| VideoSource { clip: Arc::new(Clip::layer(i).unwrap()), layer: i as u8, ssrc: 10 + i as u32 })
            .collect();
        let mut s = MediaSender::new(1, t0, None, Some((0, video)), turn, 0);
        let mut out = vec![];
        let mut seqs: std::collections::HashMap<u32, Vec<u16>> = Default::default();
        let every = Duration::from_secs_f64(1.0 / Clip::layer(0).unwrap().fps);
        for tick in 0..40u32 {
            out.clear();
            s.poll(t0 + every * tick, (111, 96), &mut out);
            // (ssrc, timestamp, keyframe size) of every frame start.
            type Start = (u32, u32, Option<(u16, u16)>);
            let starts: Vec<Start> = out
                .iter()
                .filter_map(|o| {
                    let v = vp8::parse(&o.payload)?;
                    v.frame_start.then_some((o.header.ssrc, o.header.timestamp, v.keyframe_size))
                })
                .collect();
            assert_eq!(starts.len(), 3, "tick {tick}: one frame per layer");
            assert!(starts.iter().all(|x| x.1 == starts[0].1), "one timestamp per tick");
            let keys = starts.iter().filter(|x| x.2.is_some()).count();
            assert!(keys == 0 || keys == 3, "tick {tick}: keyframes on all layers or none");
            if tick == 0 || tick == 30 {
                let sizes: Vec<_> = starts.iter().map(|x| (x.0, x.2)).collect();
                assert_eq!(sizes, [(10, Some((320, 180))), (11, Some((640, 360))), (12, Some((1280, 720)))]);
            }
            for o in &out {
                seqs.entry(o.header.ssrc).or_default().push(o.header.sequence_number);
            }
        }
        for v in seqs.values() {
            assert!(v.windows(2).all(|w| w[1] == w[0].wrapping_add(1)), "gapless per SSRC");
        }
        // Pause the high layer: it sends nothing; resume it: every layer restarts at a keyframe.
        assert_eq!(s.set_active(2, false), 1);
        assert_eq!(s.set_active(2, false), 0);
        out.clear();
        s.poll(t0 + every * 40, (111, 96), &mut out);
        assert!(!out.is_empty() && out.iter().all(|o| o.header.ssrc != 12));
        assert_eq!(s.set_active(2, true), 1);
        out.clear();
        s.poll(t0 + every * 41, (111, 96), &mut out);
        let keys = out.iter().filter(|o| vp8::parse(&o.payload).is_some_and(|v| v.keyframe_size.is_some())).count();
        assert_eq!(keys, 3);
        assert_eq!(s.active_layers(), [(0, true), (1, true), (2, true)]);
    }
}

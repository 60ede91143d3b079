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

pub struct MediaSender {
    publisher: u32,
    audio: Option<(Stream, Arc<AudioLoop>, usize)>,
    video: Option<(Stream, Arc<Clip>, usize, u8)>,
    turn: SpeakerTurn,
    keyframe_wanted: bool,
    picture_id: u16,
    scratch: Vec<BytesMut>,
    pub sent: u64,
}

impl MediaSender {
    /// `audio`/`video`: `(track index on the peer, ssrc, pt, source)`. `offset` spreads loop positions.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        publisher: u32,
        now: Instant,
        audio: Option<(usize, Arc<AudioLoop>)>,
        video: Option<(usize, Arc<Clip>, u8)>,
        turn: SpeakerTurn,
        offset: usize,
    ) -> Self {
        let seed = publisher.wrapping_mul(2_654_435_761);
        let stream = |track| Stream {
            track,
            seq: (seed % 30_000) as u16,
            ts: seed,
            next_at: now,
        };
        MediaSender {
            publisher,
            audio: audio.map(|(t, a)| (stream(t), a, offset)),
            video: video.map(|(t, c, layer)| (stream(t), c, 0, layer)),
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

    pub fn next_at(&self) -> Option<Instant> {
        let a = self.audio.as_ref().map(|(s, ..)| s.next_at);
        let v = self.video.as_ref().map(|(s, ..)| s.next_at);
        match (a, v) {
            (Some(a), Some(v)) => Some(a.min(v)),
            (a, v) => a.or(v),
        }
    }

    /// Everything due at `now`, with payload types `pts` = (audio, video). Never more than 1 s of media at once
    /// (after a stall the schedule skips ahead instead of bursting).
    pub fn poll(&mut self, now: Instant, pts: (u8, u8), ssrcs: (u32, u32), out: &mut Vec<Outgoing>) {
        let talking = self.turn.talking(now);
        if let Some((s, audio, pos)) = self.audio.as_mut() {
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
                    out.push(Outgoing { track: s.track, header: header(pts.0, s.seq, s.ts, ssrcs.0, true), payload: p.freeze() });
                    self.sent += 1;
                }
                s.ts = s.ts.wrapping_add(FRAME_SAMPLES as u32);
                s.next_at += AUDIO_EVERY;
            }
        }
        if let Some((s, clip, pos, layer)) = self.video.as_mut() {
            let every = Duration::from_secs_f64(1.0 / clip.fps);
            if now.saturating_duration_since(s.next_at) > Duration::from_secs(1) {
                s.next_at = now;
            }
            while s.next_at <= now {
                if self.keyframe_wanted {
                    // The clip's first frame is a keyframe: restarting there is a valid stream.
                    *pos = 0;
                    self.keyframe_wanted = false;
                }
                let frame = &clip.frames[*pos % clip.frames.len()];
                *pos = (*pos + 1) % clip.frames.len();
                self.picture_id = (self.picture_id + 1) & 0x7fff;
                packetize(&frame.data, self.picture_id, MAX_PAYLOAD, &mut self.scratch);
                let n = self.scratch.len();
                for (k, mut p) in self.scratch.drain(..).enumerate() {
                    Trailer { video: true, layer: *layer, publisher: self.publisher, sent_us: now_us(now) }.append(&mut p);
                    s.seq = s.seq.wrapping_add(1);
                    out.push(Outgoing {
                        track: s.track,
                        header: header(pts.1, s.seq, s.ts, ssrcs.1, k + 1 == n),
                        payload: p.freeze(),
                    });
                    self.sent += 1;
                }
                s.ts = s.ts.wrapping_add((90_000.0 / clip.fps) as u32);
                s.next_at += every;
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
        let mut s = MediaSender::new(5, t0, None, Some((1, clip, 2)), turn, 0);
        let mut out = vec![];
        s.poll(t0, (111, 96), (1, 2), &mut out);
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
        s.poll(t0 + Duration::from_millis(100), (111, 96), (1, 2), &mut out);
        let frames: std::collections::BTreeSet<u32> = out.iter().map(|o| o.header.timestamp).collect();
        assert_eq!(frames.len(), 3);
    }
}

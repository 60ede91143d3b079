//! Opus audio: a speech-like synthetic signal (voiced syllables at a wandering pitch, talk spurts and pauses),
//! encoded once per process and looped by every publisher from its own offset.

use bytes::Bytes;
use opus::{Application, Bitrate, Channels, Encoder};

use crate::error::LoadError;

pub const SAMPLE_RATE: u32 = 48_000;
/// 20 ms frames.
pub const FRAME_SAMPLES: usize = 960;
/// Length of the encoded loop.
const LOOP_FRAMES: usize = 500; // 10 s

/// Encoded 20 ms frames. With DTX, frames the encoder marks as silence (≤ 2 bytes) are `None`: not sent.
#[derive(Debug, Clone)]
pub struct AudioLoop {
    pub speech: Vec<Option<Bytes>>,
    pub silence: Vec<Option<Bytes>>,
    pub dtx: bool,
}

impl AudioLoop {
    pub fn encode(dtx: bool, bitrate: i32) -> Result<AudioLoop, LoadError> {
        let speech = encode_frames(&speech_signal(LOOP_FRAMES * FRAME_SAMPLES, 7), dtx, bitrate)?;
        let silence = encode_frames(&silence_signal(LOOP_FRAMES / 5 * FRAME_SAMPLES, 11), dtx, bitrate)?;
        Ok(AudioLoop { speech, silence, dtx })
    }
}

fn encode_frames(pcm: &[i16], dtx: bool, bitrate: i32) -> Result<Vec<Option<Bytes>>, LoadError> {
    let err = |e: opus::Error| LoadError::Media(format!("opus: {e}"));
    let mut enc = Encoder::new(SAMPLE_RATE, Channels::Mono, Application::Voip).map_err(err)?;
    enc.set_bitrate(Bitrate::Bits(bitrate)).map_err(err)?;
    enc.set_dtx(dtx).map_err(err)?;
    enc.set_inband_fec(true).map_err(err)?;
    let mut out = vec![0u8; 1500];
    let mut frames = Vec::with_capacity(pcm.len() / FRAME_SAMPLES);
    for chunk in pcm.chunks_exact(FRAME_SAMPLES) {
        let n = enc.encode(chunk, &mut out).map_err(err)?;
        frames.push(if dtx && n <= 2 { None } else { Some(Bytes::copy_from_slice(&out[..n])) });
    }
    Ok(frames)
}

/// Tiny deterministic PRNG (xorshift) so the signal is the same on every run.
struct Xs(u64);
impl Xs {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Talk spurts of 0.8–3 s (syllables of ~150–250 ms, harmonics of a 100–220 Hz pitch, a little noise) separated by
/// pauses of 0.3–1.5 s of near-silence.
pub fn speech_signal(samples: usize, seed: u64) -> Vec<i16> {
    let mut rng = Xs(seed | 1);
    let sr = SAMPLE_RATE as f64;
    let mut out = Vec::with_capacity(samples);
    let mut phase = 0.0f64;
    while out.len() < samples {
        let talk = (0.8 + rng.next() * 2.2) * sr;
        let mut t = 0.0;
        while t < talk && out.len() < samples {
            let syl = ((0.15 + rng.next() * 0.1) * sr) as usize;
            let pitch0 = 100.0 + rng.next() * 120.0;
            for k in 0..syl {
                let x = k as f64 / syl as f64;
                let env = (std::f64::consts::PI * x).sin().powf(0.7);
                let pitch = pitch0 * (1.0 + 0.1 * (x - 0.5));
                phase += 2.0 * std::f64::consts::PI * pitch / sr;
                let mut v = 0.0;
                for h in 1..=8 {
                    v += (phase * h as f64).sin() / h as f64;
                }
                v = v * env * 0.25 + (rng.next() - 0.5) * 0.01;
                out.push((v * i16::MAX as f64) as i16);
            }
            t += syl as f64;
        }
        let pause = ((0.3 + rng.next() * 1.2) * sr) as usize;
        for _ in 0..pause {
            out.push(((rng.next() - 0.5) * 2.0) as i16);
        }
    }
    out.truncate(samples);
    out
}

/// A listener's microphone: room noise only.
pub fn silence_signal(samples: usize, seed: u64) -> Vec<i16> {
    let mut rng = Xs(seed | 1);
    (0..samples).map(|_| ((rng.next() - 0.5) * 2.0) as i16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_has_talk_and_pauses() {
        let s = speech_signal(SAMPLE_RATE as usize * 10, 3);
        let frames: Vec<f64> = s
            .chunks(FRAME_SAMPLES)
            .map(|c| (c.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / c.len() as f64).sqrt())
            .collect();
        let loud = frames.iter().filter(|e| **e > 1000.0).count();
        let quiet = frames.iter().filter(|e| **e < 50.0).count();
        assert!(loud > frames.len() / 4, "talk spurts: {loud} of {}", frames.len());
        assert!(quiet > frames.len() / 10, "pauses: {quiet} of {}", frames.len());
    }

    #[test]
    fn dtx_leaves_out_silent_frames() {
        let with = AudioLoop::encode(true, 32_000).unwrap();
        let without = AudioLoop::encode(false, 32_000).unwrap();
        let sent = |v: &[Option<Bytes>]| v.iter().filter(|f| f.is_some()).count();
        assert_eq!(sent(&without.speech), without.speech.len());
        assert!(sent(&with.speech) < with.speech.len(), "DTX drops frames in pauses");
        assert!(sent(&with.silence) < with.silence.len() / 2);
    }
}

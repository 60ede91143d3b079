//! Active speaker detection from the audio-level header extension (RFC 6464).
//!
//! Per participant, the levels of each tick (100 ms) are averaged; a tick is "voiced" when the average is louder
//! than [`VOICE_DBOV`]. An activity score follows the voiced ticks with an exponential average (time constant about
//! 0.6 s): a participant is speaking while the score is above [`SPEAKING_SCORE`] — a cough of a few hundred
//! milliseconds never gets there. The dominant speaker changes only when another speaker has had the highest score
//! for [`HYSTERESIS`] without interruption; when nobody speaks the last dominant speaker stays.

use std::time::{Duration, Instant};

use super::types::ParticipantId;

pub const TICK: Duration = Duration::from_millis(100);
/// Louder than this (in dBov, 0 is the loudest) counts as voice.
pub const VOICE_DBOV: i32 = -45;
/// Score above which a participant is speaking.
pub const SPEAKING_SCORE: f32 = 0.5;
/// How long a new speaker must lead before becoming the dominant speaker.
pub const HYSTERESIS: Duration = Duration::from_millis(1000);
/// Per tick: score = score * DECAY + voiced * (1 - DECAY).
const DECAY: f32 = 0.85;

#[derive(Debug)]
struct Entry {
    id: ParticipantId,
    /// Sum of loudness (127 + dBov) and count of levels in this tick.
    sum: u32,
    n: u32,
    score: f32,
    speaking: bool,
}

/// Speaker state of one room.
#[derive(Debug, Default)]
pub struct SpeakerDetector {
    entries: Vec<Entry>,
    dominant: Option<ParticipantId>,
    /// Who leads the scores and since when.
    leader: Option<(ParticipantId, Instant)>,
}

/// What changed in a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerUpdate {
    pub dominant: Option<ParticipantId>,
    pub speaking: Vec<ParticipantId>,
}

impl SpeakerDetector {
    /// One audio packet's level: `dbov` from -127 (silence) to 0 (loudest), as str0m reports it.
    pub fn on_level(&mut self, id: ParticipantId, dbov: i8) {
        let loudness = 127 - (dbov as i32).unsigned_abs().min(127);
        match self.entries.iter_mut().find(|e| e.id == id) {
            Some(e) => {
                e.sum += loudness;
                e.n += 1;
            }
            None => self.entries.push(Entry { id, sum: loudness, n: 1, score: 0.0, speaking: false }),
        }
    }

    pub fn remove(&mut self, id: ParticipantId) {
        self.entries.retain(|e| e.id != id);
        if self.dominant == Some(id) {
            self.dominant = None;
        }
        if self.leader.is_some_and(|(l, _)| l == id) {
            self.leader = None;
        }
    }

    pub fn dominant(&self) -> Option<ParticipantId> {
        self.dominant
    }

    /// Close a tick. Returns the new state when the dominant speaker or the speaking set changed.
    pub fn tick(&mut self, now: Instant) -> Option<SpeakerUpdate> {
        let mut changed = false;
        for e in &mut self.entries {
            let voiced = e.n > 0 && (e.sum / e.n) as i32 - 127 > VOICE_DBOV;
            e.score = e.score * DECAY + if voiced { 1.0 - DECAY } else { 0.0 };
            e.sum = 0;
            e.n = 0;
            let speaking = e.score > SPEAKING_SCORE;
            changed |= speaking != e.speaking;
            e.speaking = speaking;
        }
        let top = self
            .entries
            .iter()
            .filter(|e| e.speaking)
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .map(|e| e.id);
        match top {
            None => self.leader = None,
            Some(t) if self.leader.map(|(l, _)| l) != Some(t) => self.leader = Some((t, now)),
            Some(_) => {}
        }
        if let Some((l, since)) = self.leader {
            let first = self.dominant.is_none();
            if Some(l) != self.dominant && (first || now.saturating_duration_since(since) >= HYSTERESIS) {
                self.dominant = Some(l);
                changed = true;
            }
        }
        changed.then(|| SpeakerUpdate {
            dominant: self.dominant,
            speaking: self.entries.iter().filter(|e| e.speaking).map(|e| e.id).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ParticipantId = ParticipantId(1);
    const B: ParticipantId = ParticipantId(2);

    /// Feed `ms` of 20 ms packets for each (participant, level) and tick every 100 ms; collect updates.
    fn talk(d: &mut SpeakerDetector, now: &mut Instant, ms: u64, who: &[(ParticipantId, i8)]) -> Vec<SpeakerUpdate> {
        let mut ups = vec![];
        for _ in 0..ms / 100 {
            for _ in 0..5 {
                for (id, l) in who {
                    d.on_level(*id, *l);
                }
            }
            *now += TICK;
            ups.extend(d.tick(*now));
        }
        ups
    }

    #[test]
    fn sustained_speech_makes_the_dominant_speaker_and_a_cough_does_not() {
        let mut d = SpeakerDetector::default();
        let mut now = Instant::now();
        talk(&mut d, &mut now, 2000, &[(A, -20), (B, -90)]);
        assert_eq!(d.dominant(), Some(A));
        // B coughs for 300 ms while A pauses.
        talk(&mut d, &mut now, 300, &[(A, -127), (B, -10)]);
        talk(&mut d, &mut now, 500, &[(A, -127), (B, -127)]);
        assert_eq!(d.dominant(), Some(A), "a cough does not take over");
        // B talks for real; A is silent.
        let ups = talk(&mut d, &mut now, 3000, &[(A, -127), (B, -25)]);
        assert_eq!(d.dominant(), Some(B));
        assert!(ups.iter().any(|u| u.dominant == Some(B) && u.speaking == vec![B]));
        // Silence keeps the last speaker.
        talk(&mut d, &mut now, 3000, &[(A, -127), (B, -127)]);
        assert_eq!(d.dominant(), Some(B));
    }

    #[test]
    fn takeover_needs_the_hysteresis() {
        let mut d = SpeakerDetector::default();
        let mut now = Instant::now();
        talk(&mut d, &mut now, 2000, &[(A, -20)]);
        assert_eq!(d.dominant(), Some(A));
        // Both talk; B louder and leading, but only for 700 ms of lead: no switch yet.
        talk(&mut d, &mut now, 1000, &[(A, -127), (B, -20)]);
        assert_eq!(d.dominant(), Some(A));
        talk(&mut d, &mut now, 1500, &[(A, -127), (B, -20)]);
        assert_eq!(d.dominant(), Some(B));
    }

    #[test]
    fn removal_forgets_the_participant() {
        let mut d = SpeakerDetector::default();
        let mut now = Instant::now();
        talk(&mut d, &mut now, 1500, &[(A, -20)]);
        d.remove(A);
        assert_eq!(d.dominant(), None);
        assert_eq!(d.tick(now + TICK), None);
    }
}

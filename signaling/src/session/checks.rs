//! Small checks and helpers of the session: rate limiting, candidate lines, sids, track sources.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use plenum_sfu::{ParticipantCommand, ParticipantId};
use tokio::time::Instant;

use crate::protocol::{TrackSource, VideoSize};

/// Longest ICE candidate line accepted.
const MAX_CANDIDATE_LEN: usize = 1024;
/// Most mids described in one `publish_offer`.
pub const MAX_SOURCES: usize = 16;
/// Longest mid accepted in `sources`.
const MAX_MID_LEN: usize = 32;

/// Token bucket: `rate` tokens per second up to `burst`.
pub struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        TokenBucket { tokens: burst, rate, burst, last: now }
    }

    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Check a trickled candidate line (`candidate:...`, optionally with `a=`); returns it without `a=`.
pub fn check_candidate(line: &str) -> Result<String, String> {
    let line = line.strip_prefix("a=").unwrap_or(line);
    if line.len() > MAX_CANDIDATE_LEN {
        return Err("the ICE candidate is too long".into());
    }
    if line.is_empty() {
        // Browsers send an empty candidate string for end-of-candidates.
        return Ok(String::new());
    }
    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
    let fields: Vec<&str> = line.split(' ').collect();
    let well_formed = line.starts_with("candidate:")
        && fields.len() >= 8
        && fields[6] == "typ"
        && fields[1].parse::<u16>().is_ok()
        && fields[3].parse::<u32>().is_ok()
        && fields[5].parse::<u16>().is_ok()
        && line.bytes().all(|b| (0x20..0x7f).contains(&b));
    if well_formed { Ok(line.to_owned()) } else { Err("cannot parse the ICE candidate".into()) }
}

/// A sid (`p12`) as a participant id.
pub fn parse_sid(sid: &str) -> Option<ParticipantId> {
    let digits = sid.strip_prefix('p')?;
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(ParticipantId)
}

/// Check the `sources` of a `publish_offer`: at most [`MAX_SOURCES`] mids of 1–32 printable characters.
pub fn check_sources(sources: &BTreeMap<String, TrackSource>) -> Result<(), String> {
    if sources.len() > MAX_SOURCES {
        return Err(format!("at most {MAX_SOURCES} sources"));
    }
    let bad = sources.keys().find(|mid| mid.is_empty() || mid.len() > MAX_MID_LEN || !mid.bytes().all(|b| b.is_ascii_graphic()));
    match bad {
        Some(_) => Err(format!("a mid in sources must be 1-{MAX_MID_LEN} printable characters")),
        None => Ok(()),
    }
}

/// Most entries in one `video_sizes`.
pub const MAX_VIDEO_SIZES: usize = 64;
/// Largest width or height in `video_sizes` (CSS pixels).
pub const MAX_VIDEO_DIMENSION: u32 = 16_384;

/// Check a `video_sizes` message and turn it into SFU commands.
pub fn check_video_sizes(sizes: &[VideoSize]) -> Result<Vec<ParticipantCommand>, String> {
    if sizes.len() > MAX_VIDEO_SIZES {
        return Err(format!("at most {MAX_VIDEO_SIZES} sizes per message"));
    }
    sizes
        .iter()
        .map(|s| {
            let publisher = parse_sid(&s.sid).ok_or_else(|| format!("invalid sid {:?}", s.sid))?;
            if s.track_id.is_empty() || s.track_id.len() > MAX_MID_LEN {
                return Err("invalid track_id".to_owned());
            }
            if s.width > MAX_VIDEO_DIMENSION || s.height > MAX_VIDEO_DIMENSION {
                return Err(format!("width and height are at most {MAX_VIDEO_DIMENSION}"));
            }
            Ok(ParticipantCommand::SetVideoSize {
                publisher,
                track_id: s.track_id.clone(),
                width: s.width,
                height: s.height,
            })
        })
        .collect()
}

/// Milliseconds since the Unix epoch.
pub fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        assert_eq!(
            check_candidate("a=candidate:1 1 udp 1 10.0.0.1 9 typ host").as_deref(),
            Ok("candidate:1 1 udp 1 10.0.0.1 9 typ host")
        );
        assert_eq!(check_candidate("").as_deref(), Ok(""));
        for bad in [
            "candidate:1",
            "foo 1 udp 1 1.2.3.4 9 typ host",
            "candidate:1 x udp 1 1.2.3.4 9 typ host",
            "candidate:1 1 udp 1 1.2.3.4 9 type host",
        ] {
            assert!(check_candidate(bad).is_err(), "{bad:?}");
        }
        assert!(check_candidate(&format!("candidate:{}", "1".repeat(2000))).is_err());
    }

    #[test]
    fn sids() {
        assert_eq!(parse_sid("p12"), Some(ParticipantId(12)));
        for bad in ["", "p", "12", "p-1", "p1x", "P1", "p99999999999999999999999"] {
            assert_eq!(parse_sid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn video_sizes() {
        let size = |sid: &str, w: u32| VideoSize { sid: sid.into(), track_id: "1".into(), width: w, height: w / 2 };
        let ok = check_video_sizes(&[size("p2", 640), size("p3", 0)]).unwrap();
        assert_eq!(ok.len(), 2);
        assert!(matches!(&ok[0], ParticipantCommand::SetVideoSize { publisher, width: 640, height: 320, .. } if publisher.0 == 2));
        assert!(check_video_sizes(&[size("bob", 640)]).is_err());
        assert!(check_video_sizes(&[size("p2", u32::MAX)]).is_err(), "no overflow downstream");
        assert!(check_video_sizes(&vec![size("p2", 1); MAX_VIDEO_SIZES + 1]).is_err());
        let long = VideoSize { sid: "p2".into(), track_id: "x".repeat(40), width: 1, height: 1 };
        assert!(check_video_sizes(&[long]).is_err());
    }

    #[test]
    fn sources() {
        let mut s = BTreeMap::from([("0".to_owned(), TrackSource::Microphone), ("2".to_owned(), TrackSource::Screen)]);
        assert!(check_sources(&s).is_ok());
        s.insert("with space".into(), TrackSource::Camera);
        assert!(check_sources(&s).is_err());
        let many: BTreeMap<String, TrackSource> = (0..17).map(|i| (i.to_string(), TrackSource::Camera)).collect();
        assert!(check_sources(&many).is_err());
    }
}

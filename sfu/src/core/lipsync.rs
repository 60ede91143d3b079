//! Lip sync across the SFU: the wallclock handed to str0m with every forwarded packet.
//!
//! A receiver lines audio up with video through each stream's RTCP sender reports (RTP time ↔ NTP time). str0m
//! writes the subscriber-side reports from the wallclock given with each packet. The arrival time would do for
//! one stream, but it breaks the relation between a publisher's audio and video: a video frame leaves the
//! encoder tens of milliseconds after its capture (and its packets are paced), audio much sooner, so arrival
//! times put the video late by that difference. Instead the wallclock is the publisher's own capture time, read
//! from its sender report for that stream (NTP + (RTP timestamp − report's RTP time) / clock rate), moved onto
//! the SFU's clock by one offset per publisher shared by all its streams — so audio and video keep exactly the
//! distance the publisher's reports gave them. Until a stream's first sender report, the arrival time is used.
//!
//! The offset is fixed when the publisher's first report-bearing packet arrives (its capture time maps to
//! [`MARGIN`] before the arrival), and moved only when a wallclock would land in the future (str0m writes no
//! report for that) or more than [`MAX_LAG`] in the past (clock drift between the publisher and the SFU).

use std::time::{Duration, Instant, SystemTime};

use str0m::rtp::rtcp::SenderInfo;

/// How far before the arrival the first mapped capture time is placed.
pub const MARGIN: Duration = Duration::from_millis(200);
/// A mapped wallclock further than this behind the arrival re-anchors the offset.
pub const MAX_LAG: Duration = Duration::from_secs(2);

/// One publisher's mapping from its capture clock (NTP, from sender reports) to the SFU's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncClock {
    /// A capture time and the SFU instant it maps to.
    anchor: Option<(SystemTime, Instant)>,
}

impl SyncClock {
    /// The wallclock for a packet with RTP timestamp `ts` (clock rate `clock`) that arrived `now`.
    pub fn wallclock(&mut self, now: Instant, sr: Option<&SenderInfo>, ts: u32, clock: u32) -> Instant {
        let Some(sr) = sr else { return now };
        if clock == 0 || sr.rtp_time.denom() != clock {
            return now;
        }
        // RTP timestamps wrap: the signed distance from the report's RTP time.
        let ticks = ts.wrapping_sub(sr.rtp_time.numer() as u32) as i32;
        let delta = Duration::from_micros(u64::from(ticks.unsigned_abs()) * 1_000_000 / u64::from(clock));
        let capture = if ticks >= 0 { sr.ntp_time.checked_add(delta) } else { sr.ntp_time.checked_sub(delta) };
        let Some(capture) = capture else { return now };
        let (at, base) = *self.anchor.get_or_insert((capture, now.checked_sub(MARGIN).unwrap_or(now)));
        let mapped = match capture.duration_since(at) {
            Ok(d) => base.checked_add(d),
            Err(e) => base.checked_sub(e.duration()),
        };
        let Some(mapped) = mapped else { return now };
        if mapped > now || now.saturating_duration_since(mapped) > MAX_LAG {
            // Drift (or a first anchor from a late packet): this packet maps to MARGIN before now, and so do
            // the publisher's other streams from here on.
            self.anchor = Some((capture, now.checked_sub(MARGIN).unwrap_or(now)));
            return now.checked_sub(MARGIN).unwrap_or(now);
        }
        mapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use str0m::media::{Frequency, MediaTime};
    use str0m::rtp::Ssrc;

    fn sr(ntp: SystemTime, rtp: u64, clock: u32) -> SenderInfo {
        let f = if clock == 48_000 { Frequency::FORTY_EIGHT_KHZ } else { Frequency::NINETY_KHZ };
        SenderInfo { ssrc: Ssrc::from(1), ntp_time: ntp, rtp_time: MediaTime::new(rtp, f), sender_packet_count: 0, sender_octet_count: 0 }
    }

    #[test]
    fn audio_and_video_keep_the_distance_their_reports_give_them() {
        let t0 = Instant::now();
        let ntp = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut c = SyncClock::default();
        assert_eq!(c.wallclock(t0, None, 5, 48_000), t0, "no report yet: arrival time");
        // Audio captured at ntp (RTP 48_000), video captured at ntp too (RTP 900_000), but the video packet arrives
        // 80 ms after the audio one (encoder delay).
        let audio = sr(ntp, 48_000, 48_000);
        let video = sr(ntp - Duration::from_millis(500), 900_000 - 45_000, 90_000);
        let wa = c.wallclock(t0 + Duration::from_millis(10), Some(&audio), 48_000, 48_000);
        let wv = c.wallclock(t0 + Duration::from_millis(90), Some(&video), 900_000, 90_000);
        assert_eq!(wa, wv, "same capture time, same wallclock, whatever the arrival");
        assert_eq!(wa, t0 + Duration::from_millis(10) - MARGIN);
        // 20 ms of audio later (960 ticks) is 20 ms later on the wallclock; timestamps before the report too.
        assert_eq!(c.wallclock(t0 + Duration::from_millis(30), Some(&audio), 48_960, 48_000), wa + Duration::from_millis(20));
        assert_eq!(c.wallclock(t0 + Duration::from_millis(30), Some(&audio), 47_040, 48_000), wa - Duration::from_millis(20));
    }

    #[test]
    fn timestamps_wrap_and_drift_re_anchors() {
        let t0 = Instant::now();
        let ntp = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut c = SyncClock::default();
        let report = sr(ntp, u64::from(u32::MAX) - 479, 48_000);
        let w1 = c.wallclock(t0, Some(&report), u32::MAX - 479, 48_000);
        // 960 ticks later, across the 32-bit wrap.
        let w2 = c.wallclock(t0 + Duration::from_millis(20), Some(&report), 480, 48_000);
        assert_eq!(w2 - w1, Duration::from_millis(20));
        // The publisher's clock runs 3 s ahead of the arrivals: the mapped time would be in the future.
        let w3 = c.wallclock(t0 + Duration::from_millis(40), Some(&report), 480 + 3 * 48_000, 48_000);
        assert_eq!(w3, t0 + Duration::from_millis(40) - MARGIN);
        // A report for another clock rate than the packet's is not used.
        assert_eq!(c.wallclock(t0 + Duration::from_secs(1), Some(&report), 0, 90_000), t0 + Duration::from_secs(1));
    }
}

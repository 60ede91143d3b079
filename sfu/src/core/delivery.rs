//! Bounds on the bandwidth estimate from what the subscriber demonstrably receives.
//!
//! GCC's delay-based detector reads the queueing of large video packets on a slow link as overuse: in
//! `sfu/tests/sim_media.rs` the estimate sank from 280 to 140 kbit/s while 225 kbit/s crossed a 300 kbit/s link
//! with no loss at all, and the low layer paused although it fitted. What the SFU sent during the last stats
//! interval, when the transport-wide feedback reports (almost) no loss, did get through: the Allocator's budget
//! is therefore at least [`FLOOR_SHARE`] of that rate. The floor never raises the send rate (it is below what was
//! sent), and it decays by that share every interval in which the estimate stays lower and the allocation
//! follows the budget; with loss it is gone at once.
//!
//! The other way round, GCC's estimate reacts slowly to a link that suddenly carries far less: after a cut from
//! 1.5 Mbit/s to 300 kbit/s it stayed at 1.5 Mbit/s for over a second while 70 % of the packets were dropped.
//! When the feedback shows more than [`CEILING_LOSS`] lost, what arrived (the send rate times the delivered
//! share) is the best measure of the link, and the budget is at most that. Random loss below that share (the
//! 20 % loss test) does not trigger it, so it cannot spiral the allocation down on a lossy but fast link. Once
//! set, the ceiling is not dropped when the loss stops (the loss stops because less is sent): it holds for
//! [`CEILING_HOLD`] and then grows by [`CEILING_GROWTH`] per loss-free interval until the estimate is below it.
//! Heavy loss again within [`REPEAT_WINDOW`] of the last doubles the hold (up to [`MAX_HOLD`]): a link that
//! cannot carry a video is not tried again every few seconds.
//!
//! The loss is the larger of two measures: str0m's share of lost packets in the transport-wide feedback, and the
//! receiver's own reports (RTCP receiver reports, "fraction lost" of each stream). On a link far too slow for
//! what is sent the first badly underestimates: in `sim_media.rs` (70 kbit/s link, 300–600 kbit/s sent) it
//! said 0–29 % while the receiver reports said 88–92 % — and a "loss-free" interval set a floor at 90 % of the
//! send rate, which kept the allocation (and the congestion) where it was for seconds.

use std::time::{Duration, Instant};

/// Share of the loss-free send rate the budget may rely on.
pub const FLOOR_SHARE: f64 = 0.9;
/// Loss (fraction of packets, from TWCC feedback over the last second) above which the floor does not hold.
pub const MAX_LOSS: f32 = 0.02;
/// Loss above which the delivered rate caps the budget.
pub const CEILING_LOSS: f32 = 0.3;
/// A floor older than this (missed stats) no longer holds.
const STALE_AFTER: Duration = Duration::from_millis(2500);
/// After heavy loss the ceiling holds this long, then grows by [`CEILING_GROWTH`] per loss-free interval.
const CEILING_HOLD: Duration = Duration::from_secs(1);
const MAX_HOLD: Duration = Duration::from_secs(16);
const REPEAT_WINDOW: Duration = Duration::from_secs(20);
pub const CEILING_GROWTH: f64 = 0.15;
/// A heavy-loss interval restarts the congestion controller when its estimate is above the new ceiling by this
/// factor.
const RESTART_ABOVE: f64 = 1.5;
/// One interval of heavy loss lowers the ceiling to at most this share of the send rate ...
const MAX_CUT: f32 = 0.5;
/// A receiver report's loss counts for this long (receivers report about once a second).
const REPORT_FRESH: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone)]
pub struct DeliveryBounds {
    last: Option<(Instant, u64)>,
    floor_bps: u64,
    /// `u64::MAX`: no ceiling.
    ceiling_bps: u64,
    at: Option<Instant>,
    /// The highest fraction lost in the latest receiver reports, and when they came.
    reported: Option<(Instant, f32)>,
    /// When the last interval with more than [`CEILING_LOSS`] lost ended.
    congested_at: Option<Instant>,
    /// How long the ceiling holds after the last heavy loss before it grows.
    hold: Duration,
    /// The loss of the last interval.
    loss: f32,
}

impl Default for DeliveryBounds {
    fn default() -> Self {
        DeliveryBounds {
            last: None,
            floor_bps: 0,
            ceiling_bps: u64::MAX,
            at: None,
            reported: None,
            congested_at: None,
            hold: CEILING_HOLD,
            loss: 0.0,
        }
    }
}

impl DeliveryBounds {
    /// A stats report: `bytes_tx` is the connection's cumulative sent bytes, `loss` the egress loss fraction over
    /// the last second, `estimate` the congestion controller's current estimate (a ceiling above it is dropped).
    ///
    /// Returns a bitrate to restart the congestion controller from when this interval's heavy loss shows its
    /// estimate far above the link (str0m's estimate lagged for seconds behind a cut, and its pacer, padding and
    /// probes follow the estimate, not this ceiling: on a 70 kbit/s link they kept the link full after the
    /// video had paused, and the subscriber's signaling connection, sharing the link, timed out).
    pub fn on_stats(&mut self, now: Instant, bytes_tx: u64, loss: Option<f32>, estimate: u64) -> Option<u64> {
        let mut restart = None;
        let reported = self.reported.filter(|(t, _)| now.saturating_duration_since(*t) <= REPORT_FRESH).map(|(_, l)| l);
        let loss = match (loss, reported) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some((t, b)) = self.last {
            let dt = now.saturating_duration_since(t).as_secs_f64();
            let rate = if dt >= 0.2 { bytes_tx.saturating_sub(b) as f64 * 8.0 / dt } else { 0.0 };
            let lossless = loss.is_some_and(|l| l <= MAX_LOSS);
            self.loss = loss.unwrap_or(0.0);
            self.floor_bps = if lossless { (rate * FLOOR_SHARE) as u64 } else { 0 };
            self.ceiling_bps = match loss {
                Some(l) if l > CEILING_LOSS && rate > 0.0 => {
                    // A new episode (not the same one going on, which reports every interval): back off when it
                    // comes soon after the last one.
                    if let Some(t) = self.congested_at {
                        let since = now.saturating_duration_since(t);
                        if since > Duration::from_millis(600) {
                            self.hold =
                                if since <= REPEAT_WINDOW { (self.hold * 2).min(MAX_HOLD) } else { CEILING_HOLD };
                        }
                    }
                    self.congested_at = Some(now);
                    // What arrived, but at most halved per interval (further while the loss goes on): the loss
                    // and the rate are not measured over quite the same span (receiver reports cover about a
                    // second), and one noisy figure cut a 400 kbit/s link's budget to 28 kbit/s with Chromium.
                    let arrived = (rate * f64::from((1.0 - l).max(MAX_CUT))) as u64;
                    let ceiling = arrived.min(self.ceiling_bps);
                    if estimate as f64 > ceiling as f64 * RESTART_ABOVE {
                        restart = Some(ceiling);
                    }
                    ceiling
                }
                // After heavy loss the ceiling is lifted step by step, not at once: the estimate may still be as
                // high as before the link went bad, and a video resumed into it would congest the link again.
                _ if self.ceiling_bps == u64::MAX => u64::MAX,
                Some(l) if l <= MAX_LOSS => {
                    let grown = (self.ceiling_bps as f64 * (1.0 + CEILING_GROWTH)) as u64;
                    if self.calm(now) { grown } else { self.ceiling_bps }
                }
                _ => self.ceiling_bps,
            };
            if self.ceiling_bps != u64::MAX && self.calm(now) && self.ceiling_bps >= estimate {
                self.ceiling_bps = u64::MAX;
            }
            self.at = Some(now);
        }
        self.last = Some((now, bytes_tx));
        restart
    }

    /// Has the hold after the last heavy loss passed?
    fn calm(&self, now: Instant) -> bool {
        self.congested_at.is_none_or(|t| now.saturating_duration_since(t) >= self.hold)
    }

    /// A receiver report: the fraction lost of one outgoing stream since its previous report. Reports that
    /// arrive together (one per stream) count with their highest value.
    pub fn on_receiver_loss(&mut self, now: Instant, fraction: f32) {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            return;
        };
        self.reported = match self.reported {
            Some((t, l)) if now.saturating_duration_since(t) < Duration::from_millis(100) => {
                Some((now, l.max(fraction)))
            }
            _ => Some((now, fraction)),
        };
    }

    /// The loss of the last interval (feedback or receiver reports, the larger) while fresh, else 0.
    pub fn recent_loss(&self, now: Instant) -> f32 {
        if self.fresh(now) { self.loss } else { 0.0 }
    }

    /// The floor in force at `now` (0 when none).
    pub fn floor(&self, now: Instant) -> u64 {
        if self.fresh(now) { self.floor_bps } else { 0 }
    }

    /// The ceiling in force at `now` (`u64::MAX` when none).
    pub fn ceiling(&self, now: Instant) -> u64 {
        if self.fresh(now) { self.ceiling_bps } else { u64::MAX }
    }

    /// `estimate` bounded by what the last interval showed.
    pub fn budget(&self, now: Instant, estimate: u64) -> u64 {
        estimate.max(self.floor(now)).min(self.ceiling(now))
    }

    fn fresh(&self, now: Instant) -> bool {
        self.at.is_some_and(|t| now.saturating_duration_since(t) <= STALE_AFTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_free_second_sets_the_floor() {
        let t0 = Instant::now();
        let mut d = DeliveryBounds::default();
        d.on_stats(t0, 1_000, Some(0.0), 10_000_000);
        assert_eq!(d.floor(t0), 0, "one report is no rate");
        // 28 125 bytes in one second = 225 kbit/s.
        d.on_stats(t0 + Duration::from_secs(1), 1_000 + 28_125, Some(0.01), 10_000_000);
        assert_eq!(d.floor(t0 + Duration::from_secs(1)), 202_500);
        assert_eq!(d.floor(t0 + Duration::from_secs(3)), 202_500);
        assert_eq!(d.floor(t0 + Duration::from_secs(4)), 0, "stale");
    }

    #[test]
    fn loss_or_missing_feedback_removes_the_floor() {
        let t0 = Instant::now();
        let s = |n: u64| t0 + Duration::from_secs(n);
        let mut d = DeliveryBounds::default();
        d.on_stats(s(0), 0, Some(0.0), 10_000_000);
        d.on_stats(s(1), 100_000, Some(0.0), 10_000_000);
        assert!(d.floor(s(1)) > 0);
        d.on_stats(s(2), 200_000, Some(0.05), 10_000_000);
        assert_eq!(d.floor(s(2)), 0);
        d.on_stats(s(3), 300_000, Some(0.0), 10_000_000);
        assert!(d.floor(s(3)) > 0);
        d.on_stats(s(4), 400_000, None, 10_000_000);
        assert_eq!(d.floor(s(4)), 0);
    }

    #[test]
    fn heavy_loss_caps_the_budget_at_what_arrived() {
        let t0 = Instant::now();
        let s = |n: u64| t0 + Duration::from_secs(n);
        let mut d = DeliveryBounds::default();
        d.on_stats(s(0), 0, Some(0.0), 10_000_000);
        // 1.2 Mbit/s sent, 75 % lost: 300 kbit/s arrived; one interval halves the ceiling at most ...
        d.on_stats(s(1), 150_000, Some(0.75), 10_000_000);
        assert_eq!(d.budget(s(1), 1_500_000), 600_000);
        // ... the next (600 kbit/s sent, the allocation followed, 75 % lost) halves it again.
        d.on_stats(s(2), 225_000, Some(0.75), 10_000_000);
        assert_eq!(d.budget(s(2), 1_500_000), 300_000);
        // A burst of RTX in one interval does not raise it (1.2 Mbit/s sent, 75 % lost).
        d.on_stats(s(3), 375_000, Some(0.75), 10_000_000);
        assert_eq!(d.budget(s(3), 1_500_000), 300_000);
        // 20 % loss right after: the ceiling holds (less is sent now, which is why less is lost).
        d.on_stats(s(4), 412_500, Some(0.2), 10_000_000);
        assert_eq!(d.budget(s(4), 1_500_000), 300_000);
        // Loss-free: the ceiling holds, 4 s after the last heavy loss (three episodes a second apart doubled the
        // hold twice), then grows by 15 % per loss-free interval; the floor (90 % of the send rate) does not
        // lift the budget above it.
        d.on_stats(s(5), 450_000, Some(0.0), 10_000_000);
        assert_eq!(d.budget(s(5), 500_000), 300_000);
        d.on_stats(s(6), 487_500, Some(0.0), 10_000_000);
        assert_eq!(d.budget(s(6), 500_000), 300_000);
        d.on_stats(s(7), 525_000, Some(0.0), 10_000_000);
        assert_eq!(d.budget(s(7), 500_000), 345_000);
        // Once the estimate is below the ceiling, the ceiling is gone.
        d.on_stats(s(8), 675_000, Some(0.0), 300_000);
        assert_eq!(d.ceiling(s(8)), u64::MAX);
        assert_eq!(d.budget(s(8), 300_000), 1_080_000, "the floor: 90 % of the loss-free send rate");
        assert_eq!(d.budget(s(11), 500_000), 500_000, "stale");
    }

    #[test]
    fn repeated_heavy_loss_holds_the_ceiling_longer() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut d = DeliveryBounds::default();
        let mut sent = 0;
        let mut at = 0;
        let mut step = |d: &mut DeliveryBounds, loss: f32| {
            at += 500;
            sent += 12_500; // 200 kbit/s
            d.on_stats(ms(at), sent, Some(loss), 10_000_000);
            d.ceiling(ms(at))
        };
        step(&mut d, 0.0);
        assert_eq!(step(&mut d, 0.5), 100_000, "half of 200 kbit/s arrived");
        // The first episode holds 1 s, then the ceiling grows.
        assert_eq!(step(&mut d, 0.0), 100_000);
        assert!(step(&mut d, 0.0) > 100_000);
        // Heavy loss again soon: now the ceiling holds 2 s.
        assert_eq!(step(&mut d, 0.5), 100_000);
        for _ in 0..3 {
            assert_eq!(step(&mut d, 0.0), 100_000);
        }
        assert!(step(&mut d, 0.0) > 100_000);
    }

    #[test]
    fn receiver_reports_of_heavy_loss_override_a_feedback_that_says_little() {
        let t0 = Instant::now();
        let s = |ms: u64| t0 + Duration::from_millis(ms);
        let mut d = DeliveryBounds::default();
        d.on_stats(s(0), 0, Some(0.0), 10_000_000);
        // 600 kbit/s sent; the transport feedback says no loss, the video stream's receiver report 90 %, the audio
        // stream's 10 % (same moment): no floor, and the ceiling halves (10 % arrived; one interval halves it at
        // most).
        d.on_receiver_loss(s(1000), 0.1);
        d.on_receiver_loss(s(1000), 0.9);
        d.on_receiver_loss(s(1001), 0.05);
        d.on_stats(s(1000), 75_000, Some(0.0), 10_000_000);
        assert_eq!(d.floor(s(1000)), 0);
        assert_eq!(d.budget(s(1000), 500_000), 300_000);
        // The report still counts half a second later: halved again (300 kbit/s sent).
        d.on_stats(s(1500), 93_750, Some(0.0), 10_000_000);
        assert_eq!(d.floor(s(1500)), 0);
        assert_eq!(d.budget(s(1500), 500_000), 150_000);
        // ... but not after 1.5 s: a loss-free interval sets the floor again.
        d.on_stats(s(3000), 150_000, Some(0.0), 10_000_000);
        assert!(d.floor(s(3000)) > 0);
        // A newer report of little loss replaces the old one.
        d.on_receiver_loss(s(3200), 0.9);
        d.on_receiver_loss(s(4200), 0.0);
        d.on_stats(s(4500), 187_500, Some(0.0), 10_000_000);
        assert!(d.floor(s(4500)) > 0);
        // Garbage is ignored.
        d.on_receiver_loss(s(4600), f32::NAN);
        d.on_stats(s(5000), 225_000, Some(0.0), 10_000_000);
        assert!(d.floor(s(5000)) > 0);
    }
}

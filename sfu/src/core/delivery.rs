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
//! 20 % loss test) does not trigger it, so it cannot spiral the allocation down on a lossy but fast link.

use std::time::{Duration, Instant};

/// Share of the loss-free send rate the budget may rely on.
pub const FLOOR_SHARE: f64 = 0.9;
/// Loss (fraction of packets, from TWCC feedback over the last second) above which the floor does not hold.
pub const MAX_LOSS: f32 = 0.02;
/// Loss above which the delivered rate caps the budget.
pub const CEILING_LOSS: f32 = 0.3;
/// A floor older than this (missed stats) no longer holds.
const STALE_AFTER: Duration = Duration::from_millis(2500);

#[derive(Debug, Clone)]
pub struct DeliveryBounds {
    last: Option<(Instant, u64)>,
    floor_bps: u64,
    /// `u64::MAX`: no ceiling.
    ceiling_bps: u64,
    at: Option<Instant>,
}

impl Default for DeliveryBounds {
    fn default() -> Self {
        DeliveryBounds { last: None, floor_bps: 0, ceiling_bps: u64::MAX, at: None }
    }
}

impl DeliveryBounds {
    /// A stats report: `bytes_tx` is the connection's cumulative sent bytes, `loss` the egress loss fraction over
    /// the last second.
    pub fn on_stats(&mut self, now: Instant, bytes_tx: u64, loss: Option<f32>) {
        if let Some((t, b)) = self.last {
            let dt = now.saturating_duration_since(t).as_secs_f64();
            let rate = if dt >= 0.2 { bytes_tx.saturating_sub(b) as f64 * 8.0 / dt } else { 0.0 };
            let lossless = loss.is_some_and(|l| l <= MAX_LOSS);
            self.floor_bps = if lossless { (rate * FLOOR_SHARE) as u64 } else { 0 };
            self.ceiling_bps = match loss {
                Some(l) if l > CEILING_LOSS && rate > 0.0 => (rate * f64::from(1.0 - l)) as u64,
                _ => u64::MAX,
            };
            self.at = Some(now);
        }
        self.last = Some((now, bytes_tx));
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
        d.on_stats(t0, 1_000, Some(0.0));
        assert_eq!(d.floor(t0), 0, "one report is no rate");
        // 28 125 bytes in one second = 225 kbit/s.
        d.on_stats(t0 + Duration::from_secs(1), 1_000 + 28_125, Some(0.01));
        assert_eq!(d.floor(t0 + Duration::from_secs(1)), 202_500);
        assert_eq!(d.floor(t0 + Duration::from_secs(3)), 202_500);
        assert_eq!(d.floor(t0 + Duration::from_secs(4)), 0, "stale");
    }

    #[test]
    fn loss_or_missing_feedback_removes_the_floor() {
        let t0 = Instant::now();
        let s = |n: u64| t0 + Duration::from_secs(n);
        let mut d = DeliveryBounds::default();
        d.on_stats(s(0), 0, Some(0.0));
        d.on_stats(s(1), 100_000, Some(0.0));
        assert!(d.floor(s(1)) > 0);
        d.on_stats(s(2), 200_000, Some(0.05));
        assert_eq!(d.floor(s(2)), 0);
        d.on_stats(s(3), 300_000, Some(0.0));
        assert!(d.floor(s(3)) > 0);
        d.on_stats(s(4), 400_000, None);
        assert_eq!(d.floor(s(4)), 0);
    }

    #[test]
    fn heavy_loss_caps_the_budget_at_what_arrived() {
        let t0 = Instant::now();
        let s = |n: u64| t0 + Duration::from_secs(n);
        let mut d = DeliveryBounds::default();
        d.on_stats(s(0), 0, Some(0.0));
        // 1.2 Mbit/s sent, 75 % lost: 300 kbit/s arrived.
        d.on_stats(s(1), 150_000, Some(0.75));
        assert_eq!(d.budget(s(1), 1_500_000), 300_000);
        // 20 % random loss: the estimate stands.
        d.on_stats(s(2), 300_000, Some(0.2));
        assert_eq!(d.budget(s(2), 1_500_000), 1_500_000);
        // Loss-free: the floor lifts a low estimate to 90 % of the send rate.
        d.on_stats(s(3), 450_000, Some(0.0));
        assert_eq!(d.budget(s(3), 500_000), 1_080_000);
        assert_eq!(d.budget(s(9), 500_000), 500_000, "stale");
    }
}

//! When to ask str0m for a bandwidth probe on a subscriber connection.
//!
//! A subscriber whose allocation is short of its wishes (a video paused, or below the layer its tile wants) sends
//! less than it could, but not little enough to count as application-limited, so GCC's own periodic probes do
//! not fire and the additive increase climbs from 300 kbit/s to 1.5 Mbit/s in tens of seconds (measured in
//! `sfu/tests/sim_media.rs`). str0m sends an allocation probe (short packet bursts at 1x and 2x the desired
//! rate, capped at 2x the estimate) whenever the desired rate rises above the estimate. `ProbePlan` makes it
//! rise on a schedule while the allocation is deficient: one round it hands str0m the allocated rate (the dip),
//! the next round the full desired rate again. The interval starts at [`MIN_INTERVAL`] and doubles after each
//! probe that did not raise the estimate, up to [`MAX_INTERVAL`]; after a probe that raised it the next one
//! follows [`AFTER_GAIN`] later, and the schedule starts over when the subscriber's wishes change. Probes cost a few dozen packets each; sustained padding (the
//! alternative) kept a 300 kbit/s link congested and the estimate sinking.

use std::time::{Duration, Instant};

pub const MIN_INTERVAL: Duration = Duration::from_secs(2);
/// After a probe that raised the estimate, the next comes this soon (climbing from 300 kbit/s to 1.5 Mbit/s
/// takes about three doublings).
pub const AFTER_GAIN: Duration = Duration::from_millis(500);
pub const MAX_INTERVAL: Duration = Duration::from_secs(16);
/// A probe "raised the estimate" when it grew by at least this fraction.
const GAIN: f64 = 0.1;

#[derive(Debug, Clone)]
pub struct ProbePlan {
    interval: Duration,
    next_at: Option<Instant>,
    dipped: bool,
    last_desired: u64,
    estimate_before: u64,
}

impl Default for ProbePlan {
    fn default() -> Self {
        ProbePlan { interval: MIN_INTERVAL, next_at: None, dipped: false, last_desired: 0, estimate_before: 0 }
    }
}

impl ProbePlan {
    /// The desired rate to hand str0m this allocation round.
    pub fn desired(&mut self, now: Instant, estimate: u64, allocated: u64, desired: u64, deficient: bool) -> u64 {
        let wishes_changed = desired.abs_diff(self.last_desired) * 10 > self.last_desired;
        self.last_desired = desired;
        if !deficient || desired <= estimate {
            *self = ProbePlan { last_desired: desired, ..ProbePlan::default() };
            return desired;
        }
        if wishes_changed {
            // str0m probes on the rise itself; start the schedule over from here.
            self.interval = MIN_INTERVAL;
            self.next_at = Some(now + MIN_INTERVAL);
            self.dipped = false;
            return desired;
        }
        if self.dipped {
            self.dipped = false;
            self.next_at = Some(now + self.interval);
            return desired;
        }
        match self.next_at {
            None => {
                self.next_at = Some(now + self.interval);
                desired
            }
            Some(t) if now >= t => {
                // Did the last probe pay off? Then keep probing at the fast pace, else back off.
                if self.estimate_before > 0 && estimate as f64 >= self.estimate_before as f64 * (1.0 + GAIN) {
                    self.interval = AFTER_GAIN;
                } else if self.estimate_before > 0 {
                    self.interval = (self.interval * 2).min(MAX_INTERVAL);
                }
                self.dipped = true;
                self.estimate_before = estimate;
                allocated.min(desired.saturating_sub(1))
            }
            Some(_) => desired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// Run rounds every 500 ms from `from` to `to` ms and return the times (ms) of the dips.
    fn dips(plan: &mut ProbePlan, t0: Instant, from: u64, to: u64, estimate: impl Fn(u64) -> u64) -> Vec<u64> {
        let mut out = vec![];
        for ms in (from..to).step_by(500) {
            let d = plan.desired(at(t0, ms), estimate(ms), 300_000, 1_600_000, true);
            if d < 1_600_000 {
                out.push(ms);
            }
        }
        out
    }

    #[test]
    fn a_deficient_allocation_is_probed_with_backoff() {
        let t0 = Instant::now();
        let mut plan = ProbePlan::default();
        // The estimate never moves: probes at 2 s, 2.5 s later (the first had nothing to compare), then 4.5, 8.5, 16.5.
        let d = dips(&mut plan, t0, 0, 60_000, |_| 350_000);
        assert_eq!(d, vec![2_000, 4_500, 9_000, 17_500, 34_000, 50_500]);
    }

    #[test]
    fn a_probe_that_raises_the_estimate_keeps_the_pace() {
        let t0 = Instant::now();
        let mut plan = ProbePlan::default();
        // The estimate grows by 70 kbit/s every 2.5 s: a probe after a gain follows 1 s later (the next round but
        // one), a probe without gain backs off to 1 s, then 2 s.
        let d = dips(&mut plan, t0, 0, 12_000, |ms| 350_000 + 70_000 * (ms / 2_500));
        assert_eq!(d, vec![2_000, 4_500, 5_500, 6_500, 8_000, 9_000, 10_500, 11_500]);
    }

    #[test]
    fn no_probe_when_nothing_is_missing_or_the_estimate_suffices() {
        let t0 = Instant::now();
        let mut plan = ProbePlan::default();
        for ms in (0..10_000).step_by(500) {
            assert_eq!(plan.desired(at(t0, ms), 300_000, 300_000, 1_600_000, false), 1_600_000);
            assert_eq!(plan.desired(at(t0, ms), 2_000_000, 300_000, 1_600_000, true), 1_600_000);
        }
    }

    #[test]
    fn changed_wishes_restart_the_schedule() {
        let t0 = Instant::now();
        let mut plan = ProbePlan::default();
        let d = dips(&mut plan, t0, 0, 20_000, |_| 350_000);
        assert_eq!(d.last(), Some(&17_500));
        // A tile grows: the desired rate rises (str0m probes on that itself); the next scheduled dip is 2 s later.
        assert_eq!(plan.desired(at(t0, 20_000), 350_000, 300_000, 3_000_000, true), 3_000_000);
        assert_eq!(plan.desired(at(t0, 21_500), 350_000, 300_000, 3_000_000, true), 3_000_000);
        assert!(plan.desired(at(t0, 22_000), 350_000, 300_000, 3_000_000, true) < 3_000_000);
    }
}

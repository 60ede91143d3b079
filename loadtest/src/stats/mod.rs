//! The report's statistics: percentiles, per-stream loss accounting (reordering, duplicates, 16-bit wrap),
//! RFC 3550 interarrival jitter and video freeze detection. Pure functions of what they are fed: no clocks.

mod layers;
mod stream;

pub use layers::{LayerCount, resolution_name};
pub use stream::{FREEZE_GAP_MS, StreamStats};

use serde::Serialize;

/// A distribution summary as it appears in the JSON report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    /// Number of samples behind the figures (0: all figures are 0).
    pub count: usize,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (any order; NaNs are ignored).
    pub fn of(samples: &[f64]) -> Percentiles {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_by(|a, b| a.total_cmp(b));
        Percentiles {
            p50: nearest_rank(&v, 50.0),
            p95: nearest_rank(&v, 95.0),
            p99: nearest_rank(&v, 99.0),
            max: v[v.len() - 1],
            count: v.len(),
        }
    }
}

/// Nearest-rank percentile of sorted, non-empty `v`: the smallest value with at least `p` % of samples ≤ it.
fn nearest_rank(v: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// A fixed-bucket histogram of latencies in milliseconds, cheap enough to feed every packet.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    /// Bucket `i` counts samples in `[i * width, (i + 1) * width)`; the last bucket also holds everything above.
    buckets: Vec<u64>,
    width_ms: f64,
    max_ms: f64,
    count: u64,
}

impl LatencyHistogram {
    /// `buckets` buckets of `width_ms` each.
    pub fn new(buckets: usize, width_ms: f64) -> Self {
        LatencyHistogram { buckets: vec![0; buckets.max(1)], width_ms: width_ms.max(1e-6), max_ms: 0.0, count: 0 }
    }

    pub fn record(&mut self, ms: f64) {
        if ms.is_nan() {
            return;
        }
        let ms = ms.max(0.0);
        let i = ((ms / self.width_ms) as usize).min(self.buckets.len() - 1);
        self.buckets[i] += 1;
        self.count += 1;
        if ms > self.max_ms {
            self.max_ms = ms;
        }
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.count += other.count;
        self.max_ms = self.max_ms.max(other.max_ms);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Percentiles at bucket resolution (the upper edge of the bucket holding the rank; max is exact).
    pub fn percentiles(&self) -> Percentiles {
        if self.count == 0 {
            return Percentiles::default();
        }
        let at = |p: f64| {
            let rank = ((p / 100.0) * self.count as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, n) in self.buckets.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return ((i + 1) as f64 * self.width_ms).min(self.max_ms);
                }
            }
            self.max_ms
        };
        Percentiles { p50: at(50.0), p95: at(95.0), p99: at(99.0), max: self.max_ms, count: self.count as usize }
    }

    /// `(bucket lower edge in ms, count)` for plotting; trailing empty buckets are left out.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        let last = self.buckets.iter().rposition(|n| *n > 0).map(|i| i + 1).unwrap_or(0);
        self.buckets[..last].iter().enumerate().map(|(i, n)| (i as f64 * self.width_ms, *n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(|x| x as f64).collect();
        let p = Percentiles::of(&v);
        assert_eq!((p.p50, p.p95, p.p99, p.max, p.count), (50.0, 95.0, 99.0, 100.0, 100));
        // Order does not matter.
        let mut r = v.clone();
        r.reverse();
        assert_eq!(Percentiles::of(&r), p);
    }

    #[test]
    fn percentiles_small_and_empty() {
        assert_eq!(Percentiles::of(&[]), Percentiles::default());
        let one = Percentiles::of(&[7.0]);
        assert_eq!((one.p50, one.p99, one.max), (7.0, 7.0, 7.0));
        let two = Percentiles::of(&[1.0, 9.0, f64::NAN]);
        assert_eq!((two.p50, two.p95, two.count), (1.0, 9.0, 2));
    }

    #[test]
    fn histogram_percentiles_follow_the_samples() {
        let mut h = LatencyHistogram::new(100, 1.0);
        for i in 0..90 {
            h.record(2.5 + (i % 3) as f64 * 0.1); // bucket 2
        }
        for _ in 0..10 {
            h.record(40.2);
        }
        let p = h.percentiles();
        assert_eq!(p.p50, 3.0);
        assert_eq!(p.p95, 41.0_f64.min(40.2));
        assert_eq!(p.max, 40.2);
        assert_eq!(p.count, 100);
        // Overflow goes to the last bucket; max stays exact.
        h.record(1e6);
        assert_eq!(h.percentiles().max, 1e6);
        assert_eq!(h.buckets().last().map(|b| b.1), Some(1));
    }

    #[test]
    fn histogram_merge_adds_counts() {
        let mut a = LatencyHistogram::new(10, 5.0);
        let mut b = LatencyHistogram::new(10, 5.0);
        a.record(1.0);
        b.record(12.0);
        b.record(13.0);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.buckets(), vec![(0.0, 1), (5.0, 0), (10.0, 2)]);
    }
}

//! User-space network impairment between a client's socket and its WebRTC stack: random loss, fixed delay,
//! jitter (without reordering, like a real queue) and a rate cap with a bounded queue (tail drop).
//!
//! One [`Impairment`] per direction and socket. Datagrams go in with [`Impairment::push`] and come out in order
//! with [`Impairment::pop_due`] once their release time has come.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Longest a datagram may wait in the rate limiter's queue before it is dropped (like a router buffer).
const MAX_QUEUE_DELAY: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ImpairmentConfig {
    pub loss_pct: f64,
    pub delay: Duration,
    pub jitter: Duration,
    /// 0 = unlimited.
    pub rate_kbps: u32,
}

impl ImpairmentConfig {
    pub fn is_none(&self) -> bool {
        self.loss_pct <= 0.0 && self.delay.is_zero() && self.jitter.is_zero() && self.rate_kbps == 0
    }
}

#[derive(Debug)]
pub struct Impairment {
    cfg: ImpairmentConfig,
    rng: SmallRng,
    queue: VecDeque<(Instant, Vec<u8>)>,
    /// When the rate limiter's link is free again.
    link_free_at: Option<Instant>,
    last_release: Option<Instant>,
    pub dropped_loss: u64,
    pub dropped_queue: u64,
}

impl Impairment {
    pub fn new(cfg: ImpairmentConfig, seed: u64) -> Self {
        Impairment {
            cfg,
            rng: SmallRng::seed_from_u64(seed),
            queue: VecDeque::new(),
            link_free_at: None,
            last_release: None,
            dropped_loss: 0,
            dropped_queue: 0,
        }
    }

    pub fn is_passthrough(&self) -> bool {
        self.cfg.is_none()
    }

    /// Queue a datagram at `now`; it may be dropped.
    pub fn push(&mut self, now: Instant, data: &[u8]) {
        if self.cfg.loss_pct > 0.0 && self.rng.random_bool((self.cfg.loss_pct / 100.0).clamp(0.0, 1.0)) {
            self.dropped_loss += 1;
            return;
        }
        let mut at = now;
        if self.cfg.rate_kbps > 0 {
            let start = self.link_free_at.map_or(now, |t| t.max(now));
            if start.saturating_duration_since(now) > MAX_QUEUE_DELAY {
                self.dropped_queue += 1;
                return;
            }
            let tx = Duration::from_secs_f64(data.len() as f64 * 8.0 / (self.cfg.rate_kbps as f64 * 1000.0));
            self.link_free_at = Some(start + tx);
            at = start + tx;
        }
        at += self.cfg.delay;
        if !self.cfg.jitter.is_zero() {
            at += Duration::from_micros(self.rng.random_range(0..=self.cfg.jitter.as_micros() as u64));
        }
        // FIFO: never release before the previous datagram.
        if let Some(last) = self.last_release {
            at = at.max(last);
        }
        self.last_release = Some(at);
        self.queue.push_back((at, data.to_vec()));
    }

    /// The next datagram whose time has come.
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.queue.front().is_some_and(|(at, _)| *at <= now) {
            return self.queue.pop_front().map(|(_, d)| d);
        }
        None
    }

    pub fn next_release(&self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(loss: f64, delay_ms: u64, jitter_ms: u64, kbps: u32) -> ImpairmentConfig {
        ImpairmentConfig {
            loss_pct: loss,
            delay: Duration::from_millis(delay_ms),
            jitter: Duration::from_millis(jitter_ms),
            rate_kbps: kbps,
        }
    }

    #[test]
    fn delay_holds_datagrams_back_in_order() {
        let t0 = Instant::now();
        let mut s = Impairment::new(cfg(0.0, 50, 20, 0), 1);
        for i in 0..100u8 {
            s.push(t0 + Duration::from_millis(i as u64), &[i]);
        }
        assert!(s.pop_due(t0 + Duration::from_millis(49)).is_none());
        let mut got = vec![];
        while let Some(d) = s.pop_due(t0 + Duration::from_secs(1)) {
            got.push(d[0]);
        }
        assert_eq!(got, (0..100).collect::<Vec<u8>>(), "jitter never reorders");
    }

    #[test]
    fn loss_rate_is_roughly_the_configured_one() {
        let t0 = Instant::now();
        let mut s = Impairment::new(cfg(10.0, 0, 0, 0), 42);
        for _ in 0..10_000 {
            s.push(t0, &[0]);
        }
        assert!((800..1200).contains(&s.dropped_loss), "{}", s.dropped_loss);
    }

    #[test]
    fn rate_cap_spaces_datagrams_and_drops_when_the_queue_is_full() {
        let t0 = Instant::now();
        // 100 kbit/s: a 1250-byte datagram takes 100 ms on the link.
        let mut s = Impairment::new(cfg(0.0, 0, 0, 100), 1);
        for _ in 0..10 {
            s.push(t0, &[0u8; 1250]);
        }
        assert_eq!(s.next_release(), Some(t0 + Duration::from_millis(100)));
        // Queue delay is capped at 300 ms: the 1st..4th fit (start at 0, 100, 200, 300 ms), the rest are dropped.
        assert_eq!(s.dropped_queue, 6);
        assert!(!s.is_passthrough());
        assert!(Impairment::new(ImpairmentConfig::default(), 0).is_passthrough());
    }
}

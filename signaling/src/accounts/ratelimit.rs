//! Login rate limiting per account and client address: after a few failures, further attempts are refused for a
//! while (even with the right password), so passwords cannot be guessed at speed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed in one window.
pub const MAX_FAILURES: usize = 5;
/// The window: failures older than this are forgotten.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Tracked (account, address) pairs before old ones are pruned.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<(String, IpAddr), Vec<Instant>>>,
}

impl LoginLimiter {
    /// `Err(retry_after)` if this account and address may not try now.
    pub fn check(&self, email: &str, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = map.get(&(email.to_owned(), ip)) else { return Ok(()) };
        let recent: Vec<&Instant> = times.iter().filter(|t| now.duration_since(**t) < WINDOW).collect();
        if recent.len() >= MAX_FAILURES {
            let oldest = recent.iter().min().map(|t| **t).unwrap_or(now);
            Err(WINDOW.saturating_sub(now.duration_since(oldest)).max(Duration::from_secs(1)))
        } else {
            Ok(())
        }
    }

    pub fn failed(&self, email: &str, ip: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < WINDOW));
        }
        let times = map.entry((email.to_owned(), ip)).or_default();
        times.retain(|t| now.duration_since(*t) < WINDOW);
        times.push(now);
    }

    pub fn succeeded(&self, email: &str, ip: IpAddr) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&(email.to_owned(), ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_per_account_and_address() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert!(limiter.check("a@example.org", ip, t0).is_ok(), "attempt {i}");
            limiter.failed("a@example.org", ip, t0);
        }
        let wait = limiter.check("a@example.org", ip, t0).unwrap_err();
        assert_eq!(wait, WINDOW);
        // Another address or another account is not affected.
        assert!(limiter.check("a@example.org", other, t0).is_ok());
        assert!(limiter.check("b@example.org", ip, t0).is_ok());
        // After the window it is open again.
        assert!(limiter.check("a@example.org", ip, t0 + WINDOW).is_ok());
        limiter.succeeded("a@example.org", ip);
        assert!(limiter.check("a@example.org", ip, t0).is_ok());
    }
}

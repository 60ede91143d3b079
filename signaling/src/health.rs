//! Readiness: `/readyz` answers 200 only while every check passes and the server does not drain.
//!
//! Checks are pluggable ([`ReadinessCheck`]), so parts with their own dependencies (the database) add theirs in
//! [`crate::Server::start`] with [`Readiness::add`]; [`check_fn`] turns a closure into a check.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Something the server needs to serve users (the SFU workers, the database).
pub trait ReadinessCheck: Send + Sync {
    /// Short name shown in `/readyz` (no internals: the detail goes to the log).
    fn name(&self) -> &'static str;
    /// `Err(detail)` when not usable now.
    fn check(&self) -> CheckFuture<'_>;
}

struct FnCheck<F> {
    name: &'static str,
    f: F,
}

impl<F, Fut> ReadinessCheck for FnCheck<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }
    fn check(&self) -> CheckFuture<'_> {
        Box::pin((self.f)())
    }
}

/// A check from a closure returning a future, e.g. `check_fn("database", move || { let pool = pool.clone();
/// async move { ping(&pool).await.map_err(|e| e.to_string()) } })`.
pub fn check_fn<F, Fut>(name: &'static str, f: F) -> Arc<dyn ReadinessCheck>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(FnCheck { name, f })
}

/// The registered checks.
#[derive(Default)]
pub struct Readiness {
    checks: Mutex<Vec<Arc<dyn ReadinessCheck>>>,
}

impl Readiness {
    pub fn add(&self, check: Arc<dyn ReadinessCheck>) {
        self.checks.lock().unwrap_or_else(|p| p.into_inner()).push(check);
    }

    /// Run every check (concurrently, each with a time limit); the names of those that failed.
    pub async fn failing(&self) -> Vec<&'static str> {
        let checks = self.checks.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let runs = checks.iter().map(|c| async move {
            match tokio::time::timeout(CHECK_TIMEOUT, c.check()).await {
                Ok(Ok(())) => None,
                Ok(Err(detail)) => {
                    tracing::warn!(check = c.name(), "not ready: {detail}");
                    Some(c.name())
                }
                Err(_) => {
                    tracing::warn!(check = c.name(), "not ready: no answer within {CHECK_TIMEOUT:?}");
                    Some(c.name())
                }
            }
        });
        futures_util::future::join_all(runs).await.into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn reports_failing_checks_by_name() {
        let readiness = Readiness::default();
        assert!(readiness.failing().await.is_empty());
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        readiness.add(check_fn("database", move || {
            let up = flag.load(Ordering::Relaxed);
            async move { if up { Ok(()) } else { Err("connection refused".into()) } }
        }));
        readiness.add(check_fn("sfu", || async { Ok(()) }));
        assert!(readiness.failing().await.is_empty());
        up.store(false, Ordering::Relaxed);
        assert_eq!(readiness.failing().await, vec!["database"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_check_fails() {
        let readiness = Readiness::default();
        readiness.add(check_fn("slow", || std::future::pending::<Result<(), String>>()));
        assert_eq!(readiness.failing().await, vec!["slow"]);
    }
}

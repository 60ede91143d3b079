//! `/readyz` follows the database: the real `plenum serve` binary on a throwaway PostgreSQL cluster answers 200,
//! 503 naming the `database` check while PostgreSQL is stopped, and 200 again once it is back. `/healthz` (liveness)
//! stays 200 throughout: a database outage must take the node out of the load balancer, not get it restarted.
//!
//! Skipped (with a message) when PostgreSQL is not installed, unless `PLENUM_TEST_REQUIRE_POSTGRES=1`.
//! The binary is `PLENUM_BIN` if set, else the one cargo built for this test.

mod common;
#[path = "api_support/postgres.rs"]
mod postgres;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{SECRET, http_get, temp_dir};
use postgres::PgCluster;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Longest wait for /readyz to change after the database went away or came back (the check itself gives up
/// after 2 s; reconnecting may take a few attempts).
const SETTLE: Duration = Duration::from_secs(30);

struct Plenum {
    _child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Plenum {
    async fn start(database_url: &str, dir: &Path) -> Plenum {
        let bin = std::env::var("PLENUM_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_plenum").to_owned());
        let log = dir.join("plenum.log");
        let mut child = Command::new(&bin)
            .args(["serve", "--http-addr", "127.0.0.1:0", "--media-addr", "127.0.0.1:0", "--workers", "1"])
            .arg("--data-dir")
            .arg(dir)
            .env("PLENUM_DATABASE_URL", database_url)
            .env("PLENUM_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("Plenum is running at http://") {
                    return url.trim().parse::<SocketAddr>().expect("an address");
                }
            }
            panic!("plenum exited before it ran; its log:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        })
        .await
        .expect("plenum says where it runs");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Plenum { _child: child, addr, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Poll `/readyz` until it answers `status`; the last (status, body).
    async fn readyz_until(&self, status: u16) -> (u16, String, Duration) {
        let t0 = Instant::now();
        loop {
            let (got, _, body) = http_get(self.addr, "/readyz").await;
            if got == status || t0.elapsed() > SETTLE {
                return (got, body, t0.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn assert_alive(&self) {
        let (status, _, body) = http_get(self.addr, "/healthz").await;
        assert_eq!((status, body.as_str()), (200, "ok"), "/healthz must not depend on the database");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_while_postgres_is_down_and_recovers() {
    let Some(cluster) = PgCluster::start() else { return };
    let dir = temp_dir("readyz-db");
    std::fs::create_dir_all(&dir).unwrap();
    let plenum = Plenum::start(&cluster.url("postgres"), &dir).await;

    let (status, body, _) = plenum.readyz_until(200).await;
    assert_eq!((status, body.as_str()), (200, "ready\n"), "ready with the database up; log:\n{}", plenum.log());
    plenum.assert_alive().await;

    cluster.stop();
    let (status, body, took) = plenum.readyz_until(503).await;
    assert_eq!(status, 503, "/readyz with PostgreSQL stopped: {body}; log:\n{}", plenum.log());
    assert_eq!(body, "not ready: database\n", "only the database check fails");
    eprintln!("/readyz turned 503 {} ms after PostgreSQL stopped", took.as_millis());
    assert!(plenum.log().contains("not ready"), "the log says why:\n{}", plenum.log());
    plenum.assert_alive().await;

    cluster.restart();
    let (status, body, took) = plenum.readyz_until(200).await;
    assert_eq!((status, body.as_str()), (200, "ready\n"), "recovers once PostgreSQL is back; log:\n{}", plenum.log());
    eprintln!("/readyz back to 200 {} ms after PostgreSQL restarted", took.as_millis());
    plenum.assert_alive().await;

    let _ = std::fs::remove_dir_all(&dir);
}

//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory, a free TCP port on loopback,
//! trust authentication, fsync off; stopped and removed on drop.
//!
//! The binaries come from Debian's `postgresql` package (`/usr/lib/postgresql/<version>/bin`), or from
//! `PLENUM_TEST_PG_BIN`. When none is found the PostgreSQL tests are skipped with a message, unless
//! `PLENUM_TEST_REQUIRE_POSTGRES=1` (as `scripts/test.sh` sets it), where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_postgres_user: bool,
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PLENUM_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl PgCluster {
    /// Start a cluster, or `None` (with a message) when PostgreSQL is not installed and not required.
    pub fn start() -> Option<PgCluster> {
        let Some(bin) = find_bin_dir() else {
            if std::env::var("PLENUM_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PostgreSQL is required (PLENUM_TEST_REQUIRE_POSTGRES=1) but /usr/lib/postgresql/*/bin is missing");
            }
            eprintln!("SKIPPED: PostgreSQL tests (install Debian's postgresql package to run them)");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("plenum-pg-{}-{}", std::process::id(), free_port()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // initdb and postgres refuse to run as root: run them as the package's postgres user.
        let as_postgres_user = is_root();
        if as_postgres_user {
            let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap().success();
            assert!(ok, "chown of {} to postgres failed", dir.display());
        }
        let port = free_port();
        let cluster = PgCluster { dir, bin, port, as_postgres_user };
        let data = cluster.dir.join("data");
        cluster.run("initdb", &["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        cluster.start_server();
        Some(cluster)
    }

    /// Start the server on the cluster's port (`pg_ctl start`, waiting until it accepts connections).
    fn start_server(&self) {
        let data = self.dir.join("data");
        let opts = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -F", self.port, self.dir.display());
        let log = self.dir.join("log");
        self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-o", &opts, "-l", log.to_str().unwrap(), "-w", "start"]);
    }

    /// Stop the server (`pg_ctl stop -m fast`: open connections are closed); the data stays for [`Self::restart`].
    #[allow(dead_code)]
    pub fn stop(&self) {
        let data = self.dir.join("data");
        self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"]);
    }

    /// Start the server again after [`Self::stop`], same port and data.
    #[allow(dead_code)]
    pub fn restart(&self) {
        self.start_server();
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).current_dir(&self.dir).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// URL of database `name` (created by the caller).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    fn data(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data().join("data");
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap_or(""), "-m", "immediate", "-w", "stop"];
        let _ = if self.as_postgres_user {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

//! Storage: one `sqlx` pool over the `Any` driver, so the same queries and the same migrations serve SQLite (the
//! default, a file in the data directory) and PostgreSQL (`PLENUM_DATABASE_URL`).
//!
//! Why `Any` and one migration set rather than two drivers with two sets kept equivalent: the schema uses only
//! types both databases share (TEXT, BIGINT; ids and timestamps made by the server), every query uses `$N`
//! placeholders (which SQLite accepts too), so there is exactly one schema to review and nothing to drift apart.
//! The tests run every API scenario against both databases to hold that line.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, SqlSafeStr};

/// The database, shared by every handler (cheap to clone).
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    kind: DbKind,
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("unsupported database URL (use postgres://... or sqlite://...)")]
    UnsupportedUrl,
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

impl DbError {
    /// Whether this is a uniqueness violation (e.g. a duplicate email).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Query(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

/// The migrations, embedded in the binary.
fn migrator() -> Migrator {
    let simple = |version: i64, name: &str, sql: &'static str| {
        Migration::new(version, name.to_owned().into(), MigrationType::Simple, sql.into_sql_str(), false)
    };
    Migrator::with_migrations(vec![
        simple(1, "accounts meetings", include_str!("../../migrations/0001_accounts_meetings.sql")),
        simple(2, "oidc links", include_str!("../../migrations/0002_oidc_links.sql")),
        simple(3, "room bans", include_str!("../../migrations/0003_room_bans.sql")),
        simple(4, "user disabled", include_str!("../../migrations/0004_user_disabled.sql")),
    ])
}

impl Db {
    /// Open `database_url` (PostgreSQL or SQLite), or else `DATA_DIR/plenum.db`, creating it; then migrate.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Db, DbError> {
        install_default_drivers();
        let url = match database_url {
            Some(url) => url.to_owned(),
            None => {
                std::fs::create_dir_all(data_dir).map_err(|e| DbError::DataDir(data_dir.display().to_string(), e))?;
                format!("sqlite://{}?mode=rwc", data_dir.join("plenum.db").display())
            }
        };
        let kind = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let max = if kind == DbKind::Sqlite { 4 } else { 10 };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .map_err(DbError::Connect)?;
        migrator().run(&pool).await?;
        Ok(Db { pool, kind })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// One round trip to the database (`SELECT 1`): what `/readyz` asks.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.pool).await.map(|_| ()).map_err(DbError::from)
    }

    /// The `/readyz` check named `database`.
    pub fn readiness_check(&self) -> std::sync::Arc<dyn crate::health::ReadinessCheck> {
        let db = self.clone();
        crate::health::check_fn("database", move || {
            let db = db.clone();
            async move { db.ping().await.map_err(|e| e.to_string()) }
        })
    }
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Microseconds since the epoch.
pub fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// A random id of `len` lowercase letters and digits (also safe as a room name and in URLs).
pub fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// A 0/1 column as bool.
pub fn flag(v: i64) -> bool {
    v != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_is_created_and_migrated_in_the_data_dir() {
        let dir = std::env::temp_dir().join(format!("plenum-db-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = Db::open(None, &dir.join("data")).await.unwrap();
        assert_eq!(db.kind(), DbKind::Sqlite);
        assert!(dir.join("data/plenum.db").exists());
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db.pool()).await.unwrap();
        assert_eq!(n, 0);
        db.pool().close().await;
        // Opening again does not re-run the migration.
        let db = Db::open(None, &dir.join("data")).await.unwrap();
        db.pool().close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn the_readiness_check_fails_once_the_database_is_unreachable() {
        let dir = std::env::temp_dir().join(format!("plenum-db-ready-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = Db::open(None, &dir).await.unwrap();
        let readiness = crate::health::Readiness::default();
        readiness.add(db.readiness_check());
        assert!(readiness.failing().await.is_empty());
        // A closed pool refuses every query, as a database that went away does.
        db.pool().close().await;
        assert_eq!(readiness.failing().await, vec!["database"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn random_ids_are_url_safe() {
        let id = random_id(16);
        assert_eq!(id.len(), 16);
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(random_id(16), id);
    }
}

//! Login sessions: a random token in an HttpOnly cookie; the database keeps only its SHA-256.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{User, user_from_row};
use crate::db::{Db, DbError, now_secs, random_id};

/// How long a session lasts after login.
pub const SESSION_TTL_SECS: i64 = 12 * 3600;

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Start a session for `user_id`; returns the token for the cookie.
pub async fn create(db: &Db, user_id: &str) -> Result<String, DbError> {
    let token = random_id(43);
    let now = now_secs();
    // Expired sessions are cleared here, so the table does not grow without bound.
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(db.pool()).await?;
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(user_id.to_owned())
        .bind(now)
        .bind(now + SESSION_TTL_SECS)
        .execute(db.pool())
        .await?;
    Ok(token)
}

/// The account of a live session.
pub async fn user_of(db: &Db, token: &str) -> Result<Option<User>, DbError> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.role, u.password_hash, u.disabled_at, u.version, s.expires_at FROM sessions s \
         JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let expires: i64 = row.try_get("expires_at")?;
    if expires <= now_secs() {
        return Ok(None);
    }
    let user = user_from_row(&row)?.0;
    // Disabling deletes the sessions too; this holds even for one made in the same instant.
    Ok((!user.disabled).then_some(user))
}

/// End a session.
pub async fn delete(db: &Db, token: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(db.pool()).await?;
    Ok(())
}

//! Local accounts (roles admin and staff), their sessions, and login rate limiting.

pub mod oidc_link;
pub mod password;
pub mod ratelimit;
pub mod sessions;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::audit::{self, Actor, AuditEntry};
use crate::db::{Db, DbError, now_secs, random_id};

/// Longest display name of an account.
pub const MAX_USER_NAME_CHARS: usize = 100;
/// Longest email address (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }
}

/// An account as the API shows it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Whether a local password is set (accounts from OpenID Connect have none).
    pub has_password: bool,
    /// An admin disabled the account: no login, no sessions.
    pub disabled: bool,
    /// Send it back unchanged with an update; a stale one gets 409.
    pub version: i64,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn actor(&self) -> Actor {
        Actor::new(&self.id, &self.name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("an account with this email address exists already")]
    DuplicateEmail,
    #[error("no such account")]
    NotFound,
    #[error("the account was changed by someone else meanwhile; reload and try again")]
    Conflict,
    #[error(transparent)]
    Password(#[from] password::PasswordError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        let e = DbError::from(e);
        if e.is_unique_violation() { AccountError::DuplicateEmail } else { AccountError::Db(e) }
    }
}

/// Emails are compared case-insensitively: stored trimmed and lowercased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// `None` if `email` looks like an address, else why not.
pub fn check_email(email: &str) -> Option<&'static str> {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else { return Some("not an email address") };
    if email.chars().count() > MAX_EMAIL_CHARS {
        Some("the email address is too long")
    } else if local.is_empty() || domain.is_empty() || domain.contains('@') || email.chars().any(char::is_whitespace)
    {
        Some("not an email address")
    } else {
        None
    }
}

/// `None` if `name` is an acceptable account name, else why not.
pub fn check_user_name(name: &str) -> Option<String> {
    let n = name.trim().chars().count();
    if n == 0 {
        Some("the name must not be empty".into())
    } else if n > MAX_USER_NAME_CHARS {
        Some(format!("the name must have at most {MAX_USER_NAME_CHARS} characters"))
    } else {
        None
    }
}

/// A new account; fields already validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// An argon2id PHC string, or `None` (login only through OpenID Connect).
    pub password_hash: Option<String>,
}

const USER_COLUMNS: &str = "id, email, name, role, password_hash, disabled_at, version";

fn user_from_row(row: &AnyRow) -> Result<(User, Option<String>), sqlx::Error> {
    let role: String = row.try_get("role")?;
    let hash: Option<String> = row.try_get("password_hash")?;
    let user = User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).unwrap_or(Role::Staff),
        has_password: hash.is_some(),
        disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        version: row.try_get("version")?,
    };
    Ok((user, hash))
}

/// Create an account and audit it.
pub async fn create_user(db: &Db, new: NewUser, actor: &Actor) -> Result<User, AccountError> {
    let id = random_id(16);
    let now = now_secs();
    let email = normalize_email(&new.email);
    let name = new.name.trim().to_owned();
    let mut tx = db.pool().begin().await.map_err(DbError::from)?;
    sqlx::query(
        "INSERT INTO users (id, email, name, role, password_hash, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
    )
    .bind(id.clone())
    .bind(email.clone())
    .bind(name.clone())
    .bind(new.role.as_str())
    .bind(new.password_hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let entry = AuditEntry::new(actor.clone(), "user.created", "user", &id, &name)
        .with_details(serde_json::json!({"email": email, "role": new.role.as_str()}));
    audit::record_in(&mut tx, &entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    get_user(db, &id).await?.ok_or(AccountError::NotFound)
}

pub async fn get_user(db: &Db, id: &str) -> Result<Option<User>, DbError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
        .bind(id.to_owned())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| user_from_row(&r)).transpose()?.map(|(u, _)| u))
}

/// The account with this email and its password hash.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<(User, Option<String>)>, DbError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1")))
        .bind(normalize_email(email))
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| user_from_row(&r)).transpose()?)
}

pub async fn list_users(db: &Db) -> Result<Vec<User>, DbError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users ORDER BY name, email")))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.iter().map(|r| user_from_row(r).map(|(u, _)| u)).collect::<Result<_, _>>()?)
}

/// Whether `id` is an account an admin disabled (false for identities that are no account, e.g. guests).
pub async fn is_disabled(db: &Db, id: &str) -> Result<bool, DbError> {
    let at: Option<Option<i64>> = sqlx::query_scalar("SELECT disabled_at FROM users WHERE id = $1")
        .bind(id.to_owned())
        .fetch_optional(db.pool())
        .await?;
    Ok(at.flatten().is_some())
}

pub async fn count_users(db: &Db) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db.pool()).await?)
}

/// Changes to an account; fields already validated.
#[derive(Debug, Clone)]
pub struct UserChanges {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// A new password hash, or `None` to keep the current one.
    pub password_hash: Option<String>,
    /// Disable or enable the account; `None` keeps it as it is.
    pub disabled: Option<bool>,
}

/// Update an account if it is still at `version`; audit it.
pub async fn update_user(
    db: &Db,
    id: &str,
    version: i64,
    changes: UserChanges,
    actor: &Actor,
) -> Result<User, AccountError> {
    let mut tx = db.pool().begin().await.map_err(DbError::from)?;
    let before = lock_user(&mut tx, id).await?.ok_or(AccountError::NotFound)?;
    let email = normalize_email(&changes.email);
    let name = changes.name.trim().to_owned();
    let password_changed = changes.password_hash.is_some();
    let disabled = changes.disabled.unwrap_or(before.disabled);
    let now = now_secs();
    // Kept when unchanged, so the time of disabling stays the first one.
    let disabled_at = match (before.disabled, disabled) {
        (_, false) => None,
        (false, true) => Some(now),
        (true, true) => sqlx::query_scalar::<_, Option<i64>>("SELECT disabled_at FROM users WHERE id = $1")
            .bind(id.to_owned())
            .fetch_one(&mut *tx)
            .await?
            .or(Some(now)),
    };
    let done = sqlx::query(
        "UPDATE users SET email = $1, name = $2, role = $3, password_hash = COALESCE($4, password_hash), \
         disabled_at = $5, version = version + 1, updated_at = $6 WHERE id = $7 AND version = $8",
    )
    .bind(email.clone())
    .bind(name.clone())
    .bind(changes.role.as_str())
    .bind(changes.password_hash)
    .bind(disabled_at)
    .bind(now)
    .bind(id.to_owned())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AccountError::Conflict);
    }
    if password_changed || disabled {
        // A new password or disabling ends every session of the account (the admin's own session is separate).
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.to_owned()).execute(&mut *tx).await?;
    }
    let mut changed = serde_json::Map::new();
    if before.email != email {
        changed.insert("email".into(), serde_json::json!({"from": before.email, "to": email}));
    }
    if before.name != name {
        changed.insert("name".into(), serde_json::json!({"from": before.name, "to": name}));
    }
    if before.role != changes.role {
        changed.insert("role".into(), serde_json::json!({"from": before.role, "to": changes.role}));
    }
    if password_changed {
        changed.insert("password".into(), serde_json::json!("changed"));
    }
    if before.disabled != disabled {
        changed.insert("disabled".into(), serde_json::json!({"from": before.disabled, "to": disabled}));
    }
    let action = match (before.disabled, disabled) {
        (false, true) => "user.disabled",
        (true, false) => "user.enabled",
        _ => "user.updated",
    };
    let entry = AuditEntry::new(actor.clone(), action, "user", id, &name)
        .with_details(serde_json::Value::Object(changed));
    audit::record_in(&mut tx, &entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    get_user(db, id).await?.ok_or(AccountError::NotFound)
}

/// Re-read a row inside `tx` (the subsequent UPDATE takes the write lock).
async fn lock_user(tx: &mut Transaction<'_, Any>, id: &str) -> Result<Option<User>, DbError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
        .bind(id.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| user_from_row(&r)).transpose()?.map(|(u, _)| u))
}

/// Delete an account: its sessions and moderator roles go with it, its meetings pass to `new_owner_id` (the
/// acting admin). Audited.
pub async fn delete_user(db: &Db, id: &str, new_owner_id: &str, actor: &Actor) -> Result<(), AccountError> {
    let mut tx = db.pool().begin().await.map_err(DbError::from)?;
    let user = lock_user(&mut tx, id).await?.ok_or(AccountError::NotFound)?;
    let moved = sqlx::query("UPDATE meetings SET owner_id = $1, version = version + 1 WHERE owner_id = $2")
        .bind(new_owner_id.to_owned())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM users WHERE id = $1").bind(id.to_owned()).execute(&mut *tx).await?;
    let entry = AuditEntry::new(actor.clone(), "user.deleted", "user", id, &user.name)
        .with_details(serde_json::json!({"email": user.email, "meetings_moved_to": new_owner_id, "meetings_moved": moved}));
    audit::record_in(&mut tx, &entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

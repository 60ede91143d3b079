//! Accounts of people who log in with OpenID Connect: found by the provider's issuer and subject, created on the
//! first login (or linked to the local account with the same email address), and kept up to date from the
//! provider's claims (name, email, role) at every login. Every login and every refusal is audited.

use sqlx::{Any, Row, Transaction};

use super::{AccountError, MAX_USER_NAME_CHARS, Role, User, USER_COLUMNS, check_email, normalize_email, user_from_row};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::{Db, DbError, now_secs, random_id};
use crate::oidc::claims::Identity;

/// Most role claim values kept in an audit entry (providers may send hundreds of groups).
const MAX_AUDITED_VALUES: usize = 20;

/// Why a person the provider vouched for may not log in. [`Refusal::code`] is what the login page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the provider's role claim has no value that gives access to Plenum")]
    NoRole,
    #[error("the provider sent no email address")]
    NoEmail,
    #[error("a local account with this email address exists, and it cannot be linked to this login")]
    EmailTaken,
    #[error("an admin disabled this account")]
    Disabled,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NoRole => "oidc_no_role",
            Refusal::NoEmail => "oidc_no_email",
            Refusal::EmailTaken => "oidc_email_taken",
            Refusal::Disabled => "oidc_disabled",
        }
    }
}

/// Log `who` in with `role` (from the role claim; `None`: refused) from the client address `ip` (audited). The
/// account, or why not.
pub async fn login(
    db: &Db,
    who: &Identity,
    role: Option<Role>,
    ip: std::net::IpAddr,
) -> Result<Result<User, Refusal>, AccountError> {
    let mut tx = db.pool().begin().await.map_err(DbError::from)?;
    let linked = linked_user(&mut tx, who).await?;
    let outcome = match role {
        None => Err(Refusal::NoRole),
        Some(role) => match linked {
            Some(user) if user.disabled => Err(Refusal::Disabled),
            Some(user) => Ok(update(&mut tx, who, user, role).await?),
            None => first_login(&mut tx, who, role).await?,
        },
    };
    let actor = match &outcome {
        Ok(user) => user.actor(),
        Err(_) => Actor { id: None, name: shown_name(who) },
    };
    let mut details = serde_json::json!({"issuer": who.issuer, "subject": who.subject, "ip": ip.to_string()});
    let entry = match outcome {
        Ok(ref user) => {
            details["role"] = serde_json::json!(user.role);
            AuditEntry::new(actor, "login.oidc", "user", &user.id, &user.name).with_details(details)
        }
        Err(refusal) => {
            details["reason"] = serde_json::json!(refusal.code());
            details["email"] = serde_json::json!(who.email);
            let values: Vec<&String> = who.role_values.iter().flatten().take(MAX_AUDITED_VALUES).collect();
            details["role_claim_values"] = serde_json::json!(values);
            let (id, name) = match &linked_id(&mut tx, who).await? {
                Some(id) => (id.clone(), shown_name(who)),
                None => (String::new(), shown_name(who)),
            };
            AuditEntry::new(actor, "login.oidc_refused", "user", &id, &name).with_details(details)
        }
    };
    audit::record_in(&mut tx, &entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    if let Err(refusal) = outcome {
        tracing::info!(issuer = %who.issuer, reason = refusal.code(), "OpenID Connect login refused");
    }
    Ok(outcome)
}

/// A name for the audit log when there is no account: the provider's name, else email, else subject.
fn shown_name(who: &Identity) -> String {
    who.name.clone().or_else(|| who.email.clone()).unwrap_or_else(|| who.subject.clone())
}

fn clip_name(name: &str) -> String {
    name.trim().chars().take(MAX_USER_NAME_CHARS).collect()
}

async fn linked_id(tx: &mut Transaction<'_, Any>, who: &Identity) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar("SELECT user_id FROM oidc_links WHERE issuer = $1 AND subject = $2")
        .bind(who.issuer.clone())
        .bind(who.subject.clone())
        .fetch_optional(&mut **tx)
        .await?)
}

async fn linked_user(tx: &mut Transaction<'_, Any>, who: &Identity) -> Result<Option<User>, DbError> {
    let Some(id) = linked_id(tx, who).await? else { return Ok(None) };
    user_in(tx, "id", &id).await
}

async fn user_in(tx: &mut Transaction<'_, Any>, column: &str, value: &str) -> Result<Option<User>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(value.to_owned()).fetch_optional(&mut **tx).await?;
    Ok(row.map(|r| user_from_row(&r)).transpose()?.map(|(u, _)| u))
}

/// An account linked earlier: take over name, email and role from the provider (the email only when no other
/// account has it).
async fn update(tx: &mut Transaction<'_, Any>, who: &Identity, user: User, role: Role) -> Result<User, AccountError> {
    let now = now_secs();
    sqlx::query("UPDATE oidc_links SET last_login_at = $1 WHERE issuer = $2 AND subject = $3")
        .bind(now)
        .bind(who.issuer.clone())
        .bind(who.subject.clone())
        .execute(&mut **tx)
        .await?;
    let name = who.name.as_deref().map(clip_name).filter(|n| !n.is_empty()).unwrap_or_else(|| user.name.clone());
    let mut email = user.email.clone();
    if let Some(new) = who.email.as_deref().map(normalize_email)
        && new != user.email
    {
        match user_in(tx, "email", &new).await? {
            None => email = new,
            Some(_) => tracing::warn!("OpenID Connect login: the provider's new email address belongs to another account; kept the old one"),
        }
    }
    if name == user.name && email == user.email && role == user.role {
        return Ok(user);
    }
    sqlx::query("UPDATE users SET email = $1, name = $2, role = $3, version = version + 1, updated_at = $4 WHERE id = $5")
        .bind(email.clone())
        .bind(name.clone())
        .bind(role.as_str())
        .bind(now)
        .bind(user.id.clone())
        .execute(&mut **tx)
        .await?;
    let mut changed = serde_json::Map::new();
    if user.email != email {
        changed.insert("email".into(), serde_json::json!({"from": user.email, "to": email}));
    }
    if user.name != name {
        changed.insert("name".into(), serde_json::json!({"from": user.name, "to": name}));
    }
    if user.role != role {
        changed.insert("role".into(), serde_json::json!({"from": user.role, "to": role}));
    }
    changed.insert("via".into(), serde_json::json!("oidc"));
    let entry = AuditEntry::new(user.actor(), "user.updated", "user", &user.id, &name)
        .with_details(serde_json::Value::Object(changed));
    audit::record_in(tx, &entry).await?;
    Ok(User { email, name, role, version: user.version + 1, ..user })
}

/// No account is linked yet: link the one with the same (verified) email address, or create one.
async fn first_login(tx: &mut Transaction<'_, Any>, who: &Identity, role: Role) -> Result<Result<User, Refusal>, AccountError> {
    let Some(email) = who.email.as_deref().filter(|e| check_email(e).is_none()).map(normalize_email) else {
        return Ok(Err(Refusal::NoEmail));
    };
    let now = now_secs();
    let user = match user_in(tx, "email", &email).await? {
        Some(existing) => {
            // Only an address the provider vouches for may take over an existing account, and only one that is not
            // linked to another person at this provider already.
            let other: Option<String> = sqlx::query_scalar("SELECT subject FROM oidc_links WHERE user_id = $1 AND issuer = $2")
                .bind(existing.id.clone())
                .bind(who.issuer.clone())
                .fetch_optional(&mut **tx)
                .await
                .map_err(DbError::from)?;
            if who.email_verified == Some(false) || other.is_some() {
                return Ok(Err(Refusal::EmailTaken));
            }
            if existing.disabled {
                return Ok(Err(Refusal::Disabled));
            }
            existing
        }
        None => {
            let id = random_id(16);
            let name = who.name.as_deref().map(clip_name).filter(|n| !n.is_empty()).unwrap_or_else(|| email.clone());
            sqlx::query(
                "INSERT INTO users (id, email, name, role, password_hash, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, NULL, 1, $5, $5)",
            )
            .bind(id.clone())
            .bind(email.clone())
            .bind(name.clone())
            .bind(role.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let user = User { id: id.clone(), email: email.clone(), name: name.clone(), role, has_password: false, disabled: false, version: 1 };
            let entry = AuditEntry::new(user.actor(), "user.created", "user", &id, &name)
                .with_details(serde_json::json!({"email": email, "role": role.as_str(), "via": "oidc"}));
            audit::record_in(tx, &entry).await?;
            user
        }
    };
    sqlx::query("INSERT INTO oidc_links (issuer, subject, user_id, created_at, last_login_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(who.issuer.clone())
        .bind(who.subject.clone())
        .bind(user.id.clone())
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(DbError::from)?;
    Ok(Ok(update(tx, who, user, role).await?))
}

/// How many provider subjects are linked to `user_id` (for tests and the admin view).
pub async fn link_count(db: &Db, user_id: &str) -> Result<i64, DbError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM oidc_links WHERE user_id = $1")
        .bind(user_id.to_owned())
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get("n")?)
}

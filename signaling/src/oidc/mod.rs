//! Login with OpenID Connect (Keycloak, ADFS, any certified provider): the authorization-code flow with PKCE,
//! state and nonce, provider discovery from the issuer URL, ID token validation (signature, issuer, audience,
//! expiry, nonce) by the `openidconnect` crate, and the user's role from a claim.
//!
//! - [`OidcSettings`]: the checked `oidc_*` options (`plenum serve` and `plenum config check` share the checks).
//! - [`pending`]: the short-lived signed cookie that carries state, nonce and PKCE verifier through the provider.
//! - [`provider`]: discovery (cached), the authorization URL, the code exchange and validation.
//! - [`claims`]: the role claim and the identity (subject, email, name) from the validated claims.
//!
//! The HTTP endpoints are in [`crate::api::oidc`], the account linking in [`crate::accounts::oidc_link`].

pub mod claims;
pub mod pending;
pub mod provider;

use crate::accounts::Role;
use crate::config::OidcArgs;

pub use provider::OidcLogin;

/// Where the provider sends the browser back to, below the public URL.
pub const CALLBACK_PATH: &str = "/api/v1/auth/oidc/callback";

/// The checked OpenID Connect settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub display_name: String,
    /// Dotted path of the role claim (`roles`, `realm_access.roles`).
    pub role_claim: String,
    pub admin_values: Vec<String>,
    pub staff_values: Vec<String>,
    /// Besides `openid`.
    pub scopes: Vec<String>,
}

/// A problem with the `oidc_*` options. The messages name the options as they are written in plenum.toml.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcConfigError {
    #[error("\"{0}\" is set but \"oidc_issuer\" is not: set oidc_issuer (the provider's issuer URL) to turn on OpenID Connect login, or remove the oidc_* options")]
    NoIssuer(&'static str),
    #[error("\"oidc_issuer\" is set but \"oidc_client_id\" is not (the client id registered at the provider)")]
    NoClientId,
    #[error("\"oidc_issuer\" is set but neither \"oidc_client_secret\" nor \"oidc_client_secret_file\" is")]
    NoClientSecret,
    #[error("set only one of \"oidc_client_secret\" and \"oidc_client_secret_file\"")]
    TwoSecrets,
    #[error("cannot read \"oidc_client_secret_file\" {path}: {reason}")]
    SecretFile { path: String, reason: String },
    #[error("\"oidc_client_secret_file\" {0} is empty")]
    EmptySecret(String),
    #[error("\"oidc_issuer\" {url:?} is not usable: {reason}")]
    BadIssuer { url: String, reason: String },
    #[error("\"oidc_admin_values\" and \"oidc_staff_values\" are both empty: nobody could log in with OpenID Connect (give the {0:?} claim values that make an admin or staff)")]
    NoRoleValues(String),
    #[error("\"oidc_role_claim\" must name a claim (e.g. roles, groups or realm_access.roles)")]
    NoRoleClaim,
    #[error("\"oidc_display_name\" must not be empty")]
    NoDisplayName,
}

impl OidcSettings {
    /// `None` when OpenID Connect is off (no option set), else the checked settings. Reads the secret file.
    pub fn from_args(args: &OidcArgs) -> Result<Option<OidcSettings>, OidcConfigError> {
        let Some(issuer) = args.oidc_issuer.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            let set = [
                ("oidc_client_id", args.oidc_client_id.is_some()),
                ("oidc_client_secret", args.oidc_client_secret.is_some()),
                ("oidc_client_secret_file", args.oidc_client_secret_file.is_some()),
                ("oidc_admin_values", !args.oidc_admin_values.is_empty()),
                ("oidc_staff_values", !args.oidc_staff_values.is_empty()),
            ];
            return match set.iter().find(|(_, is_set)| *is_set) {
                Some((name, _)) => Err(OidcConfigError::NoIssuer(name)),
                None => Ok(None),
            };
        };
        check_issuer(issuer)?;
        let client_id = args.oidc_client_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let client_id = client_id.ok_or(OidcConfigError::NoClientId)?.to_owned();
        let client_secret = match (&args.oidc_client_secret, &args.oidc_client_secret_file) {
            (Some(_), Some(_)) => return Err(OidcConfigError::TwoSecrets),
            (Some(secret), None) if !secret.trim().is_empty() => secret.trim().to_owned(),
            (None, Some(path)) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path)
                    .map_err(|e| OidcConfigError::SecretFile { path: shown.clone(), reason: e.to_string() })?;
                let secret = text.trim();
                if secret.is_empty() {
                    return Err(OidcConfigError::EmptySecret(shown));
                }
                secret.to_owned()
            }
            _ => return Err(OidcConfigError::NoClientSecret),
        };
        let role_claim = args.oidc_role_claim.trim().to_owned();
        if role_claim.is_empty() {
            return Err(OidcConfigError::NoRoleClaim);
        }
        let clean = |values: &[String]| -> Vec<String> {
            values.iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect()
        };
        let admin_values = clean(&args.oidc_admin_values);
        let staff_values = clean(&args.oidc_staff_values);
        if admin_values.is_empty() && staff_values.is_empty() {
            return Err(OidcConfigError::NoRoleValues(role_claim));
        }
        let display_name = args.oidc_display_name.trim().to_owned();
        if display_name.is_empty() {
            return Err(OidcConfigError::NoDisplayName);
        }
        let mut scopes: Vec<String> = Vec::new();
        for scope in clean(&args.oidc_scopes) {
            if scope != "openid" && !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok(Some(OidcSettings {
            issuer: issuer.to_owned(),
            client_id,
            client_secret,
            display_name,
            role_claim,
            admin_values,
            staff_values,
            scopes,
        }))
    }

    /// The role the claim values give, if any (admin wins over staff).
    pub fn role_for(&self, values: &[String]) -> Option<Role> {
        if values.iter().any(|v| self.admin_values.contains(v)) {
            Some(Role::Admin)
        } else if values.iter().any(|v| self.staff_values.contains(v)) {
            Some(Role::Staff)
        } else {
            None
        }
    }
}

/// The issuer must be an absolute https URL; plain http only on loopback (a provider on the same machine, tests).
fn check_issuer(url: &str) -> Result<(), OidcConfigError> {
    let bad = |reason: &str| OidcConfigError::BadIssuer { url: url.to_owned(), reason: reason.to_owned() };
    let parsed = openidconnect::url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("an issuer URL has no query or fragment"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>();
            let loopback = host == "localhost" || ip.is_ok_and(|ip| ip.is_loopback());
            if loopback { Ok(()) } else { Err(bad("it must be https (plain http only for a provider on loopback)")) }
        }
        _ => Err(bad("it must be an https URL")),
    }
}

#[cfg(test)]
mod tests;

//! What Plenum takes from a validated ID token (and the userinfo response): the role claim's values and the
//! person's email and name. Pure functions over the claims, so the rules are tested here without a provider.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Every claim the `openidconnect` types do not model (the role claim among them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl openidconnect::AdditionalClaims for ExtraClaims {}

/// The claims of one source (the ID token or the userinfo response) that matter here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimSet {
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub preferred_username: Option<String>,
    pub extra: Map<String, Value>,
}

/// The values of the claim at `path`: `None` when the claim is absent. The whole path is tried as one claim name
/// first (ADFS uses URIs with dots as names), then dots descend into objects (`realm_access.roles`). A string is
/// one value, a list gives its strings.
pub fn claim_values(claims: &Map<String, Value>, path: &str) -> Option<Vec<String>> {
    let value = match claims.get(path) {
        Some(v) => v,
        None => {
            let mut parts = path.split('.');
            let mut v = claims.get(parts.next()?)?;
            for part in parts {
                v = v.as_object()?.get(part)?;
            }
            v
        }
    };
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => Some(items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()),
        Value::Number(n) => Some(vec![n.to_string()]),
        Value::Bool(b) => Some(vec![b.to_string()]),
        _ => None,
    }
}

impl ClaimSet {
    /// The email address: `email`, else an address-like `upn` (ADFS) or `preferred_username`.
    pub fn email(&self) -> Option<String> {
        let upn = self.extra.get("upn").and_then(Value::as_str).map(str::to_owned);
        [self.email.clone(), upn, self.preferred_username.clone()]
            .into_iter()
            .flatten()
            .map(|e| e.trim().to_owned())
            .find(|e| crate::accounts::check_email(e).is_none())
    }

    /// The display name: `name`, else given and family name, else `preferred_username`.
    pub fn name(&self) -> Option<String> {
        let joined = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        [self.name.clone(), Some(joined), self.preferred_username.clone()]
            .into_iter()
            .flatten()
            .map(|n| n.trim().to_owned())
            .find(|n| !n.is_empty())
    }
}

/// The person as the provider describes them, from the ID token and (for what it lacks) the userinfo response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// `Some(false)` when the provider says the address is not verified.
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    /// The role claim's values; `None` when neither source has the claim.
    pub role_values: Option<Vec<String>>,
}

impl Identity {
    pub fn from_claims(issuer: &str, subject: &str, id_token: &ClaimSet, userinfo: Option<&ClaimSet>, role_claim: &str) -> Identity {
        let sources: Vec<&ClaimSet> = std::iter::once(id_token).chain(userinfo).collect();
        let first = |f: &dyn Fn(&ClaimSet) -> Option<String>| sources.iter().find_map(|s| f(s));
        let email = first(&|s| s.email());
        let email_verified = sources.iter().find(|s| s.email() == email).and_then(|s| s.email_verified);
        Identity {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            email,
            email_verified,
            name: first(&|s| s.name()),
            role_values: sources.iter().find_map(|s| claim_values(&s.extra, role_claim)),
        }
    }

    /// Whether the userinfo endpoint could add something the ID token lacks.
    pub fn lacks(id_token: &ClaimSet, role_claim: &str) -> bool {
        claim_values(&id_token.extra, role_claim).is_none() || id_token.email().is_none() || id_token.name().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn claim_paths() {
        let c = map(json!({
            "roles": ["a", "b", 3],
            "role": "admin",
            "realm_access": {"roles": ["plenum-admin"]},
            "resource_access": {"plenum": {"roles": ["staff"]}},
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": "Plenum-Staff",
            "empty": [],
            "obj": {"x": 1},
        }));
        assert_eq!(claim_values(&c, "roles"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(claim_values(&c, "role"), Some(vec!["admin".into()]));
        assert_eq!(claim_values(&c, "realm_access.roles"), Some(vec!["plenum-admin".into()]));
        assert_eq!(claim_values(&c, "resource_access.plenum.roles"), Some(vec!["staff".into()]));
        assert_eq!(
            claim_values(&c, "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"),
            Some(vec!["Plenum-Staff".into()])
        );
        assert_eq!(claim_values(&c, "empty"), Some(vec![]));
        assert_eq!(claim_values(&c, "obj"), None);
        assert_eq!(claim_values(&c, "groups"), None);
        assert_eq!(claim_values(&c, "realm_access.groups"), None);
        assert_eq!(claim_values(&c, "role.x"), None);
    }

    #[test]
    fn identity_prefers_the_id_token_and_fills_gaps_from_userinfo() {
        let id = ClaimSet { name: Some("Erika Muster".into()), extra: map(json!({"upn": "erika@land.example"})), ..Default::default() };
        let info = ClaimSet {
            email: Some("erika.muster@land.example".into()),
            email_verified: Some(false),
            name: Some("Other".into()),
            extra: map(json!({"groups": ["plenum-staff"]})),
            ..Default::default()
        };
        let who = Identity::from_claims("https://sso", "sub-1", &id, Some(&info), "groups");
        assert_eq!(who.email.as_deref(), Some("erika@land.example"), "upn from the ID token comes first");
        assert_eq!(who.email_verified, None, "verification belongs to the source of the address used");
        assert_eq!(who.name.as_deref(), Some("Erika Muster"));
        assert_eq!(who.role_values, Some(vec!["plenum-staff".into()]));
        assert!(Identity::lacks(&id, "groups"));
    }

    #[test]
    fn names_and_emails_fall_back() {
        let c = ClaimSet {
            given_name: Some("Max".into()),
            family_name: Some("Mustermann".into()),
            preferred_username: Some("max@land.example".into()),
            ..Default::default()
        };
        assert_eq!(c.name().as_deref(), Some("Max Mustermann"));
        assert_eq!(c.email().as_deref(), Some("max@land.example"));
        let bare = ClaimSet { preferred_username: Some("max".into()), ..Default::default() };
        assert_eq!(bare.email(), None, "a user name that is no address is not an email");
        assert_eq!(bare.name().as_deref(), Some("max"));
    }
}

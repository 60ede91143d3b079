//! A login in progress: state, nonce, PKCE verifier and where to go afterwards travel through the provider in a
//! short-lived cookie (HttpOnly, SameSite=Lax so the provider's redirect back carries it, path limited to the OIDC
//! endpoints), signed (HS256) with a key derived from the server secret. Nothing is stored server-side, so any
//! node of a cluster can finish a login another one began, and a browser can only finish the login it began.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The cookie's name.
pub const COOKIE: &str = "plenum_oidc";
/// How long a login at the provider may take.
pub const TTL_SECS: u64 = 600;
/// The `aud` of these tokens, so that nothing else signed with the server secret passes for one.
const AUDIENCE: &str = "plenum-oidc-login";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// A same-origin path to show after the login.
    pub return_to: String,
    aud: String,
    pub exp: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PendingError {
    #[error("no login in progress (the login cookie is missing, expired or not valid)")]
    Invalid,
    #[error("the state returned by the provider does not belong to this browser's login")]
    StateMismatch,
}

/// Signs and checks [`Pending`] cookies.
#[derive(Clone)]
pub struct PendingKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for PendingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingKeys")
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl PendingKeys {
    /// Keys derived from the server secret (a separate key: join tokens and these never share one).
    pub fn new(server_secret: &[u8]) -> PendingKeys {
        let key = Sha256::new().chain_update(b"plenum oidc pending login\0").chain_update(server_secret).finalize();
        PendingKeys { encoding: EncodingKey::from_secret(&key[..]), decoding: DecodingKey::from_secret(&key[..]) }
    }

    pub fn sign(&self, state: String, nonce: String, pkce_verifier: String, return_to: String) -> String {
        let pending = Pending { state, nonce, pkce_verifier, return_to, aud: AUDIENCE.to_owned(), exp: unix_now() + TTL_SECS };
        // HS256 over a small struct of strings cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &pending, &self.encoding).unwrap_or_default()
    }

    /// The login of this cookie, if it is genuine, unexpired, and `state` is its state.
    pub fn verify(&self, cookie: &str, state: &str) -> Result<Pending, PendingError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        validation.leeway = 0;
        let pending = jsonwebtoken::decode::<Pending>(cookie, &self.decoding, &validation)
            .map_err(|_| PendingError::Invalid)?
            .claims;
        // Constant-time enough: the state is not a secret the attacker could learn by timing (it is in the URL).
        if pending.state != state {
            return Err(PendingError::StateMismatch);
        }
        Ok(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let keys = PendingKeys::new(b"a server secret that is long enough!!");
        let cookie = keys.sign("st".into(), "no".into(), "ver".into(), "/meetings".into());
        let p = keys.verify(&cookie, "st").unwrap();
        assert_eq!((p.nonce.as_str(), p.pkce_verifier.as_str(), p.return_to.as_str()), ("no", "ver", "/meetings"));
        assert_eq!(keys.verify(&cookie, "other"), Err(PendingError::StateMismatch));
        let other = PendingKeys::new(b"another secret that is long enough!!!");
        assert_eq!(other.verify(&cookie, "st"), Err(PendingError::Invalid));
        let mut tampered = cookie.clone();
        tampered.insert(cookie.len() / 2, 'x');
        assert_eq!(keys.verify(&tampered, "st"), Err(PendingError::Invalid));
        // A join token signed with the plain server secret is no pending login.
        let join = crate::token::TokenKeys::new(b"a server secret that is long enough!!");
        let claims = crate::token::Claims::new("room", "id", "n", false, std::time::Duration::from_secs(60));
        assert_eq!(keys.verify(&join.sign(&claims).unwrap(), "st"), Err(PendingError::Invalid));
    }

    #[test]
    fn expired_logins_are_refused() {
        let keys = PendingKeys::new(b"a server secret that is long enough!!");
        let old = Pending {
            state: "st".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            return_to: "/".into(),
            aud: AUDIENCE.into(),
            exp: unix_now() - 1,
        };
        let cookie = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&cookie, "st"), Err(PendingError::Invalid));
    }
}

//! Join tokens: HS256 JWTs signed with the server secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::TokenArgs;
use crate::protocol::ErrorCode;
use crate::room::{BadRoomName, validate_room_name};
use crate::secret::{self, SecretError};
use crate::session::MAX_NAME_CHARS;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    pub publish: bool,
    pub subscribe: bool,
}

impl Default for Grants {
    fn default() -> Self {
        Grants { publish: true, subscribe: true }
    }
}

/// The claims of a join token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub room: String,
    /// The participant's identity.
    pub sub: String,
    pub name: String,
    #[serde(default)]
    pub moderator: bool,
    #[serde(default)]
    pub grants: Grants,
    /// A guest from a meeting's guest link (no account). Absent in older tokens: false.
    #[serde(default)]
    pub guest: bool,
    /// This person waits in the meeting's lobby until a moderator admits them. Absent in older tokens: false.
    #[serde(default)]
    pub lobby: bool,
    pub iat: u64,
    pub exp: u64,
}

impl Claims {
    /// Claims valid from now for `ttl`.
    pub fn new(room: &str, identity: &str, name: &str, moderator: bool, ttl: Duration) -> Claims {
        let iat = unix_now();
        Claims {
            room: room.to_owned(),
            sub: identity.to_owned(),
            name: name.to_owned(),
            moderator,
            grants: Grants::default(),
            guest: false,
            lobby: false,
            iat,
            exp: iat.saturating_add(ttl.as_secs()),
        }
    }
}

/// Why a token was refused; each maps to one protocol error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the join token is malformed or its signature does not verify")]
    Invalid,
    #[error("the join token expired at {}", humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(*.0)))]
    Expired(u64),
    #[error("the join token was issued for another room")]
    WrongRoom,
}

impl TokenError {
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::Invalid => ErrorCode::TokenInvalid,
            TokenError::Expired(_) => ErrorCode::TokenExpired,
            TokenError::WrongRoom => ErrorCode::TokenWrongRoom,
        }
    }
}

/// Signs and verifies tokens with one secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> TokenKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by `verify` itself, so that the error can say when the token expired.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp"]);
        TokenKeys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Verify `token` for a join to `room` at the current time.
    pub fn verify(&self, token: &str, room: &str) -> Result<Claims, TokenError> {
        self.verify_at(token, room, unix_now())
    }

    /// Verify `token` for a join to `room` at `now` (seconds since the epoch).
    pub fn verify_at(&self, token: &str, room: &str, now: u64) -> Result<Claims, TokenError> {
        // Any decoding failure (shape, base64, JSON, algorithm, signature, missing claims) is `Invalid`;
        // the details stay on the server.
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        let claims = data.claims;
        if claims.exp <= now {
            return Err(TokenError::Expired(claims.exp));
        }
        if claims.room != room {
            return Err(TokenError::WrongRoom);
        }
        Ok(claims)
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Why `plenum token` cannot print a URL.
#[derive(Debug, thiserror::Error)]
pub enum JoinUrlError {
    #[error(transparent)]
    Room(#[from] BadRoomName),
    #[error("the identity must be 1-{MAX_IDENTITY} characters")]
    Identity,
    #[error("the name must be 1-{MAX_NAME_CHARS} characters")]
    Name,
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("cannot sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Longest identity, in characters.
pub const MAX_IDENTITY: usize = 128;

/// `plenum token`: a join URL `PUBLIC_URL/r/ROOM#token=TOKEN`, signed with the configured secret.
pub fn join_url(args: &TokenArgs) -> Result<String, JoinUrlError> {
    validate_room_name(&args.room)?;
    let identity = args.identity.trim();
    if identity.is_empty() || identity.chars().count() > MAX_IDENTITY {
        return Err(JoinUrlError::Identity);
    }
    let name = args.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(JoinUrlError::Name);
    }
    let secret = secret::load_or_create(args.common.secret.as_deref(), &args.common.data_dir)?;
    let mut claims = Claims::new(&args.room, identity, name, args.moderator, args.ttl);
    claims.guest = args.guest;
    claims.lobby = args.lobby;
    let token = TokenKeys::new(secret.as_bytes()).sign(&claims)?;
    // Room names need no escaping; the token is base64url and dots.
    Ok(format!("{}/r/{}#token={token}", args.common.public_url(), args.room))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> TokenKeys {
        TokenKeys::new(SECRET)
    }

    fn claims(ttl: Duration) -> Claims {
        Claims::new("team-weekly", "erika", "Erika Mustermann", true, ttl)
    }

    #[test]
    fn valid_token_round_trips() {
        let c = claims(Duration::from_secs(3600));
        let token = keys().sign(&c).unwrap();
        assert_eq!(keys().verify(&token, "team-weekly"), Ok(c.clone()));
        assert!(c.moderator);
        assert_eq!(c.grants, Grants { publish: true, subscribe: true });
        assert_eq!(c.exp - c.iat, 3600);
    }

    #[test]
    fn expired_token_is_refused_with_its_expiry() {
        let mut c = claims(Duration::from_secs(3600));
        c.iat = 1_700_000_000;
        c.exp = 1_700_000_060;
        let token = keys().sign(&c).unwrap();
        let err = keys().verify(&token, "team-weekly").unwrap_err();
        assert_eq!(err, TokenError::Expired(1_700_000_060));
        assert_eq!(err.code(), ErrorCode::TokenExpired);
        assert_eq!(err.to_string(), "the join token expired at 2023-11-14T22:14:20Z");
        // Valid one second before its expiry, not at it.
        assert!(keys().verify_at(&token, "team-weekly", 1_700_000_059).is_ok());
        assert!(keys().verify_at(&token, "team-weekly", 1_700_000_060).is_err());
    }

    #[test]
    fn tampered_payload_is_invalid() {
        let token = keys().sign(&claims(Duration::from_secs(600))).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        // Re-encode the payload with the moderator flag flipped, keeping header and signature.
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
        let payload = B64.decode(parts[1]).unwrap();
        let forged = String::from_utf8(payload).unwrap().replace("\"moderator\":true", "\"moderator\":false");
        let tampered = format!("{}.{}.{}", parts[0], B64.encode(forged.as_bytes()), parts[2]);
        assert_ne!(tampered, token);
        let err = keys().verify(&tampered, "team-weekly").unwrap_err();
        assert_eq!(err, TokenError::Invalid);
        assert_eq!(err.code(), ErrorCode::TokenInvalid);
    }

    #[test]
    fn wrong_secret_is_invalid() {
        let token = TokenKeys::new(b"another secret, just as long as the first")
            .sign(&claims(Duration::from_secs(600)))
            .unwrap();
        assert_eq!(keys().verify(&token, "team-weekly"), Err(TokenError::Invalid));
    }

    #[test]
    fn wrong_room_is_refused() {
        let token = keys().sign(&claims(Duration::from_secs(600))).unwrap();
        let err = keys().verify(&token, "other-room").unwrap_err();
        assert_eq!(err, TokenError::WrongRoom);
        assert_eq!(err.code(), ErrorCode::TokenWrongRoom);
    }

    #[test]
    fn tokens_without_guest_and_lobby_stay_valid() {
        // A token as issued before `guest` and `lobby` existed.
        let old = serde_json::json!({
            "room": "team-weekly", "sub": "erika", "name": "Erika", "moderator": true,
            "grants": {"publish": true, "subscribe": true}, "iat": 1_700_000_000u64, "exp": 4_000_000_000u64,
        });
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &EncodingKey::from_secret(SECRET)).unwrap();
        let decoded = keys().verify(&token, "team-weekly").unwrap();
        assert!(!decoded.guest && !decoded.lobby && decoded.moderator);
        // And the new fields round-trip.
        let mut c = claims(Duration::from_secs(600));
        c.guest = true;
        c.lobby = true;
        let token = keys().sign(&c).unwrap();
        assert_eq!(keys().verify(&token, "team-weekly"), Ok(c));
    }

    #[test]
    fn garbage_is_invalid() {
        for bad in ["", "abc", "a.b.c", "eyJhbGciOiJub25lIn0.eyJyb29tIjoieCJ9."] {
            assert_eq!(keys().verify(bad, "x"), Err(TokenError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn join_url_uses_the_data_dir_secret() {
        use crate::config::{Cli, Command};
        use clap::Parser;
        let dir = std::env::temp_dir().join(format!("plenum-token-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data = dir.to_str().unwrap();
        let parse = |room: &str| {
            let cli = Cli::try_parse_from([
                "plenum", "token", "--room", room, "--identity", "erika", "--name", "Erika", "--ttl", "30m",
                "--data-dir", data, "--public-url", "https://meet.example/",
            ])
            .unwrap();
            let Command::Token(args) = cli.command else { panic!("token") };
            args
        };
        let url = join_url(&parse("team-weekly")).unwrap();
        let token = url.strip_prefix("https://meet.example/r/team-weekly#token=").expect(&url);
        let secret = secret::load_or_create(None, &dir).unwrap();
        let claims = TokenKeys::new(secret.as_bytes()).verify(token, "team-weekly").unwrap();
        assert_eq!((claims.sub.as_str(), claims.name.as_str(), claims.moderator), ("erika", "Erika", false));
        assert_eq!(claims.exp - claims.iat, 1800);
        let mut lobby_args = parse("team-weekly");
        (lobby_args.guest, lobby_args.lobby) = (true, true);
        let url = join_url(&lobby_args).unwrap();
        let token = url.rsplit_once("#token=").unwrap().1;
        let claims = TokenKeys::new(secret.as_bytes()).verify(token, "team-weekly").unwrap();
        assert!(claims.guest && claims.lobby, "--guest and --lobby reach the claims");
        let cli = Cli::try_parse_from(["plenum", "token", "--room", "r", "--identity", "g", "--name", "G", "--guest", "--lobby"]);
        assert!(matches!(cli.map(|c| c.command), Ok(Command::Token(TokenArgs { guest: true, lobby: true, .. }))));
        let err = join_url(&parse("bad room")).unwrap_err();
        assert!(err.to_string().contains("invalid room name"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

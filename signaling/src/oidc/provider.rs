//! The provider side of a login: discovery (cached, refreshed when a token's key is unknown), the authorization
//! URL with PKCE, state and nonce, and the code exchange with ID token validation and, for what the ID token
//! lacks, the userinfo response.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims, IdTokenFields, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, UserInfoClaims,
};
use tokio::sync::Mutex;

use super::claims::{ClaimSet, ExtraClaims, Identity};
use super::pending::{Pending, PendingKeys};
use super::{CALLBACK_PATH, OidcSettings};

type Fields =
    IdTokenFields<ExtraClaims, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type TokenResponse = StandardTokenResponse<Fields, CoreTokenType>;
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long discovered metadata and keys are used before they are fetched again.
const METADATA_TTL: Duration = Duration::from_secs(15 * 60);
/// Keys fetched more recently than this are not fetched again for an unknown key (no fetch storms).
const MIN_REFRESH: Duration = Duration::from_secs(10);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a login could not be completed on the provider's side. [`OidcError::code`] is what the login page shows.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the OpenID provider cannot be reached or its discovery document is not usable: {0}")]
    Discovery(String),
    #[error("the OpenID provider refused the authorization code: {0}")]
    Exchange(String),
    #[error("the OpenID provider sent no ID token")]
    NoIdToken,
    #[error("the ID token is not valid: {0}")]
    IdToken(String),
    #[error("the userinfo request failed: {0}")]
    UserInfo(String),
    #[error("the provider's authorization response names another issuer ({0})")]
    WrongIssuer(String),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

impl OidcError {
    /// `oidc_unavailable` when the provider is not reachable, else `oidc_failed`.
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::Discovery(_) | OidcError::Http(_) => "oidc_unavailable",
            _ => "oidc_failed",
        }
    }
}

struct Cached {
    client: Arc<OidcClient>,
    fetched: Instant,
}

/// OpenID Connect login with one provider. Cheap to share (`Arc`).
pub struct OidcLogin {
    settings: OidcSettings,
    redirect_url: RedirectUrl,
    http: openidconnect::reqwest::Client,
    keys: PendingKeys,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for OidcLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLogin").field("issuer", &self.settings.issuer).finish_non_exhaustive()
    }
}

impl OidcLogin {
    /// `public_url` without a trailing slash; `server_secret` signs the login-in-progress cookies.
    pub fn new(settings: OidcSettings, public_url: &str, server_secret: &[u8]) -> Result<OidcLogin, OidcError> {
        let redirect_url = RedirectUrl::new(format!("{public_url}{CALLBACK_PATH}"))
            .map_err(|e| OidcError::Http(format!("the public URL gives no valid redirect URL: {e}")))?;
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would let a provider's answer send requests elsewhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(HTTP_TIMEOUT / 2)
            .build()
            .map_err(|e| OidcError::Http(e.to_string()))?;
        Ok(OidcLogin { settings, redirect_url, http, keys: PendingKeys::new(server_secret), cache: Mutex::new(None) })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    pub fn keys(&self) -> &PendingKeys {
        &self.keys
    }

    pub fn redirect_url(&self) -> &str {
        self.redirect_url.as_str()
    }

    /// The client for the provider's current metadata; `refresh` fetches it again unless it is very recent.
    async fn client(&self, refresh: bool) -> Result<Arc<OidcClient>, OidcError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref() {
            let age = c.fetched.elapsed();
            if (!refresh && age < METADATA_TTL) || (refresh && age < MIN_REFRESH) {
                return Ok(c.client.clone());
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| OidcError::Discovery(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Discovery(error_chain(&e)))?;
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect_url.clone());
        let client = Arc::new(client);
        *cache = Some(Cached { client: client.clone(), fetched: Instant::now() });
        tracing::info!(issuer = %self.settings.issuer, "OpenID provider discovered");
        Ok(client)
    }

    /// Begin a login: the provider's authorization URL and the signed cookie value that must come back with it.
    pub async fn begin(&self, return_to: &str) -> Result<(String, String), OidcError> {
        let client = self.client(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request =
            client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let cookie = self.keys.sign(
            state.secret().clone(),
            nonce.secret().clone(),
            verifier.secret().clone(),
            return_to.to_owned(),
        );
        Ok((url.to_string(), cookie))
    }

    /// Finish a login: exchange `code` (with the PKCE verifier), validate the ID token (signature, issuer,
    /// audience, expiry, nonce), and ask the userinfo endpoint for what the ID token lacks.
    pub async fn finish(&self, pending: &Pending, code: &str, iss: Option<&str>) -> Result<Identity, OidcError> {
        // RFC 9207: a provider that names itself in the response must be ours (mix-up defence).
        if let Some(iss) = iss
            && iss.trim_end_matches('/') != self.settings.issuer.trim_end_matches('/')
        {
            return Err(OidcError::WrongIssuer(iss.to_owned()));
        }
        let mut client = self.client(false).await?;
        let token: TokenResponse = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(error_chain(&e)))?;
        let id_token = token.extra_fields().id_token().ok_or(OidcError::NoIdToken)?;
        let nonce = Nonce::new(pending.nonce.clone());
        let first = id_token.claims(&client.id_token_verifier(), &nonce).cloned();
        let claims = match first {
            Ok(claims) => claims,
            // The provider may have rotated its keys since they were fetched: fetch them again, check again.
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                client = self.client(true).await?;
                id_token.claims(&client.id_token_verifier(), &nonce).map_err(|e| OidcError::IdToken(e.to_string()))?.clone()
            }
            Err(e) => return Err(OidcError::IdToken(e.to_string())),
        };
        let from_token = id_token_set(&claims);
        let issuer = claims.issuer().as_str().to_owned();
        let subject = claims.subject().clone();
        let role_claim = &self.settings.role_claim;
        let mut from_userinfo = None;
        if Identity::lacks(&from_token, role_claim)
            && let Ok(request) = client.user_info(token.access_token().clone(), Some(subject.clone()))
        {
            let info: UserInfoClaims<ExtraClaims, CoreGenderClaim> =
                request.request_async(&self.http).await.map_err(|e| OidcError::UserInfo(error_chain(&e)))?;
            from_userinfo = Some(userinfo_set(&info));
        }
        Ok(Identity::from_claims(&issuer, subject.as_str(), &from_token, from_userinfo.as_ref(), role_claim))
    }
}

/// The claims Plenum uses, from an ID token or a userinfo response. Both claim types have the same getters but
/// share no trait in `openidconnect` (and the ID token's standard claims are not reachable as one value), so the
/// mapping is written once as a macro body and expanded for each.
macro_rules! claim_set {
    ($c:expr) => {{
        let c = $c;
        ClaimSet {
            email: c.email().map(|e| e.as_str().to_owned()),
            email_verified: c.email_verified(),
            name: c.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
            given_name: c.given_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
            family_name: c.family_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
            preferred_username: c.preferred_username().map(|u| u.as_str().to_owned()),
            extra: c.additional_claims().rest.clone(),
        }
    }};
}

fn id_token_set(c: &IdTokenClaims<ExtraClaims, CoreGenderClaim>) -> ClaimSet {
    claim_set!(c)
}

fn userinfo_set(c: &UserInfoClaims<ExtraClaims, CoreGenderClaim>) -> ClaimSet {
    claim_set!(c)
}

/// An error with its causes, for logs (the provider's own message is often in a source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

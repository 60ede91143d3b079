//! The REST API under `/api/v1` (see `docs/api.md`; the OpenAPI document is served at `/api/v1/openapi.json`).
//!
//! Sessions are an HttpOnly cookie (`plenum_session`, SameSite=Strict, Secure when served over HTTPS or the public
//! URL is https).
//! State-changing requests need the double-submit CSRF token: the header `X-CSRF-Token` equal to the
//! `plenum_csrf` cookie, which every API response sets when the request did not carry it.

pub mod audit_log;
pub mod auth;
pub mod bans;
pub mod client_addr;
pub mod error;
pub mod join;
pub mod meetings;
pub mod oidc;
pub mod openapi;
pub mod users;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::accounts::ratelimit::LoginLimiter;
use crate::accounts::{User, sessions};
use crate::audit::AuditLog;
use crate::db::{Db, random_id};
use crate::token::TokenKeys;
pub use error::{ApiError, ApiJson, FieldErrors};

pub const SESSION_COOKIE: &str = "plenum_session";
pub const CSRF_COOKIE: &str = "plenum_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What the API handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub db: Db,
    pub audit: AuditLog,
    pub keys: TokenKeys,
    /// Base URL for links, without a trailing slash.
    pub public_url: String,
    pub limiter: Arc<LoginLimiter>,
    /// Server-wide default for how many minutes before the start a meeting's links open.
    pub join_opens_minutes: i64,
    /// Served over HTTPS by plenum itself (cookies are `Secure` then, as with an https public URL).
    pub https: bool,
    /// Login with OpenID Connect, when configured.
    pub oidc: Option<Arc<crate::oidc::OidcLogin>>,
    /// Reverse proxies whose forwarding headers give the client's address (see [`client_addr`]).
    pub trusted_proxies: client_addr::TrustedProxies,
    /// The server's sessions and rooms, so that lifting a ban and disabling an account reach them at once; `None`:
    /// an API without rooms (tests).
    pub sessions: Option<Arc<crate::session::Shared>>,
}

impl ApiState {
    pub(crate) fn secure_cookies(&self) -> bool {
        self.https || self.public_url.starts_with("https://")
    }

    /// A cookie with the server's attributes.
    fn cookie(&self, name: &'static str, value: String, http_only: bool) -> Cookie<'static> {
        let mut c = Cookie::new(name, value);
        c.set_path("/");
        c.set_http_only(http_only);
        c.set_same_site(SameSite::Strict);
        c.set_secure(self.secure_cookies());
        c
    }

    pub fn staff_link(&self, meeting_id: &str) -> String {
        format!("{}/m/{meeting_id}", self.public_url)
    }

    pub fn guest_link(&self, meeting_id: &str, secret: &str) -> String {
        format!("{}/g/{meeting_id}/{secret}", self.public_url)
    }

    fn host(&self) -> String {
        let rest = self.public_url.split("://").nth(1).unwrap_or(&self.public_url);
        rest.split(['/', ':']).next().unwrap_or("plenum").to_owned()
    }
}

/// The routes, to be nested under `/api/v1`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/auth/options", get(oidc::options))
        .route("/auth/oidc/login", get(oidc::login))
        .route("/auth/oidc/callback", get(oidc::callback))
        .route("/directory", get(users::directory))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::read).put(users::update).delete(users::delete))
        .route("/meetings", get(meetings::list).post(meetings::create))
        .route("/meetings/{id}", get(meetings::read).put(meetings::update).delete(meetings::delete))
        .route("/meetings/{id}/invite.ics", get(meetings::invite_ics))
        .route("/meetings/{id}/bans", get(bans::list))
        .route("/meetings/{id}/bans/{identity}", axum::routing::delete(bans::lift))
        .route("/time-zones", get(meetings::time_zones))
        .route("/join/{id}", post(join::staff))
        .route("/guest/{id}/{secret}", get(join::guest_info).post(join::guest))
        .route("/audit", get(audit_log::list))
        .fallback(|| async { ApiError::NotFound("no such API endpoint") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf))
        .layer(axum::middleware::map_response(no_store))
        .with_state(state)
}

async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Double-submit CSRF check for state-changing methods, and the CSRF cookie for clients that lack it.
async fn csrf(State(state): State<ApiState>, jar: CookieJar, request: Request, next: Next) -> Response {
    let cookie = jar.get(CSRF_COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty());
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let header = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let ok = matches!((&cookie, header), (Some(c), Some(h)) if c.len() >= 16 && c == h);
        if !ok {
            return ApiError::Csrf.into_response();
        }
    }
    let response = next.run(request).await;
    if cookie.is_none() {
        let jar = CookieJar::new().add(state.cookie(CSRF_COOKIE, random_id(32), false));
        return (jar, response).into_response();
    }
    response
}

/// The logged-in account (401 otherwise).
pub struct CurrentUser(pub User);

impl FromRequestParts<ApiState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()).ok_or(ApiError::Unauthenticated)?;
        let user = sessions::user_of(&state.db, &token).await?.ok_or(ApiError::Unauthenticated)?;
        Ok(CurrentUser(user))
    }
}

/// A logged-in admin (401 / 403 otherwise).
pub struct Admin(pub User);

impl FromRequestParts<ApiState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if !user.is_admin() {
            return Err(ApiError::Forbidden("only admins may do this"));
        }
        Ok(Admin(user))
    }
}

/// The client's address: the TCP peer, or behind a trusted reverse proxy the address its forwarding headers give
/// (see [`client_addr`]). Unspecified when the server was not started with connect info.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<ApiState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(ClientIp(state.trusted_proxies.client_ip(peer, &parts.headers)))
    }
}

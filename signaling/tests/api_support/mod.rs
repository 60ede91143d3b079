//! An API test environment: the real `/api/v1` router over a real database (SQLite in a temporary directory, or a
//! database in a throwaway PostgreSQL cluster), and clients with their own cookie jars.

pub mod postgres;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use plenum_signaling::accounts::{self, NewUser, Role, password};
use plenum_signaling::api::{self, ApiState};
use plenum_signaling::audit::{Actor, AuditLog};
use plenum_signaling::db::Db;
use plenum_signaling::token::TokenKeys;
use serde_json::Value;
use tower::ServiceExt;

pub const SECRET: &[u8] = b"an api test secret that is long enough";
pub const PUBLIC_URL: &str = "https://meet.example.org";
pub const PASSWORD: &str = "a long test password";

pub struct Env {
    pub db: Db,
    pub app: Router,
    #[allow(dead_code)] // tests/oidc.rs
    pub state: ApiState,
    pub keys: TokenKeys,
    dir: Option<PathBuf>,
}

impl Env {
    /// SQLite in a fresh data directory.
    pub async fn sqlite(label: &str) -> Env {
        let dir = std::env::temp_dir().join(format!("plenum-api-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = Db::open(None, &dir).await.expect("sqlite");
        Env::with_db(db, Some(dir))
    }

    /// A fresh database `name` in `cluster`.
    pub async fn postgres(cluster: &postgres::PgCluster, name: &str) -> Env {
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&cluster.url("postgres")).await.expect("connect to postgres");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
        admin.close().await;
        let db = Db::open(Some(&cluster.url(name)), std::path::Path::new("/nonexistent")).await.expect("postgres");
        assert_eq!(db.kind(), plenum_signaling::db::DbKind::Postgres);
        Env::with_db(db, None)
    }

    fn with_db(db: Db, dir: Option<PathBuf>) -> Env {
        let keys = TokenKeys::new(SECRET);
        let state = ApiState {
            db: db.clone(),
            audit: AuditLog::new(db.clone()),
            keys: keys.clone(),
            public_url: PUBLIC_URL.into(),
            limiter: Default::default(),
            join_opens_minutes: 15,
            https: false,
            oidc: None,
            trusted_proxies: Default::default(),
            sessions: None,
        };
        let app = Router::new().nest("/api/v1", api::router(state.clone()));
        Env { db, app, state, keys, dir }
    }

    /// Turn on OpenID Connect login (before making clients: they keep the router they were made with).
    #[allow(dead_code)] // tests/oidc.rs
    pub fn set_oidc(&mut self, oidc: std::sync::Arc<plenum_signaling::oidc::OidcLogin>) {
        self.state.oidc = Some(oidc);
        self.app = Router::new().nest("/api/v1", api::router(self.state.clone()));
    }

    /// The same database behind a router that trusts `proxies` (CIDRs) for forwarded client addresses.
    #[allow(dead_code)] // tests/oidc.rs
    pub fn with_trusted_proxies(&self, proxies: &[&str]) -> Env {
        let mut state = self.state.clone();
        let nets = proxies.iter().map(|p| api::client_addr::parse_cidr(p).unwrap()).collect();
        state.trusted_proxies = api::client_addr::TrustedProxies::new(nets);
        let app = Router::new().nest("/api/v1", api::router(state.clone()));
        Env { db: self.db.clone(), app, state, keys: self.keys.clone(), dir: None }
    }

    /// Drop without closing the (shared) database.
    #[allow(dead_code)] // tests/oidc.rs
    pub fn forget(self) {}

    /// An account made directly in the database.
    pub async fn user(&self, email: &str, name: &str, role: Role) -> accounts::User {
        let hash = password::hash(PASSWORD).unwrap();
        let new = NewUser { email: email.into(), name: name.into(), role, password_hash: Some(hash) };
        accounts::create_user(&self.db, new, &Actor::command_line()).await.unwrap()
    }

    /// A client without a session.
    pub fn anonymous(&self) -> Client {
        Client {
            app: self.app.clone(),
            jar: HashMap::new(),
            ip: [192, 0, 2, 10].into(),
            headers: Vec::new(),
            last_set_cookies: Vec::new(),
        }
    }

    /// A client logged in as `email`.
    pub async fn login(&self, email: &str) -> Client {
        let mut c = self.anonymous();
        let (status, body) = c.login(email, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        c
    }

    pub async fn close(self) {
        self.db.pool().close().await;
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A browser-like client: keeps cookies, sends the CSRF header on state-changing requests.
#[derive(Clone)]
pub struct Client {
    app: Router,
    pub jar: HashMap<String, String>,
    pub ip: std::net::IpAddr,
    /// Sent with every request (e.g. forwarding headers).
    pub headers: Vec<(String, String)>,
    /// The raw Set-Cookie headers of the last response.
    pub last_set_cookies: Vec<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

impl Client {
    pub async fn send(&mut self, method: &str, path: &str, body: Option<String>, csrf: bool) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        if csrf && let Some(token) = self.jar.get("plenum_csrf") {
            req = req.header("x-csrf-token", token);
        }
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in &self.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        let mut req = req.body(body.map(Body::from).unwrap_or_else(Body::empty)).unwrap();
        req.extensions_mut().insert(ConnectInfo(SocketAddr::new(self.ip, 40000)));
        let resp = self.app.clone().oneshot(req).await.unwrap();
        self.last_set_cookies = resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for raw in &self.last_set_cookies {
            let first = raw.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                let expired = raw.to_ascii_lowercase().contains("max-age=0");
                if v.is_empty() || expired {
                    self.jar.remove(k.trim());
                } else {
                    self.jar.insert(k.trim().to_owned(), v.to_owned());
                }
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 10 << 20).await.unwrap();
        Reply { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn ensure_csrf_public(&mut self) {
        self.ensure_csrf().await
    }

    /// Make sure the CSRF cookie is there (as the web client does with its first GET).
    async fn ensure_csrf(&mut self) {
        if !self.jar.contains_key("plenum_csrf") {
            self.send("GET", "/api/v1/me", None, false).await;
        }
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, Value) {
        let r = self.send("GET", path, None, false).await;
        (r.status, r.json())
    }

    pub async fn write(&mut self, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.ensure_csrf().await;
        let r = self.send(method, path, Some(body.to_string()), true).await;
        (r.status, r.json())
    }

    pub async fn raw_write(&mut self, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
        self.ensure_csrf().await;
        let r = self.send(method, path, Some(body.to_owned()), true).await;
        (r.status, r.json())
    }

    pub async fn delete(&mut self, path: &str) -> StatusCode {
        self.ensure_csrf().await;
        self.send("DELETE", path, None, true).await.status
    }

    pub async fn login(&mut self, email: &str, password: &str) -> (StatusCode, Value) {
        self.write("POST", "/api/v1/login", serde_json::json!({"email": email, "password": password})).await
    }
}

//! # plenum-signaling
//!
//! Plenum's server process: HTTP (health, metrics, the web client), WebSocket signaling per `docs/protocol.md`,
//! join tokens, and the in-process SFU.
//!
//! [`Server::start`] binds everything and returns at once, so tests run a real server in-process on ephemeral
//! ports; [`Server::drain`] starts a graceful drain (see [`drain`]); [`Server::shutdown`] closes every session (1001),
//! stops accepting and stops the SFU.

pub mod accounts;
pub mod admin_cli;
pub mod api;
pub mod audit;
pub mod cluster;
pub mod config;
pub mod config_file;
pub mod drain;
pub mod health;
pub mod db;
pub mod http;
pub mod meetings;
pub mod media;
pub mod metrics;
pub mod oidc;
pub mod protocol;
pub mod resume;
pub mod room;
pub mod secret;
pub mod session;
pub mod tls;
pub mod token;
pub mod turn;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use plenum_sfu::{Sfu, SfuConfig, SfuError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use config::{Limits, ServerConfig};

use crate::health::Readiness;
use crate::http::{AppState, WebAssets};
use crate::secret::SecretError;
use crate::session::Shared;
use crate::token::TokenKeys;

/// How long shutdown waits for sessions to send their close frames.
const SESSION_DRAIN: Duration = Duration::from_secs(5);
/// How often a draining server looks whether meetings are left.
const DRAIN_POLL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the SFU: {0}")]
    Sfu(#[from] SfuError),
    #[error("HTTP server failed: {0}")]
    Http(std::io::Error),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cluster: {0}")]
    Cluster(#[from] cluster::ClusterError),
    #[error("HTTPS: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("{0}")]
    Config(String),
    #[error("OpenID Connect: {0}")]
    OidcConfig(#[from] oidc::OidcConfigError),
    #[error("OpenID Connect: {0}")]
    Oidc(#[from] oidc::provider::OidcError),
}

/// A running server.
pub struct Server {
    local_addr: SocketAddr,
    public_url: String,
    /// The in-process SFU (none on a signaling-only node).
    sfu: Option<Sfu>,
    /// With Redis: this process's SFU registered as a cluster node, and the media handle that reaches all nodes.
    node: Option<cluster::sfu_node::SfuNode>,
    remote: Option<cluster::remote::RemoteMedia>,
    room_sync: Option<Arc<cluster::rooms::RoomSync>>,
    shared: Arc<Shared>,
    readiness: Arc<Readiness>,
    shutdown_tx: watch::Sender<bool>,
    serve: JoinHandle<std::io::Result<()>>,
    sessions_done: mpsc::Receiver<()>,
    stopped: bool,
    db: db::Db,
    audit: audit::AuditLog,
}

impl Server {
    /// Load the secret, start the SFU, bind HTTP and start serving.
    pub async fn start(config: ServerConfig) -> Result<Server, ServerError> {
        let metrics = metrics::install();
        let oidc_settings = oidc::OidcSettings::from_args(&config.oidc)?;
        let secret = secret::load_or_create(config.secret.as_deref(), &config.data_dir)?;
        let db = db::Db::open(config.database_url.as_deref(), &config.data_dir).await?;
        if accounts::count_users(&db).await? == 0 {
            tracing::warn!("no accounts yet: create an admin with plenum admin create-user --role admin ...");
        }
        let audit = audit::AuditLog::new(db.clone());
        let tls_files = tls::TlsFiles::from_options(config.tls_cert.clone(), config.tls_key.clone())?;
        let turn = turn_servers(&config)?;
        let listener = tokio::net::TcpListener::bind(config.http_addr)
            .await
            .map_err(|source| ServerError::Bind { addr: config.http_addr, source })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: config.http_addr, source })?;
        let sfu_config = SfuConfig {
            media_addr: config.media_addr,
            public_ip: config.public_ip,
            workers: config.workers,
            ice_tcp: config.ice_tcp,
            initial_estimate_bps: None,
        };
        let (sfu, node, remote, media, redis): (Option<Sfu>, _, _, Arc<dyn media::Media>, _) = match &config.cluster {
            None => {
                let sfu = Sfu::start(sfu_config)?;
                (Some(sfu.clone()), None, None, Arc::new(sfu), None)
            }
            Some(cluster) => {
                let redis = cluster::Redis::connect(&cluster.redis_url).await?;
                let number = redis.next_number("signaling").await?;
                session::reserve_participant_ids(number << 40);
                let (sfu, node) = match cluster.role {
                    cluster::Role::Both => {
                        let sfu = Sfu::start(sfu_config)?;
                        let node = cluster::sfu_node::SfuNode::start(redis.clone(), sfu.clone(), cluster.zone.clone(), 0).await?;
                        (Some(sfu), Some(node))
                    }
                    cluster::Role::Signaling => (None, None),
                };
                let id = format!("sig-{number}");
                let remote = cluster::remote::RemoteMedia::start(redis.clone(), id.clone(), cluster.zone.clone()).await?;
                tracing::info!(node = %id, role = ?cluster.role, "cluster member");
                (sfu, node, Some(remote.clone()), Arc::new(remote), Some((redis, id)))
            }
        };

        let web = match &config.web_dir {
            Some(dir) => WebAssets::Dir(dir.clone()),
            None => WebAssets::Embedded,
        };
        if !web.has_index().await {
            tracing::warn!("the web client is not built: run npm --prefix web-client run build");
        }
        let shared = Arc::new(
            Shared::new(media, TokenKeys::new(secret.as_bytes()), config.limits.clone(), Vec::new())
                .with_audit(Arc::new(audit.clone()))
                .with_store(meetings::room_store::RoomStore::new(db.clone()))
                .with_turn(turn, config.ice_transport_policy),
        );
        let room_sync = match redis {
            Some((redis, id)) => {
                let sync = cluster::rooms::RoomSync::start(redis, id, &shared).await?;
                let _ = shared.room_sync.set(sync.clone());
                Some(sync)
            }
            None => None,
        };
        let readiness = Arc::new(Readiness::default());
        if let Some(workers) = sfu.clone() {
            readiness.add(health::check_fn("sfu", move || {
                let (running, count) = (workers.workers_running(), workers.worker_count());
                async move {
                    if running == count { Ok(()) } else { Err(format!("{} of {count} SFU workers stopped", count - running)) }
                }
            }));
        }
        readiness.add(db.readiness_check());
        if let Some(remote) = remote.clone() {
            readiness.add(health::check_fn("cluster", move || {
                let remote = remote.clone();
                async move { remote.check_ready().await }
            }));
        }
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (session_guard, sessions_done) = mpsc::channel(1);
        let https = tls_files.is_some();
        let public_url = config::public_url_or_scheme_default(config.public_url.as_deref(), local_addr, https);
        let oidc = match oidc_settings {
            Some(settings) => {
                let login = oidc::OidcLogin::new(settings, &public_url, secret.as_bytes())?;
                tracing::info!(issuer = %login.settings().issuer, redirect_url = login.redirect_url(), "OpenID Connect login on");
                Some(Arc::new(login))
            }
            None => None,
        };
        let api_state = api::ApiState {
            db: db.clone(),
            audit: audit.clone(),
            keys: TokenKeys::new(secret.as_bytes()),
            public_url: public_url.clone(),
            limiter: Default::default(),
            join_opens_minutes: config.join_opens_minutes,
            https,
            oidc,
            trusted_proxies: api::client_addr::TrustedProxies::new(config.trusted_proxies.clone()),
            sessions: Some(shared.clone()),
        };
        let app = http::router(AppState {
            shared: shared.clone(),
            readiness: readiness.clone(),
            metrics,
            web: Arc::new(web),
            shutdown: shutdown_rx.clone(),
            session_guard,
        })
        .nest("/api/v1", api::router(api_state).layer(axum::middleware::map_response(http::security_headers)));
        let mut stop = shutdown_rx;
        let stopped = async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        let serve = match &tls_files {
            None => tokio::spawn(async move {
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(stopped)
                    .await
            }),
            Some(files) => {
                let files = files.clone();
                let key = tokio::task::spawn_blocking({
                    let files = files.clone();
                    move || tls::load(&files)
                })
                .await
                .map_err(|e| ServerError::Config(format!("loading the TLS certificate failed: {e}")))??;
                let cert = tls::ReloadingCert::new(key);
                let listener = tls::TlsListener::new(listener, tls::server_config(cert.clone())?)
                    .map_err(|source| ServerError::Bind { addr: config.http_addr, source })?;
                tls::watch_files(files, &cert, tls::RELOAD_POLL);
                // `tap_io` only so that axum hands handlers the peer's `SocketAddr` (`ConnectInfo`), as for TCP.
                let listener = axum::serve::ListenerExt::tap_io(listener, |_| ());
                tokio::spawn(async move {
                    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                        .with_graceful_shutdown(stopped)
                        .await
                })
            }
        };
        let media_addrs = sfu.as_ref().map(Sfu::media_addrs).unwrap_or_default();
        tracing::info!(http = %local_addr, https, media = ?media_addrs, db = ?db.kind(), "plenum started");
        Ok(Server {
            local_addr,
            public_url,
            sfu,
            node,
            remote,
            room_sync,
            shared,
            readiness,
            shutdown_tx,
            serve,
            sessions_done,
            stopped: false,
            db,
            audit,
        })
    }

    /// The bound HTTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The public base URL (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The database.
    pub fn db(&self) -> &db::Db {
        &self.db
    }

    /// The audit log (for code that performs moderator or admin actions).
    pub fn audit(&self) -> &audit::AuditLog {
        &self.audit
    }

    /// The SFU's UDP addresses.
    pub fn media_addrs(&self) -> Vec<SocketAddr> {
        self.sfu.as_ref().map(Sfu::media_addrs).unwrap_or_default()
    }

    /// The id of this process's SFU node in a cluster (role `both`).
    pub fn sfu_node_id(&self) -> Option<&str> {
        self.node.as_ref().map(|n| n.id())
    }

    /// The readiness checks behind `/readyz`; parts with their own dependencies add theirs.
    pub fn readiness(&self) -> &Arc<Readiness> {
        &self.readiness
    }

    /// Start a graceful drain: no new meetings, clients are told that the server stops within `timeout`, `/readyz`
    /// fails. Returns false if the server already drains.
    pub fn drain(&self, timeout: Duration) -> bool {
        let started = self.shared.drain.start(timeout).is_some();
        if started {
            if let Some(node) = &self.node {
                node.set_draining();
            }
            metrics::draining();
            let rooms = self.shared.registry.room_count();
            tracing::info!(rooms, timeout = %humantime::format_duration(timeout), "draining: no new meetings");
        }
        started
    }

    /// Resolves when no meeting is left (every room is empty).
    pub async fn meetings_ended(&self) {
        while self.shared.registry.room_count() > 0 {
            tokio::time::sleep(DRAIN_POLL).await;
        }
    }

    /// Close all sessions, stop serving, stop the SFU.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        self.stopped = true;
        let _ = self.shutdown_tx.send(true);
        let served = match (&mut self.serve).await {
            Ok(result) => result.map_err(ServerError::Http),
            Err(e) => Err(ServerError::Http(std::io::Error::other(e))),
        };
        // Every session holds a sender; `None` means all are gone.
        let _ = tokio::time::timeout(SESSION_DRAIN, self.sessions_done.recv()).await;
        if let Some(node) = self.node.take() {
            node.stop().await;
        }
        if let Some(remote) = self.remote.take() {
            remote.stop();
        }
        if let Some(sync) = self.room_sync.take() {
            sync.stop();
        }
        // Joins the worker threads: keep it off the async workers.
        if let Some(sfu) = self.sfu.clone() {
            let _ = tokio::task::spawn_blocking(move || sfu.shutdown()).await;
        }
        // Nothing lost: the audit writes still in flight finish, then the pool closes (SQLite checkpoints its WAL).
        self.audit.flush().await;
        if let Some(store) = &self.shared.store {
            store.flush().await;
        }
        self.db.pool().close().await;
        tracing::info!("plenum stopped");
        served
    }
}

impl Drop for Server {
    /// Dropped without [`Server::shutdown`]: still close the sessions and stop the SFU, without waiting.
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.shutdown_tx.send(true);
            if let Some(remote) = &self.remote {
                remote.stop();
            }
            if let Some(sync) = &self.room_sync {
                sync.stop();
            }
            if let Some(sfu) = self.sfu.clone() {
                let _ = std::thread::Builder::new().name("sfu-shutdown".into()).spawn(move || sfu.shutdown());
            }
        }
    }
}

/// The TURN servers of `config`, checked: URLs need a secret, `relay` needs URLs.
fn turn_servers(config: &ServerConfig) -> Result<Option<turn::Turn>, ServerError> {
    if config.turn_urls.is_empty() {
        if config.ice_transport_policy == config::IceTransportPolicy::Relay {
            return Err(ServerError::Config("ice_transport_policy = \"relay\" needs turn_urls".into()));
        }
        return Ok(None);
    }
    match config.turn_secret.as_deref() {
        Some(secret) if !secret.is_empty() => Ok(Some(turn::Turn::new(&config.turn_urls, secret, config.turn_ttl))),
        _ => Err(ServerError::Config("turn_urls is set but turn_secret (or turn_secret_file) is not".into())),
    }
}

/// Run a server until stopped by `signals` (SIGTERM or Ctrl-C, one item each): the first starts a graceful drain
/// of at most `config.drain_timeout` (a zero timeout stops at once), the second stops at once.
pub async fn run_server(
    config: ServerConfig,
    signals: impl futures_util::Stream<Item = ()> + Unpin,
) -> Result<(), ServerError> {
    use futures_util::StreamExt;
    let mut signals = signals;
    let drain_timeout = config.drain_timeout;
    let server = Server::start(config).await?;
    println!("Plenum is running at {}", server.public_url());
    println!(
        "Create a join link with: plenum token --room ROOM --identity ID --name NAME \
         (same PLENUM_DATA_DIR or PLENUM_SECRET, and PLENUM_PUBLIC_URL, as this server)"
    );
    if signals.next().await.is_none() {
        std::future::pending::<()>().await;
    }
    if !drain_timeout.is_zero() && server.drain(drain_timeout) {
        tokio::select! {
            () = server.meetings_ended() => tracing::info!("drain: every meeting has ended"),
            () = tokio::time::sleep(drain_timeout) => tracing::info!("drain: deadline reached; closing the rest"),
            Some(()) = signals.next() => tracing::info!("second stop signal: stopping now"),
        }
    }
    server.shutdown().await
}

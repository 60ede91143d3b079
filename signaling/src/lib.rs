//! # plenum-signaling
//!
//! Plenum's server process: HTTP (health, metrics, the web client), WebSocket signaling per `docs/protocol.md`,
//! join tokens, and the in-process SFU.
//!
//! [`Server::start`] binds everything and returns at once, so tests run a real server in-process on ephemeral
//! ports; [`Server::shutdown`] closes every session (1001), stops accepting and stops the SFU.

pub mod config;
pub mod http;
pub mod media;
pub mod metrics;
pub mod protocol;
pub mod resume;
pub mod room;
pub mod secret;
pub mod session;
pub mod token;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use plenum_sfu::{Sfu, SfuConfig, SfuError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use config::{Limits, ServerConfig};

use crate::http::{AppState, WebAssets};
use crate::secret::SecretError;
use crate::session::Shared;
use crate::token::TokenKeys;

/// How long shutdown waits for sessions to send their close frames.
const SESSION_DRAIN: Duration = Duration::from_secs(5);

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
}

/// A running server.
pub struct Server {
    local_addr: SocketAddr,
    public_url: String,
    sfu: Sfu,
    shutdown_tx: watch::Sender<bool>,
    serve: JoinHandle<std::io::Result<()>>,
    sessions_done: mpsc::Receiver<()>,
    stopped: bool,
}

impl Server {
    /// Load the secret, start the SFU, bind HTTP and start serving.
    pub async fn start(config: ServerConfig) -> Result<Server, ServerError> {
        let metrics = metrics::install();
        let secret = secret::load_or_create(config.secret.as_deref(), &config.data_dir)?;
        let listener = tokio::net::TcpListener::bind(config.http_addr)
            .await
            .map_err(|source| ServerError::Bind { addr: config.http_addr, source })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: config.http_addr, source })?;
        let sfu = Sfu::start(SfuConfig {
            media_addr: config.media_addr,
            public_ip: config.public_ip,
            workers: config.workers,
        })?;

        let web = match &config.web_dir {
            Some(dir) => WebAssets::Dir(dir.clone()),
            None => WebAssets::Embedded,
        };
        if !web.has_index().await {
            tracing::warn!("the web client is not built: run npm --prefix web-client run build");
        }
        let shared = Arc::new(Shared::new(
            Arc::new(sfu.clone()),
            TokenKeys::new(secret.as_bytes()),
            config.limits.clone(),
            Vec::new(),
        ));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (session_guard, sessions_done) = mpsc::channel(1);
        let app = http::router(AppState {
            shared,
            metrics,
            web: Arc::new(web),
            shutdown: shutdown_rx.clone(),
            session_guard,
        });
        let mut stop = shutdown_rx;
        let serve = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                })
                .await
        });
        let public_url = config::public_url_or_default(config.public_url.as_deref(), local_addr);
        tracing::info!(http = %local_addr, media = ?sfu.media_addrs(), "plenum started");
        Ok(Server { local_addr, public_url, sfu, shutdown_tx, serve, sessions_done, stopped: false })
    }

    /// The bound HTTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The public base URL (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The SFU's UDP addresses.
    pub fn media_addrs(&self) -> Vec<SocketAddr> {
        self.sfu.media_addrs()
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
        // Joins the worker threads: keep it off the async workers.
        let sfu = self.sfu.clone();
        let _ = tokio::task::spawn_blocking(move || sfu.shutdown()).await;
        tracing::info!("plenum stopped");
        served
    }
}

impl Drop for Server {
    /// Dropped without [`Server::shutdown`]: still close the sessions and stop the SFU, without waiting.
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.shutdown_tx.send(true);
            let sfu = self.sfu.clone();
            let _ = std::thread::Builder::new().name("sfu-shutdown".into()).spawn(move || sfu.shutdown());
        }
    }
}

/// Run a server until `signal` completes, then shut it down gracefully.
pub async fn run_server(config: ServerConfig, signal: impl Future<Output = ()>) -> Result<(), ServerError> {
    let server = Server::start(config).await?;
    println!("Plenum is running at {}", server.public_url());
    println!(
        "Create a join link with: plenum token --room ROOM --identity ID --name NAME \
         (same PLENUM_DATA_DIR or PLENUM_SECRET, and PLENUM_PUBLIC_URL, as this server)"
    );
    signal.await;
    server.shutdown().await
}

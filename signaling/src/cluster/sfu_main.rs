//! `plenum sfu`: a media-only node. Starts the SFU, registers it in Redis ([`SfuNode`]) and serves `/healthz`,
//! `/readyz` and `/metrics`. The first stop signal drains (no new rooms; running ones go on until they end or the
//! deadline), the second stops at once.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use futures_util::StreamExt;
use plenum_sfu::{Sfu, SfuConfig};
use tokio::sync::watch;

use super::Redis;
use super::sfu_node::SfuNode;
use crate::ServerError;
use crate::config::SfuArgs;

const DRAIN_POLL: Duration = Duration::from_millis(250);

#[derive(Clone)]
struct NodeState {
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    sfu: Sfu,
    draining: watch::Receiver<bool>,
}

/// Run an SFU node until stopped by `signals`.
pub async fn run(args: SfuArgs, signals: impl futures_util::Stream<Item = ()> + Unpin) -> Result<(), ServerError> {
    let mut signals = signals;
    let metrics = crate::metrics::install();
    let listener = tokio::net::TcpListener::bind(args.http_addr)
        .await
        .map_err(|source| ServerError::Bind { addr: args.http_addr, source })?;
    let local: SocketAddr =
        listener.local_addr().map_err(|source| ServerError::Bind { addr: args.http_addr, source })?;
    let redis = Redis::connect(&args.redis_url).await?;
    let sfu = Sfu::start(SfuConfig {
        media_addr: args.media_addr,
        public_ip: args.public_ip,
        workers: args.workers,
        ice_tcp: args.ice_tcp,
        initial_estimate_bps: None,
    })?;
    let node = SfuNode::start(redis, sfu.clone(), args.zone.clone(), args.cascade_after).await?;
    let (draining_tx, draining) = watch::channel(false);
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(NodeState { metrics, sfu: sfu.clone(), draining });
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let serve = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            })
            .await
    });
    println!("Plenum SFU node {} is running at http://{local} (media {:?})", node.id(), sfu.media_addrs());

    if signals.next().await.is_none() {
        std::future::pending::<()>().await;
    }
    if !args.drain_timeout.is_zero() {
        node.set_draining();
        let _ = draining_tx.send(true);
        tracing::info!(rooms = node.room_count(), "draining: no new rooms on this node");
        let ended = async {
            while node.room_count() > 0 {
                tokio::time::sleep(DRAIN_POLL).await;
            }
        };
        tokio::select! {
            () = ended => tracing::info!("drain: every room has ended"),
            () = tokio::time::sleep(args.drain_timeout) => tracing::info!("drain: deadline reached"),
            Some(()) = signals.next() => tracing::info!("second stop signal: stopping now"),
        }
    }
    node.stop().await;
    let _ = stop_tx.send(true);
    let _ = serve.await;
    // Participants still here get `Closed(Shutdown)`: their signaling nodes let them join again elsewhere.
    let stopping = sfu.clone();
    let _ = tokio::task::spawn_blocking(move || stopping.shutdown()).await;
    tracing::info!("SFU node stopped");
    Ok(())
}

async fn readyz(State(state): State<NodeState>) -> impl IntoResponse {
    if *state.draining.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    if state.sfu.workers_running() != state.sfu.worker_count() {
        return (StatusCode::SERVICE_UNAVAILABLE, "SFU workers stopped");
    }
    (StatusCode::OK, "ready")
}

async fn render_metrics(State(state): State<NodeState>) -> impl IntoResponse {
    crate::metrics::collect_process();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}

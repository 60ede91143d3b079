//! The HTTP side: router, health and metrics endpoints, the WebSocket upgrade, and the web client's files.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, Stream, StreamExt};
use metrics_exporter_prometheus::PrometheusHandle;
use rust_embed::RustEmbed;
use tokio::sync::{mpsc, watch};

use crate::health::Readiness;
use crate::metrics::ConnectionGuard;
use crate::session::{self, Incoming, Outgoing, Shared};

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self' ws: wss:; \
     media-src 'self' blob: mediastream:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
     object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

const NOT_BUILT: &str = "web client not built: run npm --prefix web-client run build\n";

/// The web client's build output, embedded at compile time (empty if it was not built).
#[derive(RustEmbed)]
#[folder = "../web-client/dist"]
#[allow_missing = true]
struct EmbeddedWeb;

/// Where the web client's files come from.
#[derive(Debug, Clone)]
pub enum WebAssets {
    Embedded,
    Dir(PathBuf),
}

impl WebAssets {
    /// The file at `path` (relative, `/`-separated), if it exists.
    async fn get(&self, path: &str) -> Result<Option<Cow<'static, [u8]>>, AppError> {
        if !is_safe_path(path) {
            return Ok(None);
        }
        match self {
            WebAssets::Embedded => Ok(EmbeddedWeb::get(path).map(|file| file.data)),
            WebAssets::Dir(dir) => read_file(&dir.join(path)).await,
        }
    }

    /// Whether `index.html` is there (for a startup hint).
    pub async fn has_index(&self) -> bool {
        matches!(self.get("index.html").await, Ok(Some(_)))
    }
}

async fn read_file(path: &Path) -> Result<Option<Cow<'static, [u8]>>, AppError> {
    match tokio::fs::read(path).await {
        Ok(data) => Ok(Some(Cow::Owned(data))),
        // A directory or a missing file is simply not there.
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory) => Ok(None),
        Err(e) => Err(AppError::Io(e)),
    }
}

/// Only plain relative paths: no `..`, `.`, empty segments, hidden files, backslashes or control characters.
fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|seg| !seg.is_empty() && !seg.starts_with('.'))
        && !path.bytes().any(|b| b == b'\\' || b == b':' || b.is_ascii_control())
}

/// HTTP errors, as plain text that reveals no internals.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("web client not built")]
    WebClientMissing,
    #[error("cannot read a file: {0}")]
    Io(#[from] std::io::Error),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "not found\n"),
            AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
            AppError::WebClientMissing => (StatusCode::SERVICE_UNAVAILABLE, NOT_BUILT),
            AppError::Io(e) => {
                tracing::error!("static file: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal server error\n")
            }
        };
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub shared: Arc<Shared>,
    pub readiness: Arc<Readiness>,
    pub metrics: PrometheusHandle,
    pub web: Arc<WebAssets>,
    pub shutdown: watch::Receiver<bool>,
    /// Cloned into every WebSocket session; the server waits until all clones are gone.
    pub session_guard: mpsc::Sender<()>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/ws", get(ws_upgrade))
        .fallback(static_files)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

async fn healthz() -> &'static str {
    "ok"
}

/// 200 while every readiness check passes and the server does not drain; else 503 naming what is wrong.
async fn readyz(State(app): State<AppState>) -> Response {
    let mut problems: Vec<&str> = Vec::new();
    if app.shared.drain.is_draining() {
        problems.push("draining");
    }
    problems.extend(app.readiness.failing().await);
    let text_plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-store")];
    if problems.is_empty() {
        (StatusCode::OK, text_plain, "ready\n".to_owned()).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, text_plain, format!("not ready: {}\n", problems.join(", "))).into_response()
    }
}

async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    crate::metrics::collect_process();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], app.metrics.render())
}

async fn ws_upgrade(State(app): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let limit = app.shared.limits.max_transport_frame;
    ws.max_message_size(limit).max_frame_size(limit).on_upgrade(move |socket| serve_socket(app, socket))
}

async fn serve_socket(app: AppState, socket: WebSocket) {
    let _connection = ConnectionGuard::open();
    let _session_guard = app.session_guard.clone();
    let (sink, stream) = socket.split();
    let outgoing = sink.with(|out: Outgoing| std::future::ready(Ok::<_, axum::Error>(to_ws_message(out))));
    session::run(app.shared.clone(), incoming_frames(stream), outgoing, app.shutdown.clone()).await;
}

fn to_ws_message(out: Outgoing) -> Message {
    match out {
        Outgoing::Message(msg) => match serde_json::to_string(&msg) {
            Ok(text) => Message::Text(text.into()),
            Err(e) => {
                tracing::error!("cannot serialize a server message: {e}");
                Message::Text(r#"{"type":"error","code":"internal","message":"internal error","fatal":false}"#.into())
            }
        },
        Outgoing::Ping => Message::Ping(Default::default()),
        Outgoing::Close { code, reason } => Message::Close(Some(CloseFrame { code, reason: reason.into() })),
    }
}

/// The client's frames as [`Incoming`]; ends when the socket closes or fails. After a frame over the hard limit
/// it yields [`Incoming::Oversized`] and then nothing (the rest of that frame is unreadable).
fn incoming_frames(
    stream: impl Stream<Item = Result<Message, axum::Error>> + Send + Unpin + 'static,
) -> impl Stream<Item = Incoming> + Send + Unpin {
    futures_util::stream::unfold((stream, false), |(mut stream, poisoned)| async move {
        if poisoned {
            return std::future::pending().await;
        }
        let frame = match stream.next().await? {
            Ok(Message::Text(text)) => Incoming::Text(text.as_str().to_owned()),
            Ok(Message::Binary(_)) => Incoming::Binary,
            // Pings are answered by the WebSocket layer; both show that the client is there.
            Ok(Message::Ping(_) | Message::Pong(_)) => Incoming::Alive,
            Ok(Message::Close(_)) => return None,
            Err(e) if is_capacity_error(&e) => return Some((Incoming::Oversized, (stream, true))),
            Err(e) => {
                tracing::debug!("websocket read: {e}");
                return None;
            }
        };
        Some((frame, (stream, false)))
    })
    .boxed()
}

fn is_capacity_error(e: &axum::Error) -> bool {
    use std::error::Error as _;
    let inner = e.source().and_then(|source| source.downcast_ref::<tungstenite::Error>());
    matches!(inner, Some(tungstenite::Error::Capacity(_)))
}

async fn static_files(State(app): State<AppState>, method: Method, uri: Uri) -> Result<Response, AppError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(AppError::MethodNotAllowed);
    }
    let path = uri.path().trim_start_matches('/');
    // Room links (`/r/{room}`; room names may contain dots) are always the app.
    let is_app_route = path.is_empty() || path == "index.html" || path.starts_with("r/");
    if !is_app_route {
        if let Some(data) = app.web.get(path).await? {
            return Ok(file_response(path, data));
        }
        let last = path.rsplit('/').next().unwrap_or(path);
        if last.contains('.') || path.starts_with("assets/") {
            return Err(AppError::NotFound);
        }
    }
    // The single-page app: `/`, `/r/{room}` and other non-asset paths.
    match app.web.get("index.html").await? {
        Some(data) => Ok(file_response("index.html", data)),
        None => Err(AppError::WebClientMissing),
    }
}

fn file_response(path: &str, data: Cow<'static, [u8]>) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = match mime.type_() {
        mime_guess::mime::TEXT => format!("{mime}; charset=utf-8"),
        _ if mime.subtype() == "javascript" || mime.subtype() == "json" => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    };
    // Vite puts content-hashed files under assets/; everything else must be revalidated.
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = Response::new(Body::from(data));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths() {
        assert!(is_safe_path("index.html"));
        assert!(is_safe_path("assets/app-1234.js"));
        for bad in ["", "../secret", "a/../b", "./x", ".env", "a//b", "a\\b", "c:x", "a/"] {
            assert!(!is_safe_path(bad), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn serves_from_a_directory() {
        let dir = std::env::temp_dir().join(format!("plenum-web-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(dir.join("assets/app.js"), "export {}").unwrap();
        let web = WebAssets::Dir(dir.clone());
        assert!(web.has_index().await);
        assert_eq!(web.get("assets/app.js").await.unwrap().as_deref(), Some(&b"export {}"[..]));
        assert_eq!(web.get("assets").await.unwrap(), None, "directories are not files");
        assert_eq!(web.get("../etc/passwd").await.unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

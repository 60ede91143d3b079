//! The client side of signaling: Plenum's WebSocket protocol, or the Janus VideoRoom behind the same typed
//! messages ([`super::janus`]).

use super::janus::JanusSignal;
use super::proto::{ClientMsg, ServerMsg};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::LoadError;

/// Which server the participants talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Plenum (docs/protocol.md), with join tokens signed by the server's secret.
    #[default]
    Plenum,
    /// The Janus WebRTC Gateway's VideoRoom plugin over its WebSocket transport.
    Janus,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Plenum => "plenum",
            Target::Janus => "janus",
        }
    }
}

/// One per participant, so the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Signal {
    Plenum(PlenumSignal),
    Janus(JanusSignal),
}

impl Signal {
    pub async fn connect(target: Target, url: &str, room: &str, name: &str) -> Result<Signal, LoadError> {
        Ok(match target {
            Target::Plenum => Signal::Plenum(PlenumSignal::connect(url).await?),
            Target::Janus => Signal::Janus(JanusSignal::connect(url, room, name).await?),
        })
    }

    pub async fn send(&mut self, msg: &ClientMsg<'_>) -> Result<(), LoadError> {
        match self {
            Signal::Plenum(s) => s.send(msg).await,
            Signal::Janus(s) => s.send(msg),
        }
    }

    /// The next server message; `None` when the socket closed. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Option<ServerMsg>, LoadError> {
        match self {
            Signal::Plenum(s) => s.recv().await,
            Signal::Janus(s) => s.recv().await,
        }
    }

    pub async fn close(&mut self) {
        match self {
            Signal::Plenum(s) => s.close().await,
            Signal::Janus(s) => s.close().await,
        }
    }
}

pub struct PlenumSignal {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// The WebSocket settings of every simulated participant. tungstenite zero-fills its read buffer up to
/// `read_buffer_size` on every read attempt, and the client loop polls the socket on every wake-up (every media
/// packet): with the default 128 KiB that memset was 10-16 % of the load generator's CPU in an audio-only run
/// (perf, 200 participants). Signaling messages are a few KiB and are read in several chunks when larger.
pub fn ws_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096)
}

impl PlenumSignal {
    pub async fn connect(url: &str) -> Result<PlenumSignal, LoadError> {
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), false)
            .await
            .map_err(|e| LoadError::Signaling(format!("connect {url}: {e}")))?;
        Ok(PlenumSignal { ws })
    }

    pub async fn send(&mut self, msg: &ClientMsg<'_>) -> Result<(), LoadError> {
        let text = serde_json::to_string(msg).map_err(|e| LoadError::Signaling(e.to_string()))?;
        self.ws.send(Message::Text(text.into())).await.map_err(|e| LoadError::Signaling(format!("send: {e}")))
    }

    /// The next server message; `None` when the socket closed. Frames that are not messages are skipped.
    /// Cancel-safe (each frame is handled before the next await).
    pub async fn recv(&mut self) -> Result<Option<ServerMsg>, LoadError> {
        loop {
            match self.ws.next().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(LoadError::Signaling(format!("receive: {e}"))),
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMsg>(&t) {
                    Ok(m) => return Ok(Some(m)),
                    // A message type this client does not know: ignore, as the protocol asks of clients.
                    Err(_) => continue,
                },
                Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn close(&mut self) {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.ws.close(None)).await;
    }
}

//! The client side of the signaling WebSocket: typed messages in and out.

use futures_util::{SinkExt, StreamExt};
use super::proto::{ClientMsg, ServerMsg};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::LoadError;

pub struct Signal {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Signal {
    pub async fn connect(url: &str) -> Result<Signal, LoadError> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| LoadError::Signaling(format!("connect {url}: {e}")))?;
        Ok(Signal { ws })
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

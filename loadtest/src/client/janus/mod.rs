//! The Janus WebRTC Gateway's VideoRoom plugin as a load target (`plenum-loadtest run --target janus`).
//!
//! Janus's API (its WebSocket transport, subprotocol `janus-protocol`) is translated into the same small
//! vocabulary the Plenum client speaks, so the participant's loop, media and statistics stay shared: the client
//! sends [`ClientMsg`]s and receives [`ServerMsg`]s whatever the target.
//!
//! One participant = one Janus session with two handles on `janus.plugin.videoroom`:
//! - the publisher handle joins the room as `publisher` (receive-only participants too: that is how Janus tells
//!   them about the room's publishers) and, when the participant publishes, sends `publish` with the offer of
//!   the webrtc-rs peer (no trickle: the candidates are in the SDP);
//! - the subscriber handle (Janus 1.x multistream: one for all feeds) joins as `subscriber` with the feeds
//!   known so far, later adds new ones with `subscribe`; Janus offers, the client answers with `start`. One
//!   renegotiation at a time: feeds that appear meanwhile wait for the `started` of the one in flight.
//!
//! Rooms are created by whoever comes first (`create`; "already exists", error 427, is fine). The room's numeric
//! id is a hash of the run's room name.

pub mod config;

use std::collections::{HashSet, VecDeque};

use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::proto::{ClientMsg, ServerMsg};
use crate::error::LoadError;

const PLUGIN: &str = "janus.plugin.videoroom";
/// VideoRoom: "room already exists".
const ROOM_EXISTS: i64 = 427;
/// Concurrent publishers allowed in a room we create (Janus's default is 3).
const MAX_PUBLISHERS: u32 = 1000;

/// A room name as a VideoRoom id: FNV-1a, kept below 2^53 (Janus ids travel as JSON numbers), never 0.
pub fn room_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h & ((1 << 53) - 1)).max(1)
}

pub struct JanusSignal {
    out: mpsc::UnboundedSender<Message>,
    writer: Option<tokio::task::JoinHandle<()>>,
    rx: SplitStream<WebSocketStream<MaybeTlsStream<TcpStream>>>,
    session: u64,
    publisher: u64,
    room: u64,
    room_name: String,
    display: String,
    create_txn: Option<String>,
    subscriber: Option<u64>,
    sub_attach_txn: Option<String>,
    sub_joined: bool,
    /// A subscriber join/subscribe is in flight (until Janus's `started`, or an answer without an offer).
    sub_busy: bool,
    pending_feeds: Vec<u64>,
    known_feeds: HashSet<u64>,
    joined: bool,
    events: VecDeque<ServerMsg>,
    next_txn: u64,
}

fn signaling(e: impl std::fmt::Display) -> LoadError {
    LoadError::Signaling(e.to_string())
}

impl JanusSignal {
    /// Open the WebSocket, create a session and attach the publisher handle.
    pub async fn connect(url: &str, room: &str, display: &str) -> Result<JanusSignal, LoadError> {
        let mut req = url.into_client_request().map_err(|e| LoadError::Signaling(format!("{url}: {e}")))?;
        req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("janus-protocol"));
        let (ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(super::signal::ws_config()), false)
            .await
            .map_err(|e| LoadError::Signaling(format!("connect {url}: {e}")))?;
        let (mut sink, rx) = ws.split();
        let (out, mut queue) = mpsc::unbounded_channel::<Message>();
        // Writes go through a queue, so that sending never has to await inside the (cancellable) receive.
        let writer = tokio::spawn(async move {
            while let Some(m) = queue.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let mut s = JanusSignal {
            out,
            writer: Some(writer),
            rx,
            session: 0,
            publisher: 0,
            room: room_id(room),
            room_name: room.to_owned(),
            display: display.to_owned(),
            create_txn: None,
            subscriber: None,
            sub_attach_txn: None,
            sub_joined: false,
            sub_busy: false,
            pending_feeds: Vec::new(),
            known_feeds: HashSet::new(),
            joined: false,
            events: VecDeque::new(),
            next_txn: 0,
        };
        let created = s.call(json!({"janus": "create"})).await?;
        s.session = id_of(&created["data"]["id"]).ok_or_else(|| signaling("create: no session id"))?;
        let attached = s.call(json!({"janus": "attach", "plugin": PLUGIN})).await?;
        s.publisher = id_of(&attached["data"]["id"]).ok_or_else(|| signaling("attach: no handle id"))?;
        Ok(s)
    }

    fn txn(&mut self) -> String {
        self.next_txn += 1;
        format!("t{}", self.next_txn)
    }

    /// Queue one request (session id and a fresh transaction added); returns the transaction.
    fn post(&mut self, mut req: Value) -> Result<String, LoadError> {
        let txn = self.txn();
        req["transaction"] = json!(txn);
        if self.session != 0 {
            req["session_id"] = json!(self.session);
        }
        self.out.send(Message::Text(req.to_string().into())).map_err(|_| signaling("the WebSocket writer ended"))?;
        Ok(txn)
    }

    fn message(&mut self, handle: u64, body: Value, jsep: Option<Value>) -> Result<String, LoadError> {
        let mut req = json!({"janus": "message", "handle_id": handle, "body": body});
        if let Some(j) = jsep {
            req["jsep"] = j;
        }
        self.post(req)
    }

    /// A request answered by `success` (or `error`) with the same transaction; other frames are handled.
    async fn call(&mut self, req: Value) -> Result<Value, LoadError> {
        let txn = self.post(req)?;
        loop {
            let v = self.next_frame().await?.ok_or_else(|| signaling("Janus closed the WebSocket"))?;
            if v["transaction"].as_str() == Some(txn.as_str()) {
                match v["janus"].as_str() {
                    Some("success") => return Ok(v),
                    Some("error") => return Err(janus_error(&v["error"])),
                    _ => continue,
                }
            }
            self.handle(v)?;
        }
    }

    /// Translate a client message into Janus requests.
    pub fn send(&mut self, msg: &ClientMsg<'_>) -> Result<(), LoadError> {
        match msg {
            ClientMsg::Join { .. } => {
                let body = json!({
                    "request": "create", "room": self.room, "description": self.room_name,
                    "publishers": MAX_PUBLISHERS, "audiocodec": "opus", "videocodec": "vp8",
                    "permanent": false, "notify_joining": false,
                });
                let publisher = self.publisher;
                self.create_txn = Some(self.message(publisher, body, None)?);
            }
            ClientMsg::PublishOffer { sdp } => {
                let mut jsep = json!({"type": "offer", "sdp": sdp, "trickle": false});
                if sdp.contains("a=simulcast:") {
                    // Our rids are listed lowest first; Janus assumes highest first unless told.
                    jsep["rid_order"] = json!("lmh");
                }
                self.message(self.publisher, json!({"request": "publish"}), Some(jsep))?;
            }
            ClientMsg::SubscribeAnswer { sdp } => {
                let handle = self.subscriber.ok_or_else(|| signaling("answer without a subscriber handle"))?;
                let jsep = json!({"type": "answer", "sdp": sdp, "trickle": false});
                self.message(handle, json!({"request": "start"}), Some(jsep))?;
            }
            // Janus has no tile sizes: pick each video's substream (0 low … 2 high) by the size as Plenum's SFU
            // picks a layer. For Janus the client names videos by their mid on the subscriber connection.
            ClientMsg::VideoSizes { sizes } => {
                let handle = self.subscriber.ok_or_else(|| signaling("video sizes without a subscriber handle"))?;
                let streams: Vec<Value> = sizes
                    .iter()
                    .filter_map(|s| {
                        let layer = super::tiles::layer_for_size(s.width, s.height)?;
                        Some(json!({"mid": s.track_id, "substream": layer}))
                    })
                    .collect();
                if !streams.is_empty() {
                    self.message(handle, json!({"request": "configure", "streams": streams}), None)?;
                }
            }
            ClientMsg::Ping { .. } => {
                self.post(json!({"janus": "keepalive"}))?;
            }
            ClientMsg::Leave {} => {
                self.post(json!({"janus": "destroy"}))?;
            }
        }
        Ok(())
    }

    async fn next_frame(&mut self) -> Result<Option<Value>, LoadError> {
        loop {
            match self.rx.next().await {
                None | Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Err(e)) => return Err(LoadError::Signaling(format!("receive: {e}"))),
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<Value>(&t) {
                    Ok(v) => return Ok(Some(v)),
                    Err(e) => {
                        return Err(LoadError::Signaling(format!("Janus sent invalid JSON: {e}")));
                    }
                },
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next event for the client; `None` when the socket closed. Cancel-safe (requests go through the
    /// writer queue; each frame is handled before the next await).
    pub async fn recv(&mut self) -> Result<Option<ServerMsg>, LoadError> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            let Some(v) = self.next_frame().await? else {
                return Ok(None);
            };
            self.handle(v)?;
        }
    }

    fn handle(&mut self, v: Value) -> Result<(), LoadError> {
        match v["janus"].as_str().unwrap_or("") {
            "success"
                if v["transaction"].as_str().is_some() && v["transaction"].as_str() == self.create_txn.as_deref() =>
            {
                self.create_txn = None;
                let data = &v["plugindata"]["data"];
                match data["error_code"].as_i64() {
                    None | Some(ROOM_EXISTS) => {
                        let body = json!({"request": "join", "ptype": "publisher", "room": self.room, "display": self.display});
                        self.message(self.publisher, body, None)?;
                    }
                    Some(code) => self.events.push_back(plugin_error(data, code, true)),
                }
            }
            "success"
                if v["transaction"].as_str().is_some()
                    && v["transaction"].as_str() == self.sub_attach_txn.as_deref() =>
            {
                self.sub_attach_txn = None;
                self.subscriber = Some(id_of(&v["data"]["id"]).ok_or_else(|| signaling("attach: no handle id"))?);
                self.advance()?;
            }
            "error" => {
                let e = &v["error"];
                self.events.push_back(ServerMsg::Error {
                    code: e["code"].to_string(),
                    message: e["reason"].as_str().unwrap_or("").to_owned(),
                    fatal: true,
                });
            }
            "timeout" => self.events.push_back(ServerMsg::Error {
                code: "timeout".into(),
                message: "Janus timed the session out".into(),
                fatal: true,
            }),
            "event" => self.on_event(&v)?,
            // ack, webrtcup, media, slowlink, hangup, detached, trickle: nothing to do.
            _ => {}
        }
        Ok(())
    }

    fn on_event(&mut self, v: &Value) -> Result<(), LoadError> {
        let sender = id_of(&v["sender"]);
        let data = &v["plugindata"]["data"];
        let jsep = &v["jsep"];
        let on_subscriber = sender.is_some() && sender == self.subscriber;
        if let Some(code) = data["error_code"].as_i64() {
            let fatal = !on_subscriber && !self.joined;
            self.events.push_back(plugin_error(data, code, fatal));
            if on_subscriber {
                self.sub_busy = false;
                self.advance()?;
            }
            return Ok(());
        }
        if on_subscriber {
            if jsep["type"] == "offer" {
                let sdp = jsep["sdp"].as_str().ok_or_else(|| signaling("offer without SDP"))?.to_owned();
                self.events.push_back(ServerMsg::SubscribeOffer { sdp });
            } else if data["started"] == "ok" || data["videoroom"] == "updated" {
                // Our answer is in (or the update needed no renegotiation): the next subscribe may go.
                self.sub_busy = false;
                self.advance()?;
            }
            return Ok(());
        }
        if sender != Some(self.publisher) {
            return Ok(());
        }
        if data["videoroom"] == "joined" {
            self.joined = true;
            self.events.push_back(ServerMsg::Joined {});
        }
        if jsep["type"] == "answer" {
            let sdp = jsep["sdp"].as_str().ok_or_else(|| signaling("answer without SDP"))?.to_owned();
            self.events.push_back(ServerMsg::PublishAnswer { sdp });
        }
        if let Some(list) = data["publishers"].as_array() {
            for p in list {
                let has_streams = p["streams"].as_array().is_some_and(|s| s.iter().any(|st| st["disabled"] != true));
                if let Some(id) = id_of(&p["id"])
                    && has_streams
                    && self.known_feeds.insert(id)
                {
                    self.pending_feeds.push(id);
                }
            }
            self.advance()?;
        }
        Ok(())
    }

    /// Subscribe to the feeds waiting, unless a negotiation is in flight.
    fn advance(&mut self) -> Result<(), LoadError> {
        if self.pending_feeds.is_empty() || self.sub_busy {
            return Ok(());
        }
        let Some(handle) = self.subscriber else {
            if self.sub_attach_txn.is_none() {
                self.sub_attach_txn = Some(self.post(json!({"janus": "attach", "plugin": PLUGIN}))?);
            }
            return Ok(());
        };
        let streams: Vec<Value> = self.pending_feeds.drain(..).map(|f| json!({"feed": f})).collect();
        let body = if self.sub_joined {
            json!({"request": "subscribe", "streams": streams})
        } else {
            json!({"request": "join", "ptype": "subscriber", "room": self.room, "streams": streams})
        };
        self.sub_joined = true;
        self.sub_busy = true;
        self.message(handle, body, None)?;
        Ok(())
    }

    pub async fn close(&mut self) {
        // Dropping the queue's sender ends the writer, which closes the socket.
        let (closed, _) = mpsc::unbounded_channel();
        self.out = closed;
        if let Some(w) = self.writer.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), w).await;
        }
    }
}

fn id_of(v: &Value) -> Option<u64> {
    v.as_u64()
}

fn janus_error(e: &Value) -> LoadError {
    LoadError::Refused { code: e["code"].to_string(), message: e["reason"].as_str().unwrap_or("").to_owned() }
}

fn plugin_error(data: &Value, code: i64, fatal: bool) -> ServerMsg {
    ServerMsg::Error {
        code: format!("videoroom {code}"),
        message: data["error"].as_str().unwrap_or("").to_owned(),
        fatal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_are_stable_nonzero_and_json_safe() {
        assert_eq!(room_id("lt1-0"), room_id("lt1-0"));
        assert_ne!(room_id("lt1-0"), room_id("lt1-1"));
        for name in ["", "a", "lt123456-99"] {
            let id = room_id(name);
            assert!(id > 0 && id < (1 << 53));
        }
    }
}

//! The signaling messages this client uses, written from `docs/protocol.md` (version 1) rather than shared with
//! the server's types: the load test checks the documented protocol, not the server's own serialisation.

use serde::{Deserialize, Serialize};

pub const PROTOCOL: u32 = 1;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg<'a> {
    Join { protocol: u32, room: &'a str, token: &'a str, name: &'a str },
    PublishOffer { sdp: &'a str },
    SubscribeAnswer { sdp: &'a str },
    /// How large the client shows others' videos (the SFU picks the simulcast layer from it).
    VideoSizes { sizes: &'a [VideoSize] },
    Leave {},
    Ping { id: u64 },
}

/// One entry of `video_sizes`: `sid`'s video `track_id` shown at `width` x `height` CSS pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoSize {
    pub sid: String,
    pub track_id: String,
    pub width: u32,
    pub height: u32,
}

/// One entry of `publisher_layers`.
#[derive(Debug, Clone, Deserialize)]
pub struct LayerActive {
    pub rid: String,
    #[serde(default)]
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    Joined {},
    PublishAnswer { sdp: String },
    SubscribeOffer { sdp: String },
    /// The SFU paused (or resumed) a video for this client's bandwidth.
    VideoPaused {
        #[serde(default)]
        paused: bool,
    },
    /// Which of our simulcast encodings anybody receives: the others may stop (and must resume when active).
    PublisherLayers {
        #[serde(default)]
        active: Vec<LayerActive>,
    },
    Error {
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        fatal: bool,
    },
    /// Room events, pongs and anything newer: not needed by the load test.
    #[serde(other)]
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_as_documented() {
        let j = serde_json::to_value(ClientMsg::Join { protocol: 1, room: "r", token: "t", name: "n" }).unwrap();
        assert_eq!(j, serde_json::json!({"type": "join", "protocol": 1, "room": "r", "token": "t", "name": "n"}));
        let l = serde_json::to_value(ClientMsg::Leave {}).unwrap();
        assert_eq!(l, serde_json::json!({"type": "leave"}));
        let m: ServerMsg = serde_json::from_str(r#"{"type":"subscribe_offer","sdp":"v=0"}"#).unwrap();
        assert!(matches!(m, ServerMsg::SubscribeOffer { sdp } if sdp == "v=0"));
        let e: ServerMsg = serde_json::from_str(r#"{"type":"error","code":"token_expired","message":"x","fatal":true}"#).unwrap();
        assert!(matches!(e, ServerMsg::Error { fatal: true, .. }));
        let p: ServerMsg = serde_json::from_str(r#"{"type":"video_paused","sid":"p1","track_id":"1","paused":true}"#).unwrap();
        assert!(matches!(p, ServerMsg::VideoPaused { paused: true }));
        let ping = serde_json::to_value(ClientMsg::Ping { id: 3 }).unwrap();
        assert_eq!(ping, serde_json::json!({"type": "ping", "id": 3}));
        let o: ServerMsg = serde_json::from_str(r#"{"type":"participant_joined","participant":{}}"#).unwrap();
        assert!(matches!(o, ServerMsg::Other));
        let sizes = [VideoSize { sid: "p13".into(), track_id: "1".into(), width: 480, height: 270 }];
        let v = serde_json::to_value(ClientMsg::VideoSizes { sizes: &sizes }).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "video_sizes", "sizes": [{"sid": "p13", "track_id": "1", "width": 480, "height": 270}]})
        );
        let pl: ServerMsg = serde_json::from_str(
            r#"{"type":"publisher_layers","track_id":"1","active":[{"rid":"l","active":true},{"rid":"h","active":false}]}"#,
        )
        .unwrap();
        assert!(matches!(pl, ServerMsg::PublisherLayers { active } if active.len() == 2 && !active[1].active));
        let joined: ServerMsg = serde_json::from_str(r#"{"type":"joined","protocol":1,"you":{}}"#).unwrap();
        assert!(matches!(joined, ServerMsg::Joined {}));
    }
}

//! Who joins where: the participants of a scenario, in join order, with their tokens.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plenum_signaling::token::{Claims, TokenKeys};

use super::RunConfig;
use crate::client::sender::SpeakerTurn;
use crate::client::tiles::TilePolicy;
use crate::client::{ClientSpec, Target};
use crate::error::LoadError;
use crate::media::audio::AudioLoop;
use crate::media::video::Clip;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// R rooms, each with P publishers (audio + video) and S receive-only participants.
    Meeting,
    /// R rooms (default 1), each with one presenter (audio + video) and S viewers.
    Webinar,
    /// R rooms, each with P audio-only publishers and S listeners.
    AudioOnly,
}

impl Scenario {
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Meeting => "meeting",
            Scenario::Webinar => "webinar",
            Scenario::AudioOnly => "audio-only",
        }
    }
}

/// The participants, in join order: room by room, publishers first. With several servers (`ws_urls`), the
/// participants of each room take turns over them (participant `k` of room `r` uses server `(r + k) % n`), so every
/// room with two or more participants spans servers.
pub fn plan(
    cfg: &RunConfig,
    ws_urls: &[String],
    audio: Arc<AudioLoop>,
    video: Vec<(Arc<Clip>, u8)>,
    start: Instant,
) -> Result<Vec<ClientSpec>, LoadError> {
    let keys = TokenKeys::new(&cfg.secret);
    let run_id = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() % 1_000_000).unwrap_or(0);
    let (publishers, with_video) = match cfg.scenario {
        Scenario::Meeting => (cfg.publishers, true),
        Scenario::Webinar => (1, true),
        Scenario::AudioOnly => (cfg.publishers, false),
    };
    let total = cfg.rooms * (publishers + cfg.subscribers);
    if ws_urls.is_empty() {
        return Err(LoadError::Arg("no server URL".into()));
    }
    if total == 0 {
        return Err(LoadError::Arg("the scenario has no participants".into()));
    }
    let ramp_s = total as f64 / cfg.ramp.max(0.01);
    let until = start + Duration::from_secs_f64(ramp_s) + cfg.duration;
    // Speakers take turns from when everyone is in.
    let since = start + Duration::from_secs_f64(ramp_s);
    let mut specs = Vec::with_capacity(total);
    for r in 0..cfg.rooms {
        let room = format!("lt{run_id}-{r}");
        for k in 0..publishers + cfg.subscribers {
            let index = specs.len() as u32;
            let publishing = k < publishers;
            let identity = format!("{}-{k}", if publishing { "pub" } else { "sub" });
            let name = format!("Load {room} {identity}");
            let token = match cfg.target {
                Target::Plenum => {
                    let claims = Claims::new(&room, &identity, &name, false, Duration::from_secs(3600));
                    keys.sign(&claims).map_err(|e| LoadError::Token(e.to_string()))?
                }
                // Janus's VideoRoom is opened without tokens (the test's Janus has no token auth).
                Target::Janus => String::new(),
            };
            specs.push(ClientSpec {
                index,
                target: cfg.target,
                ws_url: ws_urls[(r + k) % ws_urls.len()].clone(),
                room: room.clone(),
                token,
                name,
                audio: publishing.then(|| audio.clone()),
                video: (publishing && with_video && !video.is_empty()).then(|| video.clone()),
                // Janus gets substream choices only with simulcast (its comparison runs stay as they were).
                tiles: match cfg.target {
                    Target::Janus if !cfg.simulcast => TilePolicy::None,
                    _ => cfg.tile_sizes.policy(k),
                },
                turn: SpeakerTurn { position: k, publishers, switch_every: cfg.speakers_switch, since },
                impairment: cfg.impairment,
                bind_ip: cfg.bind_ip,
                until,
            });
        }
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::tiles::TileSizes;
    use crate::shim::ImpairmentConfig;

    fn cfg(scenario: Scenario, rooms: usize, p: usize, s: usize) -> RunConfig {
        RunConfig {
            target: Target::Plenum,
            bind_ip: std::net::Ipv4Addr::LOCALHOST.into(),
            url: "http://127.0.0.1:1".into(),
            secret: vec![7; 32],
            scenario,
            rooms,
            publishers: p,
            subscribers: s,
            ramp: 10.0,
            duration: Duration::from_secs(5),
            simulcast: false,
            tile_sizes: TileSizes::Mixed,
            speakers_switch: None,
            dtx: false,
            video_layer: 0,
            impairment: ImpairmentConfig::default(),
            server_pid: None,
            progress: false,
        }
    }

    #[test]
    fn scenarios_make_the_right_participants() {
        let audio = Arc::new(AudioLoop { speech: vec![None], silence: vec![None], dtx: true });
        let clip = vec![(Arc::new(Clip::layer(0).unwrap()), 0)];
        let t0 = Instant::now();
        let one = ["ws://x/ws".to_owned()];
        let m = plan(&cfg(Scenario::Meeting, 2, 3, 1), &one, audio.clone(), clip.clone(), t0).unwrap();
        assert_eq!(m.len(), 8);
        assert_eq!(m.iter().filter(|s| s.video.is_some() && s.audio.is_some()).count(), 6);
        assert_eq!(m.iter().map(|s| s.room.clone()).collect::<std::collections::BTreeSet<_>>().len(), 2);
        // Ramp: 8 joins at 10/s, then 5 s.
        assert_eq!(m[0].until, t0 + Duration::from_secs_f64(0.8) + Duration::from_secs(5));
        let w = plan(&cfg(Scenario::Webinar, 1, 9, 20), &one, audio.clone(), clip.clone(), t0).unwrap();
        assert_eq!(w.len(), 21);
        assert!(w[0].video.is_some() && w[1..].iter().all(|s| s.audio.is_none() && s.video.is_none()));
        let a = plan(&cfg(Scenario::AudioOnly, 1, 4, 0), &one, audio, clip, t0).unwrap();
        assert!(a.iter().all(|s| s.audio.is_some() && s.video.is_none()));
        // Mixed tiles alternate within each room.
        let tiles: Vec<String> = m.iter().map(|s| s.tiles.label()).collect();
        assert_eq!(tiles, ["large", "small", "large", "small", "large", "small", "large", "small"]);
        // Tokens verify with the same secret, for the right room.
        let keys = TokenKeys::new(&[7; 32]);
        assert!(keys.verify(&a[0].token, &a[0].room).is_ok());
    }

    #[test]
    fn several_servers_share_every_room() {
        let audio = Arc::new(AudioLoop { speech: vec![None], silence: vec![None], dtx: true });
        let clip = vec![(Arc::new(Clip::layer(0).unwrap()), 0)];
        let two = ["ws://a/ws".to_owned(), "ws://b/ws".to_owned()];
        let m = plan(&cfg(Scenario::Meeting, 2, 2, 1), &two, audio.clone(), clip.clone(), Instant::now()).unwrap();
        let urls: Vec<&str> = m.iter().map(|s| s.ws_url.as_str()).collect();
        assert_eq!(urls, ["ws://a/ws", "ws://b/ws", "ws://a/ws", "ws://b/ws", "ws://a/ws", "ws://b/ws"]);
        for room in m.iter().map(|s| &s.room) {
            let used: std::collections::BTreeSet<_> =
                m.iter().filter(|s| &s.room == room).map(|s| s.ws_url.as_str()).collect();
            assert_eq!(used.len(), 2, "room {room} spans both servers");
        }
        assert!(plan(&cfg(Scenario::Meeting, 1, 1, 0), &[], audio, clip, Instant::now()).is_err());
    }
}

//! How large a simulated participant shows the others' videos, told to the server in `video_sizes` as the web
//! client does (`web-client/src/videoSizes.ts`): the SFU picks each video's simulcast layer from it.

use std::collections::HashMap;

use super::proto::VideoSize;

/// What the subscribers of a run render (`--tile-sizes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TileSizes {
    /// Every participant shows everyone in one grid on a 1280x720 stage, as the web client lays it out
    /// (its own camera counts as a tile): 2-4 tiles are about 632x355 (the SFU picks 640x360), 5-9 tiles 421x237
    /// to 417x234 (still 640x360), 10 or more 314x176 or less (320x180); a viewer with one video: 1280x720.
    #[default]
    Grid,
    /// Every video at 1280x720 (the SFU sends the high layer when the bandwidth allows).
    Large,
    /// Every video at 320x180 (low layer).
    Small,
    /// The participants of a room alternate: large, small, large, ...
    Mixed,
    /// Never send `video_sizes` (the SFU sends the best layer the bandwidth allows).
    None,
}

impl TileSizes {
    pub fn as_str(self) -> &'static str {
        match self {
            TileSizes::Grid => "grid",
            TileSizes::Large => "large",
            TileSizes::Small => "small",
            TileSizes::Mixed => "mixed",
            TileSizes::None => "none",
        }
    }

    /// The policy of the participant at `position` in its room.
    pub fn policy(self, position: usize) -> TilePolicy {
        match self {
            TileSizes::Grid => TilePolicy::Grid,
            TileSizes::Large => TilePolicy::Fixed(LARGE),
            TileSizes::Small => TilePolicy::Fixed(SMALL),
            TileSizes::Mixed if position.is_multiple_of(2) => TilePolicy::Fixed(LARGE),
            TileSizes::Mixed => TilePolicy::Fixed(SMALL),
            TileSizes::None => TilePolicy::None,
        }
    }
}

pub const LARGE: (u32, u32) = (1280, 720);
pub const SMALL: (u32, u32) = (320, 180);
/// The grid's stage.
const STAGE: (u32, u32) = (1280, 720);

/// One participant's tile sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePolicy {
    Grid,
    Fixed((u32, u32)),
    None,
}

impl TilePolicy {
    /// For the report: `grid`, `large`, `small`, `none` (or the size).
    pub fn label(self) -> String {
        match self {
            TilePolicy::Grid => "grid".into(),
            TilePolicy::Fixed(LARGE) => "large".into(),
            TilePolicy::Fixed(SMALL) => "small".into(),
            TilePolicy::Fixed((w, h)) => format!("{w}x{h}"),
            TilePolicy::None => "none".into(),
        }
    }
}

/// The tile size of `n` tiles of 16:9 on a `width` x `height` stage with 8 px gaps, as the web client's
/// `bestLayout` computes it (the largest tiles; never narrower than 160 px).
pub fn best_layout(n: usize, width: u32, height: u32) -> (u32, u32) {
    const GAP: f64 = 8.0;
    const MIN_WIDTH: f64 = 160.0;
    let aspect = 16.0 / 9.0;
    let (w, h) = (width as f64, height as f64);
    let count = n.max(1);
    let mut best = 0.0f64;
    for cols in 1..=count {
        let rows = count.div_ceil(cols);
        let max_w = (w - GAP * (cols as f64 - 1.0)) / cols as f64;
        let max_h = (h - GAP * (rows as f64 - 1.0)) / rows as f64;
        if max_w <= 0.0 || max_h <= 0.0 {
            continue;
        }
        best = best.max(max_w.min(max_h * aspect));
    }
    if best < MIN_WIDTH {
        let cols = (((w + GAP) / (MIN_WIDTH + GAP)).floor() as usize).clamp(1, count);
        best = MIN_WIDTH.max(w.min((w - GAP * (cols as f64 - 1.0)) / cols as f64));
    }
    (best.floor() as u32, (best / aspect).floor() as u32)
}

/// The remote videos a subscribe offer carries, as `(sid, track_id)`: from the msid of every active video
/// m-line (`a=msid:<sid> <sid>-<track_id>`, docs/protocol.md).
pub fn offered_videos(sdp: &str) -> Vec<(String, String)> {
    per_active_video(sdp, |line| {
        let mut f = line.strip_prefix("a=msid:")?.split_whitespace();
        let (sid, track) = (f.next()?, f.next()?);
        let track_id = track.strip_prefix(sid)?.strip_prefix('-')?;
        Some((sid.to_owned(), track_id.to_owned()))
    })
}

/// For every active video m-line of `sdp` (not port 0, not `inactive` or `recvonly`), the last value `pick`
/// finds among its lines; m-lines where it finds none are left out.
fn per_active_video<T>(sdp: &str, pick: impl Fn(&str) -> Option<T>) -> Vec<T> {
    let mut out = Vec::new();
    let mut section: Option<(bool, Option<T>)> = None;
    let finish = |s: Option<(bool, Option<T>)>, out: &mut Vec<T>| {
        if let Some((true, Some(v))) = s {
            out.push(v);
        }
    };
    for line in sdp.lines().map(str::trim_end) {
        if let Some(m) = line.strip_prefix("m=") {
            finish(section.take(), &mut out);
            let mut f = m.split_whitespace();
            let video = f.next() == Some("video") && f.next().is_some_and(|port| port != "0");
            section = Some((video, None));
        } else if let Some((active, found)) = section.as_mut() {
            if line == "a=inactive" || line == "a=recvonly" {
                *active = false;
            } else if let Some(v) = pick(line) {
                *found = Some(v);
            }
        }
    }
    finish(section, &mut out);
    out
}

/// The layer (0 low, 1 mid, 2 high) Plenum's SFU wants for a tile of `width` x `height` (`sfu/src/core/
/// commands.rs`, `layer_for_size`): up to 400 px wide (or the 16:9 width of its height) low, up to 800 mid;
/// `None` for a hidden tile.
pub fn layer_for_size(width: u32, height: u32) -> Option<u8> {
    match width.max(height.saturating_mul(16) / 9) {
        0 => None,
        1..=400 => Some(0),
        401..=800 => Some(1),
        _ => Some(2),
    }
}

/// The mids of the active video m-lines of an offer (Janus's subscriber offer: the client names videos by mid).
pub fn offered_video_mids(sdp: &str) -> Vec<(String, String)> {
    per_active_video(sdp, |line| line.strip_prefix("a=mid:").map(|m| (String::new(), m.trim().to_owned())))
}

/// Remembers what was sent, so only changes go out.
#[derive(Debug, Default)]
pub struct Sizer {
    sent: HashMap<(String, String), (u32, u32)>,
}

impl Sizer {
    /// The `video_sizes` entries to send for the videos of the latest subscribe offer. `own_tile`: the
    /// participant shows its own camera in the grid too.
    pub fn changes(&mut self, policy: TilePolicy, videos: &[(String, String)], own_tile: bool) -> Vec<VideoSize> {
        let size = match policy {
            TilePolicy::None => return vec![],
            TilePolicy::Fixed(s) => s,
            TilePolicy::Grid => best_layout(videos.len() + own_tile as usize, STAGE.0, STAGE.1),
        };
        self.sent.retain(|k, _| videos.contains(k));
        let mut out = Vec::new();
        for v in videos {
            if self.sent.get(v) != Some(&size) {
                self.sent.insert(v.clone(), size);
                out.push(VideoSize { sid: v.0.clone(), track_id: v.1.clone(), width: size.0, height: size.1 });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_matches_the_web_clients_layout() {
        // Values of web-client/src/layout.ts bestLayout(n, 1280, 720).
        assert_eq!(best_layout(1, 1280, 720), (1280, 720));
        assert_eq!(best_layout(2, 1280, 720), (636, 357));
        assert_eq!(best_layout(4, 1280, 720), (632, 355));
        assert_eq!(best_layout(3, 1280, 720), (632, 355));
        assert_eq!(best_layout(5, 1280, 720), (421, 237));
        assert_eq!(best_layout(9, 1280, 720), (417, 234));
        assert_eq!(best_layout(10, 1280, 720), (314, 176));
        assert_eq!(best_layout(16, 1280, 720), (309, 174));
        // Very many tiles: as many columns of at least 160 px as fit, scrolling.
        assert_eq!(best_layout(400, 1280, 720), (176, 99));
    }

    #[test]
    fn mixed_alternates_large_and_small() {
        let p: Vec<String> = (0..4).map(|k| TileSizes::Mixed.policy(k).label()).collect();
        assert_eq!(p, ["large", "small", "large", "small"]);
        assert_eq!(TileSizes::Grid.policy(3), TilePolicy::Grid);
    }

    const OFFER: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=msid:p2 p2-0\r\na=sendonly\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=msid:p2 p2-1\r\na=sendonly\r\n\
        m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=msid:p3 p3-1\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=msid:p4 p4-1\r\na=inactive\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=msid:p5 p5-3\r\na=sendonly\r\n";

    #[test]
    fn offered_videos_are_the_active_video_msids() {
        let v = offered_videos(OFFER);
        assert_eq!(v, [("p2".to_owned(), "1".to_owned()), ("p5".to_owned(), "3".to_owned())]);
        assert!(offered_videos("garbage\r\nm=video\r\na=msid:x\r\n").is_empty());
        let mids: Vec<String> = offered_video_mids(OFFER).into_iter().map(|v| v.1).collect();
        assert_eq!(mids, ["1"]);
    }

    #[test]
    fn layers_by_size_as_the_sfu_picks_them() {
        assert_eq!(layer_for_size(0, 0), None);
        assert_eq!(layer_for_size(320, 180), Some(0));
        assert_eq!(layer_for_size(421, 237), Some(1));
        assert_eq!(layer_for_size(632, 355), Some(1));
        assert_eq!(layer_for_size(1280, 720), Some(2));
        assert_eq!(layer_for_size(100, 720), Some(2), "a tall tile counts by its 16:9 width");
    }

    #[test]
    fn sizer_sends_only_changes() {
        let mut s = Sizer::default();
        let v = offered_videos(OFFER);
        let first = s.changes(TilePolicy::Grid, &v, true);
        assert_eq!(first.len(), 2);
        assert_eq!((first[0].width, first[0].height), (632, 355), "3 tiles in a 2x2 grid");
        assert!(s.changes(TilePolicy::Grid, &v, true).is_empty());
        // One video gone: the other one's tile grows.
        let again = s.changes(TilePolicy::Grid, &v[..1], true);
        assert_eq!((again.len(), again[0].width), (1, 636));
        assert!(s.changes(TilePolicy::None, &v, true).is_empty());
        let fixed = s.changes(TilePolicy::Fixed(SMALL), &v, false);
        assert!(fixed.iter().all(|x| (x.width, x.height) == SMALL) && fixed.len() == 2);
    }
}

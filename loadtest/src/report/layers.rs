//! The simulcast part of the report: what the publishers sent, and which layers (picture sizes) the receivers
//! got, by how they showed the videos (`--tile-sizes`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::client::ClientStats;
use crate::run::SentLayer;
use crate::stats::{LayerCount, Percentiles, resolution_name};

#[derive(Debug, Clone, Serialize)]
pub struct SimulcastReport {
    /// The publishers sent three simulcast encodings (else the one of `--video-layer`).
    pub enabled: bool,
    pub tile_sizes: String,
    /// What every video publisher sent: rid (empty without simulcast), size, bitrate of the clip.
    pub sent_layers: Vec<SentLayer>,
    /// Encodings publishers paused (and resumed) because the SFU said nobody receives them (`publisher_layers`).
    pub layers_paused: u64,
    pub layers_resumed: u64,
    /// `video_sizes` entries sent, and `unknown_track` errors they got (a video that had just ended).
    pub video_sizes_sent: u64,
    pub unknown_track_errors: u64,
    /// Video frames received by picture size (`1280x720`), all receivers: the layer the SFU forwarded.
    pub received_frames: BTreeMap<String, u64>,
    /// The same by tile size (`large`, `small`, `grid`, `none`), with shares in %.
    pub by_tile: BTreeMap<String, TileGroup>,
    /// Per receiver: keyframes that changed the picture size (the SFU switched layers), over all its videos.
    pub switches: Percentiles,
    pub switches_total: u64,
    /// Delta frames of another layer than the last keyframe's (a switch without a keyframe): should be 0.
    pub foreign_frames: u64,
    /// Frames received before the stream's first keyframe (a decoder could not show them).
    pub frames_before_keyframe: u64,
    /// Every receiver of video: its tile size, frames by picture size, switches.
    pub receivers: Vec<ReceiverLayers>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TileGroup {
    pub receivers: usize,
    pub frames: BTreeMap<String, u64>,
    pub share_pct: BTreeMap<String, f64>,
    pub switches: Percentiles,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReceiverLayers {
    pub participant: usize,
    pub tiles: String,
    pub frames: BTreeMap<String, u64>,
    /// The picture size most of its frames had.
    pub main: Option<String>,
    pub switches: u64,
}

fn named(frames: &BTreeMap<(u16, u16), u64>) -> BTreeMap<String, u64> {
    frames.iter().map(|(s, n)| (resolution_name(*s), *n)).collect()
}

fn shares(frames: &BTreeMap<String, u64>) -> BTreeMap<String, f64> {
    let total: u64 = frames.values().sum();
    frames.iter().map(|(k, n)| (k.clone(), if total > 0 { *n as f64 * 100.0 / total as f64 } else { 0.0 })).collect()
}

/// Sum up the receivers' layer counts.
pub fn build(clients: &[&ClientStats], enabled: bool, tile_sizes: String, sent: &[SentLayer]) -> SimulcastReport {
    let mut all = LayerCount::default();
    let mut receivers = Vec::new();
    let mut groups: BTreeMap<String, (LayerCount, Vec<f64>, usize)> = BTreeMap::new();
    let (mut paused, mut resumed, mut sizes, mut unknown) = (0, 0, 0, 0);
    for (i, s) in clients.iter().enumerate() {
        paused += s.layers_paused;
        resumed += s.layers_resumed;
        sizes += s.video_sizes_sent;
        unknown += s.unknown_track;
        if s.layers.is_empty() {
            continue;
        }
        let mut mine = LayerCount::default();
        for l in s.layers.values() {
            mine.merge(l);
        }
        all.merge(&mine);
        let g = groups.entry(s.tiles.clone()).or_default();
        g.0.merge(&mine);
        g.1.push(mine.switches as f64);
        g.2 += 1;
        receivers.push(ReceiverLayers {
            participant: i,
            tiles: s.tiles.clone(),
            frames: named(&mine.frames),
            main: mine.main_size().map(resolution_name),
            switches: mine.switches,
        });
    }
    let switches: Vec<f64> = receivers.iter().map(|r| r.switches as f64).collect();
    let by_tile = groups
        .into_iter()
        .map(|(k, (c, sw, n))| {
            let frames = named(&c.frames);
            let share_pct = shares(&frames);
            (k, TileGroup { receivers: n, frames, share_pct, switches: Percentiles::of(&sw) })
        })
        .collect();
    SimulcastReport {
        enabled,
        tile_sizes,
        sent_layers: sent.to_vec(),
        layers_paused: paused,
        layers_resumed: resumed,
        video_sizes_sent: sizes,
        unknown_track_errors: unknown,
        received_frames: named(&all.frames),
        by_tile,
        switches: Percentiles::of(&switches),
        switches_total: all.switches,
        foreign_frames: all.foreign_frames,
        frames_before_keyframe: all.frames_before_keyframe,
        receivers,
    }
}

/// `1280x720 93.0 %, 640x360 7.0 %`.
pub fn share_line(g: &TileGroup) -> String {
    let mut v: Vec<(&String, &f64)> = g.share_pct.iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(a.1));
    v.iter().map(|(k, p)| format!("{k} {p:.1} %")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::vp8::Vp8Start;

    #[test]
    fn receivers_are_grouped_by_tile_size() {
        let key = |w, h| Vp8Start { frame_start: true, keyframe_size: Some((w, h)) };
        let delta = Vp8Start { frame_start: true, keyframe_size: None };
        let mut large = ClientStats { tiles: "large".into(), ..Default::default() };
        let c = large.layers.entry(1).or_default();
        c.on_packet(key(640, 360), Some(1));
        c.on_packet(key(1280, 720), Some(2));
        for _ in 0..8 {
            c.on_packet(delta, Some(2));
        }
        let mut small = ClientStats { tiles: "small".into(), ..Default::default() };
        small.layers.entry(1).or_default().on_packet(key(320, 180), Some(0));
        small.layers.entry(2).or_default().on_packet(key(320, 180), Some(0));
        small.layers_paused = 2;
        let audio_only = ClientStats { tiles: "small".into(), ..Default::default() };
        let sent = [SentLayer { rid: "l", layer: 0, width: 320, height: 180, kbps: 150.0 }];
        let r = build(&[&large, &small, &audio_only], true, "mixed".into(), &sent);
        assert_eq!(r.receivers.len(), 2, "only receivers of video");
        assert_eq!(r.by_tile["large"].frames["1280x720"], 9);
        assert!((r.by_tile["large"].share_pct["1280x720"] - 90.0).abs() < 1e-9);
        assert_eq!(r.by_tile["small"].frames["320x180"], 2);
        assert_eq!(r.by_tile["small"].receivers, 1);
        assert_eq!(r.receivers[0].main.as_deref(), Some("1280x720"));
        assert_eq!((r.switches_total, r.switches.max, r.layers_paused), (1, 1.0, 2));
        assert_eq!(r.received_frames.values().sum::<u64>(), 12);
        assert_eq!(share_line(&r.by_tile["large"]), "1280x720 90.0 %, 640x360 10.0 %");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["sent_layers"][0]["rid"], "l");
    }
}

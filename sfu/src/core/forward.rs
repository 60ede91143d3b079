//! The forwarding path: one RTP packet from a publisher to every DownTrack of its UpTrack.
//!
//! Per DownTrack, a video packet of spatial layer `s` is
//! - forwarded when `s` is the layer being forwarded (temporal layers above the DownTrack's limit are skipped,
//!   leaving no gap; the limit rises only at a layer sync point, see `temporal.rs`);
//! - the switch point when `s` is the target layer and the packet starts a keyframe (up and down alike: a decoder
//!   needs a keyframe of the new layer); until then the old layer keeps flowing and a keyframe is asked for;
//! - dropped otherwise.

use std::sync::Arc;
use std::time::Instant;

use str0m::format::CodecConfig;
use str0m::media::{KeyframeRequestKind, Pt};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};

use super::codec::MediaCodec;
use super::red;
use super::forwarder::Forwarded;
use super::shard::{Shard, Transmitter};
use super::tracks::{CodecMatch, DownState, UpTrackKey};
use super::types::{ParticipantId, PcTarget, TrackKind};
use super::temporal::TemporalInfo;
use super::vp8::{self, Vp8Info};

/// What the forward path knows about one incoming packet.
#[derive(Debug, Clone, Copy)]
struct PacketInfo {
    spatial: u8,
    keyframe: bool,
    temporal: TemporalInfo,
    vp8: Option<Vp8Info>,
}

impl Shard {
    pub(crate) fn forward_packet(
        &mut self,
        publisher: ParticipantId,
        pkt: &RtpPacket,
        now: Instant,
        tx: &mut impl Transmitter,
    ) {
        self.stats.rtp_in += 1;
        let Some(p) = self.participants.get_mut(&publisher) else { return };
        let ssrc = pkt.header.ssrc;
        // Which track and layer: by known SSRC, else learned from str0m's stream (mid, rid).
        let mut found = None;
        for (u, up) in p.uptracks.iter_mut().enumerate() {
            if let Some(l) = up.layers.iter().position(|l| l.ssrc == Some(ssrc)) {
                found = Some((u, l));
                break;
            }
        }
        if found.is_none() {
            let stream = p.publisher.direct_api().stream_rx(&ssrc).map(|s| (s.mid(), s.rid()));
            if let Some((mid, rid)) = stream {
                let rid = rid.or(pkt.header.ext_vals.rid);
                if let Some(u) = p.uptracks.iter().position(|u| u.mid == mid) {
                    found = p.uptracks[u].layer_for(ssrc, rid).map(|l| (u, l));
                }
            }
        }
        let Some((up_index, layer_index)) = found else {
            self.stats.dropped_unknown_track += 1;
            return;
        };
        let pt = pkt.header.payload_type;
        if p.uptracks[up_index].codec.map(|c| c.0) != Some(pt) {
            match codec_of(p.publisher.codec_config(), pt) {
                Some((codec, m)) => p.uptracks[up_index].codec = Some((pt, codec, m)),
                None => {
                    self.stats.dropped_unknown_codec += 1;
                    return;
                }
            }
        }
        let up = &mut p.uptracks[up_index];
        let Some((_, codec, codec_match)) = up.codec else { return };
        if codec_match.red {
            self.stats.red_in += 1;
        }
        let layer = &mut up.layers[layer_index];
        let info = packet_info(codec, layer.spatial, &pkt.payload);
        layer.on_packet(now, pkt.payload.len(), info.temporal.tid);
        if up.blocked {
            // Stopped by a moderator: nothing reaches the subscribers or the speaker detection.
            self.stats.dropped_blocked += 1;
            return;
        }
        let key = UpTrackKey { publisher, mid: up.mid };
        let kind = up.kind;
        let subscribers = std::mem::take(&mut up.subscribers);
        let room = p.room.clone();
        // The publisher's capture time on the SFU's clock: subscribers' sender reports keep audio and video in
        // sync (`lipsync.rs`).
        let clock = if kind == TrackKind::Audio { 48_000 } else { 90_000 };
        let wallclock = p.sync.wallclock(now, pkt.last_sender_info.as_ref(), pkt.header.timestamp, clock);

        if kind == TrackKind::Audio
            && let (Some(level), Some(r)) = (pkt.header.ext_vals.audio_level, self.rooms.get_mut(&room)) {
                r.speakers.on_level(publisher, level);
            }

        let mut ext = ExtensionValues::default();
        ext.audio_level = pkt.header.ext_vals.audio_level;
        ext.voice_activity = pkt.header.ext_vals.voice_activity;
        ext.video_orientation = pkt.header.ext_vals.video_orientation;

        let mut want_keyframe = false;
        let mut primary: Option<Option<Arc<[u8]>>> = None;
        let mut thinned: Option<Option<Arc<[u8]>>> = None;
        for r in &subscribers {
            self.current = Some(r.subscriber);
            let Some(s) = self.participants.get_mut(&r.subscriber) else { continue };
            let Some(dt) = s.downtracks.get_mut(r.index) else { continue };
            if dt.state != DownState::Active {
                continue;
            }
            if kind == TrackKind::Video {
                let Some(target) = dt.target else { continue };
                if dt.current == Some(info.spatial) {
                    // The layer being forwarded keeps flowing until a switch happens; temporal layers above the
                    // DownTrack's limit are left out without a gap.
                    if !dt.admit_temporal(info.temporal, info.vp8.as_ref(), *pkt.seq_no) {
                        continue;
                    }
                } else if target == info.spatial {
                    if !info.keyframe {
                        want_keyframe = true;
                        self.stats.dropped_waiting_keyframe += 1;
                        continue;
                    }
                    if dt.current.is_some() {
                        self.stats.layer_switches += 1;
                    }
                    tracing::debug!(subscriber = %r.subscriber, publisher = %publisher, from = ?dt.current, to = info.spatial,
                        "video layer switched on a keyframe");
                    dt.switch_to(info.spatial);
                } else {
                    continue;
                }
            }
            let (out_pt, strip_red) = match dt.pt_map {
                Some((i, o, strip)) if i == pt => (o, strip),
                _ => match pt_for(s.subscriber.codec_config(), codec_match) {
                    Some((o, strip)) => {
                        dt.pt_map = Some((pt, o, strip));
                        (o, strip)
                    }
                    None => {
                        self.stats.dropped_unknown_codec += 1;
                        continue;
                    }
                },
            };
            let (seq, ts) = match dt.forwarder.forward(*pkt.seq_no, pkt.header.timestamp, now) {
                Forwarded::Send { seq, ts } => (seq, ts),
                Forwarded::Drop => {
                    self.stats.dropped_forwarder += 1;
                    continue;
                }
            };
            let patch = info.vp8.as_ref().and_then(|v| dt.vp8.rewrite(v)).and_then(|(pic, tl0)| vp8::patch(&pkt.payload, pic, tl0));
            let Some(out_ssrc) = dt.ssrc else { continue };
            let mut api = s.subscriber.direct_api();
            let Some(stream) = api.stream_tx(&out_ssrc) else { continue };
            let payload = if strip_red {
                // RED from the publisher, plain Opus for this subscriber: the primary block alone (one copy per
                // incoming packet, shared by every such subscriber).
                match primary.get_or_insert_with(|| red::primary(&pkt.payload).map(|r| Arc::from(&pkt.payload[r]))) {
                    Some(p) => {
                        self.stats.red_stripped += 1;
                        p.clone()
                    }
                    None => {
                        self.stats.dropped_unknown_codec += 1;
                        continue;
                    }
                }
            } else if codec_match.red && s.redundancy.thin() {
                // A link too slow for the redundant copies (`redundancy.rs`): RED with the primary block alone.
                match thinned.get_or_insert_with(|| red::without_redundancy(&pkt.payload).map(Arc::from)) {
                    Some(p) => {
                        self.stats.red_thinned += 1;
                        p.clone()
                    }
                    None => {
                        self.stats.dropped_unknown_codec += 1;
                        continue;
                    }
                }
            } else {
                pkt.payload.clone()
            };
            let mut write = RtpWrite::new(out_pt, seq.into(), ts, wallclock, payload)
                .marker(pkt.header.marker)
                .nackable(kind == TrackKind::Video)
                .ext_vals(ext.clone());
            if let Some(patch) = patch {
                write = write.vp8_patch(patch);
            }
            stream.write_rtp(write);
            self.stats.rtp_forwarded += 1;
            self.drain_conn_with(r.subscriber, PcTarget::Subscriber, now, tx, true);
        }
        self.current = Some(publisher);
        if let Some(up) = self.participants.get_mut(&publisher).and_then(|p| p.uptracks.get_mut(up_index)) {
            up.subscribers = subscribers;
        }
        if want_keyframe {
            self.keyframe_wants.push((key, info.spatial));
        }
    }

    /// Ask the publisher of `key` for a keyframe (PLI) of one layer, throttled per layer.
    pub(crate) fn request_keyframe(&mut self, key: UpTrackKey, spatial: u8, now: Instant, tx: &mut impl Transmitter) {
        let Some(p) = self.participants.get_mut(&key.publisher) else { return };
        let Some(up) = p.uptrack_mut(key.mid) else { return };
        if up.kind != TrackKind::Video {
            return;
        }
        let Some(layer) = up.layer_by_spatial(spatial) else { return };
        let Some(ssrc) = layer.ssrc else { return };
        if !layer.take_keyframe_slot(now) {
            return;
        }
        if let Some(rx) = p.publisher.direct_api().stream_rx(&ssrc) {
            rx.request_keyframe(KeyframeRequestKind::Pli);
            self.stats.keyframe_requests += 1;
            self.drain_conn(key.publisher, PcTarget::Publisher, now, tx);
        } else if self.relays.is_ghost(key.publisher) {
            // A relayed track: the request goes upstream to the home node.
            self.relay_keyframe(key.publisher, ssrc, now, tx);
        }
    }
}

fn packet_info(codec: MediaCodec, spatial: u8, payload: &[u8]) -> PacketInfo {
    match codec {
        MediaCodec::Vp8 => {
            let v = Vp8Info::parse(payload);
            let keyframe = v.is_some_and(|v| v.keyframe);
            let temporal = TemporalInfo {
                frame_start: v.is_some_and(|v| v.frame_start),
                keyframe,
                tid: v.map(|v| v.temporal()).unwrap_or(0),
                layer_sync: v.is_some_and(|v| v.layer_sync),
            };
            PacketInfo { spatial, keyframe, temporal, vp8: v }
        }
        c => {
            let keyframe = super::codec::starts_keyframe(c, payload);
            PacketInfo { spatial, keyframe, temporal: TemporalInfo { keyframe, ..Default::default() }, vp8: None }
        }
    }
}

/// The codec behind an incoming payload type (a RED payload type counts as its primary codec, marked `red`).
fn codec_of(config: &CodecConfig, pt: Pt) -> Option<(MediaCodec, CodecMatch)> {
    let params = config.find(|p| p.pt() == pt || p.red() == Some(pt))?;
    let spec = params.spec();
    Some((
        MediaCodec::from_str0m(spec.codec),
        CodecMatch { codec: spec.codec, packetization_mode: spec.format.packetization_mode, red: params.red() == Some(pt) },
    ))
}

/// The subscriber's payload type for a codec, and whether RED must be stripped to the primary block: RED passes
/// through to a subscriber that negotiated RED for the codec; one that did not gets the primary codec alone.
pub(crate) fn pt_for(config: &CodecConfig, m: CodecMatch) -> Option<(Pt, bool)> {
    if m.red
        && let Some(red) = config.find(|p| p.spec().codec == m.codec && p.red().is_some()).and_then(|p| p.red())
    {
        return Some((red, false));
    }
    let exact = config.find(|p| {
        let s = p.spec();
        s.codec == m.codec && s.format.packetization_mode == m.packetization_mode
    });
    exact.or_else(|| config.find(|p| p.spec().codec == m.codec)).map(|p| (p.pt(), m.red))
}

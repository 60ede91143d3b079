//! The forwarding path: one RTP packet from a publisher to every DownTrack of its UpTrack.

use std::time::Instant;

use str0m::format::CodecConfig;
use str0m::media::{KeyframeRequestKind, Pt};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};

use super::codec::{MediaCodec, starts_keyframe};
use super::forwarder::Forwarded;
use super::shard::{Shard, Transmitter};
use super::tracks::{CodecMatch, DownState, UpTrackKey};
use super::types::{ParticipantId, PcTarget, TrackKind};

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
        let up_index = match p.uptracks.iter().position(|u| u.ssrc == Some(ssrc)) {
            Some(i) => i,
            None => {
                let mid = p.publisher.direct_api().stream_rx(&ssrc).map(|s| s.mid());
                match mid.and_then(|m| p.uptracks.iter().position(|u| u.mid == m)) {
                    Some(i) => {
                        p.uptracks[i].ssrc = Some(ssrc);
                        i
                    }
                    None => {
                        self.stats.dropped_unknown_track += 1;
                        return;
                    }
                }
            }
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
        let key = UpTrackKey { publisher, mid: up.mid };
        let kind = up.kind;
        let keyframe = codec.is_video() && starts_keyframe(codec, &pkt.payload);
        let subscribers = std::mem::take(&mut up.subscribers);

        let mut ext = ExtensionValues::default();
        ext.audio_level = pkt.header.ext_vals.audio_level;
        ext.voice_activity = pkt.header.ext_vals.voice_activity;
        ext.video_orientation = pkt.header.ext_vals.video_orientation;

        let mut want_keyframe = false;
        for r in &subscribers {
            self.current = Some(r.subscriber);
            let Some(s) = self.participants.get_mut(&r.subscriber) else { continue };
            let Some(dt) = s.downtracks.get_mut(r.index) else { continue };
            if dt.state != DownState::Active {
                continue;
            }
            if dt.waiting_keyframe {
                if !keyframe {
                    want_keyframe = true;
                    self.stats.dropped_waiting_keyframe += 1;
                    continue;
                }
                dt.waiting_keyframe = false;
            }
            let out_pt = match dt.pt_map {
                Some((i, o)) if i == pt => o,
                _ => match pt_for(s.subscriber.codec_config(), codec_match) {
                    Some(o) => {
                        dt.pt_map = Some((pt, o));
                        o
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
            let Some(out_ssrc) = dt.ssrc else { continue };
            let mut api = s.subscriber.direct_api();
            let Some(stream) = api.stream_tx(&out_ssrc) else { continue };
            stream.write_rtp(
                RtpWrite::new(out_pt, seq.into(), ts, now, pkt.payload.clone())
                    .marker(pkt.header.marker)
                    .nackable(kind == TrackKind::Video)
                    .ext_vals(ext.clone()),
            );
            self.stats.rtp_forwarded += 1;
            self.drain_conn(r.subscriber, PcTarget::Subscriber, now, tx);
        }
        self.current = Some(publisher);
        if let Some(up) = self.participants.get_mut(&publisher).and_then(|p| p.uptracks.get_mut(up_index)) {
            up.subscribers = subscribers;
        }
        if want_keyframe {
            self.keyframe_wants.push(key);
        }
    }

    /// Ask the publisher of `key` for a keyframe (PLI), at most every [`super::tracks::KEYFRAME_REQUEST_INTERVAL`].
    pub(crate) fn request_keyframe(&mut self, key: UpTrackKey, now: Instant, tx: &mut impl Transmitter) {
        let Some(p) = self.participants.get_mut(&key.publisher) else { return };
        let Some(up) = p.uptrack_mut(key.mid) else { return };
        let Some(ssrc) = up.ssrc else { return };
        if up.kind != TrackKind::Video || !up.take_keyframe_slot(now) {
            return;
        }
        if let Some(rx) = p.publisher.direct_api().stream_rx(&ssrc) {
            rx.request_keyframe(KeyframeRequestKind::Pli);
            self.stats.keyframe_requests += 1;
            self.drain_conn(key.publisher, PcTarget::Publisher, now, tx);
        }
    }
}

/// The codec behind an incoming payload type.
fn codec_of(config: &CodecConfig, pt: Pt) -> Option<(MediaCodec, CodecMatch)> {
    let params = config.find(|p| p.pt() == pt)?;
    let spec = params.spec();
    Some((
        MediaCodec::from_str0m(spec.codec),
        CodecMatch { codec: spec.codec, packetization_mode: spec.format.packetization_mode },
    ))
}

/// The subscriber's payload type for a codec.
fn pt_for(config: &CodecConfig, m: CodecMatch) -> Option<Pt> {
    let exact = config.find(|p| {
        let s = p.spec();
        s.codec == m.codec && s.format.packetization_mode == m.packetization_mode
    });
    exact.or_else(|| config.find(|p| p.spec().codec == m.codec)).map(|p| p.pt())
}

//! Control commands for one participant.

use std::time::Instant;

use str0m::Candidate;

use super::index::ConnKey;
use super::layers::MAX_LAYERS;
use super::participant::AnswerError;
use super::shard::{Shard, Transmitter, error};
use super::tracks::DownTrackRef;
use super::types::*;

/// The highest spatial layer worth sending into a tile of this size (layers are 1/4, 1/2 and full resolution of
/// a 1280x720 capture).
pub fn layer_for_size(width: u32, height: u32) -> Option<u8> {
    let px = width.max(height * 16 / 9);
    match px {
        0 => None,
        1..=400 => Some(0),
        401..=800 => Some(1),
        _ => Some(MAX_LAYERS as u8 - 1),
    }
}

impl Shard {
    pub(crate) fn command(&mut self, now: Instant, id: ParticipantId, cmd: ParticipantCommand, tx: &mut impl Transmitter) {
        match cmd {
            ParticipantCommand::PublisherOffer(sdp) => {
                let Some(p) = self.participants.get_mut(&id) else { return };
                match p.accept_publisher_offer(&sdp) {
                    Ok(answer) => {
                        // An offer restarting ICE gets new local credentials in the answer.
                        let ufrag = p.ufrag(PcTarget::Publisher);
                        self.index.insert_ufrag(&ufrag, ConnKey { participant: id, target: PcTarget::Publisher });
                        self.events.push_back((id, SfuEvent::PublisherAnswer(answer)))
                    }
                    Err(msg) => self.events.push_back((id, error(ErrorCode::BadSdp, &msg))),
                }
                self.drain_conn(id, PcTarget::Publisher, now, tx);
            }
            ParticipantCommand::SubscriberAnswer(sdp) => {
                let Some(p) = self.participants.get_mut(&id) else { return };
                match p.accept_subscriber_answer(&sdp) {
                    Ok(activated) => {
                        // After an ICE restart str0m uses the new credentials from here on.
                        let ufrag = p.ufrag(PcTarget::Subscriber);
                        self.index.insert_ufrag(&ufrag, ConnKey { participant: id, target: PcTarget::Subscriber });
                        for i in activated {
                            let dt = &p.downtracks[i];
                            if dt.kind == TrackKind::Video {
                                self.keyframe_wants.push((dt.source, 0));
                            }
                        }
                        if p.wants_renegotiation() {
                            self.renegotiate(id);
                        }
                        self.allocate_soon(id);
                    }
                    Err(e) => {
                        let code = match e {
                            AnswerError::Unexpected => ErrorCode::UnexpectedAnswer,
                            AnswerError::Parse(_) | AnswerError::Negotiate(_) => ErrorCode::BadSdp,
                        };
                        self.events.push_back((id, error(code, &e.to_string())));
                    }
                }
                self.drain_conn(id, PcTarget::Subscriber, now, tx);
            }
            ParticipantCommand::RemoteCandidate { target, candidate } => {
                let Some(line) = candidate else { return };
                let line = line.trim();
                let line = line.strip_prefix("a=").unwrap_or(line);
                match Candidate::from_sdp_string(line) {
                    Ok(c) => {
                        if let Some(p) = self.participants.get_mut(&id) {
                            p.rtc(target).add_remote_candidate(c);
                        }
                    }
                    Err(e) => {
                        let msg = format!("cannot parse candidate: {e}");
                        self.events.push_back((id, error(ErrorCode::BadCandidate, &msg)))
                    }
                }
            }
            ParticipantCommand::SetVideoSize { publisher, track_id, width, height } => {
                let wanted = layer_for_size(width, height);
                let Some(p) = self.participants.get_mut(&id) else { return };
                let dt = p.downtracks.iter_mut().find(|d| {
                    d.source.publisher == publisher && d.source.mid.to_string() == track_id && d.kind == TrackKind::Video
                });
                match dt {
                    Some(dt) => {
                        if dt.wanted != wanted {
                            dt.wanted = wanted;
                            self.allocate_soon(id);
                        }
                    }
                    None => self.events.push_back((id, error(ErrorCode::UnknownTrack, "no such video to size"))),
                }
            }
            ParticipantCommand::SetTrackSource { track_id, screen } => {
                let Some(p) = self.participants.get_mut(&id) else { return };
                match p.uptracks.iter_mut().find(|u| u.mid.to_string() == track_id) {
                    Some(u) => {
                        u.screen = screen;
                        let subs: Vec<ParticipantId> = u.subscribers.iter().map(|r| r.subscriber).collect();
                        for s in subs {
                            self.allocate_soon(s);
                        }
                    }
                    None => self.events.push_back((id, error(ErrorCode::UnknownTrack, "no such track of yours"))),
                }
            }
            ParticipantCommand::RestartIce => {
                if let Some(p) = self.participants.get_mut(&id) {
                    p.ice_restart = true;
                    self.renegotiate(id);
                }
            }
            ParticipantCommand::BlockMedia { media, blocked } => {
                let Some(p) = self.participants.get_mut(&id) else { return };
                let mut class = BlockedMedia::default();
                class.set(media, true);
                let mut refs: Vec<DownTrackRef> = Vec::new();
                let mut changed_video = false;
                for u in p.uptracks.iter_mut().filter(|u| class.blocks(u.kind, u.screen)) {
                    u.blocked = blocked;
                    if u.kind == TrackKind::Video {
                        changed_video = true;
                        refs.extend(u.subscribers.iter().copied());
                    }
                }
                // Their subscribers' budgets change: a stopped video frees bandwidth, a resumed one needs it.
                if changed_video {
                    for r in &refs {
                        self.allocate_soon(r.subscriber);
                    }
                }
                if !blocked {
                    refs.clear();
                }
                // Subscribers resume a stopped video at a keyframe, as after a pause.
                for r in refs {
                    if let Some(dt) = self.participants.get_mut(&r.subscriber).and_then(|s| s.downtracks.get_mut(r.index)) {
                        dt.current = None;
                    }
                }
            }
            ParticipantCommand::Leave => {
                self.remove_participant(id, CloseReason::Left, now, tx);
                return;
            }
            ParticipantCommand::RelayOffer(_) => {
                self.events.push_back((id, error(ErrorCode::Internal, "not a relay leg")));
            }
        }
        self.process_pending(now, tx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_sizes_map_to_layers() {
        assert_eq!(layer_for_size(0, 0), None);
        assert_eq!(layer_for_size(320, 180), Some(0));
        assert_eq!(layer_for_size(200, 300), Some(1), "a portrait tile needs the width a 16:9 frame of that height has");
        assert_eq!(layer_for_size(640, 360), Some(1));
        assert_eq!(layer_for_size(1280, 720), Some(2));
        assert_eq!(layer_for_size(4000, 3000), Some(2));
    }
}

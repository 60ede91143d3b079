//! Membership: publishing and unpublishing tracks, subscriptions, subscriber offers, leaving.

use std::time::Instant;

use str0m::media::{MediaKind, Mid, Rid};

use super::index::ConnKey;
use super::shard::{Shard, Transmitter, drain};
use super::tracks::{DownTrack, DownTrackRef, UpTrack, UpTrackKey};
use super::types::*;

impl Shard {
    pub(crate) fn publish_track(&mut self, id: ParticipantId, mid: Mid, kind: MediaKind, rids: &[Rid], now: Instant) {
        let kind = match kind {
            MediaKind::Audio => TrackKind::Audio,
            MediaKind::Video => TrackKind::Video,
        };
        let Some(p) = self.participants.get_mut(&id) else { return };
        if p.uptrack_mut(mid).is_some() {
            return;
        }
        p.uptracks.push(UpTrack::new(mid, kind, rids, now));
        let room = p.room.clone();
        self.events.push_back((id, SfuEvent::TrackPublished(TrackInfo { track_id: mid.to_string(), kind })));
        let members = self.rooms.get(&room).map(|r| r.members.clone()).unwrap_or_default();
        for other in members.into_iter().filter(|o| *o != id) {
            self.add_subscription(other, UpTrackKey { publisher: id, mid }, kind);
            self.renegotiate(other);
        }
    }

    pub(crate) fn unpublish_track(&mut self, id: ParticipantId, mid: Mid) {
        let Some(p) = self.participants.get_mut(&id) else { return };
        let Some(pos) = p.uptracks.iter().position(|u| u.mid == mid) else { return };
        let up = p.uptracks.remove(pos);
        self.events.push_back((id, SfuEvent::TrackUnpublished { track_id: up.track_id() }));
        for r in up.subscribers {
            if let Some(s) = self.participants.get_mut(&r.subscriber) {
                s.remove_downtrack(r.index);
            }
            self.renegotiate(r.subscriber);
        }
    }

    /// Give `subscriber` a DownTrack of `source` (negotiated by the caller's next [`Shard::renegotiate`]).
    pub(crate) fn add_subscription(&mut self, subscriber: ParticipantId, source: UpTrackKey, kind: TrackKind) {
        // A relayed publisher (cascading) only publishes here.
        if self.relays.is_ghost(subscriber) {
            return;
        }
        let seq = (self.next_rand() % 30_000) as u16;
        let ts = self.next_rand() as u32;
        let Some(s) = self.participants.get_mut(&subscriber) else { return };
        let index = s.add_downtrack(DownTrack::new(source, kind, seq, ts));
        if let Some(up) = self.participants.get_mut(&source.publisher).and_then(|p| p.uptrack_mut(source.mid)) {
            up.subscribers.push(DownTrackRef { subscriber, index });
        }
    }

    /// Note that `id`'s subscriber connection needs a new offer. Offers go out in [`Shard::flush_offers`], so
    /// that tracks published together (audio and video of one offer) reach each subscriber in one offer.
    pub(crate) fn renegotiate(&mut self, id: ParticipantId) {
        if !self.offers_due.contains(&id) {
            self.offers_due.push(id);
        }
    }

    /// Send the subscriber offers that are due.
    pub(crate) fn flush_offers(&mut self) {
        for id in std::mem::take(&mut self.offers_due) {
            let Some(p) = self.participants.get_mut(&id) else { continue };
            if let Some(offer) = p.make_subscriber_offer() {
                // An ICE restart's new credentials: route checks that use them.
                if let Some(ufrag) = p.restart_ufrag.take() {
                    self.index.insert_ufrag(&ufrag, ConnKey { participant: id, target: PcTarget::Subscriber });
                }
                self.events.push_back((id, SfuEvent::SubscriberOffer(offer)));
            }
        }
    }

    pub(crate) fn remove_participant(&mut self, id: ParticipantId, reason: CloseReason, now: Instant, tx: &mut impl Transmitter) {
        let Some(mut p) = self.participants.remove(&id) else { return };
        self.index.remove_participant(id);
        if let Some(room) = self.rooms.get_mut(&p.room) {
            room.members.retain(|m| *m != id);
            room.speakers.remove(id);
            if room.members.is_empty() {
                self.rooms.remove(&p.room);
            }
        }
        self.offers_due.retain(|o| *o != id);
        self.alloc_due.retain(|o| *o != id);
        // Its published tracks disappear for the others.
        for up in std::mem::take(&mut p.uptracks) {
            self.events.push_back((id, SfuEvent::TrackUnpublished { track_id: up.track_id() }));
            for r in up.subscribers {
                if let Some(s) = self.participants.get_mut(&r.subscriber) {
                    s.remove_downtrack(r.index);
                }
                self.renegotiate(r.subscriber);
            }
        }
        // It no longer receives anything.
        for dt in &p.downtracks {
            if let Some(up) = self.participants.get_mut(&dt.source.publisher).and_then(|o| o.uptrack_mut(dt.source.mid)) {
                up.subscribers.retain(|r| r.subscriber != id);
            }
        }
        // Say goodbye on the wire (DTLS close) where possible.
        p.publisher.disconnect();
        p.subscriber.disconnect();
        let _ = drain(&mut p.publisher, now, tx, &mut self.stats, false, |_| {});
        let _ = drain(&mut p.subscriber, now, tx, &mut self.stats, false, |_| {});
        self.failed.retain(|(f, _)| *f != id);
        if !matches!(reason, CloseReason::Left | CloseReason::Shutdown) {
            tracing::info!(participant = %id, ?reason, "participant dropped by the SFU");
        }
        self.events.push_back((id, SfuEvent::Closed(reason)));
    }

    pub(crate) fn next_rand(&mut self) -> u64 {
        // xorshift64*: deterministic per shard seed, good enough for initial sequence numbers.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}


//! Periodic work of the shard: speaker detection, per-subscriber layer allocation, and pausing simulcast layers
//! nobody receives.

use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;

use super::allocator::{Choice, Decision, Demand, KEEP_LOWEST_OVERDRAW, Priority, allocate_with};
use super::layers::MAX_LAYERS;
use super::redundancy;
use super::shard::{Shard, Transmitter};
use super::tracks::DownState;
use super::types::*;

/// Allocation and publisher-layer checks run every this many ticks (500 ms).
const SLOW_TICKS: u64 = 5;
/// Above this loss on the subscriber's link (last stats interval) flowing videos may not overdraw the budget.
const OVERDRAW_MAX_LOSS: f32 = 0.2;
/// Bitrate reserved per received audio track.
pub const AUDIO_BPS: u64 = 40_000;
/// A new track's layers are never paused during its first seconds (subscribers are still arriving).
const PUBLISH_GRACE: Duration = Duration::from_secs(4);
/// A layer nobody has wanted for this long is paused at the publisher.
const UNUSED_AFTER: Duration = Duration::from_secs(3);

impl Shard {
    /// Re-run `id`'s allocation at the end of the current entry point.
    pub(crate) fn allocate_soon(&mut self, id: ParticipantId) {
        if !self.alloc_due.contains(&id) {
            self.alloc_due.push(id);
        }
    }

    pub(crate) fn flush_allocations(&mut self, now: Instant) {
        while let Some(id) = self.alloc_due.pop() {
            self.allocate_for(id, now);
        }
    }

    pub(crate) fn tick(&mut self, now: Instant, _tx: &mut impl Transmitter) {
        self.ticks += 1;
        // Speakers, every tick.
        let mut updates = Vec::new();
        for room in self.rooms.values_mut() {
            if let Some(u) = room.speakers.tick(now) {
                updates.push((room.members.clone(), u));
            }
        }
        let speakers_changed = !updates.is_empty();
        for (members, u) in updates {
            for m in members {
                self.events.push_back((m, SfuEvent::Speakers { dominant: u.dominant, speaking: u.speaking.clone() }));
            }
        }
        if !self.ticks.is_multiple_of(SLOW_TICKS) && !speakers_changed {
            return;
        }
        let mut ids = std::mem::take(&mut self.scratch_ids);
        ids.clear();
        ids.extend(self.participants.keys().copied());
        for &id in &ids {
            self.allocate_for(id, now);
        }
        if self.ticks.is_multiple_of(SLOW_TICKS) {
            for &id in &ids {
                self.update_publisher_layers(id, now);
            }
        }
        self.scratch_ids = ids;
    }

    /// Decide the layer of every video `id` receives, from its bandwidth estimate and wishes.
    pub(crate) fn allocate_for(&mut self, id: ParticipantId, now: Instant) {
        let Some(p) = self.participants.get(&id) else { return };
        let dominant = self.rooms.get(&p.room).and_then(|r| r.speakers.dominant());
        let mut demands = std::mem::take(&mut self.scratch_demands);
        let mut dts = std::mem::take(&mut self.scratch_dts);
        demands.clear();
        dts.clear();
        let mut audio = 0;
        // What the RED audio this subscriber receives costs on the wire, redundancy included.
        let mut red_audio = 0;
        for (i, dt) in p.downtracks.iter().enumerate() {
            if dt.state != DownState::Active {
                continue;
            }
            let up = self.participants.get(&dt.source.publisher).and_then(|o| o.uptracks.iter().find(|u| u.mid == dt.source.mid));
            if dt.kind == TrackKind::Audio {
                audio += AUDIO_BPS;
                let stripped = dt.pt_map.is_some_and(|(_, _, strip)| strip);
                if let Some(up) = up
                    && let (Some((_, _, m)), Some(l)) = (up.codec, up.layers.first())
                    && m.red
                    && !stripped
                    && l.arriving(now)
                {
                    red_audio += redundancy::wire_bps(l.bps, l.pps);
                }
                continue;
            }
            let Some(up) = up else { continue };
            let priority = if up.screen {
                Priority::Screen
            } else if dominant == Some(dt.source.publisher) {
                Priority::Speaker
            } else {
                Priority::Other
            };
            // A video a moderator stopped is not forwarded: it must not take budget from the others.
            let max_layer = if up.blocked { None } else { dt.wanted };
            let current = dt.current.map(|spatial| Choice { spatial, temporal: dt.temporal.current() });
            demands.push(Demand { priority, layers: up.usable_layers(now), max_layer, current });
            dts.push(i);
        }
        let budget = p.delivery.budget(now, p.estimate_bps);
        let mut order = std::mem::take(&mut self.scratch_order);
        let mut decisions = std::mem::take(&mut self.scratch_decisions);
        // Flowing videos may overdraw the budget where the estimate sits below a link that delivers; on a link
        // that is losing packets the overdraw would come out of the audio (measured with Chromium at 70 kbit/s:
        // the low layer's base frame rate kept on top of the audio, half of the audio packets lost).
        let overdraw = if p.delivery.recent_loss(now) <= OVERDRAW_MAX_LOSS { KEEP_LOWEST_OVERDRAW } else { 0.0 };
        let summary = allocate_with(budget, audio, &demands, &mut order, &mut decisions, overdraw);

        let Some(p) = self.participants.get_mut(&id) else { return };
        if p.redundancy.update(budget, red_audio) {
            tracing::debug!(subscriber = %id, budget, red_audio, thin = p.redundancy.thin(), "audio redundancy");
        }
        let mut wanted_layers = Vec::new();
        for (k, &i) in dts.iter().enumerate() {
            let dt = &mut p.downtracks[i];
            let (target, paused) = match decisions[k] {
                Decision::Layer(c) => {
                    // Applied at the next frame boundary (down) or layer sync point (up), see `temporal.rs`.
                    dt.temporal.set_target(c.temporal);
                    (Some(c.spatial), false)
                }
                Decision::NotWanted => (None, false),
                Decision::Paused => (None, true),
            };
            if target != dt.target {
                tracing::debug!(subscriber = %id, publisher = %dt.source.publisher, from = ?dt.target, to = ?target,
                    paused, wish = ?demands[k].max_layer, current = ?dt.current, budget, "video layer target");
                dt.target = target;
                if target.is_none() {
                    // Stop at once; resuming waits for a keyframe of the target layer.
                    dt.current = None;
                } else if dt.current != target {
                    self.keyframe_wants.push((dt.source, target.unwrap_or(0)));
                }
            }
            if paused != dt.paused_for_bandwidth {
                dt.paused_for_bandwidth = paused;
                self.stats.videos_paused = if paused { self.stats.videos_paused + 1 } else { self.stats.videos_paused.saturating_sub(1) };
                let ev = SfuEvent::VideoPaused { publisher: dt.source.publisher, track_id: dt.source.mid.to_string(), paused };
                self.events.push_back((id, ev));
            }
            if let Some(l) = target {
                wanted_layers.push((dt.source, l));
            }
            // The layer being forwarded stays wanted until the switch happens.
            if let Some(c) = dt.current {
                wanted_layers.push((dt.source, c));
            }
        }
        // Sustain only the allocated rate (padding fills gaps while media pauses); find out whether more fits by
        // short probes on a schedule (see `probe.rs`) rather than by padding up to the next step, which kept
        // capped links congested.
        let desired = summary.desired_bps.max(summary.allocated_bps);
        let deficient = summary.next_step_bps > 0;
        let probe_desired = p.probe.desired(now, p.estimate_bps, summary.allocated_bps, desired, deficient);
        p.subscriber.bwe().set_bitrate(Bitrate::bps(summary.allocated_bps.min(probe_desired)), Bitrate::bps(probe_desired));
        p.allocated_bps = summary.allocated_bps;
        for (source, l) in wanted_layers {
            if let Some(layer) = self
                .participants
                .get_mut(&source.publisher)
                .and_then(|o| o.uptrack_mut(source.mid))
                .and_then(|u| u.layer_by_spatial(l))
            {
                layer.last_wanted = Some(now);
            }
        }
        self.scratch_demands = demands;
        self.scratch_dts = dts;
        self.scratch_order = order;
        self.scratch_decisions = decisions;
    }

    /// Ask `id` to pause the simulcast layers nobody receives, and to resume those wanted again.
    fn update_publisher_layers(&mut self, id: ParticipantId, now: Instant) {
        let Some(p) = self.participants.get_mut(&id) else { return };
        for up in p.uptracks.iter_mut().filter(|u| u.is_simulcast()) {
            let young = now.saturating_duration_since(up.published_at) < PUBLISH_GRACE;
            let mut active = up.layers_requested;
            for l in &up.layers {
                let used = l.last_wanted.is_some_and(|t| now.saturating_duration_since(t) < UNUSED_AFTER);
                active[l.spatial as usize] = young || used;
            }
            if active == up.layers_requested {
                continue;
            }
            up.layers_requested = active;
            let mut list = Vec::with_capacity(MAX_LAYERS);
            for l in up.layers.iter_mut() {
                let on = active[l.spatial as usize];
                l.paused_by_sfu = !on;
                if let Some(rid) = l.rid {
                    list.push((rid.to_string(), on));
                }
            }
            self.stats.publisher_layer_changes += 1;
            self.events.push_back((id, SfuEvent::PublisherLayers { track_id: up.track_id(), active: list }));
        }
    }
}

//! The Allocator: which layer of every video a subscriber receives, given its bandwidth estimate.
//!
//! Order of service: audio first (reserved off the top), then screen shares, then the active speaker, then the
//! rest. Each video has a ladder of steps, poorest first: every temporal subset of its lowest spatial layer
//! (a quarter, half, full frame rate with Chrome's three VP8 temporal layers), then for every higher spatial layer
//! within the subscriber's wish that layer at half and at full frame rate. A layer without temporal layers is a
//! single step, so without temporal layers the ladder is the list of spatial layers.
//!
//! Pass 1 gives every wanted video its lowest step in that order while it fits; a video whose lowest step does
//! not fit is paused instead of congesting the link. Pass 2 raises everyone's lowest spatial layer to full frame
//! rate, pass 3 raises further; both in priority order, each video as far as the budget and the wish allow. So
//! a link too slow for the lowest layer at full frame rate still carries it at a half or a quarter of the rate
//! before anything pauses, and a step up to a higher spatial layer may first come at half its frame rate.
//!
//! Hysteresis: keeping what a video already receives may use a slack of 10 % over the estimate (estimates
//! wobble; pausing and resuming a video costs a keyframe each time), raising never does. Pausing a video that
//! flows is the costliest step (the picture freezes, resuming needs a keyframe and a higher estimate), and a
//! send-side estimate sits below the link's real capacity for seconds after any congestion (measured in
//! `sfu/tests/sim_media.rs`: ~160 kbit/s while 225 kbit/s crossed a 300 kbit/s link without loss). So the
//! lowest layers of flowing videos may together overdraw the estimate by up to [`KEEP_LOWEST_OVERDRAW`]; a
//! paused video resumes only when its lowest layer fits the estimate itself.

use super::layers::{MAX_LAYERS, MAX_TEMPORAL, Rates};
use super::temporal::ALL_TEMPORAL;

/// Share of the estimate that keeping flowing videos at their lowest layer may overdraw (see the module docs).
pub const KEEP_LOWEST_OVERDRAW: f64 = 0.3;

/// Service order: lower value first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Screen = 0,
    Speaker = 1,
    Other = 2,
}

/// A spatial layer and the highest temporal layer forwarded of it ([`ALL_TEMPORAL`]: all of them, full frame
/// rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub spatial: u8,
    pub temporal: u8,
}

impl Choice {
    /// A spatial layer at full frame rate.
    pub const fn full(spatial: u8) -> Self {
        Choice { spatial, temporal: ALL_TEMPORAL }
    }
}

/// One video a subscriber could receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    pub priority: Priority,
    /// Planned bitrates of each spatial layer (per temporal subset), `None` when that layer cannot be had.
    pub layers: [Option<Rates>; MAX_LAYERS],
    /// The highest spatial layer the subscriber wants; `None`: it wants none (hidden or off-screen tile).
    pub max_layer: Option<u8>,
    /// What it receives now, if anything.
    pub current: Option<Choice>,
}

/// Outcome for one video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Forward this spatial layer and temporal subset.
    Layer(Choice),
    /// Not wanted by the subscriber.
    NotWanted,
    /// Wanted but does not fit the bandwidth: paused.
    Paused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Bitrate of what was allocated, audio included.
    pub allocated_bps: u64,
    /// What everything wanted would take (a target for bandwidth probing), audio included.
    pub desired_bps: u64,
    /// The smallest extra bitrate that would improve the allocation (resume a video or raise a layer); 0 when
    /// everything wanted is granted. Probing up to `allocated + next_step` finds out whether it fits.
    pub next_step_bps: u64,
}

/// Most steps of one video's ladder: every temporal subset of the lowest layer, two steps per higher layer.
const MAX_RUNGS: usize = MAX_TEMPORAL + 2 * (MAX_LAYERS - 1);

/// The steps a video can take, cheapest and poorest first (see the module docs).
struct Ladder {
    rungs: [(Choice, u64); MAX_RUNGS],
    len: usize,
    /// Index of the last rung of the lowest spatial layer (its full frame rate).
    base_top: usize,
}

impl Ladder {
    fn of(d: &Demand, max: u8) -> Ladder {
        let mut l = Ladder { rungs: [(Choice::full(0), 0); MAX_RUNGS], len: 0, base_top: 0 };
        let Some(low) = d.lowest() else { return l };
        let best = d.best_wanted(max).unwrap_or(low);
        for s in low..=best {
            let Some(r) = d.layers[s as usize] else { continue };
            let top = r.top();
            let first = if s == low { 0 } else { top.saturating_sub(1) };
            for t in first..=top {
                let temporal = if t == top { ALL_TEMPORAL } else { t };
                l.rungs[l.len] = (Choice { spatial: s, temporal }, r.cost(t));
                l.len += 1;
            }
            if s == low {
                l.base_top = l.len - 1;
            }
        }
        l
    }

    fn cost(&self, i: usize) -> u64 {
        self.rungs[i].1
    }

    /// The rung of what is received now: the best one not above it (`None`: nothing received, or below all).
    fn position(&self, c: Option<Choice>, d: &Demand) -> Option<usize> {
        let c = c?;
        let top = d.layers.get(c.spatial as usize).copied().flatten().map(|r| r.top()).unwrap_or(0);
        let t = if c.temporal >= top { ALL_TEMPORAL } else { c.temporal };
        (0..self.len).rev().find(|&i| {
            let r = self.rungs[i].0;
            (r.spatial, r.temporal) <= (c.spatial, t)
        })
    }
}

impl Demand {
    /// The lowest usable spatial layer.
    fn lowest(&self) -> Option<u8> {
        (0..MAX_LAYERS as u8).find(|l| self.layers[*l as usize].is_some())
    }

    /// The best spatial layer within the wish (or the lowest usable one if none is at or below it).
    fn best_wanted(&self, max: u8) -> Option<u8> {
        (0..=max.min(MAX_LAYERS as u8 - 1)).rev().find(|l| self.layers[*l as usize].is_some()).or_else(|| self.lowest())
    }
}

/// Allocate `budget_bps` among `demands`, writing one decision per demand into `out` (same order).
///
/// `order` is scratch space (reused between calls to avoid allocating).
pub fn allocate(
    budget_bps: u64,
    audio_bps: u64,
    demands: &[Demand],
    order: &mut Vec<usize>,
    out: &mut Vec<Decision>,
) -> Summary {
    allocate_with(budget_bps, audio_bps, demands, order, out, KEEP_LOWEST_OVERDRAW)
}

/// As [`allocate`], with the share of the budget that flowing videos' lowest steps may overdraw (0 on a link
/// that is losing packets: there the overdraw would come out of the audio).
pub fn allocate_with(
    budget_bps: u64,
    audio_bps: u64,
    demands: &[Demand],
    order: &mut Vec<usize>,
    out: &mut Vec<Decision>,
    overdraw_share: f64,
) -> Summary {
    out.clear();
    out.resize(demands.len(), Decision::NotWanted);
    order.clear();
    order.extend(0..demands.len());
    order.sort_by_key(|i| demands[*i].priority);

    let mut remaining = budget_bps.saturating_sub(audio_bps);
    let mut slack = budget_bps / 10;
    let mut overdraw = (budget_bps as f64 * overdraw_share.clamp(0.0, 1.0)) as u64;
    let mut desired = audio_bps;
    let mut next_step = u64::MAX;
    // Take `cost` from the budget; keeping may dip into the slack.
    let mut take = |cost: u64, keep: bool, remaining: &mut u64| -> bool {
        if cost <= *remaining {
            *remaining -= cost;
            true
        } else if keep && cost <= *remaining + slack {
            slack -= cost - *remaining;
            *remaining = 0;
            true
        } else {
            false
        }
    };
    // Pass 1: the lowest rung (lowest spatial layer, fewest temporal layers) for everyone wanted, in priority
    // order.
    for &i in order.iter() {
        let d = &demands[i];
        let Some(max) = d.max_layer else { continue };
        let ladder = Ladder::of(d, max);
        if ladder.len == 0 {
            continue;
        }
        desired += ladder.cost(ladder.len - 1);
        let cost = ladder.cost(0);
        let flowing = d.current.is_some();
        if take(cost, flowing, &mut remaining) {
            out[i] = Decision::Layer(ladder.rungs[0].0);
        } else if flowing && cost - remaining <= overdraw {
            overdraw -= cost - remaining;
            remaining = 0;
            out[i] = Decision::Layer(ladder.rungs[0].0);
        } else {
            next_step = next_step.min(cost.saturating_sub(remaining));
            out[i] = Decision::Paused;
        }
    }
    // Pass 2: everyone's lowest spatial layer up to full frame rate; pass 3: raise further, as far as the wish
    // and the budget go. Both in priority order.
    for pass in 0..2 {
        for &i in order.iter() {
            let d = &demands[i];
            let (Decision::Layer(chosen), Some(max)) = (out[i], d.max_layer) else { continue };
            let ladder = Ladder::of(d, max);
            let cap = if pass == 0 { ladder.base_top } else { ladder.len - 1 };
            let kept = ladder.position(d.current, d);
            let mut cur = ladder.position(Some(chosen), d).unwrap_or(0);
            while cur < cap {
                let next = cur + 1;
                let extra = ladder.cost(next).saturating_sub(ladder.cost(cur));
                let keep = kept.is_some_and(|k| next <= k);
                if !take(extra, keep, &mut remaining) {
                    next_step = next_step.min(extra.saturating_sub(remaining));
                    break;
                }
                cur = next;
            }
            out[i] = Decision::Layer(ladder.rungs[cur].0);
        }
    }
    let allocated = audio_bps
        + demands
            .iter()
            .zip(out.iter())
            .map(|(d, o)| match o {
                Decision::Layer(c) => d.layers[c.spatial as usize].map(|r| r.cost(c.temporal)).unwrap_or(0),
                _ => 0,
            })
            .sum::<u64>();
    let next_step_bps = if next_step == u64::MAX { 0 } else { next_step.max(1) };
    Summary { allocated_bps: allocated, desired_bps: desired, next_step_bps }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn one(bps: u64) -> Option<Rates> {
        Some(Rates { temporal: 1, bps: [bps; MAX_TEMPORAL] })
    }

    const THREE: [Option<Rates>; 3] = [one(150_000), one(500_000), one(1_500_000)];

    /// A spatial layer at full frame rate.
    #[allow(non_snake_case)]
    fn L(s: u8) -> Decision {
        Decision::Layer(Choice::full(s))
    }

    fn run(budget: u64, audio: u64, demands: &[Demand]) -> (Vec<Decision>, Summary) {
        let (mut order, mut out) = (vec![], vec![]);
        let s = allocate(budget, audio, demands, &mut order, &mut out);
        (out, s)
    }

    fn cam(max: Option<u8>) -> Demand {
        Demand { priority: Priority::Other, layers: THREE, max_layer: max, current: None }
    }

    #[test]
    fn plenty_of_bandwidth_gives_everyone_their_wish() {
        let (out, s) = run(10_000_000, 100_000, &[cam(Some(2)), cam(Some(0)), cam(None)]);
        assert_eq!(out, vec![L(2), L(0), Decision::NotWanted]);
        assert_eq!(s.desired_bps, 100_000 + 1_500_000 + 150_000);
        assert_eq!(s.allocated_bps, s.desired_bps);
    }

    #[test]
    fn the_speaker_is_raised_first_and_the_rest_pause_when_nothing_fits() {
        let speaker = Demand { priority: Priority::Speaker, ..cam(Some(2)) };
        // 800k - 100k audio = 700k: speaker low (150) + other low (150) = 300; raise speaker to m (+350) = 650.
        let (out, _) = run(800_000, 100_000, &[cam(Some(2)), speaker]);
        assert_eq!(out, vec![L(0), L(1)]);
        // 300k: audio 100k leaves 200k: the speaker's low layer fits, the other video pauses.
        let (out, s) = run(300_000, 100_000, &[cam(Some(2)), speaker]);
        assert_eq!(out, vec![Decision::Paused, L(0)]);
        assert_eq!(s.allocated_bps, 250_000);
        assert_eq!(s.next_step_bps, 100_000, "50k left, the paused video's low layer needs 150k");
    }

    #[test]
    fn flowing_videos_keep_their_lowest_layer_within_the_overdraw_but_paused_ones_need_room() {
        let flowing = Demand { current: Some(Choice::full(0)), ..cam(Some(0)) };
        // 160k budget, 40k audio: 120k left for a 150k layer. Flowing: kept (30k of the 48k overdraw). Paused:
        // stays paused.
        let (out, _) = run(160_000, 40_000, &[flowing]);
        assert_eq!(out, vec![L(0)]);
        let (out, _) = run(160_000, 40_000, &[cam(Some(0))]);
        assert_eq!(out, vec![Decision::Paused]);
        // Two flowing videos at 200k: 160k left, the second low layer overdraws by 140k > 60k: paused.
        let (out, _) = run(200_000, 40_000, &[flowing, flowing]);
        assert_eq!(out, vec![L(0), Decision::Paused]);
        // Far below the layer: paused.
        let (out, _) = run(100_000, 40_000, &[flowing]);
        assert_eq!(out, vec![Decision::Paused]);
        // On a lossy link there is no overdraw: the first case pauses (only the 10 % slack is left).
        let (mut order, mut out) = (vec![], vec![]);
        allocate_with(160_000, 40_000, &[flowing], &mut order, &mut out, 0.0);
        assert_eq!(out, vec![Decision::Paused]);
    }

    #[test]
    fn screen_share_comes_before_the_speaker() {
        let screen = Demand { priority: Priority::Screen, layers: [one(1_000_000), None, None], max_layer: Some(2), current: None };
        let speaker = Demand { priority: Priority::Speaker, ..cam(Some(2)) };
        let (out, _) = run(1_200_000, 0, &[speaker, screen]);
        assert_eq!(out, vec![L(0), L(0)]);
        let (out, _) = run(1_000_000, 0, &[speaker, screen]);
        assert_eq!(out, vec![Decision::Paused, L(0)]);
    }

    #[test]
    fn missing_layers_are_skipped_and_audio_alone_may_exceed_a_tiny_budget() {
        // The publisher's middle layer is not arriving.
        let d = Demand { priority: Priority::Other, layers: [one(150_000), None, one(1_500_000)], max_layer: Some(1), current: None };
        let (out, _) = run(5_000_000, 0, &[d]);
        assert_eq!(out, vec![L(0)], "wish is layer 1, not available: stay at 0");
        // No usable layer at all: nothing to decide.
        let none = Demand { priority: Priority::Other, layers: [None; 3], max_layer: Some(2), current: None };
        let (out, s) = run(5_000_000, 0, &[none]);
        assert_eq!(out, vec![Decision::NotWanted]);
        assert_eq!(s.desired_bps, 0);
        let (out, s) = run(50_000, 100_000, &[cam(Some(2))]);
        assert_eq!(out, vec![Decision::Paused]);
        assert_eq!(s.allocated_bps, 100_000, "audio is never cut");
    }

    #[test]
    fn what_is_received_is_kept_within_the_slack_but_not_raised_into_it() {
        let mut a = cam(Some(2));
        a.current = Some(Choice::full(1));
        let mut b = cam(Some(2));
        b.current = Some(Choice::full(0));
        // 600k budget: a keeps m (500k), b keeps l (150k): 650k uses 50k of the 60k slack.
        let (out, s) = run(600_000, 0, &[a, b]);
        assert_eq!(out, vec![L(1), L(0)]);
        assert_eq!(s.allocated_bps, 650_000);
        // A video not received before may not start in the slack: with 200k, a keeps l (150k) and b, new,
        // stays paused although 150k + 150k would be within 10 % for a video already flowing.
        b.current = None;
        let (out, _) = run(200_000, 0, &[a, b]);
        assert_eq!(out, vec![L(0), Decision::Paused]);
        b.current = Some(Choice::full(0));
        let (out, _) = run(280_000, 0, &[a, b]);
        assert_eq!(out, vec![L(0), L(0)], "flowing videos keep their low layer in the slack");
        // And never raises into the slack: at l with 400k, m needs 350k more but only 250k are left.
        a.current = Some(Choice::full(0));
        let (out, s) = run(400_000, 0, &[a, cam(None)]);
        assert_eq!(out, vec![L(0), Decision::NotWanted]);
        assert_eq!(s.next_step_bps, 100_000);
    }

    #[test]
    fn a_wish_below_the_lowest_usable_layer_gets_the_lowest() {
        let d = Demand { priority: Priority::Other, layers: [None, one(500_000), one(1_500_000)], max_layer: Some(0), current: None };
        let (out, _) = run(5_000_000, 0, &[d]);
        assert_eq!(out, vec![L(1)]);
    }

    /// Three spatial layers with Chrome's three temporal layers each (default split 40/60/100 %).
    fn temporal_cam(max: Option<u8>) -> Demand {
        let layers = [Some(Rates::split(150_000, 3)), Some(Rates::split(500_000, 3)), Some(Rates::split(1_500_000, 3))];
        Demand { priority: Priority::Other, layers, max_layer: max, current: None }
    }

    fn at(spatial: u8, temporal: u8) -> Decision {
        Decision::Layer(Choice { spatial, temporal })
    }

    #[test]
    fn the_lowest_layer_drops_frame_rate_before_it_pauses() {
        // 140k - 40k audio = 100k: the low layer at full rate (150k) does not fit; at half rate (90k) it does.
        let (out, s) = run(140_000, 40_000, &[temporal_cam(Some(2))]);
        assert_eq!(out, vec![at(0, 1)]);
        assert_eq!(s.allocated_bps, 40_000 + 90_000);
        assert_eq!(s.next_step_bps, 50_000, "10k left, full rate needs 60k more");
        // Without temporal layers the same budget pauses the video.
        let (out, _) = run(140_000, 40_000, &[cam(Some(2))]);
        assert_eq!(out, vec![Decision::Paused]);
        // 60k left: a quarter of the frame rate (TL0 only).
        let (out, _) = run(100_000, 40_000, &[temporal_cam(Some(2))]);
        assert_eq!(out, vec![at(0, 0)]);
        // Below even that: paused.
        let (out, s) = run(90_000, 40_000, &[temporal_cam(Some(2))]);
        assert_eq!(out, vec![Decision::Paused]);
        assert_eq!(s.next_step_bps, 10_000);
    }

    #[test]
    fn a_higher_spatial_layer_may_come_at_half_frame_rate_first() {
        // 400k: l at full rate (150k), then m at half rate (300k) fits; m at full rate (500k) does not.
        let (out, s) = run(400_000, 0, &[temporal_cam(Some(2))]);
        assert_eq!(out, vec![at(1, 1)]);
        assert_eq!(s.next_step_bps, 100_000);
        // Without temporal layers it stays at l.
        let (out, _) = run(400_000, 0, &[cam(Some(2))]);
        assert_eq!(out, vec![L(0)]);
        // With room for m at full rate and h at half rate (900k) ...
        let (out, _) = run(1_000_000, 0, &[temporal_cam(Some(2))]);
        assert_eq!(out, vec![at(2, 1)]);
        // ... but never above the wish: a medium tile gets m at full rate.
        let (out, _) = run(1_000_000, 0, &[temporal_cam(Some(1))]);
        assert_eq!(out, vec![L(1)]);
    }

    #[test]
    fn every_video_gets_its_lowest_layer_at_full_rate_before_any_is_raised() {
        let speaker = Demand { priority: Priority::Speaker, ..temporal_cam(Some(2)) };
        // 400k: both at l full rate (300k); the rest (100k) does not raise the speaker to m at half rate (+150k).
        let (out, _) = run(400_000, 0, &[temporal_cam(Some(2)), speaker]);
        assert_eq!(out, vec![L(0), L(0)]);
        // 250k: pass 1 gives both a quarter rate (120k), the speaker goes to full rate (+90k), the other to half
        // (+30k).
        let (out, _) = run(250_000, 0, &[temporal_cam(Some(2)), speaker]);
        assert_eq!(out, vec![at(0, 1), L(0)]);
    }

    #[test]
    fn what_is_received_keeps_its_frame_rate_within_the_slack() {
        let mut d = temporal_cam(Some(2));
        d.current = Some(Choice::full(1));
        // 480k: m at full rate (500k) is kept within the 48k slack; a new video would get m at half rate.
        let (out, _) = run(480_000, 0, &[d]);
        assert_eq!(out, vec![L(1)]);
        let (out, _) = run(480_000, 0, &[temporal_cam(Some(2))]);
        assert_eq!(out, vec![at(1, 1)]);
        // A video receiving l at half rate (the filter's current layer is 1 of 0..=2) is not raised into the
        // slack: 140k, 40k audio.
        d.current = Some(Choice { spatial: 0, temporal: 1 });
        let (out, _) = run(140_000, 40_000, &[d]);
        assert_eq!(out, vec![at(0, 1)]);
        // The temporal layer a filter reports for "all" (its top) counts as full rate.
        d.current = Some(Choice { spatial: 0, temporal: 2 });
        let (out, _) = run(175_000, 40_000, &[d]);
        assert_eq!(out, vec![L(0)], "150k kept within 135k + 17.5k slack");
    }
}

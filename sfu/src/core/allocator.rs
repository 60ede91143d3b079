//! The Allocator: which layer of every video a subscriber receives, given its bandwidth estimate.
//!
//! Order of service: audio first (reserved off the top), then screen shares, then the active speaker, then the
//! rest. Pass 1 gives every wanted video its lowest usable layer in that order while it fits; a video whose lowest
//! layer does not fit is paused instead of congesting the link. Pass 2 raises layers in the same order, each
//! as far as the budget and the subscriber's wish (tile size) allow.
//!
//! Hysteresis: keeping what a video already receives may use a slack of 10 % over the estimate (estimates
//! wobble; pausing and resuming a video costs a keyframe each time), raising never does. Pausing a video that
//! flows is the costliest step (the picture freezes, resuming needs a keyframe and a higher estimate), and a
//! send-side estimate sits below the link's real capacity for seconds after any congestion (measured in
//! `sfu/tests/sim_media.rs`: ~160 kbit/s while 225 kbit/s crossed a 300 kbit/s link without loss). So the
//! lowest layers of flowing videos may together overdraw the estimate by up to [`KEEP_LOWEST_OVERDRAW`]; a
//! paused video resumes only when its lowest layer fits the estimate itself.

use super::layers::MAX_LAYERS;

/// Share of the estimate that keeping flowing videos at their lowest layer may overdraw (see the module docs).
pub const KEEP_LOWEST_OVERDRAW: f64 = 0.3;

/// Service order: lower value first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Screen = 0,
    Speaker = 1,
    Other = 2,
}

/// One video a subscriber could receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    pub priority: Priority,
    /// Planned bitrate of each spatial layer, `None` when that layer cannot be had.
    pub layers: [Option<u64>; MAX_LAYERS],
    /// The highest layer the subscriber wants; `None`: it wants none (hidden or off-screen tile).
    pub max_layer: Option<u8>,
    /// The layer it receives now, if any.
    pub current: Option<u8>,
}

/// Outcome for one video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Forward this spatial layer.
    Layer(u8),
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

impl Demand {
    /// The layer to start from: the lowest usable one (preferring one at or below the wish).
    fn lowest(&self) -> Option<u8> {
        (0..MAX_LAYERS as u8).find(|l| self.layers[*l as usize].is_some())
    }

    /// The best layer within the wish (or the lowest usable one if none is at or below it).
    fn best_wanted(&self, max: u8) -> Option<u8> {
        (0..=max.min(MAX_LAYERS as u8 - 1)).rev().find(|l| self.layers[*l as usize].is_some()).or_else(|| self.lowest())
    }

    fn cost(&self, layer: u8) -> u64 {
        self.layers[layer as usize].unwrap_or(0)
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
    out.clear();
    out.resize(demands.len(), Decision::NotWanted);
    order.clear();
    order.extend(0..demands.len());
    order.sort_by_key(|i| demands[*i].priority);

    let mut remaining = budget_bps.saturating_sub(audio_bps);
    let mut slack = budget_bps / 10;
    let mut overdraw = (budget_bps as f64 * KEEP_LOWEST_OVERDRAW) as u64;
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
    // Pass 1: the lowest layer for everyone wanted, in priority order.
    for &i in order.iter() {
        let d = &demands[i];
        let Some(max) = d.max_layer else { continue };
        let Some(low) = d.lowest() else { continue };
        if let Some(best) = d.best_wanted(max) {
            desired += d.cost(best);
        }
        let cost = d.cost(low);
        if take(cost, d.current.is_some(), &mut remaining) {
            out[i] = Decision::Layer(low);
        } else if d.current.is_some() && cost - remaining <= overdraw {
            overdraw -= cost - remaining;
            remaining = 0;
            out[i] = Decision::Layer(low);
        } else {
            next_step = next_step.min(cost.saturating_sub(remaining));
            out[i] = Decision::Paused;
        }
    }
    // Pass 2: raise layers, in priority order, as far as the wish and the budget go.
    for &i in order.iter() {
        let d = &demands[i];
        let (Decision::Layer(mut cur), Some(max)) = (out[i], d.max_layer) else { continue };
        let Some(best) = d.best_wanted(max) else { continue };
        for next in cur + 1..=best {
            if d.layers[next as usize].is_none() {
                continue;
            }
            let extra = d.cost(next).saturating_sub(d.cost(cur));
            let keep = d.current.is_some_and(|c| next <= c);
            if !take(extra, keep, &mut remaining) {
                next_step = next_step.min(extra.saturating_sub(remaining));
                break;
            }
            cur = next;
        }
        out[i] = Decision::Layer(cur);
    }
    let allocated = audio_bps
        + demands
            .iter()
            .zip(out.iter())
            .map(|(d, o)| match o {
                Decision::Layer(l) => d.cost(*l),
                _ => 0,
            })
            .sum::<u64>();
    let next_step_bps = if next_step == u64::MAX { 0 } else { next_step.max(1) };
    Summary { allocated_bps: allocated, desired_bps: desired, next_step_bps }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: [Option<u64>; 3] = [Some(150_000), Some(500_000), Some(1_500_000)];

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
        assert_eq!(out, vec![Decision::Layer(2), Decision::Layer(0), Decision::NotWanted]);
        assert_eq!(s.desired_bps, 100_000 + 1_500_000 + 150_000);
        assert_eq!(s.allocated_bps, s.desired_bps);
    }

    #[test]
    fn the_speaker_is_raised_first_and_the_rest_pause_when_nothing_fits() {
        let speaker = Demand { priority: Priority::Speaker, ..cam(Some(2)) };
        // 800k - 100k audio = 700k: speaker low (150) + other low (150) = 300; raise speaker to m (+350) = 650.
        let (out, _) = run(800_000, 100_000, &[cam(Some(2)), speaker]);
        assert_eq!(out, vec![Decision::Layer(0), Decision::Layer(1)]);
        // 300k: audio 100k leaves 200k: the speaker's low layer fits, the other video pauses.
        let (out, s) = run(300_000, 100_000, &[cam(Some(2)), speaker]);
        assert_eq!(out, vec![Decision::Paused, Decision::Layer(0)]);
        assert_eq!(s.allocated_bps, 250_000);
        assert_eq!(s.next_step_bps, 100_000, "50k left, the paused video's low layer needs 150k");
    }

    #[test]
    fn flowing_videos_keep_their_lowest_layer_within_the_overdraw_but_paused_ones_need_room() {
        let flowing = Demand { current: Some(0), ..cam(Some(0)) };
        // 160k budget, 40k audio: 120k left for a 150k layer. Flowing: kept (30k of the 48k overdraw). Paused:
        // stays paused.
        let (out, _) = run(160_000, 40_000, &[flowing]);
        assert_eq!(out, vec![Decision::Layer(0)]);
        let (out, _) = run(160_000, 40_000, &[cam(Some(0))]);
        assert_eq!(out, vec![Decision::Paused]);
        // Two flowing videos at 200k: 160k left, the second low layer overdraws by 140k > 60k: paused.
        let (out, _) = run(200_000, 40_000, &[flowing, flowing]);
        assert_eq!(out, vec![Decision::Layer(0), Decision::Paused]);
        // Far below the layer: paused.
        let (out, _) = run(100_000, 40_000, &[flowing]);
        assert_eq!(out, vec![Decision::Paused]);
    }

    #[test]
    fn screen_share_comes_before_the_speaker() {
        let screen = Demand { priority: Priority::Screen, layers: [Some(1_000_000), None, None], max_layer: Some(2), current: None };
        let speaker = Demand { priority: Priority::Speaker, ..cam(Some(2)) };
        let (out, _) = run(1_200_000, 0, &[speaker, screen]);
        assert_eq!(out, vec![Decision::Layer(0), Decision::Layer(0)]);
        let (out, _) = run(1_000_000, 0, &[speaker, screen]);
        assert_eq!(out, vec![Decision::Paused, Decision::Layer(0)]);
    }

    #[test]
    fn missing_layers_are_skipped_and_audio_alone_may_exceed_a_tiny_budget() {
        // The publisher's middle layer is not arriving.
        let d = Demand { priority: Priority::Other, layers: [Some(150_000), None, Some(1_500_000)], max_layer: Some(1), current: None };
        let (out, _) = run(5_000_000, 0, &[d]);
        assert_eq!(out, vec![Decision::Layer(0)], "wish is layer 1, not available: stay at 0");
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
        a.current = Some(1);
        let mut b = cam(Some(2));
        b.current = Some(0);
        // 600k budget: a keeps m (500k), b keeps l (150k): 650k uses 50k of the 60k slack.
        let (out, s) = run(600_000, 0, &[a, b]);
        assert_eq!(out, vec![Decision::Layer(1), Decision::Layer(0)]);
        assert_eq!(s.allocated_bps, 650_000);
        // A video not received before may not start in the slack: with 200k, a keeps l (150k) and b, new,
        // stays paused although 150k + 150k would be within 10 % for a video already flowing.
        b.current = None;
        let (out, _) = run(200_000, 0, &[a, b]);
        assert_eq!(out, vec![Decision::Layer(0), Decision::Paused]);
        b.current = Some(0);
        let (out, _) = run(280_000, 0, &[a, b]);
        assert_eq!(out, vec![Decision::Layer(0), Decision::Layer(0)], "flowing videos keep their low layer in the slack");
        // And never raises into the slack: at l with 400k, m needs 350k more but only 250k are left.
        a.current = Some(0);
        let (out, s) = run(400_000, 0, &[a, cam(None)]);
        assert_eq!(out, vec![Decision::Layer(0), Decision::NotWanted]);
        assert_eq!(s.next_step_bps, 100_000);
    }

    #[test]
    fn a_wish_below_the_lowest_usable_layer_gets_the_lowest() {
        let d = Demand { priority: Priority::Other, layers: [None, Some(500_000), Some(1_500_000)], max_layer: Some(0), current: None };
        let (out, _) = run(5_000_000, 0, &[d]);
        assert_eq!(out, vec![Decision::Layer(1)]);
    }
}

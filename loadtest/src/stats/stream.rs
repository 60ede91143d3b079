//! Receive-side accounting of one RTP stream: loss with reordering and duplicates, jitter, freezes.

/// A video stream whose next frame arrives later than this after the previous one froze.
pub const FREEZE_GAP_MS: f64 = 500.0;

/// How many sequence numbers behind the highest one are remembered to recognise duplicates.
const WINDOW: u64 = 2048;

#[derive(Debug, Clone)]
pub struct StreamStats {
    clock_rate: u32,
    video: bool,
    /// Extended (rollover-counted) sequence number of the first and the highest packet.
    base: Option<u64>,
    highest: u64,
    /// Bit `s % WINDOW` is set when extended seq `s` (within the window below `highest`) was received.
    seen: Vec<u64>,
    /// Distinct packets received.
    pub received: u64,
    pub duplicates: u64,
    /// Packets that arrived after a higher sequence number.
    pub reordered: u64,
    /// Packets older than the duplicate window: not counted (cannot tell whether they are duplicates).
    pub too_old: u64,
    pub bytes: u64,
    /// RFC 3550 interarrival jitter, in timestamp units (×16 for integer precision is not needed here).
    jitter: f64,
    last_transit: Option<f64>,
    /// Video: arrival of the newest frame (first packet with a newer timestamp) and its timestamp.
    last_frame: Option<(f64, u32)>,
    pub frames: u64,
    pub freezes: u64,
    pub freeze_ms: f64,
    pub first_arrival_ms: Option<f64>,
    pub last_arrival_ms: f64,
}

impl StreamStats {
    pub fn new(clock_rate: u32, video: bool) -> Self {
        StreamStats {
            clock_rate: clock_rate.max(1),
            video,
            base: None,
            highest: 0,
            seen: vec![0; (WINDOW / 64) as usize],
            received: 0,
            duplicates: 0,
            reordered: 0,
            too_old: 0,
            bytes: 0,
            jitter: 0.0,
            last_transit: None,
            last_frame: None,
            frames: 0,
            freezes: 0,
            freeze_ms: 0.0,
            first_arrival_ms: None,
            last_arrival_ms: 0.0,
        }
    }

    pub fn is_video(&self) -> bool {
        self.video
    }

    /// One packet: 16-bit sequence number, RTP timestamp, payload size, arrival time in ms (any epoch, monotonic).
    pub fn on_packet(&mut self, seq: u16, ts: u32, bytes: usize, arrival_ms: f64) {
        self.first_arrival_ms.get_or_insert(arrival_ms);
        self.last_arrival_ms = self.last_arrival_ms.max(arrival_ms);
        let ext = match self.base {
            None => {
                // Start high enough that packets reordered before the first one still get an extended seq ≥ 0.
                let e = (1u64 << 32) + seq as u64;
                self.base = Some(e);
                self.highest = e;
                self.mark(e);
                self.count_new(ts, bytes, arrival_ms);
                return;
            }
            Some(_) => unwrap_seq(self.highest, seq),
        };
        if ext > self.highest {
            // Clear the bits of the sequence numbers skipped over (and of the new one) before marking.
            let clear_from = (self.highest + 1).max(ext.saturating_sub(WINDOW - 1));
            for s in clear_from..=ext {
                self.unmark(s);
            }
            self.highest = ext;
            self.mark(ext);
            self.count_new(ts, bytes, arrival_ms);
            return;
        }
        if self.highest - ext >= WINDOW {
            self.too_old += 1;
            return;
        }
        if self.is_marked(ext) {
            self.duplicates += 1;
            return;
        }
        self.mark(ext);
        self.reordered += 1;
        if let Some(base) = self.base
            && ext < base
        {
            self.base = Some(ext);
        }
        self.received += 1;
        self.bytes += bytes as u64;
    }

    fn count_new(&mut self, ts: u32, bytes: usize, arrival_ms: f64) {
        self.received += 1;
        self.bytes += bytes as u64;
        // Jitter over in-order packets (RFC 3550 6.4.1), transit in timestamp units.
        let transit = arrival_ms * self.clock_rate as f64 / 1000.0 - ts as f64;
        if let Some(prev) = self.last_transit {
            let mut d = (transit - prev).abs();
            // A 32-bit timestamp wrap shows up as a jump of ~2^32: ignore that sample.
            if d > (1u64 << 31) as f64 {
                d = self.jitter;
            }
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
        if self.video {
            match self.last_frame {
                Some((at, last_ts)) if ts != last_ts && ts.wrapping_sub(last_ts) < 0x8000_0000 => {
                    let gap = arrival_ms - at;
                    if gap > FREEZE_GAP_MS {
                        self.freezes += 1;
                        self.freeze_ms += gap;
                    }
                    self.frames += 1;
                    self.last_frame = Some((arrival_ms, ts));
                }
                Some(_) => {}
                None => {
                    self.frames += 1;
                    self.last_frame = Some((arrival_ms, ts));
                }
            }
        }
    }

    /// The stream ended (or the measurement did) at `end_ms`: a frame gap still open counts as a freeze.
    pub fn close(&mut self, end_ms: f64) {
        if let Some((at, ts)) = self.last_frame
            && self.video
        {
            let gap = end_ms - at;
            if gap > FREEZE_GAP_MS {
                self.freezes += 1;
                self.freeze_ms += gap;
            }
            // Count a trailing gap once only.
            self.last_frame = Some((end_ms, ts));
        }
    }

    /// Packets expected from the first to the highest sequence number seen.
    pub fn expected(&self) -> u64 {
        match self.base {
            Some(b) => self.highest - b + 1,
            None => 0,
        }
    }

    /// Expected but never received (never negative).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    pub fn jitter_ms(&self) -> f64 {
        self.jitter * 1000.0 / self.clock_rate as f64
    }

    fn mark(&mut self, s: u64) {
        let i = (s % WINDOW) as usize;
        self.seen[i / 64] |= 1 << (i % 64);
    }

    fn unmark(&mut self, s: u64) {
        let i = (s % WINDOW) as usize;
        self.seen[i / 64] &= !(1 << (i % 64));
    }

    fn is_marked(&self, s: u64) -> bool {
        let i = (s % WINDOW) as usize;
        self.seen[i / 64] & (1 << (i % 64)) != 0
    }
}

/// The extended sequence number of `seq` closest to `highest`.
fn unwrap_seq(highest: u64, seq: u16) -> u64 {
    let cycle = highest & !0xffff;
    let candidates = [cycle.wrapping_sub(0x1_0000), cycle, cycle + 0x1_0000];
    let mut best = cycle + seq as u64;
    let mut best_d = u64::MAX;
    for c in candidates {
        let e = c.wrapping_add(seq as u64);
        let d = e.abs_diff(highest);
        if d < best_d {
            best_d = d;
            best = e;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(s: &mut StreamStats, seqs: &[u16]) {
        for (i, seq) in seqs.iter().enumerate() {
            s.on_packet(*seq, *seq as u32 * 960, 100, i as f64 * 20.0);
        }
    }

    #[test]
    fn in_order_stream_has_no_loss() {
        let mut s = StreamStats::new(48_000, false);
        feed(&mut s, &(100..200).collect::<Vec<u16>>());
        assert_eq!((s.expected(), s.received, s.lost()), (100, 100, 0));
        assert_eq!((s.duplicates, s.reordered), (0, 0));
        assert_eq!(s.bytes, 10_000);
    }

    #[test]
    fn gaps_are_lost() {
        let mut s = StreamStats::new(48_000, false);
        feed(&mut s, &[1, 2, 3, 6, 7, 10]);
        assert_eq!((s.expected(), s.received, s.lost()), (10, 6, 4));
    }

    #[test]
    fn reordering_is_not_loss_and_duplicates_do_not_hide_loss() {
        let mut s = StreamStats::new(90_000, false);
        feed(&mut s, &[1, 3, 2, 4, 4, 6, 6, 3]);
        // 5 is lost; 2 came late; 4, 6 and 3 were duplicated.
        assert_eq!((s.expected(), s.received, s.lost()), (6, 5, 1));
        assert_eq!((s.reordered, s.duplicates), (1, 3));
    }

    #[test]
    fn packet_before_the_first_one_extends_the_range() {
        let mut s = StreamStats::new(90_000, false);
        feed(&mut s, &[10, 11, 9, 12]);
        assert_eq!((s.expected(), s.received, s.lost()), (4, 4, 0));
    }

    #[test]
    fn sequence_wrap_is_continuous() {
        let mut s = StreamStats::new(90_000, false);
        feed(&mut s, &[65_533, 65_534, 65_535, 0, 2, 1, 3]);
        assert_eq!((s.expected(), s.received, s.lost(), s.reordered), (7, 7, 0, 1));
        // A late packet from before the wrap still counts as reordered, not as a jump back.
        let mut t = StreamStats::new(90_000, false);
        feed(&mut t, &[65_534, 0, 1, 65_535]);
        assert_eq!((t.expected(), t.received, t.lost()), (4, 4, 0));
    }

    #[test]
    fn a_big_jump_forgets_old_duplicate_bits() {
        let mut s = StreamStats::new(90_000, false);
        feed(&mut s, &[1, 2]);
        // Jump ahead by more than the window, then an old seq that maps onto a stale bit.
        s.on_packet(2 + WINDOW as u16, 0, 1, 100.0);
        s.on_packet(3 + WINDOW as u16, 0, 1, 101.0);
        assert_eq!(s.duplicates, 0);
        s.on_packet(2, 0, 1, 102.0);
        assert_eq!(s.too_old, 1, "older than the window is neither duplicate nor received");
        assert_eq!(s.received, 4);
    }

    #[test]
    fn freezes_are_gaps_between_frames_over_500_ms() {
        let mut s = StreamStats::new(90_000, true);
        // Frames every 33 ms, two packets each (same timestamp).
        let mut seq = 0u16;
        let mut t = 0.0;
        for f in 0..10u32 {
            for _ in 0..2 {
                s.on_packet(seq, f * 3000, 500, t);
                seq += 1;
            }
            t += 33.0;
        }
        assert_eq!((s.frames, s.freezes), (10, 0));
        // 700 ms without a frame, then frames again.
        t += 667.0;
        s.on_packet(seq, 10 * 3000, 500, t);
        assert_eq!(s.freezes, 1);
        assert!((s.freeze_ms - 700.0).abs() < 1e-9);
        // A gap of exactly 500 ms is not a freeze.
        s.on_packet(seq + 1, 11 * 3000, 500, t + 500.0);
        assert_eq!(s.freezes, 1);
        // Still frozen at the end of the measurement counts too.
        s.close(t + 500.0 + 900.0);
        assert_eq!(s.freezes, 2);
        s.close(t + 500.0 + 950.0);
        assert_eq!(s.freezes, 2, "a trailing gap counts once");
    }

    #[test]
    fn audio_never_freezes() {
        let mut s = StreamStats::new(48_000, false);
        s.on_packet(1, 0, 10, 0.0);
        s.on_packet(2, 960, 10, 5_000.0);
        s.close(10_000.0);
        assert_eq!(s.freezes, 0);
    }

    #[test]
    fn jitter_is_zero_for_perfect_pacing_and_grows_with_variation() {
        let mut s = StreamStats::new(48_000, false);
        for i in 0..50u16 {
            s.on_packet(i, i as u32 * 960, 10, i as f64 * 20.0);
        }
        assert!(s.jitter_ms() < 1e-9);
        let mut j = StreamStats::new(48_000, false);
        for i in 0..200u16 {
            let wobble = if i % 2 == 0 { 0.0 } else { 10.0 };
            j.on_packet(i, i as u32 * 960, 10, i as f64 * 20.0 + wobble);
        }
        // Alternating ±10 ms transit converges to 10 ms.
        assert!((j.jitter_ms() - 10.0).abs() < 0.5, "{}", j.jitter_ms());
    }
}

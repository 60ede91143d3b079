//! Whether a subscriber's link can carry redundant audio (RFC 2198 RED).
//!
//! Browsers send Opus as RED with one redundant copy of the previous frame: on a link losing random packets it
//! repairs the gaps, but it doubles the audio payload. On a link too slow for it (measured with Chromium behind a
//! 70 kbit/s cap: ~76 kbit/s of RED audio offered) the copies are what congests the link, and the subscriber's
//! signaling connection, sharing the link, starves. Audio comes first, so below [`need`] the SFU forwards the
//! primary frames alone (still as RED, `red::without_redundancy`); it goes back to full redundancy only well above
//! it ([`RESTORE_FACTOR`]), so a budget hovering at the threshold does not flap.

/// Bits of header per audio packet on the wire: IPv4 + UDP (28 bytes), RTP (12), header extensions (~16: audio
/// level, transport-wide sequence number, mid), SRTP tag (10).
pub const PACKET_OVERHEAD_BITS: u64 = 66 * 8;
/// Left beside the audio for RTCP, retransmissions and the signaling connection.
pub const HEADROOM_BPS: u64 = 24_000;
/// Full redundancy again once the budget is this many times [`need`].
pub const RESTORE_FACTOR: f64 = 1.5;

/// What one received audio stream costs on the wire, from its measured payload rate and packet rate.
pub fn wire_bps(payload_bps: u64, pps: u64) -> u64 {
    payload_bps + pps * PACKET_OVERHEAD_BITS
}

/// The budget under which redundancy is dropped, for audio costing `audio_bps` on the wire with it.
pub fn need(audio_bps: u64) -> u64 {
    audio_bps + HEADROOM_BPS
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AudioRedundancy {
    thin: bool,
}

impl AudioRedundancy {
    /// Forward RED audio without its redundant blocks.
    pub fn thin(&self) -> bool {
        self.thin
    }

    /// Decide from the subscriber's budget and the wire cost of the RED audio it receives (0: none). Returns
    /// whether the decision changed.
    pub fn update(&mut self, budget_bps: u64, red_audio_bps: u64) -> bool {
        let need = need(red_audio_bps);
        let thin = if red_audio_bps == 0 {
            false
        } else if self.thin {
            (budget_bps as f64) < need as f64 * RESTORE_FACTOR
        } else {
            budget_bps < need
        };
        let changed = thin != self.thin;
        self.thin = thin;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redundancy_is_dropped_below_the_need_and_restored_well_above_it() {
        // Chromium's RED audio: ~50 kbit/s of payload in 50 packets/s.
        let audio = wire_bps(50_000, 50);
        assert_eq!(audio, 76_400);
        let need = need(audio);
        let mut r = AudioRedundancy::default();
        assert!(!r.update(need, audio), "enough: full redundancy");
        assert!(!r.thin());
        assert!(r.update(need - 1, audio), "short of it: thin");
        assert!(r.thin());
        // Hysteresis: just above the need is not enough to restore it.
        assert!(!r.update(need + 10_000, audio));
        assert!(r.thin());
        assert!(r.update((need as f64 * RESTORE_FACTOR) as u64 + 1, audio));
        assert!(!r.thin());
    }

    #[test]
    fn without_red_audio_nothing_is_thinned() {
        let mut r = AudioRedundancy::default();
        assert!(!r.update(0, 0));
        assert!(!r.thin());
        r.update(10_000, 76_400);
        assert!(r.thin());
        // The RED audio stopped (the speaker left or stopped sending): back to normal.
        assert!(r.update(10_000, 0));
        assert!(!r.thin());
    }
}

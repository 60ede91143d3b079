//! A seeded, virtual-time network: per-link FIFO delivery with delay, jitter and loss.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Where simulated clients put their datagrams: the simulated network, or real sockets.
pub trait Wire {
    fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]);
}

impl Wire for Net {
    fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        Net::send(self, now, from, to, data)
    }
}

pub struct Datagram {
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub data: Vec<u8>,
}

pub struct Net {
    rng: SmallRng,
    pub delay: Duration,
    pub jitter: Duration,
    pub loss: f64,
    /// (deliver_at, sequence) → datagram; the sequence keeps equal times in send order.
    queue: BTreeMap<(Instant, u64), Datagram>,
    next_seq: u64,
    /// Last delivery time per link, so a link never reorders.
    last_at: HashMap<(SocketAddr, SocketAddr), Instant>,
    pub sent: u64,
    pub lost: u64,
    /// Per-destination impairments: a rate cap (bit/s, drop-tail queue of `MAX_QUEUE`) and extra random loss.
    caps: HashMap<SocketAddr, Cap>,
    /// Bytes accepted onto the link and dropped by the queue, per destination.
    pub bytes_to: HashMap<SocketAddr, u64>,
    pub dropped_to: HashMap<SocketAddr, u64>,
    /// Bytes accepted towards rate-capped destinations, by what they carry (see [`class_of`]).
    pub classes_to: HashMap<(SocketAddr, String), u64>,
}

/// What a datagram carries: `stun`, `dtls`, `rtcp`, `rtp <pt>` (with ` padding` when the padding bit is set).
pub fn class_of(data: &[u8]) -> String {
    match data {
        [b0, ..] if *b0 < 4 => "stun".into(),
        [b0, ..] if (20..64).contains(b0) => "dtls".into(),
        [b0, b1, ..] if b0 & 0xc0 == 0x80 && (192..=223).contains(b1) => "rtcp".into(),
        [b0, b1, ..] if b0 & 0xc0 == 0x80 => format!("rtp {}{}", b1 & 0x7f, if b0 & 0x20 != 0 { " padding" } else { "" }),
        _ => "other".into(),
    }
}

#[derive(Default)]
struct Cap {
    bps: Option<u64>,
    loss: f64,
    busy_until: Option<Instant>,
}

/// Longest queue a rate-capped link holds before it drops.
pub const MAX_QUEUE: Duration = Duration::from_millis(250);

impl Net {
    pub fn new(seed: u64) -> Self {
        Net {
            rng: SmallRng::seed_from_u64(seed),
            delay: Duration::from_millis(5),
            jitter: Duration::from_millis(2),
            loss: 0.0,
            queue: BTreeMap::new(),
            next_seq: 0,
            last_at: HashMap::new(),
            sent: 0,
            lost: 0,
            caps: HashMap::new(),
            bytes_to: HashMap::new(),
            dropped_to: HashMap::new(),
            classes_to: HashMap::new(),
        }
    }

    /// Cap the rate towards `to` (None: uncapped).
    pub fn set_rate(&mut self, to: SocketAddr, bps: Option<u64>) {
        self.caps.entry(to).or_default().bps = bps;
    }

    /// Random loss towards `to` only.
    pub fn set_loss_to(&mut self, to: SocketAddr, loss: f64) {
        self.caps.entry(to).or_default().loss = loss;
    }

    pub fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.sent += 1;
        let extra_loss = self.caps.get(&to).map(|c| c.loss).unwrap_or(0.0);
        if (self.loss > 0.0 && self.rng.random_bool(self.loss)) || (extra_loss > 0.0 && self.rng.random_bool(extra_loss)) {
            self.lost += 1;
            return;
        }
        // A rate-capped link serialises datagrams through a drop-tail queue.
        let mut depart = now;
        if let Some(cap) = self.caps.get_mut(&to)
            && let Some(bps) = cap.bps {
                let start = cap.busy_until.map_or(now, |b| b.max(now));
                if start.saturating_duration_since(now) > MAX_QUEUE {
                    self.lost += 1;
                    *self.dropped_to.entry(to).or_default() += 1;
                    return;
                }
                let tx = Duration::from_micros((data.len() as u64 + 28) * 8 * 1_000_000 / bps.max(1));
                depart = start + tx;
                cap.busy_until = Some(depart);
                *self.classes_to.entry((to, class_of(data))).or_default() += data.len() as u64 + 28;
            }
        *self.bytes_to.entry(to).or_default() += data.len() as u64 + 28;
        let jitter = self.rng.random_range(0..=self.jitter.as_micros() as u64);
        let mut at = depart + self.delay + Duration::from_micros(jitter);
        let last = self.last_at.entry((from, to)).or_insert(at);
        if at < *last {
            at = *last;
        }
        *last = at;
        self.queue.insert((at, self.next_seq), Datagram { from, to, data: data.to_vec() });
        self.next_seq += 1;
    }

    pub fn next_delivery(&self) -> Option<Instant> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    /// The next datagram due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Datagram> {
        let (&(t, s), _) = self.queue.iter().next()?;
        if t > now {
            return None;
        }
        self.queue.remove(&(t, s))
    }
}

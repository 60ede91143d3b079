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
}

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
        }
    }

    pub fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.sent += 1;
        if self.loss > 0.0 && self.rng.random_bool(self.loss) {
            self.lost += 1;
            return;
        }
        let jitter = self.rng.random_range(0..=self.jitter.as_micros() as u64);
        let mut at = now + self.delay + Duration::from_micros(jitter);
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

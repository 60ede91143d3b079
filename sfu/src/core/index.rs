//! The datagram index: which connection a datagram belongs to, without scanning connections.
//!
//! On first contact a connection is found by the STUN USERNAME's ufrag (every ICE connectivity check carries
//! it); from then on by the 5-tuple (transport, the source and the local address it arrived on).

use std::collections::HashMap;
use std::net::SocketAddr;

use super::stun;
use super::types::{ParticipantId, PcTarget, Transport};

/// One connection of one participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnKey {
    pub participant: ParticipantId,
    pub target: PcTarget,
}

/// Outcome of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Known 5-tuple.
    Known(ConnKey),
    /// First contact by ufrag; the tuple is now learned.
    Learned(ConnKey),
    /// Nobody here: count and drop.
    Unknown,
}

#[derive(Debug, Default)]
pub struct DatagramIndex {
    by_ufrag: HashMap<Box<[u8]>, ConnKey>,
    by_tuple: HashMap<(Transport, SocketAddr, SocketAddr), ConnKey>,
}

impl DatagramIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a connection's local ICE ufrag.
    pub fn insert_ufrag(&mut self, ufrag: &str, key: ConnKey) {
        self.by_ufrag.insert(ufrag.as_bytes().into(), key);
    }

    /// Route datagrams from `source` at `local` to `key` before any STUN request arrives from there (a relay leg
    /// to an ICE-lite home node: the home node only answers checks, and answers carry no USERNAME).
    pub fn insert_tuple(&mut self, transport: Transport, source: SocketAddr, local: SocketAddr, key: ConnKey) {
        self.by_tuple.insert((transport, source, local), key);
    }

    /// The connection a 5-tuple is routed to, if any.
    pub fn tuple(&self, transport: Transport, source: SocketAddr, local: SocketAddr) -> Option<ConnKey> {
        self.by_tuple.get(&(transport, source, local)).copied()
    }

    /// Route a datagram (or an ICE-TCP frame) from `source` that arrived at `local`.
    pub fn route(&mut self, transport: Transport, source: SocketAddr, local: SocketAddr, data: &[u8]) -> Route {
        if let Some(key) = self.by_tuple.get(&(transport, source, local)) {
            return Route::Known(*key);
        }
        let Some(ufrag) = stun::local_ufrag(data) else {
            return Route::Unknown;
        };
        match self.by_ufrag.get(ufrag) {
            Some(key) => {
                self.by_tuple.insert((transport, source, local), *key);
                Route::Learned(*key)
            }
            None => Route::Unknown,
        }
    }

    /// Forget everything of one participant (both connections).
    pub fn remove_participant(&mut self, participant: ParticipantId) {
        self.by_ufrag.retain(|_, k| k.participant != participant);
        self.by_tuple.retain(|_, k| k.participant != participant);
    }

    pub fn len_tuples(&self) -> usize {
        self.by_tuple.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stun::binding_request;

    fn key(p: u64, target: PcTarget) -> ConnKey {
        ConnKey { participant: ParticipantId(p), target }
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn first_contact_by_ufrag_then_by_tuple() {
        let mut ix = DatagramIndex::new();
        let local = addr("127.0.0.1:50000");
        ix.insert_ufrag("pubA", key(1, PcTarget::Publisher));
        ix.insert_ufrag("subA", key(1, PcTarget::Subscriber));
        let src = addr("127.0.0.1:40000");
        // DTLS before STUN from an unknown source is unknown.
        assert_eq!(ix.route(Transport::Udp, src, local, &[22, 254, 253, 0]), Route::Unknown);
        let r = ix.route(Transport::Udp, src, local, &binding_request("subA:remote"));
        assert_eq!(r, Route::Learned(key(1, PcTarget::Subscriber)));
        // Now anything from that tuple routes, STUN or not.
        assert_eq!(ix.route(Transport::Udp, src, local, &[22, 254, 253, 0]), Route::Known(key(1, PcTarget::Subscriber)));
        assert_eq!(ix.route(Transport::Udp, src, local, &[0x80, 0x60]), Route::Known(key(1, PcTarget::Subscriber)));
        // The same source at another local address is another tuple.
        assert_eq!(ix.route(Transport::Udp, src, addr("127.0.0.1:50001"), &[0x80]), Route::Unknown);
    }

    #[test]
    fn unknown_ufrag_is_dropped_and_not_learned() {
        let mut ix = DatagramIndex::new();
        let local = addr("127.0.0.1:50000");
        ix.insert_ufrag("pubA", key(1, PcTarget::Publisher));
        let src = addr("10.0.0.1:1");
        assert_eq!(ix.route(Transport::Udp, src, local, &binding_request("nope:x")), Route::Unknown);
        assert_eq!(ix.len_tuples(), 0);
    }

    #[test]
    fn two_participants_and_removal() {
        let mut ix = DatagramIndex::new();
        let local = addr("127.0.0.1:50000");
        ix.insert_ufrag("a", key(1, PcTarget::Publisher));
        ix.insert_ufrag("b", key(2, PcTarget::Publisher));
        let (sa, sb) = (addr("127.0.0.1:1001"), addr("127.0.0.1:1002"));
        assert_eq!(ix.route(Transport::Udp, sa, local, &binding_request("a:x")), Route::Learned(key(1, PcTarget::Publisher)));
        assert_eq!(ix.route(Transport::Udp, sb, local, &binding_request("b:x")), Route::Learned(key(2, PcTarget::Publisher)));
        ix.remove_participant(ParticipantId(1));
        assert_eq!(ix.route(Transport::Udp, sa, local, &[0x80]), Route::Unknown);
        assert_eq!(ix.route(Transport::Udp, sa, local, &binding_request("a:x")), Route::Unknown);
        assert_eq!(ix.route(Transport::Udp, sb, local, &[0x80]), Route::Known(key(2, PcTarget::Publisher)));
    }

    #[test]
    fn the_same_address_over_tcp_is_another_tuple() {
        let mut ix = DatagramIndex::new();
        let local = addr("127.0.0.1:50000");
        ix.insert_ufrag("a", key(1, PcTarget::Publisher));
        ix.insert_ufrag("b", key(2, PcTarget::Subscriber));
        let src = addr("127.0.0.1:40000");
        assert_eq!(ix.route(Transport::Udp, src, local, &binding_request("a:x")), Route::Learned(key(1, PcTarget::Publisher)));
        // A TCP connection from the same IP and port number is a different 5-tuple: not routed until its own check.
        assert_eq!(ix.route(Transport::Tcp, src, local, &[0x80]), Route::Unknown);
        assert_eq!(ix.route(Transport::Tcp, src, local, &binding_request("b:x")), Route::Learned(key(2, PcTarget::Subscriber)));
        assert_eq!(ix.route(Transport::Udp, src, local, &[0x80]), Route::Known(key(1, PcTarget::Publisher)));
        assert_eq!(ix.route(Transport::Tcp, src, local, &[0x80]), Route::Known(key(2, PcTarget::Subscriber)));
    }
}

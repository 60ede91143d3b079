//! The client's address behind reverse proxies (`trusted_proxies`).
//!
//! Only when the TCP peer is a trusted proxy are the forwarding headers read at all: `Forwarded` (RFC 7239, its
//! `for=` parameters) if present, else `X-Forwarded-For`. Their hops are walked from the right (the hop the
//! nearest proxy added) to the left, skipping trusted proxies; the first untrusted one is the client. A hop that
//! cannot be read (`unknown`, an obfuscated name, garbage) stops the walk: the last address known to be true (the
//! proxy that passed it on) is taken, so nobody can slip in an address by sending a malformed header. With no
//! trusted proxies configured, the headers are ignored and the peer is the client.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// Parse one `trusted_proxies` entry: a CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address (`192.0.2.7`).
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{text:?} is neither a network in CIDR notation (10.0.0.0/8) nor an address"))
}

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(nets)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
        let hops: Vec<Option<IpAddr>> = if !forwarded.is_empty() {
            forwarded.iter().flat_map(|v| v.split(',')).map(forwarded_for).collect()
        } else {
            headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|hop| parse_node(hop.trim()))
                .collect()
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match hop {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        client
    }
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.60;proto=https;by=...`), if it is an address.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        parse_node(value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`,
/// `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse::<Ipv6Addr>().ok().map(|ip| IpAddr::V6(ip).to_canonical());
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(vec![parse_cidr("10.0.0.0/8").unwrap(), parse_cidr("fd00::/8").unwrap(), parse_cidr("192.0.2.7").unwrap()])
    }

    #[test]
    fn cidrs_and_single_addresses_parse() {
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr(" 192.0.2.7 ").unwrap().to_string(), "192.0.2.7/32");
        assert_eq!(parse_cidr("::1").unwrap().to_string(), "::1/128");
        for bad in ["", "10.0.0.0/33", "proxy.example", "10.0.0/8", "1.2.3.4/"] {
            assert!(parse_cidr(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let h = headers(&[("x-forwarded-for", "198.51.100.1"), ("forwarded", "for=198.51.100.2")]);
        assert_eq!(proxies().client_ip(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(TrustedProxies::default().client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"), "nothing trusted by default");
    }

    #[test]
    fn x_forwarded_for_gives_the_right_most_untrusted_hop() {
        // The client may send its own X-Forwarded-For: its entries are left of the ones our proxies add.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.5, 10.0.0.3")]);
        assert_eq!(proxies().client_ip(ip("10.0.0.2"), &h), ip("198.51.100.5"));
        // Several header lines are one list.
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "198.51.100.6")]);
        assert_eq!(proxies().client_ip(ip("10.0.0.2"), &h), ip("198.51.100.6"));
        // Only trusted hops: the left-most of them. No header: the proxy itself.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.3")]);
        assert_eq!(proxies().client_ip(ip("10.0.0.2"), &h), ip("10.9.9.9"));
        assert_eq!(proxies().client_ip(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
        // IPv6, with a port, and an IPv4-mapped peer.
        let h = headers(&[("x-forwarded-for", "[2001:db8::5]:4711")]);
        assert_eq!(proxies().client_ip(ip("::ffff:10.0.0.2"), &h), ip("2001:db8::5"));
        let h = headers(&[("x-forwarded-for", "198.51.100.9:1234")]);
        assert_eq!(proxies().client_ip(ip("fd00::1"), &h), ip("198.51.100.9"));
    }

    #[test]
    fn garbage_stops_at_the_last_true_address() {
        let h = headers(&[("x-forwarded-for", "198.51.100.5, not-an-address, 10.0.0.3")]);
        assert_eq!(proxies().client_ip(ip("10.0.0.2"), &h), ip("10.0.0.3"));
        let h = headers(&[("x-forwarded-for", "")]);
        assert_eq!(proxies().client_ip(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for() {
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=198.51.100.77;proto=https, For=\"[2001:db8::cafe]:4711\";by=10.0.0.1"),
        ]);
        assert_eq!(proxies().client_ip(ip("192.0.2.7"), &h), ip("2001:db8::cafe"));
        let h = headers(&[("forwarded", "for=198.51.100.77, for=10.0.0.4")]);
        assert_eq!(proxies().client_ip(ip("192.0.2.7"), &h), ip("198.51.100.77"));
        // `unknown` and obfuscated identifiers are no address.
        let h = headers(&[("forwarded", "for=198.51.100.77, for=unknown")]);
        assert_eq!(proxies().client_ip(ip("192.0.2.7"), &h), ip("192.0.2.7"));
        let h = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(proxies().client_ip(ip("192.0.2.7"), &h), ip("192.0.2.7"));
    }
}

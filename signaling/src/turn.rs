//! TURN servers for clients, with short-lived credentials in coturn's REST shared-secret scheme
//! (`use-auth-secret` + `static-auth-secret` in turnserver.conf; draft-uberti-behave-turn-rest):
//!
//! - username = `<unix time when the credential expires>:<participant sid>`
//! - credential = base64(HMAC-SHA1(key = shared secret, message = username))
//!
//! coturn recomputes the credential from the username and refuses it after the expiry. The sid (`p12`) names the
//! participant as Plenum's own logs do, so coturn's logs carry no personal data.
//!
//! The URLs are handed out in the order that connects fastest: TURN over UDP, then over TCP, then over TLS
//! (`turns:`, usually on port 443 where only HTTPS gets through).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine as _;

use crate::protocol::IceServer;

/// Default of `--turn-ttl`: longer than a working day's meeting, so an allocation is never refused mid-meeting.
pub const DEFAULT_TTL: &str = "12h";

/// The transport a TURN URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// A `turn:` or `turns:` URL (RFC 7065): `turn:host[:port][?transport=udp|tcp]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnUrl {
    /// `turns:` (TURN over TLS).
    pub tls: bool,
    pub host: String,
    pub port: Option<u16>,
    /// As written; `None` means UDP for `turn:` and TCP for `turns:`.
    pub transport: Option<Transport>,
}

impl TurnUrl {
    /// 0 for UDP, 1 for TCP, 2 for TLS: lower connects faster.
    pub fn rank(&self) -> u8 {
        match (self.tls, self.transport) {
            (true, _) => 2,
            (false, Some(Transport::Tcp)) => 1,
            (false, _) => 0,
        }
    }
}

impl fmt::Display for TurnUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", if self.tls { "turns" } else { "turn" }, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        match self.transport {
            Some(Transport::Udp) => write!(f, "?transport=udp"),
            Some(Transport::Tcp) => write!(f, "?transport=tcp"),
            None => Ok(()),
        }
    }
}

impl FromStr for TurnUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        const EXAMPLES: &str = "e.g. turn:turn.example.org:3478?transport=udp or turns:turn.example.org:443?transport=tcp";
        let (tls, rest) = if let Some(rest) = text.strip_prefix("turn:") {
            (false, rest)
        } else if let Some(rest) = text.strip_prefix("turns:") {
            (true, rest)
        } else {
            return Err(format!("a TURN URL starts with turn: or turns: ({EXAMPLES})"));
        };
        if rest.starts_with("//") {
            return Err(format!("no // after the scheme in a TURN URL ({EXAMPLES})"));
        }
        let (hostport, query) = match rest.split_once('?') {
            Some((hp, q)) => (hp, Some(q)),
            None => (rest, None),
        };
        let (host, port) = split_host_port(hostport)?;
        let transport = match query {
            None => None,
            Some("transport=udp") => Some(Transport::Udp),
            Some("transport=tcp") => Some(Transport::Tcp),
            Some(other) => return Err(format!("unknown query \"{other}\" (only transport=udp or transport=tcp)")),
        };
        if tls && transport == Some(Transport::Udp) {
            return Err("turns: is TURN over TLS, which runs over TCP: use ?transport=tcp".into());
        }
        Ok(TurnUrl { tls, host, port, transport })
    }
}

fn split_host_port(text: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        // [IPv6]:port
        let (addr, after) = rest.split_once(']').ok_or("unclosed [ in the host")?;
        addr.parse::<std::net::Ipv6Addr>().map_err(|_| format!("\"{addr}\" is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("expected :port after ]")?),
        };
        (format!("[{addr}]"), port)
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (text.to_owned(), None),
        }
    };
    let valid_host = !host.is_empty()
        && host.len() <= 253
        && (host.starts_with('[')
            || host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !valid_host {
        return Err(format!("\"{host}\" is not a host name or IP address"));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("\"{p}\" is not a port (1-65535)")),
        },
    };
    Ok((host, port))
}

/// The clap value parser of `--turn-urls`.
pub fn parse_url(text: &str) -> Result<TurnUrl, String> {
    text.parse()
}

/// TURN servers and the secret they share with Plenum.
#[derive(Clone)]
pub struct Turn {
    /// Fastest first.
    urls: Vec<String>,
    key: hmac::Key,
    ttl: Duration,
}

impl fmt::Debug for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turn").field("urls", &self.urls).field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl Turn {
    pub fn new(urls: &[TurnUrl], secret: &str, ttl: Duration) -> Turn {
        let mut sorted: Vec<&TurnUrl> = urls.iter().collect();
        // Stable: the configured order within one kind stays.
        sorted.sort_by_key(|u| u.rank());
        Turn {
            urls: sorted.iter().map(ToString::to_string).collect(),
            key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes()),
            ttl,
        }
    }

    /// The URLs in the order handed out.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// An `iceServers` entry for participant `sid`, valid for the ttl from `now`.
    pub fn ice_server(&self, sid: &str, now: SystemTime) -> IceServer {
        let expires = now.duration_since(UNIX_EPOCH).unwrap_or_default() + self.ttl;
        let username = format!("{}:{sid}", expires.as_secs());
        let credential = credential(&self.key, &username);
        IceServer { urls: self.urls.clone(), username: Some(username), credential: Some(credential) }
    }
}

/// base64(HMAC-SHA1(secret, username)): what coturn computes for `use-auth-secret`.
fn credential(key: &hmac::Key, username: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(key, username.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> TurnUrl {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn parses_and_prints_rfc7065_urls() {
        for text in [
            "turn:turn.example.org",
            "turn:turn.example.org:3478?transport=udp",
            "turn:turn.example.org:3478?transport=tcp",
            "turns:turn.example.org:443?transport=tcp",
            "turns:turn.example.org",
            "turn:192.0.2.10:3478",
            "turn:[2001:db8::1]:3478?transport=udp",
        ] {
            assert_eq!(url(text).to_string(), text);
        }
        let u = url("turns:turn.example.org:443?transport=tcp");
        assert_eq!((u.tls, u.host.as_str(), u.port, u.transport), (true, "turn.example.org", Some(443), Some(Transport::Tcp)));
    }

    #[test]
    fn rejects_bad_urls_with_reasons() {
        let err = |text: &str| text.parse::<TurnUrl>().unwrap_err();
        assert!(err("stun:turn.example.org").contains("starts with turn: or turns:"));
        assert!(err("https://turn.example.org").contains("starts with turn:"));
        assert!(err("turn://turn.example.org").contains("no //"));
        assert!(err("turn:").contains("not a host name"));
        assert!(err("turn:turn.example.org:0").contains("not a port"));
        assert!(err("turn:turn.example.org:70000").contains("not a port"));
        assert!(err("turn:turn.example.org:abc").contains("not a port"));
        assert!(err("turn:turn.example.org?transport=sctp").contains("unknown query"));
        assert!(err("turns:turn.example.org?transport=udp").contains("use ?transport=tcp"));
        assert!(err("turn:bad_host!:3478").contains("not a host name"));
        assert!(err("turn:[::1:3478").contains("unclosed ["));
    }

    #[test]
    fn orders_udp_then_tcp_then_tls() {
        let urls = [
            url("turns:t.example:443?transport=tcp"),
            url("turn:t.example:3478?transport=tcp"),
            url("turn:t.example:3478?transport=udp"),
            url("turn:u.example"),
        ];
        let turn = Turn::new(&urls, "s", Duration::from_secs(60));
        assert_eq!(
            turn.urls(),
            ["turn:t.example:3478?transport=udp", "turn:u.example", "turn:t.example:3478?transport=tcp", "turns:t.example:443?transport=tcp"]
        );
    }

    /// Against values computed independently with OpenSSL:
    /// `printf %s '1700043200:p7' | openssl dgst -sha1 -hmac 'north-wind-42' -binary | base64`.
    #[test]
    fn credential_matches_openssl() {
        let turn = Turn::new(&[url("turn:127.0.0.1:3478")], "north-wind-42", Duration::from_secs(3600));
        let now = UNIX_EPOCH + Duration::from_secs(1_700_043_200 - 3600);
        let server = turn.ice_server("p7", now);
        assert_eq!(server.username.as_deref(), Some("1700043200:p7"));
        assert_eq!(server.credential.as_deref(), Some(OPENSSL_P7));
        assert_eq!(server.urls, ["turn:127.0.0.1:3478"]);
    }

    const OPENSSL_P7: &str = "jVlZwVjHTlG8WnhCE8vAtIiHzIw=";

    /// The same, computing with the openssl binary at test time when it is installed.
    #[test]
    fn credential_matches_openssl_binary() {
        let Ok(out) = std::process::Command::new("sh")
            .args(["-c", "printf %s '1800000000:p42' | openssl dgst -sha1 -hmac 'another secret' -binary | base64"])
            .output()
        else {
            return;
        };
        if !out.status.success() || out.stdout.is_empty() {
            eprintln!("openssl not available; the fixed vector above covers the scheme");
            return;
        }
        let expected = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let turn = Turn::new(&[url("turn:127.0.0.1")], "another secret", Duration::from_secs(100));
        let server = turn.ice_server("p42", UNIX_EPOCH + Duration::from_secs(1_800_000_000 - 100));
        assert_eq!(server.username.as_deref(), Some("1800000000:p42"));
        assert_eq!(server.credential.as_deref(), Some(expected.as_str()));
    }
}

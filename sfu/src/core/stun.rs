//! Just enough STUN parsing to route a first datagram: is it STUN, and whose ufrag does it name.

/// STUN magic cookie (RFC 5389).
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
const ATTR_USERNAME: u16 = 0x0006;
const HEADER_LEN: usize = 20;

/// True when `data` looks like a STUN message (RFC 7983 demultiplexing: first byte 0..=3 plus magic cookie).
pub fn is_stun(data: &[u8]) -> bool {
    data.len() >= HEADER_LEN && data[0] < 4 && data[4..8] == MAGIC_COOKIE
}

/// The receiver's ufrag: the part of the USERNAME attribute before the colon (`"local:remote"`, RFC 8445 §7.2.2).
///
/// Returns `None` for anything that is not a well-formed STUN message with a USERNAME.
pub fn local_ufrag(data: &[u8]) -> Option<&[u8]> {
    if !is_stun(data) {
        return None;
    }
    let body_len = u16::from_be_bytes([data[2], data[3]]) as usize;
    let end = HEADER_LEN.checked_add(body_len)?;
    let mut attrs = data.get(HEADER_LEN..end)?;
    while attrs.len() >= 4 {
        let ty = u16::from_be_bytes([attrs[0], attrs[1]]);
        let len = u16::from_be_bytes([attrs[2], attrs[3]]) as usize;
        let value = attrs.get(4..4 + len)?;
        if ty == ATTR_USERNAME {
            let colon = value.iter().position(|b| *b == b':')?;
            let ufrag = &value[..colon];
            return if ufrag.is_empty() { None } else { Some(ufrag) };
        }
        // Attributes are padded to 4 bytes.
        let padded = (len + 3) & !3;
        attrs = attrs.get(4 + padded..)?;
    }
    None
}

#[cfg(test)]
pub(crate) fn binding_request(username: &str) -> Vec<u8> {
    let name = username.as_bytes();
    let padded = (name.len() + 3) & !3;
    let mut v = vec![0x00, 0x01];
    v.extend_from_slice(&((4 + padded) as u16).to_be_bytes());
    v.extend_from_slice(&MAGIC_COOKIE);
    v.extend_from_slice(&[7; 12]);
    v.extend_from_slice(&ATTR_USERNAME.to_be_bytes());
    v.extend_from_slice(&(name.len() as u16).to_be_bytes());
    v.extend_from_slice(name);
    v.resize(HEADER_LEN + 4 + padded, 0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_local_ufrag() {
        let req = binding_request("abcd:efgh");
        assert!(is_stun(&req));
        assert_eq!(local_ufrag(&req), Some(&b"abcd"[..]));
    }

    #[test]
    fn rejects_non_stun_and_truncated() {
        assert_eq!(local_ufrag(&[0x80, 0x60, 0, 1]), None); // RTP
        assert_eq!(local_ufrag(&[22, 254, 253]), None); // DTLS
        let mut req = binding_request("abcd:efgh");
        req.truncate(26);
        assert_eq!(local_ufrag(&req), None);
        // Length field pointing past the end.
        let mut req = binding_request("abcd:efgh");
        req[3] = 200;
        assert_eq!(local_ufrag(&req), None);
    }

    #[test]
    fn username_without_colon_or_empty_ufrag_is_none() {
        assert_eq!(local_ufrag(&binding_request("abcd")), None);
        assert_eq!(local_ufrag(&binding_request(":efgh")), None);
    }
}

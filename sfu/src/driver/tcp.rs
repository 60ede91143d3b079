//! Passive ICE-TCP (RFC 6544) on a worker's media port, for clients behind firewalls that block UDP.
//!
//! The worker's TCP listener shares the UDP socket's address. Each accepted connection carries RFC 4571 frames
//! (a 16-bit big-endian length, then one STUN/DTLS/RTP packet); [`TcpMedia::read`] splits the byte stream into
//! frames for the shard, and [`TcpMedia::send`] frames what the shard queued in a [`TcpOutbox`]. A packet that
//! does not fit a connection's write backlog is dropped whole (as a full UDP socket buffer would), so the stream
//! stays framed. Buffers are allocated once per connection; nothing is allocated per packet.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};
use slab::Slab;

/// Tokens at and above this one are TCP connections (slot = token - FIRST_CONN).
pub(crate) const FIRST_CONN: usize = 16;
/// Connections one worker keeps at most; further ones are closed on accept.
const MAX_CONNS: usize = 4096;
/// Bytes queued for one connection before further packets to it are dropped (~0.5 s of a 16 Mbit/s stream).
const MAX_BACKLOG: usize = 1 << 20;
/// A connection that delivered nothing for this long is closed (ICE consent checks arrive every few seconds).
const IDLE: Duration = Duration::from_secs(30);
/// The largest frame RFC 4571 can carry, plus its length prefix.
const READ_BUF: usize = 2 + u16::MAX as usize;

/// What the shard sends over ICE-TCP during one step: framed and written by [`TcpMedia::send`] afterwards.
#[derive(Default)]
pub(crate) struct TcpOutbox {
    data: Vec<u8>,
    queued: Vec<(SocketAddr, u32, u32)>,
}

impl TcpOutbox {
    pub fn push(&mut self, peer: SocketAddr, packet: &[u8]) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(packet);
        self.queued.push((peer, start, packet.len() as u32));
    }

    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }
}

/// Counters for metrics.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TcpStats {
    pub accepted: u64,
    pub refused: u64,
    /// Packets for a peer without a connection, or over a connection's backlog.
    pub dropped: u64,
    /// Frames longer than a read buffer can hold never happen (u16 length); this counts connections closed on
    /// read/write errors.
    pub errors: u64,
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    rbuf: Box<[u8]>,
    rlen: usize,
    wbuf: Vec<u8>,
    wpos: usize,
    want_write: bool,
    last_rx: Instant,
}

pub(crate) struct TcpMedia {
    listener: TcpListener,
    conns: Slab<Conn>,
    by_peer: HashMap<SocketAddr, usize>,
    dirty: Vec<usize>,
    closing: Vec<usize>,
    last_sweep: Instant,
    pub stats: TcpStats,
}

impl TcpMedia {
    pub fn new(listener: TcpListener) -> Self {
        TcpMedia {
            listener,
            conns: Slab::new(),
            by_peer: HashMap::new(),
            dirty: Vec::new(),
            closing: Vec::new(),
            last_sweep: Instant::now(),
            stats: TcpStats::default(),
        }
    }

    pub fn listener(&mut self) -> &mut TcpListener {
        &mut self.listener
    }

    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Accept every pending connection.
    pub fn accept(&mut self, registry: &Registry, now: Instant) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, peer)) => {
                    if self.conns.len() >= MAX_CONNS || self.by_peer.contains_key(&peer) {
                        self.stats.refused += 1;
                        continue; // dropping the stream closes it
                    }
                    let _ = stream.set_nodelay(true);
                    let entry = self.conns.vacant_entry();
                    let token = Token(FIRST_CONN + entry.key());
                    if registry.register(&mut stream, token, Interest::READABLE).is_err() {
                        self.stats.errors += 1;
                        continue;
                    }
                    self.by_peer.insert(peer, entry.key());
                    entry.insert(Conn {
                        stream,
                        peer,
                        rbuf: vec![0; READ_BUF].into_boxed_slice(),
                        rlen: 0,
                        wbuf: Vec::new(),
                        wpos: 0,
                        want_write: false,
                        last_rx: now,
                    });
                    self.stats.accepted += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // E.g. EMFILE or a connection reset before accept: try again on the next readiness event.
                Err(_) => {
                    self.stats.errors += 1;
                    return;
                }
            }
        }
    }

    /// Read what connection `token` has and hand each complete frame to `on_frame(peer, frame)`.
    pub fn read(&mut self, registry: &Registry, token: Token, now: Instant, mut on_frame: impl FnMut(SocketAddr, &[u8])) {
        let Some(slot) = token.0.checked_sub(FIRST_CONN) else { return };
        let Some(conn) = self.conns.get_mut(slot) else { return };
        let mut close = false;
        loop {
            match conn.stream.read(&mut conn.rbuf[conn.rlen..]) {
                Ok(0) => {
                    close = true;
                    break;
                }
                Ok(n) => {
                    conn.rlen += n;
                    conn.last_rx = now;
                    let used = split_frames(&conn.rbuf[..conn.rlen], |frame| on_frame(conn.peer, frame));
                    conn.rbuf.copy_within(used..conn.rlen, 0);
                    conn.rlen -= used;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.stats.errors += 1;
                    close = true;
                    break;
                }
            }
        }
        if close {
            self.close(registry, slot);
        }
    }

    /// Connection `token` can take more bytes.
    pub fn writable(&mut self, registry: &Registry, token: Token) {
        if let Some(slot) = token.0.checked_sub(FIRST_CONN)
            && self.conns.contains(slot)
        {
            self.write(registry, slot);
        }
    }

    /// Frame and write everything in `outbox`, then empty it.
    pub fn send(&mut self, registry: &Registry, outbox: &mut TcpOutbox) {
        for &(peer, start, len) in &outbox.queued {
            let Some(&slot) = self.by_peer.get(&peer) else {
                self.stats.dropped += 1;
                continue;
            };
            let conn = &mut self.conns[slot];
            let packet = &outbox.data[start as usize..(start + len) as usize];
            if conn.wbuf.len() - conn.wpos + 2 + packet.len() > MAX_BACKLOG || packet.len() > u16::MAX as usize {
                self.stats.dropped += 1;
                continue;
            }
            if conn.wbuf.len() == conn.wpos {
                conn.wbuf.clear();
                conn.wpos = 0;
                self.dirty.push(slot);
            }
            conn.wbuf.extend_from_slice(&(packet.len() as u16).to_be_bytes());
            conn.wbuf.extend_from_slice(packet);
        }
        outbox.data.clear();
        outbox.queued.clear();
        let mut dirty = std::mem::take(&mut self.dirty);
        for &slot in &dirty {
            if self.conns.contains(slot) {
                self.write(registry, slot);
            }
        }
        dirty.clear();
        self.dirty = dirty;
        self.close_pending(registry);
    }

    /// Close connections that have been silent for too long (checked about once a second).
    pub fn sweep(&mut self, registry: &Registry, now: Instant) {
        if now.saturating_duration_since(self.last_sweep) < Duration::from_secs(1) {
            return;
        }
        self.last_sweep = now;
        for (slot, conn) in self.conns.iter() {
            if now.saturating_duration_since(conn.last_rx) > IDLE {
                self.closing.push(slot);
            }
        }
        self.close_pending(registry);
    }

    fn write(&mut self, registry: &Registry, slot: usize) {
        let conn = &mut self.conns[slot];
        while conn.wpos < conn.wbuf.len() {
            match conn.stream.write(&conn.wbuf[conn.wpos..]) {
                Ok(0) => {
                    self.stats.errors += 1;
                    self.closing.push(slot);
                    return;
                }
                Ok(n) => conn.wpos += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.stats.errors += 1;
                    self.closing.push(slot);
                    return;
                }
            }
        }
        let pending = conn.wpos < conn.wbuf.len();
        if !pending {
            conn.wbuf.clear();
            conn.wpos = 0;
        }
        if pending != conn.want_write {
            let interest = if pending { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
            if registry.reregister(&mut conn.stream, Token(FIRST_CONN + slot), interest).is_err() {
                self.stats.errors += 1;
                self.closing.push(slot);
                return;
            }
            conn.want_write = pending;
        }
    }

    fn close_pending(&mut self, registry: &Registry) {
        while let Some(slot) = self.closing.pop() {
            self.close(registry, slot);
        }
    }

    fn close(&mut self, registry: &Registry, slot: usize) {
        if let Some(mut conn) = self.conns.try_remove(slot) {
            let _ = registry.deregister(&mut conn.stream);
            self.by_peer.remove(&conn.peer);
        }
    }
}

/// Hand every complete RFC 4571 frame in `buf` to `on_frame`; returns how many bytes were consumed (the rest
/// is the start of an incomplete frame). Zero-length frames are skipped.
fn split_frames(buf: &[u8], mut on_frame: impl FnMut(&[u8])) -> usize {
    let mut at = 0;
    while buf.len() - at >= 2 {
        let len = u16::from_be_bytes([buf[at], buf[at + 1]]) as usize;
        if buf.len() - at - 2 < len {
            break;
        }
        if len > 0 {
            on_frame(&buf[at + 2..at + 2 + len]);
        }
        at += 2 + len;
    }
    at
}

#[cfg(test)]
mod tests;

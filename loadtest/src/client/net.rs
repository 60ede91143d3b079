//! A peer with its UDP socket and the impairment shim in both directions.

use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::os::fd::AsRawFd;
use std::time::Instant;

use bytes::BytesMut;
use tokio::net::UdpSocket;

use crate::error::LoadError;
use crate::peer::{Peer, PeerEvent, Role};
use crate::shim::{Impairment, ImpairmentConfig};

/// Datagrams read per readiness event before other work gets a turn.
const RECV_BATCH: usize = 256;

pub struct PeerIo {
    pub peer: Peer,
    sock: UdpSocket,
    inbound: Impairment,
    outbound: Impairment,
    /// The SFU's address (the only remote): where impaired inbound datagrams came from.
    remote: Option<SocketAddr>,
    out: Vec<(SocketAddr, BytesMut)>,
    buf: Vec<u8>,
    pub undecodable: u64,
    pub send_errors: u64,
}

impl PeerIo {
    /// A peer with the interceptors of `role` on a fresh UDP socket at `ip` (port chosen by the system).
    pub async fn bind(role: Role, now: Instant, ip: IpAddr, cfg: ImpairmentConfig, seed: u64) -> Result<PeerIo, LoadError> {
        let addr = SocketAddr::from((ip, 0));
        let std_sock = StdUdpSocket::bind(addr).map_err(|source| LoadError::Bind { addr, source })?;
        set_buffers(&std_sock, 1 << 20);
        std_sock.set_nonblocking(true)?;
        let local = std_sock.local_addr()?;
        let sock = UdpSocket::from_std(std_sock)?;
        Ok(PeerIo {
            peer: Peer::with_role(role, local, now)?,
            sock,
            inbound: Impairment::new(cfg, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            outbound: Impairment::new(cfg, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 1),
            remote: None,
            out: Vec::new(),
            buf: vec![0; 2048],
            undecodable: 0,
            send_errors: 0,
        })
    }

    pub async fn readable(&self) -> std::io::Result<()> {
        self.sock.readable().await
    }

    /// Read what is waiting (bounded) into the stack or the inbound shim.
    pub fn on_readable(&mut self, _ready: std::io::Result<()>) {
        let now = Instant::now();
        for _ in 0..RECV_BATCH {
            match self.sock.try_recv_from(&mut self.buf) {
                Ok((n, src)) => {
                    if self.inbound.is_passthrough() {
                        if !self.peer.handle_datagram(now, src, &self.buf[..n]) {
                            self.undecodable += 1;
                        }
                    } else {
                        self.remote = Some(src);
                        self.inbound.push(now, &self.buf[..n]);
                    }
                }
                Err(_) => break,
            }
        }
    }

    /// Release impaired input, run due timers, drain the stack and send (through the outbound shim).
    pub fn service(&mut self, now: Instant, events: &mut Vec<PeerEvent>) {
        if let Some(src) = self.remote {
            while let Some(d) = self.inbound.pop_due(now) {
                if !self.peer.handle_datagram(now, src, &d) {
                    self.undecodable += 1;
                }
            }
        }
        if self.peer.deadline <= now {
            self.peer.handle_timeout(now);
        }
        self.flush(now, events);
    }

    pub fn flush(&mut self, now: Instant, events: &mut Vec<PeerEvent>) {
        self.peer.drain(&mut self.out, events);
        for (dst, data) in self.out.drain(..) {
            if self.outbound.is_passthrough() {
                if self.sock.try_send_to(&data, dst).is_err() {
                    self.send_errors += 1;
                }
            } else {
                self.remote.get_or_insert(dst);
                self.outbound.push(now, &data);
            }
        }
        if let Some(dst) = self.remote {
            while let Some(d) = self.outbound.pop_due(now) {
                if self.sock.try_send_to(&d, dst).is_err() {
                    self.send_errors += 1;
                }
            }
        }
    }

    pub fn next_wake(&self) -> Instant {
        let mut t = self.peer.deadline;
        for q in [self.inbound.next_release(), self.outbound.next_release()].into_iter().flatten() {
            t = t.min(q);
        }
        t
    }

    pub fn shim_dropped(&self) -> u64 {
        self.inbound.dropped_loss
            + self.inbound.dropped_queue
            + self.outbound.dropped_loss
            + self.outbound.dropped_queue
    }
}

/// Larger socket buffers for bursts (best effort; the kernel caps them).
pub fn set_buffers(sock: &StdUdpSocket, bytes: i32) {
    for opt in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: plain setsockopt on a valid fd with a c_int value.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                &bytes as *const i32 as *const libc::c_void,
                std::mem::size_of::<i32>() as libc::socklen_t,
            );
        }
    }
}

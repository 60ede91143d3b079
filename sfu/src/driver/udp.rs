//! Batched UDP I/O for a worker: many datagrams per system call in both directions.
//!
//! - Receive: [`RxBatch`] reads up to [`quinn_udp::BATCH_SIZE`] datagrams per `recvmmsg` (quinn-udp), including
//!   GRO-coalesced buffers, which it splits at their stride.
//! - Send: [`TxBatch`] takes the shard's UDP output (through the worker's `Transmitter`). It copies every datagram into one flat buffer and sends
//!   the whole batch with `sendmmsg` when [`TxBatch::flush`] is called (after each receive batch, timer run or
//!   command) or when it is full. Datagrams to the same destination are grouped (stable, so each destination's
//!   order is kept) and sent as one UDP GSO message (`UDP_SEGMENT`) where the kernel supports it.
//!
//! Nothing here allocates after construction.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use quinn_udp::{RecvMeta, UdpSockRef, UdpSocketState};


/// Largest datagram the receive path handles without GRO (anything larger is truncated by the kernel).
const MAX_DATAGRAM: usize = 2048;
/// Bytes per receive buffer: room for the largest GRO list the kernel may hand over (64 segments, 64 KiB).
const RX_BUF: usize = 64 * 1024;
/// Datagrams queued before the batch is sent regardless.
const TX_MAX_DATAGRAMS: usize = 4096;
/// Bytes queued before the batch is sent regardless.
const TX_MAX_BYTES: usize = 4 << 20;
/// `sendmmsg` takes at most this many messages per call (UIO_MAXIOV).
const MMSG_MAX: usize = 1024;
/// A GSO message may carry at most this many payload bytes (the UDP length field).
const GSO_MAX_BYTES: usize = 65_000;

/// Receive side: `recvmmsg` into fixed buffers.
pub(crate) struct RxBatch {
    state: UdpSocketState,
    bufs: Vec<u8>,
    meta: Vec<RecvMeta>,
    filled: usize,
}

impl RxBatch {
    pub fn new(socket: &impl AsFd) -> io::Result<RxBatch> {
        let state = UdpSocketState::new(UdpSockRef::from(socket))?;
        let n = quinn_udp::BATCH_SIZE;
        let per_buf = if state.gro_segments() > 1 { RX_BUF } else { MAX_DATAGRAM };
        Ok(RxBatch { state, bufs: vec![0; n * per_buf], meta: vec![RecvMeta::default(); n], filled: 0 })
    }

    /// Segments per GSO message this socket supports (1: no GSO).
    pub fn max_gso_segments(&self) -> usize {
        self.state.max_gso_segments()
    }

    /// Read what is queued (one `recvmmsg`). Returns the number of buffers filled; `WouldBlock` when none.
    pub fn recv(&mut self, socket: &impl AsFd) -> io::Result<usize> {
        self.filled = 0;
        let per_buf = self.bufs.len() / self.meta.len();
        let mut slices: [IoSliceMut<'_>; quinn_udp::BATCH_SIZE] = {
            let mut chunks = self.bufs.chunks_mut(per_buf);
            std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or_default()))
        };
        let n = self.state.recv(UdpSockRef::from(socket), &mut slices, &mut self.meta)?;
        self.filled = n;
        Ok(n)
    }

    /// The datagrams of the last [`RxBatch::recv`], GRO buffers split into their datagrams.
    pub fn datagrams(&self) -> impl Iterator<Item = (SocketAddr, &[u8])> + '_ {
        let per_buf = self.bufs.len() / self.meta.len();
        self.meta[..self.filled].iter().enumerate().flat_map(move |(i, m)| {
            let data = &self.bufs[i * per_buf..i * per_buf + m.len.min(per_buf)];
            let stride = if m.stride == 0 { data.len().max(1) } else { m.stride };
            data.chunks(stride).map(move |d| (m.addr, d))
        })
    }
}

#[derive(Clone, Copy)]
struct Queued {
    destination: SocketAddr,
    start: u32,
    len: u32,
}

/// Control message space for one `UDP_SEGMENT` value, aligned like `cmsghdr`.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct SegmentCmsg([u8; 32]);

/// Send side: collects the shard's datagrams and sends them with few system calls.
pub(crate) struct TxBatch {
    fd: RawFd,
    max_gso: usize,
    data: Vec<u8>,
    queued: Vec<Queued>,
    order: Vec<u32>,
    // Per flush, rebuilt in place (capacity kept).
    iovecs: Vec<libc::iovec>,
    addrs: Vec<socket2::SockAddr>,
    cmsgs: Vec<SegmentCmsg>,
    /// (first iovec, iovec count, datagram count, segment size or 0) per message.
    msgs: Vec<(usize, usize, usize, u16)>,
    hdrs: Vec<libc::mmsghdr>,
    /// Datagrams the kernel refused.
    pub errors: u64,
    /// Datagrams handed to the kernel, and the system calls that took them (for the ratio in metrics).
    pub sent: u64,
    pub syscalls: u64,
}

impl TxBatch {
    /// `fd` must stay open as long as this batch is used; `max_gso` from [`RxBatch::max_gso_segments`].
    pub fn new(socket: &impl AsRawFd, max_gso: usize) -> TxBatch {
        TxBatch {
            fd: socket.as_raw_fd(),
            max_gso: max_gso.max(1),
            data: Vec::with_capacity(TX_MAX_BYTES + 2048),
            queued: Vec::with_capacity(TX_MAX_DATAGRAMS),
            order: Vec::with_capacity(TX_MAX_DATAGRAMS),
            iovecs: Vec::with_capacity(TX_MAX_DATAGRAMS),
            addrs: Vec::with_capacity(TX_MAX_DATAGRAMS),
            cmsgs: Vec::with_capacity(TX_MAX_DATAGRAMS),
            msgs: Vec::with_capacity(TX_MAX_DATAGRAMS),
            hdrs: Vec::with_capacity(TX_MAX_DATAGRAMS),
            errors: 0,
            sent: 0,
            syscalls: 0,
        }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// Send everything queued.
    pub fn flush(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        self.plan();
        self.send_planned();
        self.queued.clear();
        self.data.clear();
    }

    /// Group the queue into messages: one per destination run, split where GSO rules require.
    fn plan(&mut self) {
        self.order.clear();
        self.order.extend(0..self.queued.len() as u32);
        let queued = &self.queued;
        // Stable: datagrams to one destination keep their order.
        self.order.sort_by_key(|&i| queued[i as usize].destination);
        self.iovecs.clear();
        self.addrs.clear();
        self.cmsgs.clear();
        self.msgs.clear();
        let mut k = 0;
        while k < self.order.len() {
            let first = self.queued[self.order[k] as usize];
            let seg = first.len as usize;
            let first_iov = self.iovecs.len();
            let mut count = 0;
            let mut bytes = 0;
            // GSO: equal-sized segments to one destination; only the last may be shorter.
            while k < self.order.len() {
                let q = self.queued[self.order[k] as usize];
                let len = q.len as usize;
                let fits = count == 0
                    || (q.destination == first.destination
                        && count < self.max_gso
                        && len <= seg
                        && bytes + len <= GSO_MAX_BYTES);
                if !fits {
                    break;
                }
                self.iovecs.push(libc::iovec {
                    iov_base: self.data[q.start as usize..].as_ptr() as *mut libc::c_void,
                    iov_len: len,
                });
                count += 1;
                bytes += len;
                k += 1;
                if len < seg {
                    break;
                }
            }
            self.addrs.push(socket2::SockAddr::from(first.destination));
            let segment = if count > 1 { seg as u16 } else { 0 };
            self.msgs.push((first_iov, count, count, segment));
            self.cmsgs.push(SegmentCmsg([0; 32]));
        }
    }

    fn send_planned(&mut self) {
        self.hdrs.clear();
        for (m, &(iov, n, _, segment)) in self.msgs.iter().enumerate() {
            // SAFETY: an all-zero msghdr is valid; every pointer set below points into vectors that are
            // neither resized nor dropped until the sendmmsg calls below have returned.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = self.addrs[m].as_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_namelen = self.addrs[m].len();
            h.msg_hdr.msg_iov = self.iovecs[iov..].as_ptr() as *mut libc::iovec;
            h.msg_hdr.msg_iovlen = n as _;
            if segment > 0 {
                let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) } as usize;
                let buf = &mut self.cmsgs[m];
                h.msg_hdr.msg_control = buf.0.as_mut_ptr() as *mut libc::c_void;
                h.msg_hdr.msg_controllen = space as _;
                // SAFETY: the control buffer is 32 bytes, aligned for cmsghdr, and CMSG_SPACE(2) = 24 fits.
                unsafe {
                    let c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
                    (*c).cmsg_level = libc::SOL_UDP;
                    (*c).cmsg_type = libc::UDP_SEGMENT;
                    (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u16>() as u32) as _;
                    std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut u16, segment);
                }
            }
            self.hdrs.push(h);
        }
        let mut next = 0;
        while next < self.hdrs.len() {
            let n = (self.hdrs.len() - next).min(MMSG_MAX);
            // SAFETY: hdrs[next..next + n] are initialised mmsghdrs whose pointers are valid (see above).
            let r = unsafe { libc::sendmmsg(self.fd, self.hdrs[next..].as_mut_ptr(), n as u32, 0) };
            self.syscalls += 1;
            if r > 0 {
                let r = r as usize;
                self.sent += self.msgs[next..next + r].iter().map(|m| m.2 as u64).sum::<u64>();
                next += r;
                continue;
            }
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            // The message at `next` failed. A GSO message the device cannot take: stop using GSO and send
            // its datagrams one by one. Anything else (full buffer, unreachable): count it and go on.
            let (iov, count, datagrams, segment) = self.msgs[next];
            if segment > 0 && matches!(err.raw_os_error(), Some(libc::EIO) | Some(libc::EINVAL)) {
                tracing::warn!(error = %err, "UDP GSO refused by the kernel; sending datagrams one by one");
                self.max_gso = 1;
                for i in iov..iov + count {
                    self.send_one(next, i);
                }
            } else {
                self.errors += datagrams as u64;
            }
            next += 1;
        }
    }

    /// Fallback: one datagram of message `m` with `sendmsg`.
    fn send_one(&mut self, m: usize, iov: usize) {
        // SAFETY: as in send_planned; a msghdr with one iovec and no control data.
        let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
        h.msg_name = self.addrs[m].as_ptr() as *mut libc::c_void;
        h.msg_namelen = self.addrs[m].len();
        h.msg_iov = self.iovecs[iov..].as_ptr() as *mut libc::iovec;
        h.msg_iovlen = 1;
        let r = unsafe { libc::sendmsg(self.fd, &h, 0) };
        self.syscalls += 1;
        if r < 0 {
            self.errors += 1;
        } else {
            self.sent += 1;
        }
    }
}

impl TxBatch {
    /// Queue one datagram (sent by the next [`TxBatch::flush`], or earlier when the batch is full).
    pub fn transmit(&mut self, destination: SocketAddr, data: &[u8]) {
        if data.len() > u16::MAX as usize {
            self.errors += 1;
            return;
        }
        if self.queued.len() >= TX_MAX_DATAGRAMS || self.data.len() + data.len() > TX_MAX_BYTES {
            self.flush();
        }
        let start = self.data.len() as u32;
        self.data.extend_from_slice(data);
        self.queued.push(Queued { destination, start, len: data.len() as u32 });
    }
}

#[cfg(test)]
mod tests;

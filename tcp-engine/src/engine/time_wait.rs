//! Compact TIME-WAIT entries (RFC 9293 §3.6): what a closed connection leaves behind for
//! 2·MSL, in a FIFO ring ordered by expiry
//!
//! Every entry waits the same 2·MSL, so appending keeps the ring sorted by expiry and the
//! earliest deadline is always at the head. Restarting an entry's timer (a retransmitted FIN,
//! RFC 9293 §3.10.7.4) kills the old copy and appends a new one. When the ring is full the
//! oldest entry is evicted early and counted.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use managed::ManagedSlice;

use super::ConnHandle;
use crate::conn::FourTuple;
use crate::seq::SeqNumber;
use crate::time::Instant;

/// One TIME-WAIT entry: 60 bytes
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWaitEntry {
    local: [u8; 16],
    remote: [u8; 16],
    local_port: u16,
    remote_port: u16,
    /// SND.NXT: the sequence number of our ACKs
    pub(crate) snd_nxt: SeqNumber,
    /// RCV.NXT: one past the peer's FIN
    pub(crate) rcv_nxt: SeqNumber,
    /// Expiry in milliseconds (rounded up), modulo 2^32 (compared within 24 days)
    expiry_ms: u32,
    /// The handle the connection had, for its closing events
    pub(crate) handle: ConnHandle,
    /// The window field of our last advertisement, repeated in TIME-WAIT ACKs
    pub(crate) window: u16,
    /// Bit 0: alive; bit 1: IPv6
    bits: u8,
}

impl TimeWaitEntry {
    /// An unused entry, to fill storage arrays
    pub const EMPTY: Self = Self {
        local: [0; 16],
        remote: [0; 16],
        local_port: 0,
        remote_port: 0,
        snd_nxt: SeqNumber(0),
        rcv_nxt: SeqNumber(0),
        expiry_ms: 0,
        handle: ConnHandle {
            index: 0,
            generation: 0,
        },
        window: 0,
        bits: 0,
    };

    fn alive(&self) -> bool {
        self.bits & 1 != 0
    }

    /// The connection's 4-tuple
    pub(crate) fn tuple(&self) -> FourTuple {
        let addr = |b: &[u8; 16]| -> IpAddr {
            if self.bits & 2 != 0 {
                Ipv6Addr::from(*b).into()
            } else {
                Ipv4Addr::new(b[0], b[1], b[2], b[3]).into()
            }
        };
        FourTuple {
            local_addr: addr(&self.local),
            remote_addr: addr(&self.remote),
            local_port: self.local_port,
            remote_port: self.remote_port,
        }
    }

    fn expired(&self, now: Instant) -> bool {
        (now.total_millis() as u32).wrapping_sub(self.expiry_ms) as i32 >= 0
    }

    /// When the entry expires (reconstructed near `now`)
    fn expiry(&self, now: Instant) -> Instant {
        let delta = self.expiry_ms.wrapping_sub(now.total_millis() as u32) as i32;
        let ms = (now.total_millis() as i64 + i64::from(delta)).max(0) as u64;
        Instant::from_millis(ms)
    }
}

fn pack(a: &IpAddr) -> ([u8; 16], bool) {
    match a {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            (b, false)
        }
        IpAddr::V6(v6) => (v6.octets(), true),
    }
}

/// The ring of TIME-WAIT entries
#[derive(Debug)]
pub(crate) struct TimeWaitTable<'a> {
    ring: ManagedSlice<'a, TimeWaitEntry>,
    head: usize,
    len: usize,
    live: usize,
}

impl<'a> TimeWaitTable<'a> {
    pub(crate) fn new(ring: ManagedSlice<'a, TimeWaitEntry>) -> Self {
        Self {
            ring,
            head: 0,
            len: 0,
            live: 0,
        }
    }

    /// Entries alive
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    pub(crate) fn get(&self, i: u32) -> Option<&TimeWaitEntry> {
        self.ring.get(i as usize).filter(|e| e.alive())
    }

    /// Whether a push now would evict the oldest entry; returns that entry's index
    pub(crate) fn would_evict(&self) -> Option<u32> {
        let cap = self.ring.len();
        (cap > 0 && self.len == cap).then_some(self.head as u32)
    }

    /// Append an entry expiring at `expiry`; the caller removed `would_evict` first
    pub(crate) fn push(
        &mut self,
        t: &FourTuple,
        snd_nxt: SeqNumber,
        rcv_nxt: SeqNumber,
        window: u16,
        expiry: Instant,
        handle: ConnHandle,
    ) -> Option<u32> {
        let cap = self.ring.len();
        if cap == 0 {
            return None;
        }
        if self.len == cap {
            self.pop_head();
        }
        let (local, v6) = pack(&t.local_addr);
        let (remote, _) = pack(&t.remote_addr);
        let at = self.head + self.len; // both below `cap`: no division needed
        let i = if at >= cap { at - cap } else { at };
        self.ring[i] = TimeWaitEntry {
            local,
            remote,
            local_port: t.local_port,
            remote_port: t.remote_port,
            snd_nxt,
            rcv_nxt,
            // Rounded up: TIME-WAIT never ends early (to the millisecond the entry keeps).
            expiry_ms: expiry.total_micros().div_ceil(1000) as u32,
            handle,
            window,
            bits: 1 | if v6 { 2 } else { 0 },
        };
        self.len += 1;
        self.live += 1;
        Some(i as u32)
    }

    /// Kill entry `i` (expired, reset or restarted)
    pub(crate) fn kill(&mut self, i: u32) {
        if let Some(e) = self.ring.get_mut(i as usize) {
            if e.alive() {
                e.bits &= !1;
                self.live -= 1;
            }
        }
        self.trim();
    }

    fn pop_head(&mut self) {
        if self.len == 0 {
            return;
        }
        if self.ring[self.head].alive() {
            self.live -= 1;
        }
        self.ring[self.head].bits &= !1;
        self.head += 1;
        if self.head == self.ring.len() {
            self.head = 0;
        }
        self.len -= 1;
    }

    /// Drop dead entries from the head
    fn trim(&mut self) {
        while self.len > 0 && !self.ring[self.head].alive() {
            self.pop_head();
        }
    }

    /// The oldest live entry, with its expiry
    #[inline]
    pub(crate) fn head(&self, now: Instant) -> Option<(u32, Instant)> {
        (self.len > 0 && self.ring[self.head].alive())
            .then(|| (self.head as u32, self.ring[self.head].expiry(now)))
    }

    /// The oldest live entry if it has expired at `now`
    pub(crate) fn expired_head(&self, now: Instant) -> Option<u32> {
        (self.len > 0 && self.ring[self.head].alive() && self.ring[self.head].expired(now))
            .then_some(self.head as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn entry_is_under_64_bytes() {
        assert!(core::mem::size_of::<TimeWaitEntry>() < 64);
    }

    #[test]
    fn fifo_expiry_and_eviction() {
        let mut t = TimeWaitTable::new(ManagedSlice::Owned(vec![TimeWaitEntry::EMPTY; 2]));
        let tuple = FourTuple {
            local_addr: Ipv6Addr::LOCALHOST.into(),
            remote_addr: Ipv6Addr::LOCALHOST.into(),
            local_port: 1,
            remote_port: 2,
        };
        let h = ConnHandle {
            index: 0,
            generation: 1,
        };
        let a = t
            .push(
                &tuple,
                SeqNumber(1),
                SeqNumber(2),
                0,
                Instant::from_secs(60),
                h,
            )
            .unwrap();
        let b = t
            .push(
                &tuple,
                SeqNumber(1),
                SeqNumber(2),
                0,
                Instant::from_secs(61),
                h,
            )
            .unwrap();
        assert_eq!(t.get(a).unwrap().tuple(), tuple);
        assert_eq!(t.head(Instant::ZERO), Some((a, Instant::from_secs(60))));
        assert_eq!(t.expired_head(Instant::from_secs(59)), None);
        assert_eq!(t.expired_head(Instant::from_secs(60)), Some(a));
        assert_eq!(t.would_evict(), Some(a));
        t.kill(a);
        assert_eq!(t.head(Instant::ZERO).map(|x| x.0), Some(b));
        assert_eq!(t.live(), 1);
    }
}

//! Application calls on the engine (RFC 9293 §3.9.1, the user/TCP interface)

use core::fmt;
use core::net::{IpAddr, SocketAddr};

use super::input::is_unicast;
use super::storage::{Listener, Owner, NONE};
use super::{ConnHandle, Engine, Entry, ListenerHandle};
use crate::conn::{
    CloseError, ConnStats, Connection, FourTuple, RecvError, Reply, SendError, State,
};
use crate::time::Instant;
use crate::wire::TcpFlags;

/// Why `listen` failed
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ListenError {
    /// Something already listens on that address and port (MUST-41)
    InUse,
    /// Every listener slot is taken
    TableFull,
    /// Port zero, or a multicast or broadcast address
    InvalidAddress,
}

/// Why `accept` returned nothing
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AcceptError {
    /// The listener handle is stale
    InvalidHandle,
    /// No established connection is waiting
    WouldBlock,
}

/// Why `connect` failed
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConnectError {
    /// The remote is not a unicast address, or its port is zero (MUST-46)
    InvalidAddress,
    /// Every ephemeral port toward that peer is in use (live or TIME-WAIT)
    NoPortAvailable,
    /// The requested local port is already connected to that peer
    InUse,
    /// Every connection slot is taken
    TableFull,
}

/// A handle that names no live connection
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HandleError {
    /// Stale or foreign handle: the connection was freed and maybe reused
    InvalidHandle,
}

macro_rules! display {
    ($t:ty, $($v:pat => $s:expr),* $(,)?) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $($v => $s),* })
            }
        }
        impl core::error::Error for $t {}
    };
}

display!(ListenError, Self::InUse => "address in use", Self::TableFull => "no free listener slot",
    Self::InvalidAddress => "invalid listen address");
display!(AcceptError, Self::InvalidHandle => "stale listener handle", Self::WouldBlock => "no connection waiting");
display!(ConnectError, Self::InvalidAddress => "invalid remote address", Self::NoPortAvailable => "no ephemeral port available",
    Self::InUse => "4-tuple in use", Self::TableFull => "no free connection slot");
display!(HandleError, Self::InvalidHandle => "stale connection handle");

impl Engine<'_> {
    /// Passive open (RFC 9293 §3.9.1.1): accept connections to `local`; an unspecified
    /// address listens on every address of its family. `backlog` bounds the accept queue.
    pub fn listen(
        &mut self,
        local: SocketAddr,
        backlog: u16,
    ) -> Result<ListenerHandle, ListenError> {
        let ip = local.ip();
        if local.port() == 0 || (!ip.is_unspecified() && !is_unicast(&ip)) {
            return Err(ListenError::InvalidAddress);
        }
        if self
            .listeners
            .iter()
            .any(|l| l.listener.is_some_and(|l| l.local == local))
        {
            return Err(ListenError::InUse);
        }
        let (i, slot) = self
            .listeners
            .iter_mut()
            .enumerate()
            .find(|(_, l)| l.listener.is_none())
            .ok_or(ListenError::TableFull)?;
        slot.listener = Some(Listener {
            local,
            backlog: backlog.max(1),
            half_open: 0,
            queued: 0,
            queue_head: NONE,
            queue_tail: NONE,
        });
        Ok(ListenerHandle {
            index: i as u16,
            generation: slot.generation,
        })
    }

    /// Stop listening; half-open and unaccepted connections are reset
    pub fn unlisten(&mut self, listener: ListenerHandle) -> Result<(), AcceptError> {
        self.listener_mut(listener)?;
        let l = listener.index;
        for slot in 0..self.slots.len() as u32 {
            let owned = self.slots.get(slot as usize).is_some_and(|s| {
                s.conn.is_some()
                    && matches!(s.owner, Owner::HalfOpen(x) | Owner::Queued(x) if x == l)
            });
            if owned {
                if let Some(s) = self.slots.get_mut(slot as usize) {
                    s.owner = Owner::App;
                }
                let _ = self.abort(self.handle_of_slot(slot));
            }
        }
        if let Some(s) = self.listeners.get_mut(usize::from(l)) {
            s.listener = None;
            s.generation = s.generation.wrapping_add(1);
        }
        Ok(())
    }

    fn listener_mut(&mut self, h: ListenerHandle) -> Result<&mut Listener, AcceptError> {
        self.listeners
            .get_mut(usize::from(h.index))
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.listener.as_mut())
            .ok_or(AcceptError::InvalidHandle)
    }

    /// Take the oldest established connection from a listener's accept queue
    pub fn accept(&mut self, listener: ListenerHandle) -> Result<ConnHandle, AcceptError> {
        loop {
            let l = self.listener_mut(listener)?;
            let slot = l.queue_head;
            if slot == NONE {
                return Err(AcceptError::WouldBlock);
            }
            let next = self.slots.get(slot as usize).map_or(NONE, |s| s.next);
            let l = self.listener_mut(listener)?;
            l.queue_head = next;
            if next == NONE {
                l.queue_tail = NONE;
            }
            l.queued = l.queued.saturating_sub(1);
            let Some(s) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            s.owner = Owner::App;
            s.next = NONE;
            let released = s.conn.as_ref().is_some_and(Connection::is_released);
            if released {
                // Closed by the application before it was accepted.
                self.reap(slot);
                continue;
            }
            return Ok(self.handle_of_slot(slot));
        }
    }

    fn handle_of_slot(&self, slot: u32) -> ConnHandle {
        ConnHandle {
            index: slot,
            generation: self.slots.get(slot as usize).map_or(0, |s| s.generation),
        }
    }

    /// Active open from an ephemeral port (RFC 9293 §3.9.1.1, RFC 6056 algorithm 3)
    pub fn connect(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: SocketAddr,
    ) -> Result<ConnHandle, ConnectError> {
        let (lo, hi) = self.config.ephemeral_ports;
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let range = u32::from(hi - lo) + 1;
        let offset = self.keys.port_offset(&local, &remote.ip(), remote.port());
        for _ in 0..range {
            self.port_counter = self.port_counter.wrapping_add(1);
            let port = lo + (offset.wrapping_add(self.port_counter) % range) as u16;
            match self.connect_from(now, SocketAddr::new(local, port), remote) {
                Err(ConnectError::InUse) => continue,
                other => return other,
            }
        }
        Err(ConnectError::NoPortAvailable)
    }

    /// Active open from a chosen local address and port (MUST-43)
    pub fn connect_from(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<ConnHandle, ConnectError> {
        let now = self.clock(now);
        if !is_unicast(&remote.ip())
            || remote.port() == 0
            || local.port() == 0
            || !is_unicast(&local.ip())
        {
            return Err(ConnectError::InvalidAddress);
        }
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(ConnectError::InvalidAddress);
        }
        let tuple = FourTuple {
            local_addr: local.ip(),
            remote_addr: remote.ip(),
            local_port: local.port(),
            remote_port: remote.port(),
        };
        let hash = self.keys.index_hash(&tuple);
        if self.lookup(hash, &tuple).is_some() {
            return Err(ConnectError::InUse);
        }
        let slot = self.alloc_slot().ok_or(ConnectError::TableFull)?;
        if !self.index.insert(hash, Entry::Conn(slot)) {
            self.release_slot(slot);
            return Err(ConnectError::TableFull);
        }
        let iss = self.keys.isn(now, &tuple);
        let handle = self.handle_of_slot(slot);
        let (rx, cfg) = (self.config.rx_buffer, self.config.conn);
        let mut sink = super::Sink {
            events: &mut self.events,
            handle,
        };
        let conn = Connection::connect(now, tuple, iss, rx, &cfg, &mut sink);
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.conn = Some(conn);
            s.owner = Owner::App;
        }
        self.live += 1;
        self.stats.connections_opened += 1;
        self.after_change(slot);
        Ok(handle)
    }

    fn check(&self, h: ConnHandle) -> Result<&Connection, HandleError> {
        self.slots
            .get(h.index as usize)
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.conn.as_ref())
            .ok_or(HandleError::InvalidHandle)
    }

    /// The connection's state
    pub fn state(&self, h: ConnHandle) -> Result<State, HandleError> {
        self.check(h).map(Connection::state)
    }

    /// The connection's statistics (RTT, RTO, cwnd, retransmissions, bytes, segments)
    pub fn conn_stats(&self, h: ConnHandle) -> Result<ConnStats, HandleError> {
        self.check(h).map(|c| c.stats(&self.config.conn))
    }

    /// The connection's addresses and ports
    pub fn tuple(&self, h: ConnHandle) -> Result<FourTuple, HandleError> {
        self.check(h).map(|c| *c.tuple())
    }

    /// Bytes waiting to be read
    pub fn recv_queue(&self, h: ConnHandle) -> Result<usize, HandleError> {
        self.check(h).map(Connection::recv_queue)
    }

    /// Bytes queued to send and not yet acknowledged
    pub fn send_queue(&self, h: ConnHandle) -> Result<usize, HandleError> {
        self.check(h).map(Connection::send_queue)
    }

    /// Queue data; returns how much fit (partial writes when the buffer is full)
    pub fn send(&mut self, h: ConnHandle, data: &[u8]) -> Result<usize, SendError> {
        self.check(h).map_err(|_| SendError::InvalidHandle)?;
        let r = self.with_conn(h.index, |c, bufs, _, _| c.send(bufs, data));
        self.after_change(h.index);
        r.unwrap_or(Err(SendError::InvalidHandle))
    }

    /// Read data; `Ok(0)` at the end of the stream, like `read(2)`
    pub fn recv(&mut self, h: ConnHandle, out: &mut [u8]) -> Result<usize, RecvError> {
        self.check(h).map_err(|_| RecvError::InvalidHandle)?;
        let now = self.now;
        let r = self.with_conn(h.index, |c, bufs, cfg, _| c.recv(now, bufs, out, cfg));
        self.after_read(h.index, &r);
        r.unwrap_or(Err(RecvError::InvalidHandle))
    }

    /// Read data in place: `f` gets the readable bytes as up to two slices and returns how
    /// many it consumed
    pub fn recv_with(
        &mut self,
        h: ConnHandle,
        f: impl FnOnce(&[u8], &[u8]) -> usize,
    ) -> Result<usize, RecvError> {
        self.check(h).map_err(|_| RecvError::InvalidHandle)?;
        let now = self.now;
        let r = self.with_conn(h.index, |c, bufs, cfg, _| c.recv_with(now, bufs, cfg, f));
        self.after_read(h.index, &r);
        r.unwrap_or(Err(RecvError::InvalidHandle))
    }

    /// A read that consumed nothing changed no timer, state or output (only whether the
    /// next data raises `Readable`): the bookkeeping of [`Engine::after_change`] is skipped
    fn after_read(&mut self, slot: u32, r: &Option<Result<usize, RecvError>>) {
        if matches!(r, Some(Ok(n)) if *n > 0) {
            self.after_change(slot);
        }
    }

    /// Discard queued data not yet sent (FLUSH, MAY-14); returns how many bytes
    pub fn flush(&mut self, h: ConnHandle) -> Result<usize, HandleError> {
        self.check(h)?;
        let n = self.with_conn(h.index, |c, _, _, _| c.flush()).unwrap_or(0);
        self.after_change(h.index);
        Ok(n)
    }

    /// Half-close: FIN after the queued data, keep receiving
    pub fn shutdown(&mut self, h: ConnHandle) -> Result<(), CloseError> {
        self.check(h).map_err(|_| CloseError::InvalidHandle)?;
        let r = self.with_conn(h.index, |c, _, _, sink| c.shutdown(sink));
        self.after_change(h.index);
        r.unwrap_or(Err(CloseError::InvalidHandle))
    }

    /// Close: FIN after the queued data; the handle is released and the connection is freed
    /// once it is fully closed (or kept as a compact TIME-WAIT entry)
    pub fn close(&mut self, h: ConnHandle) -> Result<(), CloseError> {
        self.check(h).map_err(|_| CloseError::InvalidHandle)?;
        let now = self.now;
        self.with_conn(h.index, |c, _, cfg, sink| c.close(now, cfg, sink));
        self.after_change(h.index);
        Ok(())
    }

    /// Abort (like `SO_LINGER` 0): RST to the peer, no TIME-WAIT, the slot freed at once
    pub fn abort(&mut self, h: ConnHandle) -> Result<(), HandleError> {
        let tuple = *self.check(h)?.tuple();
        let reply = self
            .with_conn(h.index, |c, _, _, sink| c.abort(sink))
            .flatten();
        if let Some(Reply::Rst { seq, ack }) = reply {
            self.queue_reply(tuple, seq, ack, TcpFlags::RST);
        }
        self.after_change(h.index);
        Ok(())
    }

    /// Choose the congestion-control algorithm of one connection (NewReno or CUBIC)
    pub fn set_congestion_control(
        &mut self,
        h: ConnHandle,
        algorithm: crate::conn::Algorithm,
    ) -> Result<(), HandleError> {
        self.check(h)?;
        self.with_conn(h.index, |c, _, _, _| c.set_congestion_control(algorithm));
        Ok(())
    }

    /// Set one connection's R2: the retransmissions after which it gives up (MUST-21);
    /// `None` never gives up
    pub fn set_retry_limit(&mut self, h: ConnHandle, limit: Option<u8>) -> Result<(), HandleError> {
        self.check(h)?;
        self.with_conn(h.index, |c, _, _, _| c.set_retry_limit(limit));
        Ok(())
    }

    /// An ICMP or ICMPv6 error quoting a segment we sent from `local` to `remote` with
    /// sequence number `seq` (RFC 9293 §3.9.2.2). The driver decodes the ICMP message
    /// ([`IcmpError::from_icmpv4`](crate::conn::IcmpError::from_icmpv4)) and the quoted
    /// header; the engine checks that `seq` is in flight (RFC 5927) and then ignores a
    /// source quench, reports a soft error, or aborts on a hard one. Returns whether a
    /// connection matched.
    pub fn handle_icmp_error(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        seq: crate::seq::SeqNumber,
        error: crate::conn::IcmpError,
    ) -> bool {
        let _ = self.clock(now);
        let tuple = FourTuple {
            local_addr: local.ip(),
            remote_addr: remote.ip(),
            local_port: local.port(),
            remote_port: remote.port(),
        };
        let hash = self.keys.index_hash(&tuple);
        let Some(Entry::Conn(slot)) = self.lookup(hash, &tuple) else {
            return false;
        };
        self.with_conn(slot, |c, _, cfg, sink| {
            c.handle_icmp_error(seq, error, cfg, sink)
        });
        self.after_change(slot);
        true
    }

    /// Give up this connection's attempt after `t` from now (TCP_KEEPINIT)
    pub fn set_connect_timeout(
        &mut self,
        h: ConnHandle,
        t: Option<core::time::Duration>,
    ) -> Result<(), HandleError> {
        self.check(h)?;
        let now = self.now;
        self.with_conn(h.index, |c, _, _, _| c.set_connect_timeout(now, t));
        self.after_change(h.index);
        Ok(())
    }

    /// Turn Nagle's algorithm on or off for one connection
    pub fn set_nagle(&mut self, h: ConnHandle, on: bool) -> Result<(), HandleError> {
        self.check(h)?;
        self.with_conn(h.index, |c, _, _, _| c.set_nagle(on));
        self.after_change(h.index);
        Ok(())
    }

    /// Turn keep-alive on or off for one connection (timings from the config)
    pub fn set_keep_alive(&mut self, h: ConnHandle, on: bool) -> Result<(), HandleError> {
        self.check(h)?;
        let now = self.now;
        self.with_conn(h.index, |c, _, cfg, _| c.set_keep_alive(on, now, cfg));
        self.after_change(h.index);
        Ok(())
    }
}

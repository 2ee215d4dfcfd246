//! Demultiplexing arriving segments (RFC 9293 §3.10.7): to a connection, a TIME-WAIT entry,
//! a listener, or the CLOSED-state reply

use core::net::IpAddr;

use super::storage::{Owner, NONE};
use super::{ConnHandle, Disposition, DropReason, Engine, Entry};
use crate::conn::{Connection, FourTuple, Reply, SegmentOutcome};
use crate::seq::SeqNumber;
use crate::time::Instant;
use crate::wire::{ChecksumCheck, ParseError, TcpFlags, TcpRepr};

/// Whether an address may take part in a connection (MUST-57, MUST-63)
pub(crate) fn is_unicast(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}

impl Engine<'_> {
    /// Process one arriving TCP segment (header and payload, without the IP header)
    ///
    /// Never fails: bad input is dropped and counted in [`Engine::stats`] by reason, and the
    /// returned [`Disposition`] says what happened.
    pub fn handle_segment(
        &mut self,
        now: Instant,
        src: IpAddr,
        dst: IpAddr,
        segment: &[u8],
    ) -> Disposition {
        let now = self.clock(now);
        self.stats.segments_in += 1;
        let d = self.dispatch(now, src, dst, segment);
        if let Disposition::Dropped(r) = d {
            self.stats.count_drop(r);
        }
        d
    }

    fn dispatch(&mut self, now: Instant, src: IpAddr, dst: IpAddr, segment: &[u8]) -> Disposition {
        let check = if self.config.verify_checksums {
            ChecksumCheck::Verify
        } else {
            ChecksumCheck::Skip
        };
        let repr = match TcpRepr::parse_bytes(segment, &src, &dst, check) {
            Ok(r) => r,
            Err(e) => {
                return Disposition::Dropped(match e {
                    ParseError::Truncated => DropReason::Truncated,
                    ParseError::BadDataOffset => DropReason::BadDataOffset,
                    ParseError::BadChecksum => DropReason::BadChecksum,
                    ParseError::BadOptionLength | ParseError::BadOptionValue => {
                        DropReason::BadOptions
                    }
                })
            }
        };
        let tuple = FourTuple {
            local_addr: dst,
            remote_addr: src,
            local_port: repr.dst_port,
            remote_port: repr.src_port,
        };
        // One-entry cache: a burst of segments on one connection skips the address checks
        // (its tuple passed them when it was opened) and the keyed hash.
        let last = self.last_slot;
        if self
            .slots
            .get(last as usize)
            .and_then(|s| s.conn.as_ref())
            .is_some_and(|c| *c.tuple() == tuple)
        {
            return self.deliver_to_connection(now, last, &repr);
        }
        if !is_unicast(&src) || !is_unicast(&dst) || repr.src_port == 0 || repr.dst_port == 0 {
            return Disposition::Dropped(DropReason::BadAddress);
        }
        let hash = self.keys.index_hash(&tuple);
        match self.lookup(hash, &tuple) {
            Some(Entry::Conn(slot)) => {
                self.last_slot = slot;
                self.deliver_to_connection(now, slot, &repr)
            }
            Some(Entry::TimeWait(i)) => self.deliver_to_time_wait(now, i, &tuple, &repr),
            None => match self.find_listener(&tuple) {
                Some(l) => self.deliver_to_listener(now, l, tuple, hash, &repr),
                None => self.reply_closed(&tuple, &repr),
            },
        }
    }

    pub(crate) fn lookup(&self, hash: u64, tuple: &FourTuple) -> Option<Entry> {
        self.index.find(hash, |e| match e {
            Entry::Conn(i) => self
                .slots
                .get(i as usize)
                .and_then(|s| s.conn.as_ref())
                .is_some_and(|c| c.tuple() == tuple),
            Entry::TimeWait(i) => self.time_wait.get(i).is_some_and(|t| t.tuple() == *tuple),
        })
    }

    fn deliver_to_connection(
        &mut self,
        now: Instant,
        slot: u32,
        repr: &TcpRepr<'_>,
    ) -> Disposition {
        let Some(result) = self.with_conn(slot, |conn, bufs, cfg, sink| {
            (
                conn.handle_segment(now, repr, bufs, cfg, sink),
                *conn.tuple(),
            )
        }) else {
            return Disposition::Dropped(DropReason::Ignored);
        };
        let (outcome, tuple) = result;
        let handle = self.handle_of(slot);
        let d = match outcome {
            SegmentOutcome::Accepted => Disposition::Accepted(handle),
            SegmentOutcome::OutOfWindow => Disposition::Dropped(DropReason::OutOfWindow),
            SegmentOutcome::BadAck => Disposition::Dropped(DropReason::BadAck),
            SegmentOutcome::Paws => Disposition::Dropped(DropReason::Paws),
            SegmentOutcome::Challenged => Disposition::Dropped(DropReason::Challenged),
            SegmentOutcome::Ignored => Disposition::Dropped(DropReason::Ignored),
            SegmentOutcome::Replied(Reply::Rst { seq, ack }) => {
                self.queue_reply(tuple, seq, ack, TcpFlags::RST);
                Disposition::Reset
            }
            SegmentOutcome::BackToListen => Disposition::Accepted(handle),
        };
        self.after_change(slot);
        d
    }

    fn handle_of(&self, slot: u32) -> ConnHandle {
        let generation = self.slots.get(slot as usize).map_or(0, |s| s.generation);
        ConnHandle {
            index: slot,
            generation,
        }
    }

    /// TIME-WAIT (RFC 9293 §3.10.7.4): re-ACK a retransmitted FIN and restart 2·MSL; an exact
    /// RST ends it; a new SYN above the old sequence space may reopen (MAY-2)
    fn deliver_to_time_wait(
        &mut self,
        now: Instant,
        i: u32,
        tuple: &FourTuple,
        repr: &TcpRepr<'_>,
    ) -> Disposition {
        let Some(e) = self.time_wait.get(i).copied() else {
            return Disposition::Dropped(DropReason::Ignored);
        };
        let f = repr.flags;
        if f.contains(TcpFlags::RST) {
            // An exact RST ends TIME-WAIT (RFC 9293), unless the RFC 1337 guard is on.
            if repr.seq_number == e.rcv_nxt && !self.config.conn.time_wait_rst_guard {
                self.end_time_wait(i);
                return Disposition::TimeWait;
            }
            return Disposition::Dropped(DropReason::Ignored);
        }
        if f.contains(TcpFlags::SYN) && !f.contains(TcpFlags::ACK) {
            if repr.seq_number.gt(e.rcv_nxt) {
                if let Some(l) = self.find_listener(tuple) {
                    // MAY-2: a new incarnation, its ISN above everything the old one used.
                    self.end_time_wait(i);
                    let hash = self.keys.index_hash(tuple);
                    let floor = e.snd_nxt + (1u32 << 17);
                    return self.open_passive(now, l, *tuple, hash, repr, Some(floor));
                }
            }
            self.queue_time_wait_ack(&e);
            return Disposition::TimeWait;
        }
        if f.contains(TcpFlags::FIN) {
            // The peer did not get our last ACK: ACK again and restart the 2·MSL timer.
            self.queue_time_wait_ack(&e);
            let hash = self.keys.index_hash(tuple);
            self.index_remove(hash, Entry::TimeWait(i));
            self.time_wait.kill(i);
            let expiry = now + self.config.conn.msl * 2;
            if let Some(j) = self
                .time_wait
                .push(tuple, e.snd_nxt, e.rcv_nxt, e.window, expiry, e.handle)
            {
                let _ = self.index.insert(hash, Entry::TimeWait(j));
            }
            return Disposition::TimeWait;
        }
        if !repr.payload.is_empty() {
            self.queue_time_wait_ack(&e);
        }
        Disposition::TimeWait
    }

    /// The best listener for a tuple: an exact address beats a wildcard
    pub(crate) fn find_listener(&self, tuple: &FourTuple) -> Option<u16> {
        let mut wildcard = None;
        for (i, l) in self.listeners.iter().enumerate() {
            let Some(l) = l.listener.as_ref() else {
                continue;
            };
            if l.local.port() != tuple.local_port {
                continue;
            }
            if l.local.ip() == tuple.local_addr {
                return Some(i as u16);
            }
            if l.local.ip().is_unspecified() && l.local.is_ipv4() == tuple.local_addr.is_ipv4() {
                wildcard = Some(i as u16);
            }
        }
        wildcard
    }

    /// LISTEN (RFC 9293 §3.10.7.2)
    fn deliver_to_listener(
        &mut self,
        now: Instant,
        l: u16,
        tuple: FourTuple,
        hash: u64,
        repr: &TcpRepr<'_>,
    ) -> Disposition {
        let f = repr.flags;
        if f.contains(TcpFlags::RST) {
            return Disposition::Dropped(DropReason::Ignored);
        }
        if f.contains(TcpFlags::ACK) {
            if !f.contains(TcpFlags::SYN) && self.config.syn_cookies {
                if let Some(d) = self.open_from_cookie(now, l, tuple, hash, repr) {
                    return d;
                }
            }
            self.queue_reply(tuple, repr.ack_number, None, TcpFlags::RST);
            return Disposition::Reset;
        }
        if !f.contains(TcpFlags::SYN) {
            return Disposition::Dropped(DropReason::Ignored);
        }
        self.open_passive(now, l, tuple, hash, repr, None)
    }

    fn open_passive(
        &mut self,
        now: Instant,
        l: u16,
        tuple: FourTuple,
        hash: u64,
        repr: &TcpRepr<'_>,
        iss_floor: Option<SeqNumber>,
    ) -> Disposition {
        let syn_backlog = self.config.syn_backlog;
        let Some(listener) = self
            .listeners
            .get_mut(usize::from(l))
            .and_then(|x| x.listener.as_mut())
        else {
            return Disposition::Dropped(DropReason::Ignored);
        };
        if listener.queued >= listener.backlog {
            return Disposition::Dropped(DropReason::ListenQueueFull);
        }
        if listener.half_open >= syn_backlog {
            if self.config.syn_cookies {
                return self.send_cookie(now, tuple, repr);
            }
            return Disposition::Dropped(DropReason::ListenQueueFull);
        }
        let Some(slot) = self.alloc_slot() else {
            return Disposition::Dropped(DropReason::TableFull);
        };
        let mut iss = self.keys.isn(now, &tuple);
        if let Some(floor) = iss_floor {
            iss = iss.max(floor);
        }
        let rx = self.config.rx_buffer;
        let cfg = self.config.conn;
        let handle = self.handle_of(slot);
        let mut sink = super::Sink {
            events: &mut self.events,
            handle,
        };
        let Some(conn) = Connection::accept_syn(now, tuple, iss, repr, rx, &cfg, &mut sink) else {
            self.release_slot(slot);
            return Disposition::Dropped(DropReason::Ignored);
        };
        if !self.index.insert(hash, Entry::Conn(slot)) {
            self.release_slot(slot);
            return Disposition::Dropped(DropReason::TableFull);
        }
        if let Some(listener) = self
            .listeners
            .get_mut(usize::from(l))
            .and_then(|x| x.listener.as_mut())
        {
            listener.half_open += 1;
        }
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.conn = Some(conn);
            s.owner = Owner::HalfOpen(l);
        }
        self.live += 1;
        self.stats.connections_opened += 1;
        self.after_change(slot);
        Disposition::Opened(handle)
    }

    /// Take a slot from the free list (empty, not yet in the index)
    pub(crate) fn alloc_slot(&mut self) -> Option<u32> {
        let slot = self.free_head;
        let s = self.slots.get_mut(slot as usize)?;
        self.free_head = s.next;
        s.next = NONE;
        Some(slot)
    }

    /// Give back a slot taken by `alloc_slot` that never held a connection
    pub(crate) fn release_slot(&mut self, slot: u32) {
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.next = self.free_head;
            self.free_head = slot;
        }
    }

    /// CLOSED (RFC 9293 §3.10.7.1): RST for anything but a RST
    fn reply_closed(&mut self, tuple: &FourTuple, repr: &TcpRepr<'_>) -> Disposition {
        if repr.flags.contains(TcpFlags::RST) {
            return Disposition::Dropped(DropReason::Ignored);
        }
        if repr.flags.contains(TcpFlags::ACK) {
            self.queue_reply(*tuple, repr.ack_number, None, TcpFlags::RST);
        } else {
            let ack = repr.seq_number + repr.segment_len();
            self.queue_reply(*tuple, SeqNumber(0), Some(ack), TcpFlags::RST);
        }
        Disposition::Reset
    }
}

impl Engine<'_> {
    /// Answer a SYN with a SYN cookie instead of a half-open entry (RFC 4987 §3.6)
    fn send_cookie(&mut self, now: Instant, tuple: FourTuple, syn: &TcpRepr<'_>) -> Disposition {
        let cfg = &self.config;
        let cookie = self
            .keys
            .make_cookie(now, &tuple, syn.seq_number, &syn.options);
        let ours = crate::wire::TcpOptions {
            mss: Some(cfg.conn.mss),
            window_scale: (cfg.conn.window_scaling && syn.options.window_scale.is_some()).then(
                || {
                    cfg.conn
                        .window_shift
                        .unwrap_or_else(|| crate::conn::window_shift(cfg.rx_buffer))
                },
            ),
            sack_permitted: cfg.conn.sack && syn.options.sack_permitted,
            ..crate::wire::TcpOptions::NONE
        };
        let window = cfg.rx_buffer.min(0xffff) as u16;
        let _ = self.replies.push(super::ReplySegment {
            tuple,
            seq: cookie,
            ack: syn.seq_number + 1u32,
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window,
            syn: Some(ours),
        });
        self.stats.syn_cookies_sent += 1;
        Disposition::SynCookie
    }

    /// An ACK at a listener that returns a valid cookie opens the connection (RFC 4987 §3.6)
    fn open_from_cookie(
        &mut self,
        now: Instant,
        l: u16,
        tuple: FourTuple,
        hash: u64,
        ack: &TcpRepr<'_>,
    ) -> Option<Disposition> {
        let peer =
            self.keys
                .check_cookie(now, &tuple, ack.seq_number - 1u32, ack.ack_number - 1u32)?;
        let listener = self
            .listeners
            .get(usize::from(l))
            .and_then(|x| x.listener.as_ref())?;
        if listener.queued >= listener.backlog {
            return Some(Disposition::Dropped(DropReason::ListenQueueFull));
        }
        let Some(slot) = self.alloc_slot() else {
            return Some(Disposition::Dropped(DropReason::TableFull));
        };
        if !self.index.insert(hash, Entry::Conn(slot)) {
            self.release_slot(slot);
            return Some(Disposition::Dropped(DropReason::TableFull));
        }
        if let Some(listener) = self
            .listeners
            .get_mut(usize::from(l))
            .and_then(|x| x.listener.as_mut())
        {
            listener.half_open += 1; // promoted to the accept queue by after_change
        }
        let (rx, cfg) = (self.config.rx_buffer, self.config.conn);
        let handle = self.handle_of(slot);
        let mut sink = super::Sink {
            events: &mut self.events,
            handle,
        };
        let iss = ack.ack_number - 1u32;
        let conn = Connection::from_cookie(now, tuple, iss, &peer, ack, rx, &cfg, &mut sink);
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.conn = Some(conn);
            s.owner = Owner::HalfOpen(l);
        }
        self.live += 1;
        self.stats.connections_opened += 1;
        self.stats.syn_cookies_accepted += 1;
        self.after_change(slot);
        // The ACK may carry data (or a FIN): process it as an established connection would.
        if !ack.payload.is_empty() || ack.flags.contains(TcpFlags::FIN) {
            let _ = self.deliver_to_connection(now, slot, ack);
        }
        Some(Disposition::Opened(handle))
    }
}

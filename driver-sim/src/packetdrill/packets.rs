//! Packet lines: inbound segments built and fed to the engine, outbound lines matched
//! against what the engine sent
//!
//! Remote-side numbers (inbound SEQ, outbound ACK and SACK blocks) are used as written;
//! local-side numbers (outbound SEQ, inbound ACK and SACK blocks) are offsets from the
//! engine's ISN, learned from its first SYN or SYN-ACK on the connection (0 before that).
//! Payloads are deterministic patterns indexed by stream offset, one per direction, so every
//! byte the engine sends (retransmissions included) and every byte `read` returns is checked.

use tcp_engine::engine::Disposition;
use tcp_engine::seq::SeqNumber;
use tcp_engine::time::Instant;
use tcp_engine::wire::{TcpFlags, TcpPacket, HEADER_LEN};

use super::ast::{Event, OptionSpec, PacketSpec, TcpOpt};
use super::run::{fail, secs, Emitted, Flow, Runner, Sock, Step};
use super::segment::{be32, describe_option, flag_letters, raw_options, RawOpt, Seg};

/// Byte `offset` of the stream the application writes
pub(crate) fn local_byte(offset: u64) -> u8 {
    (offset.wrapping_mul(7).wrapping_add(1) % 251) as u8
}

/// Byte `offset` of the stream the peer sends
pub(crate) fn remote_byte(offset: u64) -> u8 {
    (offset.wrapping_mul(13).wrapping_add(5) % 241) as u8
}

impl Runner {
    /// The flow an inbound packet belongs to (a new one for a SYN to a listener whose
    /// current flow is taken)
    fn inbound_flow(&mut self, p: &PacketSpec) -> usize {
        let syn_only = p.flags.contains(TcpFlags::SYN) && !p.flags.contains(TcpFlags::ACK);
        let listening = self.fds.values().find_map(|s| match s.sock {
            Sock::Listening(_, port) => Some(port),
            _ => None,
        });
        let i = match self.current {
            Some(i)
                if !(syn_only
                    && listening.is_some()
                    && (self.flows[i].saw_syn || self.flows[i].active)) =>
            {
                i
            }
            _ => {
                let bound = self.fds.values().find_map(|s| match s.sock {
                    Sock::Bound(port) => Some(port),
                    _ => None,
                });
                self.flows.push(Flow {
                    local_port: listening.or(bound).unwrap_or(8080),
                    remote_port: self.next_port,
                    ..Flow::default()
                });
                self.next_port = self.next_port.wrapping_add(1);
                self.current = Some(self.flows.len() - 1);
                self.flows.len() - 1
            }
        };
        if syn_only {
            self.flows[i].saw_syn = true;
        }
        if p.flags.contains(TcpFlags::SYN) {
            // The peer's ISN, as written: its data starts one after it.
            self.flows[i].remote_isn = Some(p.start);
        }
        i
    }

    /// The engine TS val a script TS val stands for (inbound `ecr`)
    fn live_ts(flow: &Flow, script: u32) -> u32 {
        if let Some(&(_, live)) = flow.ts_map.iter().rev().find(|(s, _)| *s == script) {
            return live;
        }
        match flow.ts_map.last() {
            _ if script == 0 => 0,
            Some(&(s, l)) => l.wrapping_add(script.wrapping_sub(s)),
            None => script,
        }
    }

    fn encode_options(flow: &Flow, list: &[TcpOpt]) -> Vec<u8> {
        let isn = flow.local_isn.unwrap_or(0);
        let mut b = Vec::new();
        for o in list {
            match o {
                TcpOpt::Nop => b.push(1),
                TcpOpt::Eol => b.push(0),
                TcpOpt::Mss(m) => b.extend([2, 4, (m >> 8) as u8, *m as u8]),
                TcpOpt::WScale(s) => b.extend([3, 3, *s]),
                TcpOpt::SackOk => b.extend([4, 2]),
                TcpOpt::Sack(blocks) => {
                    b.extend([5, (2 + 8 * blocks.len()) as u8]);
                    for (l, r) in blocks {
                        b.extend(l.wrapping_add(isn).to_be_bytes());
                        b.extend(r.wrapping_add(isn).to_be_bytes());
                    }
                }
                TcpOpt::Timestamp { val, ecr } => {
                    b.extend([8, 10]);
                    b.extend(val.to_be_bytes());
                    b.extend(Self::live_ts(flow, *ecr).to_be_bytes());
                }
            }
        }
        b
    }

    /// `<` line: build the segment and hand it to the engine
    pub(crate) fn inbound(&mut self, ev: &Event, p: &PacketSpec) -> Step {
        let syn = p.flags.contains(TcpFlags::SYN);
        if self.settings.ecn_server && syn && p.flags.intersects(TcpFlags::ECE | TcpFlags::CWR) {
            return fail(
                ev,
                "the SYN asks for ECN, which the engine does not implement",
            );
        }
        self.engine(ev)?;
        let fi = self.inbound_flow(p);
        let flow = &self.flows[fi];
        let isn = flow.local_isn.unwrap_or(0);
        let ack = match p.ack {
            Some(a) if p.flags.contains(TcpFlags::ACK) => a.wrapping_add(isn),
            a => a.unwrap_or(0),
        };
        let options = match &p.options {
            OptionSpec::Absent => Vec::new(),
            OptionSpec::Any => return fail(ev, "`<...>` only fits outbound lines"),
            OptionSpec::List(list) => Self::encode_options(flow, list),
        };
        if options.len() % 4 != 0 || options.len() > 40 {
            return fail(
                ev,
                format!(
                    "the options take {} bytes: not a multiple of 4 up to 40",
                    options.len()
                ),
            );
        }
        let data_base = flow.remote_isn.map_or(0, |i| i.wrapping_add(1));
        let first = p.start.wrapping_add(u32::from(syn)).wrapping_sub(data_base);
        let len = p.len as usize;
        let header = HEADER_LEN + options.len();
        let mut buf = vec![0u8; header + len];
        let mut pkt = TcpPacket::new_unchecked(&mut buf[..]);
        pkt.set_src_port(flow.remote_port);
        pkt.set_dst_port(flow.local_port);
        pkt.set_seq_number(SeqNumber(p.start));
        pkt.set_ack_number(SeqNumber(ack));
        pkt.set_header_len(header);
        pkt.set_flags(p.flags);
        pkt.set_window_len(p.win.unwrap_or(0));
        pkt.set_urgent_at(p.urg.unwrap_or(0));
        pkt.options_mut().copy_from_slice(&options);
        for (i, b) in pkt.payload_mut().iter_mut().enumerate() {
            *b = remote_byte(u64::from(first) + i as u64);
        }
        pkt.fill_checksum(&self.remote_ip, &self.local_ip);
        let (src, dst, now) = (
            self.remote_ip,
            self.local_ip,
            Instant::from_micros(self.now),
        );
        let d = self.engine(ev)?.handle_segment(now, src, dst, &buf);
        if let Disposition::Opened(h) | Disposition::Accepted(h) = d {
            let flow = &mut self.flows[fi];
            if flow.handle.is_none() || matches!(d, Disposition::Opened(_)) {
                flow.handle = Some(h);
            }
            self.conns.entry(h).or_default();
        }
        self.settle();
        Ok(())
    }

    /// Describe a queued segment in the current flow's terms
    pub(crate) fn describe_emitted(&self, e: &Emitted) -> String {
        let isn = self.current.and_then(|i| self.flows[i].local_isn);
        match Seg::parse(e, self) {
            // Before the ISN is learned, a SYN's own number is the ISN.
            Ok(s) if isn.is_none() && s.flags.contains(TcpFlags::SYN) => s.describe(s.seq),
            Ok(s) => s.describe(isn.unwrap_or(0)),
            Err(why) => format!("a malformed segment ({why})"),
        }
    }

    /// `>` line: match the oldest segment(s) the engine sent in `[lo, hi]`; returns when
    /// the (last) one was sent
    pub(crate) fn outbound(&mut self, ev: &Event, p: &PacketSpec, lo: u64, hi: u64) -> Step<u64> {
        let Some(fi) = self.current else {
            return fail(
                ev,
                "no connection for an outbound packet (no socket or packet yet)",
            );
        };
        let Some(first) = self.next_segment(hi) else {
            return fail(
                ev,
                format!(
                    "the engine sent nothing by {} (the line allows {} to {})",
                    secs(hi),
                    secs(lo),
                    secs(hi)
                ),
            );
        };
        let parsed = |r: &Self, e: &Emitted| {
            Seg::parse(e, r)
                .or_else(|why| fail(ev, format!("the engine sent a segment with {why}")))
        };
        let mut segs = vec![parsed(self, &first)?];
        // Segmentation offload: one line may stand for several consecutive segments.
        let mut total = segs[0].payload.len();
        while !self.strict_segments && total < p.len as usize && total > 0 {
            let Some(next) = self.next_segment(hi) else {
                break;
            };
            let seg = parsed(self, &next)?;
            if !segs.last().is_some_and(|last| last.continues(&seg)) {
                self.queue.push_front(next);
                break;
            }
            total += seg.payload.len();
            segs.push(seg);
        }
        let mut seg = segs[0].clone();
        seg.payload = segs
            .iter()
            .flat_map(|s| s.payload.iter().copied())
            .collect();
        for s in &segs {
            seg.flags |= s.flags & (TcpFlags::PSH | TcpFlags::FIN);
        }
        if !segs.last().is_some_and(|s| s.flags.contains(TcpFlags::PSH)) {
            seg.flags.remove(TcpFlags::PSH);
        }
        let syn = seg.flags.contains(TcpFlags::SYN);
        let flow = &mut self.flows[fi];
        if syn && p.flags.contains(TcpFlags::SYN) && flow.local_isn.is_none() {
            flow.local_isn = Some(seg.seq.wrapping_sub(p.start));
        }
        let isn = flow.local_isn.unwrap_or(0);
        let actual = seg.describe(isn);
        let mismatch = |what: String| {
            fail(
                ev,
                format!("the engine sent `{actual}` at {}: {what}", secs(seg.at)),
            )
        };
        if (seg.src_port, seg.dst_port) != (flow.local_port, flow.remote_port) {
            return mismatch(format!(
                "it belongs to port {} → {}, not to this connection ({} → {})",
                seg.src_port, seg.dst_port, flow.local_port, flow.remote_port
            ));
        }
        if seg.flags != p.flags {
            return mismatch(format!(
                "flags {}, expected {}",
                flag_letters(seg.flags),
                flag_letters(p.flags)
            ));
        }
        let rel = seg.seq.wrapping_sub(isn);
        if rel != p.start {
            return mismatch(format!("sequence number {rel}, expected {}", p.start));
        }
        if seg.payload.len() != p.len as usize {
            return mismatch(format!(
                "{} payload bytes, expected {}",
                seg.payload.len(),
                p.len
            ));
        }
        if seg.ack != p.ack.unwrap_or(0) {
            return mismatch(format!(
                "ACK field {}, expected {}",
                seg.ack,
                p.ack.unwrap_or(0)
            ));
        }
        if let Some(w) = p.win {
            if seg.win != w {
                return mismatch(format!("window {}, expected {w}", seg.win));
            }
        }
        if seg.urg != p.urg.unwrap_or(0) {
            return mismatch(format!(
                "urgent pointer {}, expected {}",
                seg.urg,
                p.urg.unwrap_or(0)
            ));
        }
        if seg.reserved != 0 {
            return mismatch(format!("reserved bits {:#x}", seg.reserved));
        }
        let raw = raw_options(&seg.options);
        let ts_actual = raw.iter().find_map(|o| match o {
            RawOpt::Kind(8, d) if d.len() == 8 => Some((be32(&d[..4]), be32(&d[4..]))),
            _ => None,
        });
        match &p.options {
            OptionSpec::Any => {}
            OptionSpec::Absent if raw.is_empty() => {}
            OptionSpec::Absent => return mismatch("options, expected none".into()),
            OptionSpec::List(list) => {
                if let Err(why) = self.compare_options(fi, list, &raw, seg.at) {
                    return mismatch(why);
                }
            }
        }
        // Payload: the bytes the application wrote at that stream offset.
        if !seg.payload.is_empty() {
            let data_start = isn.wrapping_add(1).wrapping_add(u32::from(syn));
            let offset = u64::from(seg.seq.wrapping_sub(data_start));
            if let Some(i) =
                (0..seg.payload.len()).find(|&i| seg.payload[i] != local_byte(offset + i as u64))
            {
                return mismatch(format!(
                    "payload byte at stream offset {} is not what the application wrote",
                    offset + i as u64
                ));
            }
        }
        for s in &segs {
            if s.at < lo || s.at > hi {
                return mismatch(format!(
                    "sent at the wrong time: the line allows {} to {}",
                    secs(lo),
                    secs(hi)
                ));
            }
        }
        let flow = &mut self.flows[fi];
        if let (Some((live, _)), OptionSpec::List(list)) = (ts_actual, &p.options) {
            if let Some(TcpOpt::Timestamp { val, .. }) =
                list.iter().find(|o| matches!(o, TcpOpt::Timestamp { .. }))
            {
                flow.ts_map.push((*val, live));
            }
        }
        if syn && ts_actual.is_some() {
            flow.ts_on = true;
        }
        Ok(segs.last().map_or(seg.at, |s| s.at))
    }

    /// Options must be the same kinds in the same order with the same values; TS val is
    /// checked only with `--tcp_ts_tick_usecs`, TS ecr only with `check_ecr`
    fn compare_options(
        &self,
        fi: usize,
        list: &[TcpOpt],
        raw: &[RawOpt],
        at: u64,
    ) -> Result<(), String> {
        let want: Vec<String> = list.iter().map(ToString::to_string).collect();
        let got: Vec<String> = raw.iter().map(describe_option).collect();
        let differ = || format!("options <{}>, expected <{}>", got.join(","), want.join(","));
        if list.len() != raw.len() {
            return Err(differ());
        }
        let flow = &self.flows[fi];
        for (w, g) in list.iter().zip(raw) {
            let ok = match (w, g) {
                (TcpOpt::Nop, RawOpt::Nop) | (TcpOpt::Eol, RawOpt::Eol) => true,
                (TcpOpt::Mss(m), RawOpt::Kind(2, d)) => d[..] == m.to_be_bytes(),
                (TcpOpt::WScale(s), RawOpt::Kind(3, d)) => d[..] == [*s],
                (TcpOpt::SackOk, RawOpt::Kind(4, d)) => d.is_empty(),
                (TcpOpt::Sack(blocks), RawOpt::Kind(5, d)) => {
                    d.len() == 8 * blocks.len()
                        && blocks
                            .iter()
                            .zip(d.chunks(8))
                            .all(|((l, r), c)| (be32(&c[..4]), be32(&c[4..])) == (*l, *r))
                }
                (TcpOpt::Timestamp { val, ecr }, RawOpt::Kind(8, d)) if d.len() == 8 => {
                    let (live_val, live_ecr) = (be32(&d[..4]), be32(&d[4..]));
                    if self.opts.check_ecr && live_ecr != *ecr {
                        return Err(format!(
                            "TS ecr {live_ecr}, expected {ecr} (the peer's TS val)"
                        ));
                    }
                    if let (Some(tick), Some(&(s0, l0))) = (self.ts_tick_us, flow.ts_map.first()) {
                        let want = i64::from(val.wrapping_sub(s0) as i32);
                        let got = i64::from(live_val.wrapping_sub(l0) as i32);
                        let off = (want - got).unsigned_abs() * tick;
                        if off > self.tolerance(at) {
                            return Err(format!(
                                "TS val {live_val} is {off} µs of ticks away from the expected {val}"
                            ));
                        }
                    }
                    true
                }
                _ => false,
            };
            if !ok {
                return Err(differ());
            }
        }
        Ok(())
    }
}

//! Per-direction bookkeeping for the trace: initial sequence numbers (for relative numbers),
//! window scaling, and what Wireshark would call TCP analysis (retransmissions, duplicate ACKs,
//! probes).

use core::net::SocketAddr;
use std::collections::BTreeMap;

use tcp_engine::wire::{TcpFlags, TcpRepr};

use super::trace::SegNotes;

/// `a < b` in sequence space (RFC 9293 §3.4).
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// What one side of a connection has sent so far.
#[derive(Debug, Clone, Default)]
struct Dir {
    /// ISN (from its SYN) or the first sequence number seen.
    base: Option<u32>,
    /// Window-scale shift offered in its SYN (`None`: not offered, or no SYN seen).
    shift: Option<u8>,
    /// One past the highest sequence number sent.
    max_end: Option<u32>,
    /// Last acknowledgment number and window sent.
    last_ack: Option<(u32, u32)>,
    /// Last window sent, in bytes.
    last_win: Option<u32>,
}

/// The numbers the trace derives for one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Observed {
    pub(crate) seq_base: u32,
    pub(crate) ack_base: Option<u32>,
    pub(crate) win: u32,
    pub(crate) notes: SegNotes,
}

/// Tracks every direction (source socket, destination socket) seen on the link.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowTracker {
    dirs: BTreeMap<(SocketAddr, SocketAddr), Dir>,
}

impl FlowTracker {
    /// Looks at a segment from `src` to `dst` as it enters the link.
    pub(crate) fn observe(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        r: &TcpRepr<'_>,
    ) -> Observed {
        let syn = r.flags.contains(TcpFlags::SYN);
        let rst = r.flags.contains(TcpFlags::RST);
        let seq = r.seq_number.0;
        let seg_len =
            r.payload.len() as u32 + u32::from(syn) + u32::from(r.flags.contains(TcpFlags::FIN));

        let peer = self.dirs.get(&(dst, src)).cloned().unwrap_or_default();
        let dir = self.dirs.entry((src, dst)).or_default();
        if syn && dir.base != Some(seq) {
            // A new connection on this 4-tuple (or the first SYN): start over.
            *dir = Dir {
                base: Some(seq),
                shift: r.options.window_scale,
                ..Dir::default()
            };
        }
        let seq_base = *dir.base.get_or_insert(seq);
        let shift = match (dir.shift, peer.shift) {
            (Some(mine), Some(_)) if !syn => mine.min(14),
            _ => 0,
        };
        let win = u32::from(r.window_len) << shift;

        let mut notes = SegNotes::default();
        if let Some(end) = dir.max_end {
            if seg_len > 0 && seq_lt(seq, end) {
                notes.retransmission = true;
            }
            if seg_len == 0 && !rst && !syn && seq == end.wrapping_sub(1) {
                if peer.last_win == Some(0) {
                    notes.window_probe = true;
                } else {
                    notes.keep_alive = true;
                }
            }
        }
        let end = seq.wrapping_add(seg_len);
        if dir.max_end.is_none_or_lt(end) {
            dir.max_end = Some(end);
        }
        if r.flags.contains(TcpFlags::ACK) && !rst {
            let ack = r.ack_number.0;
            let outstanding = peer.max_end.is_some_and(|e| seq_lt(ack, e));
            if seg_len == 0
                && !notes.keep_alive
                && !notes.window_probe
                && outstanding
                && dir.last_ack == Some((ack, win))
            {
                notes.dup_ack = true;
            }
            dir.last_ack = Some((ack, win));
        }
        if !rst {
            dir.last_win = Some(win);
        }
        Observed {
            seq_base,
            ack_base: peer.base,
            win,
            notes,
        }
    }
}

/// `None`, or `Some(x)` with `x < end` in sequence space.
trait NoneOrLt {
    fn is_none_or_lt(&self, end: u32) -> bool;
}

impl NoneOrLt for Option<u32> {
    fn is_none_or_lt(&self, end: u32) -> bool {
        self.map_or(true, |x| seq_lt(x, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr};
    use tcp_engine::seq::SeqNumber;
    use tcp_engine::wire::TcpOptions;

    fn sock(last: u8, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port)
    }

    fn seg(flags: TcpFlags, seq: u32, ack: u32, win: u16, payload: &[u8]) -> TcpRepr<'_> {
        TcpRepr {
            src_port: 0,
            dst_port: 0,
            flags,
            seq_number: SeqNumber(seq),
            ack_number: SeqNumber(ack),
            window_len: win,
            urgent_pointer: 0,
            options: TcpOptions::NONE,
            payload,
        }
    }

    #[test]
    fn relative_numbers_scaling_and_analysis() {
        let (a, b) = (sock(1, 5000), sock(2, 80));
        let mut t = FlowTracker::default();
        let (syn, ack) = (TcpFlags::SYN, TcpFlags::ACK);
        let mut s = seg(syn, 1000, 0, 65535, &[]);
        s.options.window_scale = Some(7);
        let o = t.observe(a, b, &s);
        assert_eq!((o.seq_base, o.ack_base, o.win), (1000, None, 65535));
        let mut sa = seg(syn | ack, 9000, 1001, 65535, &[]);
        sa.options.window_scale = Some(2);
        let o = t.observe(b, a, &sa);
        assert_eq!((o.seq_base, o.ack_base), (9000, Some(1000)));
        // Scaled from now on: A's shift is 7.
        let o = t.observe(a, b, &seg(ack, 1001, 9001, 10, &[]));
        assert_eq!((o.win, o.ack_base), (1280, Some(9000)));
        let data = [0u8; 100];
        let first = t.observe(a, b, &seg(ack, 1001, 9001, 10, &data));
        assert_eq!(first.notes, SegNotes::default());
        // B acks 1001 twice while A's data is outstanding: the second is a dup ack.
        assert!(
            !t.observe(b, a, &seg(ack, 9001, 1001, 10, &[]))
                .notes
                .dup_ack
        );
        assert!(
            t.observe(b, a, &seg(ack, 9001, 1001, 10, &[]))
                .notes
                .dup_ack
        );
        let again = t.observe(a, b, &seg(ack, 1001, 9001, 10, &data));
        assert!(again.notes.retransmission);
        // A keep-alive: one below the next new sequence number, no data.
        let ka = t.observe(a, b, &seg(ack, 1100, 9001, 10, &[]));
        assert!(ka.notes.keep_alive && !ka.notes.retransmission);
        // With B's window at zero it is a window probe instead.
        t.observe(b, a, &seg(ack, 9001, 1101, 0, &[]));
        let wp = t.observe(a, b, &seg(ack, 1100, 9001, 10, &[]));
        assert!(wp.notes.window_probe && !wp.notes.keep_alive);
    }

    #[test]
    fn retransmitted_syn_and_new_connection() {
        let (a, b) = (sock(1, 5000), sock(2, 80));
        let mut t = FlowTracker::default();
        assert!(
            !t.observe(a, b, &seg(TcpFlags::SYN, 5, 0, 1, &[]))
                .notes
                .retransmission
        );
        assert!(
            t.observe(a, b, &seg(TcpFlags::SYN, 5, 0, 1, &[]))
                .notes
                .retransmission
        );
        let o = t.observe(a, b, &seg(TcpFlags::SYN, 77, 0, 1, &[]));
        assert!(!o.notes.retransmission);
        assert_eq!(o.seq_base, 77);
    }
}

//! Moving the recorded peer's segments into the engine's sequence space.
//!
//! The peer's ACK fields and SACK blocks count the recorded side's bytes from
//! the recorded side's ISN; the engine chose another ISN. Its timestamp
//! echoes (TSecr) hold the recorded side's timestamp clock; the engine has
//! another. Both are translated, and the checksum is filled in again.

use tcp_engine::wire::{checksum, TcpFlags};

use crate::segment::HeaderView;
use crate::CapturedSegment;

/// Option kinds rewritten here (RFC 2018, RFC 7323).
const SACK: u8 = 5;
const TIMESTAMPS: u8 = 8;

/// Maps the recorded side's sequence numbers and timestamps to the engine's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Translator {
    /// The recorded side's ISN.
    pub recorded_isn: Option<u32>,
    /// The engine's ISN, once its SYN or SYN-ACK went out.
    pub engine_isn: Option<u32>,
    /// TSval of the engine's clock minus virtual milliseconds, once seen.
    engine_ts_offset: Option<u32>,
    /// (TSval the recorded side sent, virtual milliseconds when it sent it).
    stamps: Vec<(u32, u64)>,
}

impl Translator {
    /// A translator for a recorded side whose ISN is `recorded_isn`.
    pub(crate) fn new(recorded_isn: Option<u32>) -> Self {
        Self {
            recorded_isn,
            ..Self::default()
        }
    }

    /// Notes a TSval the recorded side sent at virtual time `ms`.
    pub(crate) fn recorded_stamp(&mut self, tsval: u32, ms: u64) {
        if self.stamps.last().map(|s| s.0) != Some(tsval) {
            self.stamps.push((tsval, ms));
        }
    }

    /// Notes a TSval the engine sent at virtual time `ms`.
    pub(crate) fn engine_stamp(&mut self, tsval: u32, ms: u64) {
        if self.engine_ts_offset.is_none() {
            self.engine_ts_offset = Some(tsval.wrapping_sub(ms as u32));
        }
    }

    /// A sequence number of the recorded side, in the engine's space.
    fn seq(&self, recorded: u32) -> Option<u32> {
        let delta = recorded.wrapping_sub(self.recorded_isn?);
        Some(self.engine_isn?.wrapping_add(delta))
    }

    /// The engine's TSval at the moment the recorded side sent `tsecr`.
    fn tsecr(&self, tsecr: u32) -> u32 {
        let offset = match self.engine_ts_offset {
            Some(o) if tsecr != 0 => o,
            _ => return 0,
        };
        // The latest stamp the echo could refer to: exact, else the newest older one.
        let found = self.stamps.iter().rev().find(|s| s.0 == tsecr).or_else(|| {
            self.stamps
                .iter()
                .rev()
                .find(|s| (tsecr.wrapping_sub(s.0) as i32) > 0)
        });
        found.map_or(0, |&(_, ms)| offset.wrapping_add(ms as u32))
    }

    /// The peer's segment as the engine must see it: payload padded to the IP
    /// length, ACK, SACK and TSecr translated, checksum recomputed. A segment
    /// whose header was not captured whole goes in as captured.
    pub(crate) fn rewrite(&self, seg: &CapturedSegment, view: &HeaderView) -> Vec<u8> {
        let mut bytes = seg.tcp.clone();
        let Some(h) = view.header_len.filter(|&h| h >= 20 && h <= bytes.len()) else {
            return bytes;
        };
        if !seg.more_fragments {
            bytes.resize(h + view.payload_len(seg), 0);
        }
        if view.has(TcpFlags::ACK) {
            if let Some(ack) = view.ack.and_then(|a| self.seq(a)) {
                bytes[8..12].copy_from_slice(&ack.to_be_bytes());
            }
        }
        self.rewrite_options(&mut bytes[20..h]);
        bytes[16..18].copy_from_slice(&[0, 0]);
        let sum = checksum::tcp(&seg.src, &seg.dst, &bytes);
        bytes[16..18].copy_from_slice(&sum.to_be_bytes());
        bytes
    }

    fn rewrite_options(&self, opts: &mut [u8]) {
        let mut i = 0;
        while i < opts.len() {
            match opts[i] {
                0 => break,
                1 => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let Some(&len) = opts.get(i + 1) else { break };
            let len = usize::from(len);
            if len < 2 || i + len > opts.len() {
                break;
            }
            let kind = opts[i];
            let data = &mut opts[i + 2..i + len];
            match kind {
                SACK => {
                    for edge in data.chunks_exact_mut(4) {
                        let v = u32::from_be_bytes([edge[0], edge[1], edge[2], edge[3]]);
                        if let Some(m) = self.seq(v) {
                            edge.copy_from_slice(&m.to_be_bytes());
                        }
                    }
                }
                TIMESTAMPS if data.len() == 8 => {
                    let echo = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
                    data[4..8].copy_from_slice(&self.tsecr(echo).to_be_bytes());
                }
                _ => {}
            }
            i += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};
    use tcp_engine::seq::SeqNumber;
    use tcp_engine::wire::{ChecksumCheck, SackBlock, TcpOptions, TcpRepr};

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn ack_sack_and_echo_move_into_the_engine_space() {
        let mut options = TcpOptions {
            timestamps: Some((77, 5000)),
            ..TcpOptions::NONE
        };
        options.push_sack(SackBlock {
            left: SeqNumber(1_010),
            right: SeqNumber(1_020),
        });
        let repr = TcpRepr {
            src_port: 1,
            dst_port: 2,
            flags: TcpFlags::ACK,
            seq_number: SeqNumber(9),
            ack_number: SeqNumber(1_001),
            window_len: 100,
            urgent_pointer: 0,
            options,
            payload: b"abcd",
        };
        let mut tcp = vec![0; repr.buffer_len()];
        let n = repr.emit(&mut tcp, &A, &B).expect("fits");
        // Cut by the snap length after two payload bytes.
        tcp.truncate(n - 2);
        let seg = CapturedSegment {
            frame: 0,
            timestamp_us: 0,
            src: A,
            dst: B,
            tcp,
            tcp_len: n,
            truncated: true,
            more_fragments: false,
        };
        let mut tr = Translator::new(Some(1_000));
        tr.engine_isn = Some(u32::MAX - 5); // wraps
        tr.recorded_stamp(5000, 40); // the recorded side sent TSval 5000 at 40 ms
        tr.engine_stamp(123_456, 10); // the engine's clock: 10 ms -> 123456
        let view = HeaderView::of(&seg).expect("ports");
        let out = tr.rewrite(&seg, &view);
        let back = TcpRepr::parse_bytes(&out, &A, &B, ChecksumCheck::Verify).expect("valid");
        assert_eq!(back.ack_number, SeqNumber(u32::MAX - 5) + 1u32);
        assert_eq!(back.options.sack_blocks()[0].left, SeqNumber(4));
        assert_eq!(back.options.sack_blocks()[0].right, SeqNumber(14));
        assert_eq!(back.options.timestamps, Some((77, 123_486)));
        assert_eq!(back.payload, b"ab\0\0");
        // Before the engine's ISN is known, the ACK stays as captured.
        let early = Translator::new(Some(1_000)).rewrite(&seg, &view);
        let back = TcpRepr::parse_bytes(&early, &A, &B, ChecksumCheck::Skip).expect("valid");
        assert_eq!(back.ack_number, SeqNumber(1_001));
        assert_eq!(back.options.timestamps, Some((77, 0)));
    }
}

//! Header prediction for the receiving side of a bulk transfer (Jacobson's fast path,
//! RFC 1323 Appendix "header prediction", RFC 7323 §5.5 for the timestamp checks)
//!
//! Nearly every segment that reaches the receiver of a bulk transfer is the next in-order
//! data, acknowledges nothing new and leaves the peer's window as it was. For such a segment
//! every check of RFC 9293 §3.10.7.4 has a known answer: it is acceptable (it starts at
//! RCV.NXT inside an open window), it is neither RST nor SYN, its ACK is SND.UNA (inside the
//! RFC 5961 §5 range) and, with nothing in flight, there is no duplicate ACK, scoreboard or
//! loss detection to do. [`Connection::predicted`] recognises exactly those segments, and
//! [`Connection::predicted_data`] does only what the full path would still do for them.
//! `predicted_equals_full_path` below checks the two paths agree field for field.

use super::{Buffers, ConnConfig, Connection, EventSink, Flags, SegmentOutcome, State, Timer};
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpRepr};

impl Connection {
    /// Whether `seg` is the next in-order data of an established connection that
    /// acknowledges nothing new, moves no window and carries no SACK blocks
    #[inline]
    pub(super) fn predicted(&self, seg: &TcpRepr<'_>) -> bool {
        let f = seg.flags;
        let timestamps_ok = match (
            self.flags.contains(Flags::TIMESTAMPS),
            seg.options.timestamps,
        ) {
            // PAWS (RFC 7323 §5.3) passes: the timestamp is not older than TS.Recent.
            (true, Some((tsval, _))) => (tsval.wrapping_sub(self.ts_recent) as i32) >= 0,
            (true, None) => false,
            (false, _) => true,
        };
        self.state == State::Established
            && (f == TcpFlags::ACK || f == TcpFlags::ACK | TcpFlags::PSH)
            && !seg.payload.is_empty()
            && seg.seq_number == self.rcv_nxt
            && self.rcv_adv.gt(self.rcv_nxt) // an open window: the segment is acceptable
            && seg.ack_number == self.snd_una
            && self.snd_una == self.snd_max // nothing in flight
            && u32::from(seg.window_len) << self.snd_wscale == self.snd_wnd
            && seg.options.sack_len == 0
            && self.sacked.is_empty()
            && !self.flags.intersects(Flags::RECOVERY | Flags::FIN_AHEAD)
            && !self.is_released()
            && timestamps_ok
    }

    /// The full path of [`Connection::handle_segment`] for a segment that
    /// [`Connection::predicted`] accepted, without the checks whose answer is known
    pub(super) fn predicted_data(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        bufs: &mut Buffers<'_>,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) -> SegmentOutcome {
        self.note_timestamp(seg);
        self.counters.segments_received = self.counters.segments_received.wrapping_add(1);
        self.probes = 0;
        self.arm_keep_alive(now, cfg);
        // What the ACK processing leaves to do for an ACK of nothing new with nothing in
        // flight: the loss-probe mark ends, the controller sees the sample, the window
        // bookkeeping (SND.WL1/WL2) moves on.
        self.flags.remove(Flags::TLP_PROBED);
        self.sample_delivery(now, 0);
        self.update_send_window(seg, false);
        if self.snd_wnd > 0 {
            self.timers.stop(Timer::Persist);
        }
        self.receive_text(now, seg, bufs, cfg, sink);
        SegmentOutcome::Accepted
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ISS, T};
    use super::*;
    use crate::wire::TcpOptions;
    use proptest::prelude::*;
    use std::format;
    use std::vec::Vec;

    /// One arriving segment, described relative to the connection's numbers
    #[derive(Debug, Clone)]
    struct Arrival {
        psh: bool,
        other_flag: Option<u8>,
        seq_off: i32,
        ack_off: i32,
        window: u16,
        ts_delta: Option<i32>,
        sack: bool,
        len: usize,
    }

    fn arrival() -> impl Strategy<Value = Arrival> {
        // Weighted toward the predicted case, so both paths are exercised often.
        (
            any::<bool>(),
            prop_oneof![6 => Just(None), 1 => (0u8..8).prop_map(Some)],
            prop_oneof![6 => Just(0i32), 1 => -3000i32..3000],
            prop_oneof![6 => Just(0i32), 1 => -10i32..10],
            prop_oneof![6 => Just(8192u16), 1 => any::<u16>()],
            prop_oneof![
                3 => Just(Some(1i32)),
                2 => Just(Some(0)),
                1 => Just(None),
                1 => (-5i32..5).prop_map(Some)
            ],
            prop_oneof![6 => Just(false), 1 => Just(true)],
            prop_oneof![4 => Just(1000usize), 2 => 0usize..1500],
        )
            .prop_map(
                |(psh, other_flag, seq_off, ack_off, window, ts_delta, sack, len)| Arrival {
                    psh,
                    other_flag,
                    seq_off,
                    ack_off,
                    window,
                    ts_delta,
                    sack,
                    len,
                },
            )
    }

    /// An established connection with timestamps and SACK (a passive open whose peer offers
    /// both), optionally with data of its own in flight
    fn established(in_flight: usize) -> T {
        let cfg = ConnConfig {
            timestamps: true,
            sack: true,
            delayed_ack: Some(core::time::Duration::from_millis(40)),
            ..ConnConfig::default()
        };
        let mut t = T::passive_with(
            cfg,
            TcpOptions {
                mss: Some(1000),
                sack_permitted: true,
                timestamps: Some((100, 0)),
                ..TcpOptions::NONE
            },
        );
        let ack = TcpRepr {
            options: TcpOptions {
                timestamps: Some((101, t.conn.ts_now(t.now))),
                ..TcpOptions::NONE
            },
            ..t.seg(TcpFlags::ACK, t.peer_nxt, ISS + 1u32, &[])
        };
        assert_eq!(t.deliver(&ack), SegmentOutcome::Accepted);
        assert_eq!(t.conn.state(), State::Established);
        assert!(t.conn.flags.contains(Flags::TIMESTAMPS | Flags::SACK));
        if in_flight > 0 {
            t.send(&[7u8; 3000][..in_flight]);
            t.drain_raw();
        }
        t
    }

    fn segment<'p>(t: &T, a: &Arrival, ts_recent: u32, payload: &'p [u8]) -> TcpRepr<'p> {
        let mut flags = TcpFlags::ACK;
        if a.psh {
            flags |= TcpFlags::PSH;
        }
        if let Some(bit) = a.other_flag {
            flags |= TcpFlags::from_bits_retain(1 << bit);
        }
        let mut options = TcpOptions {
            timestamps: a.ts_delta.map(|d| (ts_recent.wrapping_add(d as u32), 0)),
            ..TcpOptions::NONE
        };
        if a.sack {
            options.push_sack(crate::wire::SackBlock {
                left: ISS + 1u32,
                right: ISS + 2u32,
            });
        }
        TcpRepr {
            window_len: a.window,
            options,
            ..t.seg(
                flags,
                t.rcv_nxt() + a.seq_off as u32,
                t.conn.snd_una + a.ack_off as u32,
                &payload[..a.len],
            )
        }
    }

    proptest! {
        /// Covers: RFC 9293 §3.10.7.4 (header prediction changes no outcome)
        #[test]
        fn predicted_equals_full_path(
            arrivals in proptest::collection::vec(arrival(), 1..12),
            in_flight in prop_oneof![3 => Just(0usize), 1 => 1usize..3000],
        ) {
            let payload: Vec<u8> = (0..1500u32).map(|i| i as u8).collect();
            let mut fast = established(in_flight);
            let mut full = established(in_flight);
            for a in &arrivals {
                let ts_recent = fast.conn.ts_recent;
                let seg = segment(&fast, a, ts_recent, &payload);
                let predicted = fast.conn.predicted(&seg);
                let out_fast = fast.deliver(&seg);
                let out_full = full.deliver_full(&seg);
                prop_assert_eq!(out_fast, out_full, "predicted: {}", predicted);
                prop_assert_eq!(format!("{:?}", fast.conn), format!("{:?}", full.conn));
                prop_assert_eq!(&fast.events, &full.events);
                prop_assert_eq!(&fast.rx, &full.rx);
                prop_assert_eq!(fast.drain_raw(), full.drain_raw());
                if fast.conn.state() == State::Closed {
                    break; // a closed connection ignores segments; the full path would not
                }
                fast.now += core::time::Duration::from_millis(3);
                full.now = fast.now;
            }
        }
    }

    #[test]
    fn in_order_data_is_predicted_and_old_timestamps_are_not() {
        let mut t = established(0);
        let data = [1u8; 100];
        let ts = t.conn.ts_recent;
        let a = Arrival {
            psh: true,
            other_flag: None,
            seq_off: 0,
            ack_off: 0,
            window: 8192,
            ts_delta: Some(1),
            sack: false,
            len: 100,
        };
        let seg = segment(&t, &a, ts, &data);
        assert!(t.conn.predicted(&seg));
        let old = segment(
            &t,
            &Arrival {
                ts_delta: Some(-1),
                ..a.clone()
            },
            ts,
            &data,
        );
        assert!(!t.conn.predicted(&old)); // PAWS decides: the full path
        assert_eq!(t.deliver(&seg), SegmentOutcome::Accepted);
        assert_eq!(t.conn.rcv_nxt, seg.seq_number + 100u32);
        let again = segment(&t, &a, t.conn.ts_recent, &data);
        assert!(t.conn.predicted(&again));
        let with_data_out = {
            t.send(&[2u8; 10]);
            t.drain_raw();
            segment(&t, &a, t.conn.ts_recent, &data)
        };
        assert!(!t.conn.predicted(&with_data_out)); // something in flight
    }
}

//! Regression tests for bugs found by the simulator, the replay and the TUN driver, and a
//! few single-requirement checks, on the fixture of `tests.rs`

use std::vec;
use std::vec::Vec;

use super::tests::{ISS, T};
use super::*;
use crate::wire::TcpFlags;
use State::*;

#[test]
fn reordered_segments_reassemble_to_the_right_bytes() {
    for order in [
        [0usize, 1, 3, 2],
        [1, 0, 2, 3],
        [3, 2, 1, 0],
        [0, 2, 1, 3],
        [2, 0, 3, 1],
    ] {
        let mut t = T::in_state(Established);
        // Move the ring's start so that the data wraps around the end of the buffer.
        let pre = t.seg(TcpFlags::ACK, t.rcv_nxt(), t.snd_nxt(), &[9u8; 3000]);
        t.deliver(&pre);
        t.read(3000);
        t.drain();
        let data: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
        let base = t.rcv_nxt();
        for &k in &order {
            let chunk = &data[k * 1000..(k + 1) * 1000];
            let s = t.seg(TcpFlags::ACK, base + (k as u32 * 1000), t.snd_nxt(), chunk);
            t.deliver(&s);
            t.drain();
        }
        let mut out = vec![0u8; 4096];
        let mut bufs = Buffers {
            rx: &mut t.rx,
            tx: &mut t.tx,
        };
        let n = t.conn.recv(t.now, &mut bufs, &mut out, &t.cfg).unwrap();
        assert_eq!(n, 4000, "{order:?}");
        assert!(out[..n] == data[..], "{order:?}");
    }
}

/// Found by the simulator's property tests: the application read everything in order while
/// out-of-order data waited past it; the ring must not move its start under that data.
#[test]
fn reading_everything_keeps_out_of_order_data_in_place() {
    let mut t = T::in_state(Established);
    let base = t.rcv_nxt();
    let (a, b, c) = ([1u8; 1000], [2u8; 1000], [3u8; 1000]);
    let s1 = t.seg(TcpFlags::ACK, base, t.snd_nxt(), &a);
    t.deliver(&s1);
    let s3 = t.seg(TcpFlags::ACK, base + 2000u32, t.snd_nxt(), &c);
    t.deliver(&s3);
    assert_eq!(t.read(4096), 1000);
    let s2 = t.seg(TcpFlags::ACK, base + 1000u32, t.snd_nxt(), &b);
    t.deliver(&s2);
    let mut out = vec![0u8; 4096];
    let mut bufs = Buffers {
        rx: &mut t.rx,
        tx: &mut t.tx,
    };
    let n = t.conn.recv(t.now, &mut bufs, &mut out, &t.cfg).unwrap();
    assert_eq!(n, 2000);
    assert!(out[..1000] == b && out[1000..2000] == c);
}

/// Found by the simulator's property tests: after a timeout rewinds SND.NXT, a pure ACK must
/// still carry the highest sequence number sent, or the peer (which may hold that data
/// already) finds it below RCV.NXT and drops it, and both sides stall.
#[test]
fn acks_after_a_timeout_carry_the_highest_sequence_number() {
    let mut t = T::in_state(Established);
    t.send(&[1u8; 3000]);
    let first = t.drain_raw();
    let highest = first.last().map(|s| s.1 + s.2 as u32).unwrap();
    t.now = Instant::from_secs(2);
    let events = &mut t.events;
    t.conn
        .handle_timeout(t.now, &t.cfg, &mut |e| events.push(e));
    let retx = t.drain_raw();
    assert_eq!(retx[0].1, ISS + 1u32, "go back to SND.UNA");
    let d = t.seg(TcpFlags::ACK, t.rcv_nxt(), ISS + 1u32, b"peer data");
    t.deliver(&d);
    let acks = t.drain_raw();
    let ack = acks.iter().find(|s| s.2 == 0).unwrap();
    assert_eq!(ack.1, highest);
}

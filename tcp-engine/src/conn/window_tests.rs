//! Windows and segment sizing (RFC 9293 §3.8.6): what the sender may send into the peer's
//! window, and what the receiver advertises

use std::vec;
use std::vec::Vec;

use super::tests::T;
use super::*;
use crate::wire::{TcpFlags, TcpRepr};

/// An ACK from the peer acknowledging `ack` with window field `win`
fn ack(t: &mut T, ack: SeqNumber, win: u16) {
    let a = TcpRepr {
        window_len: win,
        ..t.seg(TcpFlags::ACK, t.peer_nxt, ack, &[])
    };
    t.deliver(&a);
}

/// Covers: REC-1
#[test]
fn rfc9293_must_1_window_field_is_unsigned() {
    let mut t = T::in_state(State::Established);
    let una = t.snd_nxt();
    ack(&mut t, una, 0xffff);
    assert_eq!(t.conn.stats(&t.cfg).send_window, 65_535);
    ack(&mut t, una, 0x8000);
    assert_eq!(
        t.conn.stats(&t.cfg).send_window,
        32_768,
        "0x8000 is a large window, not a negative one"
    );
}

/// Covers: SHLD-27, SHLD-28, MUST-60
#[test]
fn rfc9293_must_61_psh_on_the_segment_that_empties_the_buffer() {
    let mut t = T::in_state(State::Established);
    let una = t.snd_nxt();
    ack(&mut t, una, 8192);
    t.conn.set_nagle(false); // or the last short segment would wait for an ACK (Nagle)
    t.send(&[7u8; 2500]);
    let segs = t.drain_raw();
    let lens: Vec<usize> = segs.iter().map(|s| s.2).collect();
    assert_eq!(
        lens,
        [1000, 1000, 500],
        "full-sized segments first (peer MSS 1000)"
    );
    let psh: Vec<bool> = segs.iter().map(|s| s.0.contains(TcpFlags::PSH)).collect();
    assert_eq!(psh, [false, false, true]);
}

/// Covers: SHLD-15
#[test]
fn rfc9293_must_34_a_shrunk_window_stops_new_data() {
    let mut t = T::in_state(State::Established);
    let una = t.snd_nxt();
    ack(&mut t, una, 1000);
    t.send(&[1u8; 3000]);
    assert_eq!(t.drain_raw().iter().map(|s| s.2).sum::<usize>(), 1000);
    // The peer acknowledges it but pulls its right edge back to where it was: window 0.
    ack(&mut t, una + 1000u32, 0);
    assert!(
        t.drain_raw().iter().all(|s| s.2 == 0),
        "nothing new beyond the shrunk edge"
    );
    assert_eq!(t.conn.state(), State::Established);
}

#[test]
fn rfc9293_must_38_sender_avoids_silly_windows() {
    let mut t = T::in_state(State::Established);
    let una = t.snd_nxt();
    ack(&mut t, una, 2000);
    t.send(&[1u8; 4000]);
    assert_eq!(
        t.drain_raw().iter().map(|s| s.2).collect::<Vec<_>>(),
        [1000, 1000]
    );
    // The first segment is acknowledged but the window now leaves room for 100 bytes only.
    ack(&mut t, una + 1000u32, 1100);
    assert!(
        t.drain_raw().is_empty(),
        "no 100-byte segment while data is outstanding"
    );
}

/// Covers: SHLD-14
#[test]
fn rfc9293_must_39_receiver_opens_the_window_in_big_steps_only() {
    let mut t = T::in_state(State::Established);
    let data = [b'd'; 4000];
    let d = t.seg(TcpFlags::ACK, t.rcv_nxt(), t.snd_nxt(), &data);
    t.deliver(&d);
    let acks = t.drain_raw();
    let win = acks.last().unwrap().3;
    assert_eq!(win, 96, "4096-byte buffer holding 4000");
    t.read(100);
    assert!(
        t.drain_raw().is_empty(),
        "a 100-byte opening is not announced"
    );
    t.read(2000);
    let update = t.drain_raw();
    assert_eq!(
        update.len(),
        1,
        "a window update once the window grew by an MSS or half the buffer"
    );
    assert!(update[0].3 >= 2096);
}

/// Covers: SHLD-30
#[test]
fn rfc9293_shld_29_first_probe_after_one_rto_then_backoff() {
    let mut t = T::in_state(State::Established);
    let una = t.snd_nxt();
    ack(&mut t, una, 0);
    t.send(b"waiting");
    assert!(t.drain_raw().is_empty());
    let mut probes = Vec::new();
    while probes.len() < 4 {
        let Some(at) = t.conn.poll_at() else { break };
        t.now = at;
        let events = &mut t.events;
        t.conn
            .handle_timeout(t.now, &t.cfg, &mut |e| events.push(e));
        for s in t.drain_raw() {
            assert_eq!(
                (s.1, s.2),
                (una - 1u32, 0),
                "a probe: old sequence number, no data"
            );
            probes.push(t.now.total_millis());
        }
        ack(&mut t, una, 0); // the peer answers every probe, still with window 0 (MUST-37)
    }
    // SHLD-30: the interval doubles.
    assert_eq!(probes, [1000, 3000, 7000, 15000]);
}

/// RFC 7323 §5: after the sequence space wrapped, an old duplicate whose sequence number
/// falls inside the window again is recognised by its old timestamp and dropped
#[test]
fn paws_drops_an_old_duplicate_after_sequence_wrap() {
    let cfg = ConnConfig {
        delayed_ack: None,
        ..ConnConfig::default()
    };
    let tuple = FourTuple {
        local_addr: core::net::Ipv4Addr::new(10, 0, 0, 1).into(),
        remote_addr: core::net::Ipv4Addr::new(10, 0, 0, 2).into(),
        local_port: 80,
        remote_port: 4000,
    };
    let peer_iss = SeqNumber(u32::MAX - 3); // the peer's sequence numbers wrap at once
    let opts = |tsval: u32, tsecr: u32| crate::wire::TcpOptions {
        timestamps: Some((tsval, tsecr)),
        ..crate::wire::TcpOptions::NONE
    };
    let seg = |flags, seq: SeqNumber, ack: SeqNumber, tsval, payload| TcpRepr {
        src_port: 4000,
        dst_port: 80,
        flags,
        seq_number: seq,
        ack_number: ack,
        window_len: 8192,
        urgent_pointer: 0,
        options: opts(tsval, 0),
        payload,
    };
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 8192]);
    let mut sink = |_e: Event| {};
    let syn = seg(TcpFlags::SYN, peer_iss, SeqNumber(0), 100, &[]);
    let mut c = Connection::accept_syn(
        Instant::ZERO,
        tuple,
        SeqNumber(1),
        &syn,
        8192,
        &cfg,
        &mut sink,
    )
    .unwrap();
    let mut bufs = Buffers {
        rx: &mut rx,
        tx: &mut tx,
    };
    let mut out = [0u8; 128];
    let synack = c.poll_transmit(Instant::ZERO, &bufs, &cfg, &mut out, &mut sink);
    assert!(synack.is_some(), "SYN-ACK");
    let ack = seg(TcpFlags::ACK, peer_iss + 1u32, SeqNumber(2), 101, &[]);
    assert_eq!(
        c.handle_segment(Instant::ZERO, &ack, &mut bufs, &cfg, &mut sink),
        SegmentOutcome::Accepted
    );
    let nxt = peer_iss + 1u32;
    let fresh = seg(TcpFlags::ACK, nxt, SeqNumber(2), 200, b"new data");
    let old = seg(
        TcpFlags::ACK,
        nxt + 8u32,
        SeqNumber(2),
        150,
        b"an old duplicate",
    );
    assert_eq!(
        c.handle_segment(Instant::ZERO, &fresh, &mut bufs, &cfg, &mut sink),
        SegmentOutcome::Accepted
    );
    assert!(c.rcv_nxt.0 < peer_iss.0, "the sequence space wrapped");
    assert_eq!(
        c.handle_segment(Instant::ZERO, &old, &mut bufs, &cfg, &mut sink),
        SegmentOutcome::Paws
    );
    assert_eq!(c.recv_queue(), 8);
}

/// The peer pulls its window to zero while data is in flight: the data is not lost, so the
/// timer turns into probing and the connection does not time out while probes are answered
/// Covers: SHLD-16
#[test]
fn rfc9293_shld_17_a_window_shrunk_under_data_in_flight_does_not_time_out() {
    let mut t = T::in_state(State::Established);
    let una = t.snd_nxt();
    ack(&mut t, una, 4000);
    t.send(&[1u8; 3000]);
    assert_eq!(t.drain_raw().iter().map(|s| s.2).sum::<usize>(), 3000);
    ack(&mut t, una, 0); // nothing acknowledged, window closed: 3000 bytes beyond the edge
    for _ in 0..40 {
        let Some(at) = t.conn.poll_at() else { break };
        t.now = at;
        let events = &mut t.events;
        t.conn
            .handle_timeout(t.now, &t.cfg, &mut |e| events.push(e));
        let sent = t.drain_raw();
        assert!(
            sent.iter().all(|s| s.2 == 0),
            "no data beyond the closed window (SHLD-15): {sent:?} at {:?} wnd {}",
            t.now,
            t.conn.stats(&t.cfg).send_window
        );
        ack(&mut t, una, 0); // every probe answered
    }
    assert_eq!(t.conn.state(), State::Established, "after {:?}", t.now);
    // The window reopens: the data in flight is sent again and acknowledged.
    ack(&mut t, una, 8192);
    t.now += core::time::Duration::from_secs(200);
    let events = &mut t.events;
    t.conn
        .handle_timeout(t.now, &t.cfg, &mut |e| events.push(e));
    let resent: usize = t.drain_raw().iter().map(|s| s.2).sum();
    assert!(
        resent > 0,
        "retransmitted within the reopened window (SHLD-16)"
    );
}

/// An application that closed is not waiting for its data any more: behind a window that
/// never opens, the orphaned connection gives up after `max_retries` probes (bounded
/// resources), while a connection still held by its application keeps probing (MUST-37)
#[test]
fn an_orphaned_connection_behind_a_closed_window_is_released() {
    for released in [true, false] {
        let mut t = T::in_state(State::Established);
        let una = t.snd_nxt();
        ack(&mut t, una, 0);
        t.send(b"never delivered");
        if released {
            t.close();
        }
        assert!(
            t.drain_raw().is_empty(),
            "nothing fits in the closed window"
        );
        for _ in 0..60 {
            let Some(at) = t.conn.poll_at() else { break };
            t.now = at;
            let events = &mut t.events;
            t.conn
                .handle_timeout(t.now, &t.cfg, &mut |e| events.push(e));
            t.drain_raw();
            ack(&mut t, una, 0);
        }
        let expect = if released {
            State::Closed
        } else {
            State::Established
        };
        assert_eq!(
            t.conn.state(),
            expect,
            "released {released} at {:?} retries {} probes {} next {:?}",
            t.now,
            t.conn.retries,
            t.conn.probes,
            t.conn.poll_at()
        );
    }
}

//! Bad input at the engine's front door: garbage, every flag combination, floods of SYNs
//!
//! Nothing panics; every dropped segment is counted under its reason; no segment moves a
//! connection except as RFC 9293 and RFC 5961 allow, and none touches another connection.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::conn::State;
use crate::wire::{TcpFlags, TcpOptions, TcpRepr};

const US: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

fn engine(syn_backlog: u16) -> Engine<'static> {
    engine_with(syn_backlog, false)
}

fn engine_with(syn_backlog: u16, syn_cookies: bool) -> Engine<'static> {
    let cfg = EngineConfig {
        rx_buffer: 4096,
        tx_buffer: 4096,
        syn_backlog,
        syn_cookies,
        ..EngineConfig::default()
    };
    let limits = Limits {
        connections: 16,
        time_wait: 4,
        listeners: 2,
        events: 256,
        replies: 8,
    };
    Engine::new(cfg, EngineStorage::owned(&limits, 4096, 4096)).unwrap()
}

fn segment(flags: TcpFlags, sport: u16, seq: u32, ack: u32, payload: &[u8]) -> Vec<u8> {
    let r = TcpRepr {
        src_port: sport,
        dst_port: 80,
        flags,
        seq_number: SeqNumber(seq),
        ack_number: SeqNumber(ack),
        window_len: 1000,
        urgent_pointer: 0,
        options: TcpOptions::NONE,
        payload,
    };
    let mut buf = vec![0u8; r.buffer_len()];
    r.emit(&mut buf, &PEER, &US).unwrap();
    buf
}

fn drain(e: &mut Engine<'_>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1600];
    while let Some(t) = e.poll_transmit(Instant::ZERO, &mut buf) {
        out.push(buf[..t.len].to_vec());
        assert!(out.len() < 100, "no busy loop");
    }
    out
}

/// An engine with a listener and one established connection from PEER:1000; returns the
/// connection's handle and the peer's next sequence number and ours
fn established() -> (Engine<'static>, ConnHandle, u32, u32) {
    let mut e = engine(8);
    let l = e.listen(SocketAddr::new(US, 80), 8).unwrap();
    e.handle_segment(
        Instant::ZERO,
        PEER,
        US,
        &segment(TcpFlags::SYN, 1000, 7000, 0, &[]),
    );
    let synack = drain(&mut e).pop().unwrap();
    let p = crate::wire::TcpPacket::new_checked(&synack[..]).unwrap();
    let ours = p.seq_number().0.wrapping_add(1);
    e.handle_segment(
        Instant::ZERO,
        PEER,
        US,
        &segment(TcpFlags::ACK, 1000, 7001, ours, &[]),
    );
    let h = e.accept(l).unwrap();
    assert_eq!(e.state(h), Ok(State::Established));
    (e, h, 7001, ours)
}

/// Covers: MUST-3, MUST-57, MUST-63
#[test]
fn garbage_is_dropped_and_counted_by_reason() {
    let (mut e, h, _, _) = established();
    let d = e.handle_segment(Instant::ZERO, PEER, US, &[1, 2, 3]);
    assert_eq!(d, Disposition::Dropped(DropReason::Truncated));
    let mut bad = segment(TcpFlags::ACK, 1000, 7001, 0, b"data");
    bad[20] ^= 0xff;
    assert_eq!(
        e.handle_segment(Instant::ZERO, PEER, US, &bad),
        Disposition::Dropped(DropReason::BadChecksum)
    );
    let mut off = segment(TcpFlags::ACK, 1000, 7001, 0, &[]);
    off[12] = 0x30;
    assert_eq!(
        e.handle_segment(Instant::ZERO, PEER, US, &off),
        Disposition::Dropped(DropReason::BadDataOffset)
    );
    let bcast = IpAddr::V4(Ipv4Addr::BROADCAST);
    let mut syn = segment(TcpFlags::SYN, 1001, 1, 0, &[]);
    crate::wire::TcpPacket::new_unchecked(&mut syn[..]).fill_checksum(&bcast, &US);
    assert_eq!(
        e.handle_segment(Instant::ZERO, bcast, US, &syn),
        Disposition::Dropped(DropReason::BadAddress)
    );
    let s = e.stats();
    assert_eq!(s.dropped(DropReason::Truncated), 1);
    assert_eq!(s.dropped(DropReason::BadChecksum), 1);
    assert_eq!(s.dropped(DropReason::BadDataOffset), 1);
    assert_eq!(s.dropped(DropReason::BadAddress), 1);
    assert_eq!(s.dropped_total(), 4);
    assert_eq!(e.state(h), Ok(State::Established));
}

#[test]
fn rfc9293_never_rst_in_reply_to_rst() {
    let mut e = engine(8);
    let d = e.handle_segment(
        Instant::ZERO,
        PEER,
        US,
        &segment(TcpFlags::RST, 1000, 5, 0, &[]),
    );
    assert_eq!(d, Disposition::Dropped(DropReason::Ignored));
    assert!(drain(&mut e).is_empty());
    // Anything else to a closed port gets a RST built by the §3.10.7.1 rules.
    let d = e.handle_segment(
        Instant::ZERO,
        PEER,
        US,
        &segment(TcpFlags::ACK, 1000, 5, 77, &[]),
    );
    assert_eq!(d, Disposition::Reset);
    let rst = drain(&mut e).pop().unwrap();
    let p = crate::wire::TcpPacket::new_checked(&rst[..]).unwrap();
    assert_eq!((p.flags(), p.seq_number()), (TcpFlags::RST, SeqNumber(77)));
}

#[test]
fn syn_queue_is_bounded_and_counted() {
    let mut e = engine(2);
    e.listen(SocketAddr::new(US, 80), 8).unwrap();
    for port in 1..=2 {
        let d = e.handle_segment(
            Instant::ZERO,
            PEER,
            US,
            &segment(TcpFlags::SYN, port, 1, 0, &[]),
        );
        assert!(matches!(d, Disposition::Opened(_)));
    }
    let d = e.handle_segment(
        Instant::ZERO,
        PEER,
        US,
        &segment(TcpFlags::SYN, 3, 1, 0, &[]),
    );
    assert_eq!(d, Disposition::Dropped(DropReason::ListenQueueFull));
    assert_eq!(e.stats().dropped(DropReason::ListenQueueFull), 1);
    assert_eq!(e.connection_count(), 2);
}

#[test]
fn half_open_entries_leave_the_syn_queue_after_synack_retries() {
    let mut e = engine(1);
    e.listen(SocketAddr::new(US, 80), 8).unwrap();
    e.handle_segment(
        Instant::ZERO,
        PEER,
        US,
        &segment(TcpFlags::SYN, 1, 1, 0, &[]),
    );
    let mut synacks = drain(&mut e).len();
    while let Some(t) = e.poll_timeout() {
        e.handle_timeout(t);
        synacks += drain(&mut e).len();
    }
    assert_eq!(synacks, 6, "one SYN-ACK and 5 retransmissions");
    assert_eq!(e.connection_count(), 0);
    let d = e.handle_segment(
        Instant::from_secs(1000),
        PEER,
        US,
        &segment(TcpFlags::SYN, 2, 1, 0, &[]),
    );
    assert!(
        matches!(d, Disposition::Opened(_)),
        "the queue has room again"
    );
}

#[test]
fn every_flag_combination_is_safe_everywhere() {
    let (mut e, h, peer_nxt, ours) = established();
    for flags in 0..=255u8 {
        let flags = TcpFlags::from_bits_retain(flags);
        for (sport, seq, ack) in [
            (1000, peer_nxt + 100, ours),
            (2000, 5, 5),
            (1000, peer_nxt.wrapping_add(1 << 30), ours),
        ] {
            let _ = e.handle_segment(
                Instant::ZERO,
                PEER,
                US,
                &segment(flags, sport, seq, ack, b"x"),
            );
            let _ = drain(&mut e);
        }
    }
    // Only in-window, non-exact RSTs and SYNs reached the connection: challenged, not killed.
    assert_eq!(e.state(h), Ok(State::Established));
}

proptest! {
    #[test]
    fn random_segments_never_panic_and_blind_ones_do_not_kill(
        segs in proptest::collection::vec((any::<u8>(), any::<u32>(), any::<u32>(), 0usize..40), 1..40)
    ) {
        let (mut e, h, peer_nxt, _) = established();
        let mut exact_rst = false;
        for (flags, seq, ack, len) in segs {
            let flags = TcpFlags::from_bits_retain(flags);
            let payload = vec![0xabu8; len];
            exact_rst |= flags.contains(TcpFlags::RST) && seq == peer_nxt;
            let _ = e.handle_segment(Instant::ZERO, PEER, US, &segment(flags, 1000, seq, ack, &payload));
            let _ = drain(&mut e);
        }
        if !exact_rst {
            // A blind attacker guessing 32-bit numbers at random may not move it to CLOSED.
            prop_assert!(e.state(h).is_ok_and(|s| s != State::Closed));
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let (mut e, h, _, _) = established();
        let _ = e.handle_segment(Instant::ZERO, PEER, US, &bytes);
        let _ = drain(&mut e);
        prop_assert_eq!(e.state(h), Ok(State::Established));
    }
}

/// A flood of spoofed SYNs fills the SYN queue; a real client still connects through a SYN
/// cookie (RFC 4987), and does not when cookies are off
#[test]
fn syn_cookies_keep_a_listener_serving_under_a_syn_flood() {
    for cookies in [true, false] {
        let mut e = engine_with(4, cookies);
        let l = e.listen(SocketAddr::new(US, 80), 8).unwrap();
        for i in 0..200u16 {
            let spoofed = IpAddr::V4(Ipv4Addr::new(10, 9, (i >> 8) as u8, i as u8));
            let mut syn = segment(TcpFlags::SYN, 1000 + i, u32::from(i) * 7919, 0, &[]);
            crate::wire::TcpPacket::new_unchecked(&mut syn[..]).fill_checksum(&spoofed, &US);
            let _ = e.handle_segment(Instant::ZERO, spoofed, US, &syn);
        }
        let _ = drain(&mut e);
        assert_eq!(
            e.connection_count(),
            4,
            "the SYN queue holds 4 half-open entries"
        );
        let d = e.handle_segment(
            Instant::ZERO,
            PEER,
            US,
            &segment(TcpFlags::SYN, 5555, 42, 0, &[]),
        );
        let out = drain(&mut e);
        if !cookies {
            assert_eq!(d, Disposition::Dropped(DropReason::ListenQueueFull));
            assert!(out.is_empty());
            continue;
        }
        assert_eq!(d, Disposition::SynCookie);
        let p = crate::wire::TcpPacket::new_checked(&out[0][..]).unwrap();
        assert_eq!(p.flags(), TcpFlags::SYN | TcpFlags::ACK);
        let cookie = p.seq_number().0;
        let ack = segment(
            TcpFlags::ACK | TcpFlags::PSH,
            5555,
            43,
            cookie.wrapping_add(1),
            b"hello",
        );
        assert!(matches!(
            e.handle_segment(Instant::ZERO, PEER, US, &ack),
            Disposition::Opened(_)
        ));
        let h = e.accept(l).unwrap();
        assert_eq!(e.state(h), Ok(State::Established));
        let mut buf = [0u8; 16];
        assert_eq!(e.recv(h, &mut buf), Ok(5), "data on the cookie ACK is kept");
        // A forged cookie gets a RST, not a connection.
        let forged = segment(TcpFlags::ACK, 6666, 43, cookie.wrapping_add(2), &[]);
        assert_eq!(
            e.handle_segment(Instant::ZERO, PEER, US, &forged),
            Disposition::Reset
        );
        assert_eq!(e.stats().syn_cookies_accepted, 1);
    }
}

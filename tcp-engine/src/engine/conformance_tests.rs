//! Requirement-by-requirement tests between two engines (RFC 9293 Appendix B IDs in the
//! names and `Covers:` lines), on the harness of `tests.rs`

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::boxed::Box;

use std::vec::Vec;

use super::tests::{config, Pair, Side, A, B, PORT};
use super::*;
use crate::conn::{CloseReason, Event, State};
use crate::wire::{ChecksumCheck, TcpFlags, TcpRepr};

/// Covers: SHLD-7, MAY-16
#[test]
fn rfc9293_must_17_nagle_can_be_turned_off_per_connection() {
    for nagle in [true, false] {
        let mut p = Pair::new();
        let (a, _) = p.established();
        p.a.set_nagle(a, nagle).unwrap();
        let mut buf = [0u8; 1600];
        p.a.send(a, b"first").unwrap();
        assert!(
            p.a.poll_transmit(p.now, &mut buf).is_some(),
            "nothing outstanding: it goes"
        );
        p.a.send(a, b"second").unwrap();
        let second = p.a.poll_transmit(p.now, &mut buf);
        assert_eq!(
            second.is_some(),
            !nagle,
            "nagle {nagle}: a small segment waits for the ACK"
        );
    }
}

/// Covers: SHLD-18, SHLD-19, MUST-58, MUST-59
#[test]
fn rfc9293_must_40_delayed_ack_under_half_a_second_and_every_second_segment() {
    let mut p = Pair::new();
    let (a, _) = p.established();
    let start = p.wire.len();
    p.a.send(a, b"x").unwrap();
    p.run_until(Instant::from_secs(1));
    let ack = p.wire[start..].iter().find(|s| s.from == Side::B).unwrap();
    assert_eq!(
        ack.at,
        Instant::from_millis(40),
        "delayed, but well under 500 ms"
    );
    // Two full-sized segments are acknowledged at once.
    let start = p.wire.len();
    p.a.send(a, &[0u8; 2 * 1448]).unwrap();
    p.pump();
    let acks = p.wire[start..]
        .iter()
        .filter(|s| s.from == Side::B && s.at == p.now)
        .count();
    assert_eq!(acks, 1);
}

#[test]
fn rfc9293_must_41_a_second_listen_on_the_same_address_fails() {
    let mut p = Pair::new();
    p.b.listen(SocketAddr::new(B, PORT), 4).unwrap();
    assert_eq!(
        p.b.listen(SocketAddr::new(B, PORT), 4),
        Err(ListenError::InUse)
    );
}

#[test]
fn rfc9293_must_42_listen_while_a_connection_on_the_port_is_in_syn_sent() {
    let mut p = Pair::new();
    let c =
        p.b.connect_from(p.now, SocketAddr::new(B, PORT), SocketAddr::new(A, 9))
            .unwrap();
    assert_eq!(p.b.state(c), Ok(State::SynSent));
    assert!(p.b.listen(SocketAddr::new(B, PORT), 4).is_ok());
}

/// Covers: MUST-57
#[test]
fn rfc9293_must_46_open_to_broadcast_or_multicast_is_rejected() {
    let mut p = Pair::new();
    for bad in [
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::UNSPECIFIED,
    ] {
        let r = p.a.connect(p.now, A, SocketAddr::new(IpAddr::V4(bad), 80));
        assert_eq!(r, Err(ConnectError::InvalidAddress));
    }
}

#[test]
fn rfc9293_may_2_new_syn_reopens_a_time_wait_connection() {
    let mut p = Pair::new();
    let l = p.a.listen(SocketAddr::new(A, 7), 4).unwrap();
    let b1 =
        p.b.connect_from(p.now, SocketAddr::new(B, 4000), SocketAddr::new(A, 7))
            .unwrap();
    p.pump();
    let a1 = p.a.accept(l).unwrap();
    p.a.close(a1).unwrap(); // A closes first: A keeps the TIME-WAIT entry
    p.pump();
    p.b.close(b1).unwrap();
    p.run_until(p.now + Duration::from_secs(1));
    assert_eq!(p.a.time_wait_count(), 1);
    let b2 =
        p.b.connect_from(p.now, SocketAddr::new(B, 4000), SocketAddr::new(A, 7))
            .unwrap();
    p.pump();
    assert_eq!(p.b.state(b2), Ok(State::Established));
    assert!(p.a.accept(l).is_ok());
    assert_eq!(p.a.time_wait_count(), 0);
}

/// Covers: SHLD-10, MUST-20
#[test]
fn rfc9293_shld_11_retransmissions_give_up_after_r2_of_at_least_100_seconds() {
    let mut p = Pair::new();
    let (a, _) = p.established();
    p.drop = Box::new(|s| s.from == Side::B);
    let start = p.now;
    p.a.send(a, b"nobody hears this").unwrap();
    p.run();
    let stats_retx = p
        .wire
        .iter()
        .filter(|s| s.from == Side::A && s.len > 0)
        .count()
        - 1;
    assert!(
        stats_retx >= 3,
        "R1: at least 3 retransmissions before giving up ({stats_retx})"
    );
    let gave_up = Pair::when(&p.events_a, a, State::Closed).unwrap();
    assert!(
        gave_up - start >= Duration::from_secs(100),
        "R2 after {:?}",
        gave_up - start
    );
    assert_eq!(
        Pair::closed_reason(&p.events_a, a),
        Some(CloseReason::TimedOut)
    );
}

/// RFC 1337: an exact RST does not end TIME-WAIT while the guard is on; with it off, it does
#[test]
fn time_wait_assassination_guard() {
    for guard in [true, false] {
        let mut cfg = config();
        cfg.conn.time_wait_rst_guard = guard;
        let mut p = Pair::with(cfg, config());
        let (a, b) = p.established();
        p.a.close(a).unwrap();
        p.pump();
        p.b.close(b).unwrap();
        p.pump();
        assert_eq!(p.a.time_wait_count(), 1);
        let fin = p
            .wire
            .iter()
            .rev()
            .find(|s| s.from == Side::B && s.flags.contains(TcpFlags::FIN))
            .unwrap();
        let rst = TcpRepr {
            src_port: PORT,
            dst_port: u16::from_be_bytes([p.wire[0].bytes[0], p.wire[0].bytes[1]]),
            flags: TcpFlags::RST,
            seq_number: SeqNumber(fin.seq.wrapping_add(1)),
            ack_number: SeqNumber(0),
            window_len: 0,
            urgent_pointer: 0,
            options: crate::wire::TcpOptions::NONE,
            payload: &[],
        };
        let mut buf = [0u8; 64];
        let n = rst.emit(&mut buf, &B, &A).unwrap();
        p.a.handle_segment(p.now, B, A, &buf[..n]);
        assert_eq!(p.a.time_wait_count(), usize::from(guard), "guard {guard}");
    }
}

/// Covers: MUST-47, SHLD-25, SHLD-26, SHLD-20
#[test]
fn rfc9293_must_56_icmp_soft_errors_are_reported_and_hard_ones_abort() {
    use crate::conn::{IcmpError, SoftError};
    for report in [true, false] {
        let mut cfg = config();
        cfg.conn.report_soft_errors = report;
        let mut p = Pair::with(cfg, config());
        let (a, _) = p.established();
        let t = p.a.tuple(a).unwrap();
        let (local, remote) = (
            SocketAddr::new(t.local_addr, t.local_port),
            SocketAddr::new(t.remote_addr, t.remote_port),
        );
        p.a.send(a, b"x").unwrap();
        let mut buf = [0u8; 1600];
        let seg = p.a.poll_transmit(p.now, &mut buf).unwrap();
        let seq = crate::wire::TcpPacket::new_checked(&buf[..seg.len])
            .unwrap()
            .seq_number();
        p.drain_events();
        let before = p.events_a.len();
        // MUST-55: a source quench changes nothing.
        assert!(p.a.handle_icmp_error(
            p.now,
            local,
            remote,
            seq,
            IcmpError::from_icmpv4(4, 0).unwrap()
        ));
        // MUST-56: soft errors never abort; they are reported unless switched off.
        for (kind, code) in [(3, 0), (3, 1), (3, 5), (11, 0), (12, 0)] {
            p.a.handle_icmp_error(
                p.now,
                local,
                remote,
                seq,
                IcmpError::from_icmpv4(kind, code).unwrap(),
            );
        }
        p.drain_events();
        let soft = p.events_a[before..]
            .iter()
            .filter(|(_, _, e)| matches!(e, Event::SoftError(_)))
            .count();
        assert_eq!(soft, if report { 5 } else { 0 });
        assert!(
            p.events_a[before..]
                .iter()
                .any(|(_, _, e)| *e == Event::SoftError(SoftError::TimeExceeded))
                == report
        );
        assert_eq!(p.a.state(a), Ok(State::Established));
        // A blind ICMP error quoting a sequence number not in flight is ignored (RFC 5927).
        p.a.handle_icmp_error(p.now, local, remote, seq + 100_000u32, IcmpError::Hard);
        assert_eq!(p.a.state(a), Ok(State::Established));
        // SHLD-26: port unreachable (a hard error) aborts.
        p.a.handle_icmp_error(
            p.now,
            local,
            remote,
            seq,
            IcmpError::from_icmpv4(3, 3).unwrap(),
        );
        p.drain_events();
        assert_eq!(
            Pair::closed_reason(&p.events_a, a),
            Some(CloseReason::Unreachable)
        );
    }
}

/// Covers: MUST-55
#[test]
fn icmp_source_quench_is_ignored() {
    use crate::conn::IcmpError;
    assert_eq!(IcmpError::from_icmpv4(4, 0), Some(IcmpError::SourceQuench));
    assert_eq!(IcmpError::from_icmpv6(1, 4), Some(IcmpError::Hard));
    assert!(matches!(
        IcmpError::from_icmpv6(1, 0),
        Some(IcmpError::Soft(_))
    ));
}

/// Covers: SHLD-9
#[test]
fn rfc9293_must_21_retry_limit_per_connection_and_r1_report() {
    for limit in [Some(4u8), None] {
        let mut p = Pair::new();
        let (a, _) = p.established();
        p.a.set_retry_limit(a, limit).unwrap();
        p.drop = Box::new(|s| s.from == Side::B);
        p.a.send(a, b"data").unwrap();
        p.run_until(p.now + Duration::from_secs(600));
        let trouble = p
            .events_a
            .iter()
            .filter(|(_, h, e)| *h == a && *e == Event::DeliveryTrouble)
            .count();
        assert_eq!(trouble, 1, "R1 reported once");
        match limit {
            Some(_) => assert_eq!(
                Pair::closed_reason(&p.events_a, a),
                Some(CloseReason::TimedOut)
            ),
            None => assert_eq!(p.a.state(a), Ok(State::Established), "never gives up"),
        }
    }
}

/// Covers: MUST-67
#[test]
fn rfc9293_must_45_one_local_address_for_the_whole_connection() {
    let mut p = Pair::new();
    let (a, _) = p.established();
    p.a.send(a, &[1u8; 5000]).unwrap();
    let mut buf = [0u8; 1600];
    while let Some(t) = p.a.poll_transmit(p.now, &mut buf) {
        assert_eq!(t.src, A);
        let r = TcpRepr::parse_bytes(&buf[..t.len], &t.src, &t.dst, ChecksumCheck::Verify).unwrap();
        assert!(
            r.payload.len() <= 1500 - 20 - 20,
            "MSS at most MMS_R - 20 on a 1500-byte path"
        );
    }
    let syn = TcpRepr::parse_bytes(&p.wire[0].bytes, &A, &B, ChecksumCheck::Verify).unwrap();
    assert!(syn.options.mss.unwrap() <= 1500 - 20 - 20);
}

#[test]
fn rfc9293_must_26_keep_alive_only_when_nothing_is_outstanding() {
    let mut ca = config();
    ca.conn.keep_alive = Some(crate::conn::KeepAlive {
        idle: Duration::from_secs(5),
        interval: Duration::from_secs(1),
        probes: 3,
    });
    let mut p = Pair::with(ca, config());
    let (a, _) = p.established();
    p.drop = Box::new(|s| s.from == Side::B);
    p.a.send(a, b"outstanding").unwrap();
    p.run_until(p.now + Duration::from_secs(60));
    // Only retransmissions of the data went out: no zero-length keep-alive probes.
    let probes = p
        .wire
        .iter()
        .filter(|s| s.from == Side::A && s.len == 0 && s.at > Instant::from_secs(1))
        .count();
    assert_eq!(probes, 0);
}

#[test]
fn rfc9293_may_14_flush_discards_unsent_data_only() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    let queued = p.a.send(a, &[5u8; 8000]).unwrap();
    let mut buf = [0u8; 1600];
    let mut in_flight = 0;
    for _ in 0..2 {
        in_flight +=
            p.a.poll_transmit(p.now, &mut buf)
                .map(|t| t.len - 32)
                .unwrap();
    }
    let dropped = p.a.flush(a).unwrap();
    assert_eq!(dropped, queued - in_flight);
    p.pump(); // the two segments in flight were lost to the harness; they come back by RTO
    p.run_until(p.now + Duration::from_secs(5));
    p.a.send(a, b"after").unwrap();
    p.run_until(p.now + Duration::from_secs(5));
    let (got, _) = Pair::read_all(&mut p.b, b);
    assert_eq!(
        got.len(),
        in_flight + 5,
        "in sync: what was in flight, then the new data"
    );
    assert!(got.ends_with(b"after"));
}

/// Segments are sized by the MSS less the options they carry (timestamps: 12 bytes)
#[test]
fn rfc9293_must_16_effective_send_mss_takes_off_the_options() {
    let mut p = Pair::new();
    let (a, _) = p.established();
    p.a.send(a, &[1u8; 6000]).unwrap();
    p.run_until(p.now + Duration::from_secs(1));
    let full: Vec<usize> = p
        .wire
        .iter()
        .filter(|s| s.from == Side::A && s.len > 0)
        .map(|s| s.len)
        .collect();
    assert_eq!(full[0], 1460 - 12);
    assert!(full.iter().all(|&l| l <= 1448));
}

#[test]
fn sizes_fit_the_goals() {
    let conn = core::mem::size_of::<crate::conn::Connection>();
    let tw = core::mem::size_of::<TimeWaitEntry>();
    std::println!(
        "size_of Connection = {conn}, TimeWaitEntry = {tw}, ConnSlot = {}",
        core::mem::size_of::<ConnSlot>()
    );
    assert!(conn <= 408, "connection is {conn} bytes");
    assert!(tw < 64, "TIME-WAIT entry is {tw} bytes");
}

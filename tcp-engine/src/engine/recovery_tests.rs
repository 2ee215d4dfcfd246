//! Loss recovery between two engines: holes are repaired by fast retransmit, not by timeouts
//! (RFC 5681 §3.2, RFC 6582, RFC 6675, RFC 3042)

use core::time::Duration;
use std::boxed::Box;
use std::collections::BTreeSet;
use std::vec::Vec;

use super::tests::{config, Pair, Side};
use super::*;

/// Send 60 000 bytes A → B, dropping the first transmission of the data segments with these
/// indices; returns (A's stats, bytes B read, retransmitted sequence numbers)
fn transfer_with_losses(
    sack: bool,
    lost: &'static [usize],
) -> (crate::conn::ConnStats, usize, Vec<u32>) {
    transfer_with(sack, crate::conn::Algorithm::NewReno, lost)
}

fn transfer_with(
    sack: bool,
    algorithm: crate::conn::Algorithm,
    lost: &'static [usize],
) -> (crate::conn::ConnStats, usize, Vec<u32>) {
    let mut ca = config();
    ca.conn.congestion = algorithm;
    ca.rx_buffer = 65536;
    ca.tx_buffer = 65536;
    ca.conn.sack = sack;
    let mut cb = ca;
    cb.conn.delayed_ack = None;
    let mut p = Pair::with(ca, cb);
    let (a, b) = p.established();
    let mut seen = BTreeSet::new();
    let mut index = 0usize;
    p.drop = Box::new(move |s| {
        if s.from != Side::A || s.len == 0 || !seen.insert(s.seq) {
            return false;
        }
        index += 1;
        lost.contains(&(index - 1))
    });
    let data: Vec<u8> = (0..60_000u32).map(|i| i as u8).collect();
    let mut sent = 0;
    let mut got = 0;
    while got < data.len() && p.now < Instant::from_secs(60) {
        sent += p.a.send(a, &data[sent..]).unwrap();
        p.run_until(p.now + Duration::from_millis(10));
        got += Pair::read_all(&mut p.b, b).0.len();
    }
    let mut firsts = BTreeSet::new();
    let retx = p
        .wire
        .iter()
        .filter(|s| s.from == Side::A && s.len > 0 && !firsts.insert(s.seq))
        .map(|s| s.seq)
        .collect();
    (p.a.conn_stats(a).unwrap(), got, retx)
}

#[test]
fn sack_repairs_several_holes_in_one_window_without_timeout() {
    let (stats, got, retx) = transfer_with_losses(true, &[3, 5, 8]);
    assert_eq!(got, 60_000);
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    assert_eq!(stats.fast_retransmits, 1, "one recovery episode");
    assert_eq!(
        retx.len(),
        3,
        "exactly the three holes are resent: {retx:?}"
    );
}

#[test]
fn newreno_repairs_several_holes_by_partial_acks() {
    let (stats, got, retx) = transfer_with_losses(false, &[3, 5, 8]);
    assert_eq!(got, 60_000);
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    assert_eq!(stats.fast_retransmits, 1, "one window reduction (RFC 6582)");
    assert_eq!(retx.len(), 3, "{retx:?}");
}

#[test]
fn a_single_loss_is_repaired_by_fast_retransmit() {
    for sack in [true, false] {
        let (stats, got, retx) = transfer_with_losses(sack, &[10]);
        assert_eq!(got, 60_000);
        assert_eq!(
            (stats.timeouts, stats.fast_retransmits, retx.len()),
            (0, 1, 1),
            "sack {sack}"
        );
    }
}

#[test]
fn cubic_recovers_like_newreno() {
    let (stats, got, retx) = transfer_with(true, crate::conn::Algorithm::Cubic, &[3, 5, 8, 30]);
    assert_eq!(got, 60_000);
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    assert_eq!(retx.len(), 4);
    assert!(stats.ssthresh < u32::MAX, "a reduction happened");
}

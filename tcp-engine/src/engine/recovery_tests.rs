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
    let mut seen = BTreeSet::new();
    let mut index = 0usize;
    transfer_filtered(
        sack,
        algorithm,
        Box::new(move |s| {
            if s.from != Side::A || s.len == 0 || !seen.insert(s.seq) {
                return false;
            }
            index += 1;
            lost.contains(&(index - 1))
        }),
    )
}

/// Send 60 000 bytes A → B through `filter` (true drops); returns (A's stats, bytes B read,
/// retransmitted sequence numbers)
fn transfer_filtered(
    sack: bool,
    algorithm: crate::conn::Algorithm,
    filter: super::tests::Filter,
) -> (crate::conn::ConnStats, usize, Vec<u32>) {
    transfer_reading_from(sack, algorithm, filter, Instant::ZERO)
}

/// Like [`transfer_filtered`], with B's application reading nothing before `read_from`
fn transfer_reading_from(
    sack: bool,
    algorithm: crate::conn::Algorithm,
    filter: super::tests::Filter,
    read_from: Instant,
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
    p.drop = filter;
    let data: Vec<u8> = (0..60_000u32).map(|i| i as u8).collect();
    let mut sent = 0;
    let mut got = 0;
    while got < data.len() && p.now < Instant::from_secs(60) {
        sent += p.a.send(a, &data[sent..]).unwrap();
        p.run_until(p.now + Duration::from_millis(10));
        if p.now >= read_from {
            got += Pair::read_all(&mut p.b, b).0.len();
        }
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

/// Drops the first `copies` transmissions of A's `index`-th data segment; with `mute_b`, also
/// every segment B sends at the instant A resends it
fn drop_copies(index: usize, copies: usize, mute_b: bool) -> super::tests::Filter {
    let mut order = Vec::new();
    let mut sends = std::collections::BTreeMap::new();
    let mut muted_at = None;
    Box::new(move |s| {
        if s.from == Side::B {
            return mute_b && muted_at == Some(s.at);
        }
        if s.len == 0 {
            return false;
        }
        if !order.contains(&s.seq) {
            order.push(s.seq);
        }
        let n = sends.entry(s.seq).or_insert(0usize);
        *n += 1;
        let target = order.get(index) == Some(&s.seq);
        if target && *n == copies + 1 {
            muted_at = Some(s.at);
        }
        target && *n <= copies
    })
}

/// RFC 8985 §6.2 (by sequence): a lost retransmission is found when data sent after it is
/// SACKed, and resent without waiting for the RTO
#[test]
fn a_lost_retransmission_is_resent_without_timeout() {
    for algorithm in [crate::conn::Algorithm::NewReno, crate::conn::Algorithm::Bbr] {
        let (stats, got, retx) = transfer_filtered(true, algorithm, drop_copies(10, 2, false));
        assert_eq!(got, 60_000, "{algorithm:?}");
        assert_eq!(stats.timeouts, 0, "{algorithm:?}: {stats:?}");
        assert_eq!(
            retx.len(),
            2,
            "{algorithm:?}: the segment went three times: {retx:?}"
        );
        assert_eq!(retx[0], retx[1]);
    }
}

/// RFC 8985 §7: when the ACKs for the end of a recovery episode are all lost, a probe (after
/// about two RTTs) rather than the RTO (1 s) brings the next ACK. B reads nothing for 2 s, so
/// no window update comes to the rescue.
#[test]
fn lost_acks_at_the_end_of_recovery_are_probed_not_timed_out() {
    let (stats, got, retx) = transfer_reading_from(
        true,
        crate::conn::Algorithm::NewReno,
        drop_copies(10, 1, true),
        Instant::from_secs(2),
    );
    assert_eq!(got, 60_000);
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    assert!(!retx.is_empty());
}

/// The window after a repaired loss: NewReno leaves recovery at ssthresh (RFC 6582 option 2,
/// not one segment); BBR goes back to the window it had before the loss
#[test]
fn recovery_ends_with_a_usable_window() {
    let (stats, got, _) = transfer_with(true, crate::conn::Algorithm::NewReno, &[10]);
    assert_eq!(got, 60_000);
    assert!(stats.cwnd >= stats.ssthresh, "{stats:?}");
    let (stats, got, _) = transfer_with(true, crate::conn::Algorithm::Bbr, &[10, 20, 30]);
    assert_eq!(got, 60_000);
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    assert!(stats.cwnd >= 10 * 1448, "BBR keeps its window: {stats:?}");
}

/// Probes never replace the RTO for good: a peer that goes silent in the middle of recovery
/// is given up on after the retransmission limit (MUST-20), like one silent from the start
#[test]
fn silence_during_recovery_still_times_out() {
    let mut ca = config();
    ca.conn.sack = true;
    let mut p = Pair::with(ca, ca);
    let (a, _) = p.established();
    let mut lose_fourth = drop_copies(3, 1, false);
    let mut sent = BTreeSet::new();
    let mut silent = false;
    p.drop = Box::new(move |s| {
        if s.from == Side::A && s.len > 0 && !sent.insert(s.seq) {
            silent = true; // A resent something: B is never heard again
        }
        let lost = lose_fourth(s);
        lost || (silent && s.from == Side::B)
    });
    p.a.send(a, &[7u8; 8000]).unwrap();
    p.run_until(Instant::from_secs(3600));
    let resent = p
        .wire
        .iter()
        .filter(|s| s.from == Side::A && s.len > 0)
        .count();
    assert!(
        resent < 40,
        "{resent} data segments: probes must not go on for ever"
    );
    assert_eq!(
        Pair::closed_reason(&p.events_a, a),
        Some(crate::conn::CloseReason::TimedOut)
    );
}

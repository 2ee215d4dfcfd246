//! Scenarios about closing a connection: every path of the RFC 9293 diagram, with TIME-WAIT
//! timed to the microsecond.

mod common;

use core::time::Duration;

use common::*;
use driver_sim::scenarios::ScenarioOptions;
use tcp_engine::conn::{CloseReason, State::*};
use tcp_engine::wire::TcpFlags;

#[test]
fn transfer_closes_through_time_wait_for_exactly_2msl() {
    let (sim, summary) = run_default("transfer");
    let t = sim.trace();
    // B closes as soon as it reads the end of A's stream, so its FIN carries the ACK of
    // A's FIN: A goes from FIN-WAIT-1 straight to TIME-WAIT (RFC 9293 §3.10.7.4).
    assert_eq!(
        states(t, A),
        [Closed, SynSent, Established, FinWait1, TimeWait, Closed]
    );
    assert_eq!(
        states(t, B),
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
    assert_eq!(left(t, A, TimeWait) - entered(t, A, TimeWait), TWO_MSL_US);
    assert!(summary.intact());
    assert_eq!(summary.bytes(A, B), 32 * 1024);
    assert_eq!(summary.duration_us, left(t, A, TimeWait));
}

#[test]
fn time_wait_follows_the_msl_option() {
    let opts = ScenarioOptions {
        msl: Some(Duration::from_secs(5)),
        bytes: Some(1000),
        ..ScenarioOptions::default()
    };
    let (sim, _) = run("transfer", &opts);
    let t = sim.trace();
    assert_eq!(left(t, A, TimeWait) - entered(t, A, TimeWait), 10_000_000);
}

#[test]
fn half_close_keeps_data_flowing_toward_the_closer() {
    let (sim, summary) = run_default("half-close");
    let t = sim.trace();
    assert_eq!(
        states(t, A),
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        states(t, B),
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
    // B sends its data while in CLOSE-WAIT, after A's FIN, and A (half-closed) reads it all.
    let (cw, la) = (entered(t, B, CloseWait), entered(t, B, LastAck));
    let in_close_wait = from(t, B)
        .into_iter()
        .filter(|s| s.len > 0 && s.t_us >= cw && s.t_us < la)
        .count();
    assert!(
        in_close_wait >= 2,
        "{in_close_wait} data segments in CLOSE-WAIT"
    );
    assert_eq!(summary.bytes(B, A), 16 * 1024);
    assert!(summary.host(A).unwrap().eof);
    assert!(summary.intact());
}

#[test]
fn simultaneous_close_passes_through_closing_and_time_wait_on_both_sides() {
    let (sim, summary) = run_default("simultaneous-close");
    let t = sim.trace();
    for host in [A, B] {
        let s = states(t, host);
        assert_eq!(
            s[s.len() - 5..],
            [Established, FinWait1, Closing, TimeWait, Closed],
            "host {host}: {s:?}"
        );
        assert_eq!(entered(t, host, FinWait1), 500_000);
        assert_eq!(
            left(t, host, TimeWait) - entered(t, host, TimeWait),
            TWO_MSL_US
        );
        assert_eq!(
            summary.host(host).unwrap().close_reason,
            Some(CloseReason::Normal)
        );
    }
    // The FINs cross: each is sent before the other arrives.
    let fins: Vec<_> = segments(t)
        .into_iter()
        .filter(|s| s.flags.contains(TcpFlags::FIN))
        .collect();
    assert_eq!(fins.len(), 2);
    assert_eq!(fins[0].t_us, fins[1].t_us);
}

#[test]
fn abort_sends_rst_and_skips_time_wait() {
    let (sim, summary) = run_default("abort");
    let t = sim.trace();
    let last = *segments(t).last().unwrap();
    assert_eq!((last.src, letters(last.flags)), (A, "R".to_string()));
    assert!(!states(t, A).contains(&TimeWait));
    assert!(!states(t, B).contains(&TimeWait));
    assert_eq!(*states(t, A).last().unwrap(), Closed);
    assert_eq!(
        summary.host(A).unwrap().close_reason,
        Some(CloseReason::Aborted)
    );
    assert_eq!(
        summary.host(B).unwrap().close_reason,
        Some(CloseReason::Reset)
    );
    assert_eq!(summary.host(B).unwrap().final_state, Closed);
    // The data was acknowledged before the abort, so it arrived.
    assert!(summary.intact());
    // B learns of the abort one one-way delay later.
    assert_eq!(entered(t, B, Closed) - last.t_us, 10_000);
}

#[test]
fn lost_final_ack_makes_time_wait_ack_the_retransmitted_fin() {
    let (sim, summary) = run_default("lost-final-ack");
    let t = sim.trace();
    let tw = entered(t, A, TimeWait);
    let fins: Vec<_> = from(t, B)
        .into_iter()
        .filter(|s| s.flags.contains(TcpFlags::FIN))
        .collect();
    assert_eq!(fins.len(), 2, "B's FIN is sent twice");
    assert!(fins[1].notes.retransmission);
    assert_eq!(fins[1].seq, fins[0].seq);
    let acks: Vec<_> = from(t, A)
        .into_iter()
        .filter(|s| s.flags == TcpFlags::ACK && s.t_us >= tw)
        .collect();
    assert_eq!(
        acks.len(),
        2,
        "A acks the FIN, the ACK is lost, A acks it again"
    );
    assert!(acks[0].is_lost() && !acks[1].is_lost());
    assert_eq!(acks[1].ack, fins[0].seq.wrapping_add(1));
    // A answers the retransmitted FIN as it arrives, still in TIME-WAIT.
    assert_eq!(acks[1].t_us, fins[1].t_us + 10_000);
    assert!(acks[1].t_us < left(t, A, TimeWait));
    assert_eq!(states(t, B)[states(t, B).len() - 2..], [LastAck, Closed]);
    assert_eq!(entered(t, B, Closed), acks[1].t_us + 10_000);
    // RFC 9293 §3.10.7.4: the retransmitted FIN restarts the 2·MSL timer.
    assert_eq!(left(t, A, TimeWait) - acks[1].t_us, TWO_MSL_US);
    assert_eq!(summary.host(A).unwrap().final_state, Closed);
    assert_eq!(summary.host(B).unwrap().final_state, Closed);
}

#[test]
fn fin_wait_2_timeout_closes_an_orphaned_connection() {
    let (sim, summary) = run_default("fin-wait-2-timeout");
    let t = sim.trace();
    assert_eq!(
        states(t, A),
        [Closed, SynSent, Established, FinWait1, FinWait2, Closed]
    );
    // The engine's default FIN-WAIT-2 timeout is 60 s.
    assert_eq!(left(t, A, FinWait2) - entered(t, A, FinWait2), 60_000_000);
    assert_eq!(
        summary.host(A).unwrap().close_reason,
        Some(CloseReason::TimedOut)
    );
    // B never closes: it stays in CLOSE-WAIT.
    assert_eq!(summary.host(B).unwrap().final_state, CloseWait);
}

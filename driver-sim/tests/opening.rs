//! Scenarios about opening a connection: every one ends as RFC 9293 says.

mod common;

use common::*;
use driver_sim::scenarios::ScenarioOptions;
use tcp_engine::conn::{CloseReason, State::*};
use tcp_engine::wire::TcpFlags;

#[test]
fn handshake_is_syn_synack_ack() {
    let (sim, summary) = run_default("handshake");
    let t = sim.trace();
    assert_eq!(states(t, A), [Closed, SynSent, Established]);
    assert_eq!(states(t, B), [Closed, Listen, SynReceived, Established]);
    let segs = segments(t);
    let flags: Vec<String> = segs.iter().map(|s| letters(s.flags)).collect();
    assert_eq!(flags, ["S", "SA", "A"]);
    // Each side acknowledges the other's ISN + 1; relative numbers start at 0.
    assert_eq!(segs[1].ack, segs[0].seq.wrapping_add(1));
    assert_eq!(segs[2].ack, segs[1].seq.wrapping_add(1));
    assert_eq!(
        (segs[0].rel_seq(), segs[1].rel_seq(), segs[1].rel_ack()),
        (0, 0, 1)
    );
    // Options are offered on the SYNs only.
    assert!(segs[0].options.mss.is_some() && segs[1].options.mss.is_some());
    assert!(segs[2].options.mss.is_none());
    // 20 ms RTT: B is established one and a half RTT after A's SYN.
    assert_eq!(entered(t, A, Established), 20_000);
    assert_eq!(entered(t, B, Established), 30_000);
    assert!(summary.intact());
    assert_eq!(summary.retransmissions(), 0);
    let a = summary.host(A).unwrap();
    assert_eq!(
        a.stats.unwrap().srtt,
        Some(core::time::Duration::from_millis(20))
    );
}

#[test]
fn handshake_over_ipv6() {
    let opts = ScenarioOptions {
        ipv6: true,
        bytes: Some(3000),
        ..ScenarioOptions::default()
    };
    let (sim, summary) = run("handshake", &opts);
    assert!(summary.host(A).unwrap().addr.is_ipv6());
    assert_eq!(states(sim.trace(), A), [Closed, SynSent, Established]);
    assert_eq!(summary.bytes(A, B), 3000);
    assert!(summary.intact());
    // IPv6 headers are 40 bytes: the MSS follows (1500 - 40 - 20).
    assert_eq!(segments(sim.trace())[0].options.mss, Some(1440));
}

#[test]
fn simultaneous_open_passes_through_syn_received_on_both_sides() {
    let (sim, summary) = run_default("simultaneous-open");
    let t = sim.trace();
    for host in [A, B] {
        assert_eq!(
            states(t, host)[..4],
            [Closed, SynSent, SynReceived, Established],
            "host {host}"
        );
        assert_eq!(summary.host(host).unwrap().final_state, Closed);
    }
    // Both SYNs are sent before either arrives: they cross.
    let segs = segments(t);
    assert_eq!(letters(segs[0].flags), "S");
    assert_eq!(letters(segs[1].flags), "S");
    assert_ne!(segs[0].src, segs[1].src);
    assert_eq!(segs[1].t_us, 0);
    assert!(summary.intact());
}

#[test]
fn refused_connect_ends_with_rst_and_closed_refused() {
    let (sim, summary) = run_default("refused");
    let t = sim.trace();
    assert_eq!(states(t, A), [Closed, SynSent, Closed]);
    let recs = state_records(t, A);
    assert_eq!(recs.last().unwrap().reason, Some(CloseReason::Refused));
    let segs = segments(t);
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[1].src, B);
    assert!(segs[1].flags.contains(TcpFlags::RST | TcpFlags::ACK));
    assert_eq!(segs[1].ack, segs[0].seq.wrapping_add(1));
    let a = summary.host(A).unwrap();
    assert_eq!(a.close_reason, Some(CloseReason::Refused));
    assert_eq!(summary.host(B).unwrap().final_state, Closed);
}

#[test]
fn lost_syn_is_sent_again_after_the_initial_rto() {
    let (sim, summary) = run_default("lost-syn");
    let t = sim.trace();
    let syns: Vec<_> = from(t, A)
        .into_iter()
        .filter(|s| s.flags == TcpFlags::SYN)
        .collect();
    assert_eq!(syns.len(), 2);
    assert!(syns[0].is_lost() && !syns[1].is_lost());
    assert_eq!(syns[0].fate.name(), "lost");
    assert!(syns[1].notes.retransmission);
    assert_eq!(syns[1].seq, syns[0].seq);
    // RFC 6298 §2.1: the initial RTO is one second.
    assert_eq!(syns[1].t_us - syns[0].t_us, 1_000_000);
    assert_eq!(states(t, A), [Closed, SynSent, Established]);
    assert_eq!(entered(t, A, Established), 1_020_000);
    assert_eq!(summary.host(A).unwrap().retransmissions(), 1);
}

#[test]
fn lost_synack_is_recovered_after_one_second() {
    let (sim, summary) = run_default("lost-synack");
    let t = sim.trace();
    let synacks: Vec<_> = from(t, B)
        .into_iter()
        .filter(|s| s.flags == TcpFlags::SYN | TcpFlags::ACK)
        .collect();
    assert!(synacks.len() >= 2);
    assert!(synacks[0].is_lost());
    assert!(synacks[1..].iter().all(|s| s.seq == synacks[0].seq));
    // A stays in SYN-SENT until the second SYN-ACK arrives, a second later.
    assert_eq!(states(t, A), [Closed, SynSent, Established]);
    assert!(entered(t, A, Established) >= 1_000_000);
    assert_eq!(states(t, B), [Closed, Listen, SynReceived, Established]);
    assert_eq!(summary.host(B).unwrap().final_state, Established);
}

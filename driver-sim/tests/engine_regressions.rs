//! Engine misbehaviours found by running scenarios, each as the smallest simulation that
//! shows it (both fixed in tcp-engine since).

mod common;

use common::*;
use driver_sim::sim::{AppScript, DropRule, RunEnd, Sim, When};
use driver_sim::LinkConfig;
use tcp_engine::conn::State;
use tcp_engine::wire::TcpFlags;

fn sim_10ms() -> Sim {
    let mut sim = Sim::new(1);
    sim.network_mut()
        .set_default_link(LinkConfig {
            delay_us: 10_000,
            ..LinkConfig::default()
        })
        .expect("valid link");
    sim
}

/// A sends three segments and the second is lost. The first and the third arrive together;
/// B's application reads the first, which empties the receive buffer, while the third waits
/// out of order. When the retransmitted second fills the gap, B must read the third intact.
/// (The receive ring used to move its start back to 0 when it emptied, so the out-of-order
/// bytes were read as zeros.)
#[test]
fn out_of_order_data_survives_a_read_that_empties_the_receive_buffer() {
    let mut sim = sim_10ms();
    sim.add_host(
        AppScript::connect_to(B, 80)
            .sending(5000)
            .shutdown_when(When::Queued)
            .close_when(When::PeerClosed),
    );
    sim.add_host(AppScript::listen_on(80).close_when(When::PeerClosed));
    sim.add_drop_rule(
        DropRule::first(A, TcpFlags::ACK)
            .with_payload(true)
            .nth(2, 1),
    );
    let summary = sim.run();
    assert_eq!(sim.drop_rules().len(), 1);
    assert!(from(sim.trace(), A)
        .iter()
        .any(|s| s.is_lost() && s.len > 0));
    assert_eq!(summary.bytes(A, B), 5000);
    assert!(summary.intact(), "B read corrupted data");
}

/// A and B open simultaneously and each sends three segments at once; everything arrives
/// but the one pure ACK each side sends. After the RTO each retransmits one MSS and rewinds
/// SND.NXT below what the peer has already received. Pure ACKs must carry the highest
/// sequence number sent: they used to carry the rewound SND.NXT, outside the other side's
/// window, so each side answered the other's ACK with an ACK, every 10 ms, forever, and
/// neither ever processed the other's acknowledgment.
#[test]
fn lost_acks_on_both_sides_do_not_start_an_ack_storm() {
    let mut sim = sim_10ms();
    let bytes = 3 * 1448;
    for (peer, port, peer_port) in [(B, 5000, 6000), (A, 6000, 5000)] {
        sim.add_host(
            AppScript::connect_to(peer, peer_port)
                .from_port(port)
                .sending(bytes)
                .close_when(When::Acked),
        );
    }
    for host in [A, B] {
        // The handshake's ACK is the first pure ACK; drop the second one.
        sim.add_drop_rule(
            DropRule::first(host, TcpFlags::ACK)
                .with_payload(false)
                .nth(2, 1),
        );
    }
    sim.set_deadline(120_000_000);
    let summary = sim.run();
    let segs = segments(sim.trace()).len();
    assert_eq!(summary.end, RunEnd::Quiet, "{segs} segments in 120 s");
    assert!(segs < 100, "{segs} segments: an ACK storm");
    assert!(summary.intact());
    for host in [A, B] {
        assert_eq!(summary.host(host).unwrap().final_state, State::Closed);
    }
}

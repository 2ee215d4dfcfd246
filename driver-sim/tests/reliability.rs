//! Data gets through: the demo, a very lossy link over 200 seeds, corruption, a zero window,
//! and keep-alive ending a connection whose peer went silent.

mod common;

use std::time::Instant as WallClock;

use common::*;
use driver_sim::scenarios::ScenarioOptions;
use driver_sim::sim::RunEnd;
use tcp_engine::conn::{CloseReason, State::*};

#[test]
fn demo_data_arrives_intact_and_both_close() {
    for seed in [1, 2, 3, 4] {
        let (sim, summary) = run(
            "demo",
            &ScenarioOptions {
                seed,
                ..ScenarioOptions::default()
            },
        );
        assert!(summary.intact(), "seed {seed}");
        assert_eq!(summary.bytes(A, B), 64 * 1024);
        assert_eq!(summary.bytes(B, A), 64 * 1024);
        for host in [A, B] {
            assert_eq!(
                summary.host(host).unwrap().final_state,
                Closed,
                "seed {seed}"
            );
        }
        let t = sim.trace();
        assert!(states(t, A).contains(&TimeWait));
        assert!(states(t, B).contains(&LastAck));
    }
}

/// 200 seeds of `scenario` over 10% loss, 5% duplication and 10% reordering each way, 20 KiB
/// each way where the scenario sends both ways.
fn lossy_200_seeds(scenario: &str) {
    let started = WallClock::now();
    let mut retransmissions = 0;
    for seed in 0..200 {
        let opts = ScenarioOptions {
            seed,
            loss: Some(0.10),
            duplicate: Some(0.05),
            reorder: Some(0.10),
            bytes: Some(20 * 1024),
            ..ScenarioOptions::default()
        };
        let (_, summary) = run(scenario, &opts);
        assert!(summary.intact(), "{scenario} seed {seed}: {summary:?}");
        assert_eq!(summary.bytes(A, B), 20 * 1024, "seed {seed}");
        for host in [A, B] {
            let h = summary.host(host).unwrap();
            assert_eq!(h.final_state, Closed, "seed {seed} host {host}");
        }
        retransmissions += summary.retransmissions();
    }
    assert!(retransmissions > 200, "a lossy link needs retransmissions");
    eprintln!(
        "200 lossy {scenario} runs in {:.1} s, {retransmissions} retransmissions",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn lossy_duplicating_reordering_link_delivers_a_transfer_intact_for_200_seeds() {
    lossy_200_seeds("transfer");
}

#[test]
fn lossy_link_delivers_data_sent_after_a_half_close_intact_for_200_seeds() {
    lossy_200_seeds("half-close");
}

#[test]
fn lossy_duplicating_reordering_link_delivers_both_ways_intact_for_200_seeds() {
    lossy_200_seeds("demo");
}

#[test]
fn corrupted_segments_are_caught_by_the_checksum() {
    let opts = ScenarioOptions {
        seed: 5,
        corrupt: Some(0.10),
        bytes: Some(20 * 1024),
        ..ScenarioOptions::default()
    };
    let mut sim = driver_sim::scenarios::find("demo")
        .unwrap()
        .build(&opts)
        .unwrap();
    let summary = sim.run();
    assert_eq!(summary.end, RunEnd::Quiet);
    assert!(summary.net.corrupted > 0);
    // Every corrupted packet (both copies of a duplicated one) is dropped by IP or TCP.
    assert!(sim.bad_checksums() + summary.ip_drops >= summary.net.corrupted);
    assert!(summary.intact());
}

#[test]
fn zero_window_is_probed_then_the_transfer_completes() {
    let (sim, summary) = run_default("zero-window");
    let t = sim.trace();
    let zero = from(t, B)
        .into_iter()
        .find(|s| s.win == 0)
        .expect("B advertises a zero window");
    let probes: Vec<_> = from(t, A)
        .into_iter()
        .filter(|s| s.notes.window_probe)
        .collect();
    assert!(probes.len() >= 2, "{} window probes", probes.len());
    assert!(probes
        .iter()
        .all(|p| p.t_us > zero.t_us && p.t_us < 5_000_000));
    // Probes back off: each wait is longer than the one before.
    let gaps: Vec<u64> = probes.windows(2).map(|w| w[1].t_us - w[0].t_us).collect();
    assert!(gaps.windows(2).all(|g| g[1] > g[0]) || gaps.len() < 2);
    // The connection stays up while the probes are answered, and everything arrives.
    assert!(summary.intact());
    assert_eq!(summary.bytes(A, B), 32 * 1024);
    assert_eq!(summary.host(A).unwrap().final_state, Closed);
}

#[test]
fn keepalive_ends_a_connection_whose_peer_went_silent() {
    let (sim, summary) = run_default("keepalive");
    let t = sim.trace();
    let probes: Vec<_> = from(t, A)
        .into_iter()
        .filter(|s| s.notes.keep_alive)
        .collect();
    assert_eq!(probes.len(), 3);
    // Idle 10 s after the last segment (the handshake's ACK at 20 ms), then every 2 s.
    let times: Vec<u64> = probes.iter().map(|p| p.t_us).collect();
    assert_eq!(times, [10_020_000, 12_020_000, 14_020_000]);
    assert!(probes.iter().all(|p| p.is_lost()));
    assert_eq!(states(t, A), [Closed, SynSent, Established, Closed]);
    assert_eq!(entered(t, A, Closed), 16_020_000);
    assert_eq!(
        summary.host(A).unwrap().close_reason,
        Some(CloseReason::TimedOut)
    );
    // B, cut off, never learns: it stays ESTABLISHED.
    assert_eq!(summary.host(B).unwrap().final_state, Established);
}

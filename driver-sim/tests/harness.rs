//! The harness itself: more than two hosts, determinism, deadlines.

mod common;

use common::*;
use driver_sim::render::json_lines;
use driver_sim::scenarios::ScenarioOptions;
use driver_sim::sim::{AppScript, RunEnd, Sim, When};
use driver_sim::LinkConfig;
use tcp_engine::conn::State;

#[test]
fn four_hosts_two_connections_share_one_network() {
    let mut sim = Sim::new(3);
    sim.network_mut()
        .set_default_link(LinkConfig {
            delay_us: 5_000,
            loss: 0.05,
            ..LinkConfig::default()
        })
        .unwrap();
    let client = |to| {
        AppScript::connect_to(to, 80)
            .sending(30_000)
            .shutdown_when(When::Queued)
            .close_when(When::PeerClosed)
    };
    let server = || {
        AppScript::listen_on(80)
            .sending(10_000)
            .close_when(When::PeerClosed)
    };
    let a = sim.add_host(client(1));
    let b = sim.add_host(server());
    let c = sim.add_host(client(3).at(250_000));
    let d = sim.add_host(server());
    assert_eq!(sim.addr(c).unwrap().to_string(), "10.0.0.3");
    let summary = sim.run();
    assert_eq!(summary.end, RunEnd::Quiet);
    assert!(summary.intact());
    for (x, y) in [(a, b), (c, d)] {
        assert_eq!(summary.bytes(x, y), 30_000);
        assert_eq!(summary.bytes(y, x), 10_000);
        assert_eq!(summary.host(x).unwrap().peer, Some(y));
    }
    assert_eq!(summary.bytes(a, d), 0);
    // C's connection starts when its script says.
    assert_eq!(state_records(sim.trace(), c)[0].t_us, 250_000);
    assert!(summary.hosts.iter().all(|h| h.final_state == State::Closed));
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let json = |seed| {
        let opts = ScenarioOptions {
            seed,
            loss: Some(0.05),
            reorder: Some(0.05),
            duplicate: Some(0.05),
            jitter_us: Some(3_000),
            ..ScenarioOptions::default()
        };
        let (sim, summary) = run("demo", &opts);
        json_lines(sim.trace(), &summary, true)
    };
    assert_eq!(json(9), json(9));
    assert_ne!(json(9), json(10));
}

#[test]
fn a_deadline_stops_a_run_that_would_go_on() {
    // Keep-alive answered forever: never quiet.
    let mut sim = Sim::new(1);
    let mut cfg = Sim::default_engine_config();
    cfg.conn.keep_alive = Some(tcp_engine::conn::KeepAlive {
        idle: core::time::Duration::from_secs(1),
        interval: core::time::Duration::from_secs(1),
        probes: 3,
    });
    sim.add_host_with(cfg, AppScript::connect_to(1, 80));
    sim.add_host(AppScript::listen_on(80));
    sim.set_deadline(10_500_000);
    let summary = sim.run();
    assert_eq!(summary.end, RunEnd::Deadline);
    assert!(summary.duration_us <= 10_500_000);
    let probes = from(sim.trace(), A)
        .iter()
        .filter(|s| s.notes.keep_alive)
        .count();
    assert_eq!(probes, 10);
    assert_eq!(summary.host(A).unwrap().final_state, State::Established);
}

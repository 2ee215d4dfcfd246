//! The data path in the simulator (issue 5): loss recovery by fast retransmit rather than
//! timeouts, window scaling, PAWS, zero windows and keep-alive

use driver_sim::sim::{AppScript, Read, Sim, TraceEvent, When};
use driver_sim::LinkConfig;
use tcp_engine::conn::{CloseReason, KeepAlive};
use tcp_engine::wire::TcpFlags;

fn transfer(
    seed: u64,
    link: LinkConfig,
    bytes: usize,
    sack: bool,
) -> (Sim, driver_sim::sim::Summary) {
    let mut sim = Sim::new(seed);
    sim.network_mut().set_default_link(link).unwrap();
    let mut cfg = Sim::default_engine_config();
    cfg.conn.sack = sack;
    let client = AppScript::connect_to(1, 80)
        .sending(bytes)
        .shutdown_when(When::Acked)
        .close_when(When::PeerClosed);
    let server = AppScript::listen_on(80).close_when(When::PeerClosed);
    sim.add_host_with(cfg, client);
    sim.add_host_with(cfg, server);
    let sum = sim.run();
    (sim, sum)
}

/// With 1 % loss nearly every loss is repaired by fast retransmit, not by the timer
#[test]
fn one_percent_loss_is_repaired_by_fast_retransmit() {
    let link = LinkConfig {
        loss: 0.01,
        delay_us: 5_000,
        ..LinkConfig::default()
    };
    let (mut fast, mut timeouts, mut lost) = (0u32, 0u32, 0usize);
    for seed in 0..5 {
        let (sim, sum) = transfer(seed, link.clone(), 1 << 20, true);
        assert!(sum.intact());
        let a = sum.hosts[0].stats.unwrap();
        fast += a.fast_retransmits;
        timeouts += a.timeouts;
        lost += sim
            .trace()
            .iter()
            .filter(
                |e| matches!(e, TraceEvent::Segment(s) if s.src == 0 && s.len > 0 && s.is_lost()),
            )
            .count();
    }
    assert!(lost > 20, "enough losses to judge ({lost})");
    assert!(
        timeouts * 5 <= fast,
        "fast retransmits {fast}, timeouts {timeouts}, data segments lost {lost}"
    );
}

/// Several losses in one window are repaired within about one RTT with SACK
#[test]
fn sack_repairs_a_burst_of_losses_in_about_one_rtt() {
    let mut sim = Sim::new(7);
    sim.network_mut()
        .set_default_link(LinkConfig {
            delay_us: 10_000,
            ..LinkConfig::default()
        })
        .unwrap();
    let client = AppScript::connect_to(1, 80)
        .sending(200_000)
        .shutdown_when(When::Acked)
        .close_when(When::PeerClosed);
    let server = AppScript::listen_on(80).close_when(When::PeerClosed);
    sim.add_host(client);
    sim.add_host(server);
    // Drop the 20th, 22nd and 24th data segments from A (first transmissions).
    for nth in [20, 22, 24] {
        sim.add_drop_rule(
            driver_sim::sim::DropRule::first(0, TcpFlags::ACK)
                .with_payload(true)
                .nth(nth, 1),
        );
    }
    let sum = sim.run();
    assert!(sum.intact());
    let a = sum.hosts[0].stats.unwrap();
    assert_eq!(a.timeouts, 0, "{a:?}");
    let seg = |e: &TraceEvent| match e {
        TraceEvent::Segment(s) if s.src == 0 && s.len > 0 => Some(s.clone()),
        _ => None,
    };
    let lost: Vec<_> = sim
        .trace()
        .iter()
        .filter_map(seg)
        .filter(|s| s.is_lost())
        .collect();
    assert_eq!(lost.len(), 3);
    let last_repair = sim
        .trace()
        .iter()
        .filter_map(seg)
        .filter(|s| s.notes.retransmission && lost.iter().any(|l| l.seq == s.seq))
        .map(|s| s.t_us)
        .max()
        .unwrap();
    let rtt = 20_000;
    assert!(
        last_repair - lost[0].t_us <= 2 * rtt,
        "all holes resent {} us after the first loss",
        last_repair - lost[0].t_us
    );
}

/// Window scaling lets more than 64 KiB travel per round trip
#[test]
fn window_scaling_moves_more_than_64k_per_rtt() {
    let mut sim = Sim::new(3);
    sim.network_mut()
        .set_default_link(LinkConfig {
            delay_us: 50_000,
            ..LinkConfig::default()
        })
        .unwrap();
    let mut cfg = Sim::default_engine_config();
    cfg.rx_buffer = 1 << 20;
    cfg.tx_buffer = 1 << 20;
    let client = AppScript::connect_to(1, 80)
        .sending(8 << 20)
        .shutdown_when(When::Acked)
        .close_when(When::PeerClosed);
    let server = AppScript::listen_on(80).close_when(When::PeerClosed);
    sim.add_host_with(cfg, client);
    sim.add_host_with(cfg, server);
    let sum = sim.run();
    assert!(sum.intact());
    // Count the bytes A sent in its busiest 100 ms (one RTT).
    let sends: Vec<(u64, usize)> = sim
        .trace()
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment(s) if s.src == 0 => Some((s.t_us, s.len)),
            _ => None,
        })
        .collect();
    let best = sends
        .iter()
        .map(|&(t0, _)| {
            sends
                .iter()
                .filter(|&&(t, _)| t >= t0 && t < t0 + 100_000)
                .map(|&(_, l)| l)
                .sum::<usize>()
        })
        .max()
        .unwrap();
    assert!(best > 64 * 1024, "at most {best} bytes per RTT");
}

/// A receiver that does not read closes its window; the sender probes, then resumes
#[test]
fn zero_window_then_reopen() {
    let mut sim = Sim::new(1);
    sim.network_mut()
        .set_default_link(LinkConfig {
            delay_us: 5_000,
            ..LinkConfig::default()
        })
        .unwrap();
    let client = AppScript::connect_to(1, 80)
        .sending(300_000)
        .shutdown_when(When::Acked)
        .close_when(When::PeerClosed);
    let server = AppScript::listen_on(80)
        .reading(Read::From(20_000_000))
        .close_when(When::PeerClosed);
    sim.add_host(client);
    sim.add_host(server);
    let sum = sim.run();
    assert!(sum.intact());
    let zero_windows = sim
        .trace()
        .iter()
        .filter(|e| matches!(e, TraceEvent::Segment(s) if s.src == 1 && s.win == 0))
        .count();
    assert!(zero_windows > 0);
}

/// Keep-alive ends a connection to a peer that vanished, after the probe count
#[test]
fn keep_alive_ends_a_silent_peer() {
    let mut sim = Sim::new(1);
    sim.network_mut()
        .set_default_link(LinkConfig {
            delay_us: 5_000,
            ..LinkConfig::default()
        })
        .unwrap();
    let mut cfg = Sim::default_engine_config();
    cfg.conn.keep_alive = Some(KeepAlive {
        idle: std::time::Duration::from_secs(60),
        interval: std::time::Duration::from_secs(10),
        probes: 4,
    });
    sim.add_host_with(cfg, AppScript::connect_to(1, 80));
    sim.add_host(AppScript::listen_on(80));
    // After the handshake the server's side of the link goes dark.
    let mut dark = LinkConfig {
        delay_us: 5_000,
        ..LinkConfig::default()
    };
    dark.partitions = vec![(1_000_000, u64::MAX / 2)];
    sim.network_mut()
        .set_link(driver_sim::HostId(1), driver_sim::HostId(0), dark)
        .unwrap();
    sim.set_deadline(600_000_000);
    let sum = sim.run();
    assert_eq!(sum.hosts[0].close_reason, Some(CloseReason::TimedOut));
    let probes = sim
        .trace()
        .iter()
        .filter(|e| matches!(e, TraceEvent::Segment(s) if s.src == 0 && s.notes.keep_alive))
        .count();
    assert_eq!(probes, 4);
}

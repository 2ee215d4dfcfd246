//! Property tests of the handshake, data and teardown invariants under random faults
//!
//! Each case builds a two-host simulation with a random fault schedule (loss, duplication,
//! reordering, delay and jitter, corruption, a partition) and random application scripts,
//! runs it until quiet, and checks the trace:
//!
//! - handshake: both reach ESTABLISHED, or the opener reports refused or timed out and the
//!   passive side keeps nothing;
//! - data: exactly the bytes written are read, once, in order (SHA-256 of both streams);
//! - teardown: after both close, both reach CLOSED; the active closer's TIME-WAIT lasts 2·MSL
//!   (restarted by retransmitted FINs); no connection, TIME-WAIT entry or timer is left;
//! - legality: every state change is an edge of the transition table; nothing new is sent
//!   after a FIN; no ACK acknowledges unsent data; the advertised right edge never moves left;
//! - timers: a quiet run ends with no deadline armed.
//!
//! CI runs 256 cases per property; `PROPTEST_CASES` raises it. Failing cases are kept in
//! `tests/proptest-regressions/`.

use std::collections::HashMap;

use driver_sim::sim::{AppScript, Read, RunEnd, Sim, TraceEvent, When};
use driver_sim::LinkConfig;
use proptest::prelude::*;
use tcp_engine::conn::{is_legal, CloseReason, State};
use tcp_engine::wire::TcpFlags;

const MSL_US: u64 = 30_000_000;

#[derive(Debug, Clone)]
struct Faults {
    loss: f64,
    dup: f64,
    reorder: f64,
    corrupt: f64,
    delay_ms: u64,
    jitter_ms: u64,
    partition: Option<(u64, u64)>,
}

fn faults() -> impl Strategy<Value = Faults> {
    (
        0.0..0.15f64,
        0.0..0.05f64,
        0.0..0.15f64,
        0.0..0.03f64,
        1..40u64,
        0..10u64,
        proptest::option::of((0..3_000u64, 100..4_000u64)),
    )
        .prop_map(
            |(loss, dup, reorder, corrupt, delay_ms, jitter_ms, partition)| Faults {
                loss,
                dup,
                reorder,
                corrupt,
                delay_ms,
                jitter_ms,
                partition: partition.map(|(s, l)| (s * 1000, (s + l) * 1000)),
            },
        )
}

#[derive(Debug, Clone, Copy)]
enum Ending {
    ClientFirst,
    ServerFirst,
    Both,
    ClientAborts,
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        Just(Ending::ClientFirst),
        Just(Ending::ServerFirst),
        Just(Ending::Both),
        Just(Ending::ClientAborts)
    ]
}

fn link(f: &Faults) -> LinkConfig {
    LinkConfig {
        loss: f.loss,
        duplicate: f.dup,
        reorder: f.reorder,
        reorder_delay_us: 5_000,
        corrupt: f.corrupt,
        delay_us: f.delay_ms * 1000,
        jitter_us: f.jitter_ms * 1000,
        partitions: f.partition.into_iter().collect(),
        ..LinkConfig::default()
    }
}

/// Run one case; returns the simulation after it went quiet
fn run(
    seed: u64,
    f: &Faults,
    a_bytes: usize,
    b_bytes: usize,
    end: Ending,
    listen: bool,
) -> (Sim, driver_sim::sim::Summary) {
    let mut sim = Sim::new(seed);
    sim.network_mut().set_default_link(link(f)).unwrap();
    sim.set_deadline(4 * 3600 * 1_000_000);
    let mut client = AppScript::connect_to(1, 80).sending(a_bytes);
    let mut server = if listen {
        AppScript::listen_on(80)
    } else {
        AppScript::idle()
    }
    .sending(b_bytes);
    // The first closer half-closes and closes once the peer has finished too: closing
    // outright while the peer still sends would rightly reset the connection (SHLD-3).
    match end {
        Ending::ClientFirst => {
            client = client
                .shutdown_when(When::Acked)
                .close_when(When::PeerClosed);
            server = server.close_when(When::PeerClosed);
        }
        Ending::ServerFirst => {
            server = server
                .shutdown_when(When::Acked)
                .close_when(When::PeerClosed);
            client = client.close_when(When::PeerClosed);
        }
        Ending::Both => {
            client = client
                .shutdown_when(When::Queued)
                .close_when(When::PeerClosed);
            server = server
                .shutdown_when(When::Queued)
                .close_when(When::PeerClosed);
        }
        Ending::ClientAborts => {
            client = client.abort_when(When::Acked);
            server = server.close_when(When::PeerClosed);
        }
    }
    let _ = (Read::Always,);
    sim.add_host(client);
    sim.add_host(server);
    let summary = sim.run();
    (sim, summary)
}

/// Checks every case must pass, whatever happened
fn check_legality(sim: &Sim) -> Result<(), TestCaseError> {
    let mut max_sent: HashMap<u32, u32> = HashMap::new(); // host -> highest seq + len sent
    let mut fin_at: HashMap<u32, u32> = HashMap::new();
    let mut edge: HashMap<u32, u32> = HashMap::new();
    let mut time_wait: HashMap<u32, bool> = HashMap::new();
    for ev in sim.trace() {
        match ev {
            TraceEvent::State(s) => {
                prop_assert!(
                    is_legal(s.from, s.to),
                    "illegal {} -> {} on host {}",
                    s.from,
                    s.to,
                    s.host
                );
                time_wait.insert(s.host, s.to == State::TimeWait);
            }
            TraceEvent::Segment(s) => {
                if s.flags.contains(TcpFlags::SYN) {
                    // A new incarnation starts its own sequence space.
                    fin_at.remove(&s.src);
                    edge.remove(&s.src);
                    max_sent.insert(s.src, s.seq.wrapping_add(s.seg_len()));
                    continue;
                }
                let end = s.seq.wrapping_add(s.seg_len());
                if let Some(&f) = fin_at.get(&s.src) {
                    prop_assert!(
                        end.wrapping_sub(f.wrapping_add(1)) as i32 <= 0,
                        "host {} sent past its FIN",
                        s.src
                    );
                }
                if s.flags.contains(TcpFlags::FIN) {
                    fin_at
                        .entry(s.src)
                        .or_insert(s.seq.wrapping_add(s.len as u32));
                }
                let m = max_sent.entry(s.src).or_insert(end);
                if end.wrapping_sub(*m) as i32 > 0 {
                    *m = end;
                }
                if s.flags.contains(TcpFlags::ACK) && !s.flags.contains(TcpFlags::RST) {
                    if let Some(&peer_max) = max_sent.get(&s.dst) {
                        prop_assert!(
                            s.ack.wrapping_sub(peer_max) as i32 <= 0,
                            "host {} acked unsent data",
                            s.src
                        );
                    }
                    // A compact TIME-WAIT entry keeps no receive window: its ACKs say 0.
                    if time_wait.get(&s.src).copied().unwrap_or(false) {
                        continue;
                    }
                    let right = s.ack.wrapping_add(s.win);
                    if let Some(&prev) = edge.get(&s.src) {
                        prop_assert!(
                            right.wrapping_sub(prev) as i32 >= 0,
                            "host {} moved its right edge left",
                            s.src
                        );
                    }
                    edge.insert(s.src, right);
                }
            }
        }
    }
    Ok(())
}

fn states_of(sim: &Sim, host: u32) -> Vec<(u64, State)> {
    sim.trace()
        .iter()
        .filter_map(|e| match e {
            TraceEvent::State(s) if s.host == host && s.conn.is_some() => Some((s.t_us, s.to)),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Covers: MUST-2, MUST-3, MUST-13, MUST-18, MUST-19, MUST-58
    #[test]
    fn handshake_data_and_teardown_hold_under_faults(
        seed in any::<u64>(),
        f in faults(),
        a_bytes in 0usize..20_000,
        b_bytes in 0usize..20_000,
        end in ending(),
    ) {
        let (sim, sum) = run(seed, &f, a_bytes, b_bytes, end, true);
        check_legality(&sim)?;
        prop_assert_eq!(sum.end, RunEnd::Quiet, "the run must end by itself");
        let (a, b) = (&sum.hosts[0], &sum.hosts[1]);
        let established = states_of(&sim, 0).iter().any(|(_, s)| *s == State::Established);
        if !established {
            // The opener gave up: timed out (a partition can outlast the SYN retries).
            prop_assert_eq!(a.close_reason, Some(CloseReason::TimedOut));
        } else if !matches!(end, Ending::ClientAborts) {
            prop_assert!(sum.intact(), "data differ: {:?}", sum.hosts);
            prop_assert_eq!(a.received as usize, b_bytes);
            prop_assert_eq!(b.received as usize, a_bytes);
        }
        // Nothing is left behind (an opener that gave up keeps its closed handle until the
        // application lets go of it, as a socket does).
        // Likewise the side that was reset keeps its closed handle until it lets go.
        for h in if established { 0..2 } else { 1..2 } {
            let e = sim.engine(h).unwrap();
            let reset = matches!(end, Ending::ClientAborts) && h == 1;
            if !reset {
                prop_assert_eq!(e.connection_count(), 0, "host {} keeps a connection", h);
            }
            prop_assert_eq!(e.time_wait_count(), 0);
            prop_assert_eq!(e.poll_timeout(), None);
        }
        // The active closer's TIME-WAIT lasts 2·MSL, counted from the last segment it got.
        if established && !matches!(end, Ending::ClientAborts) {
            for h in 0..2u32 {
                let st = states_of(&sim, h);
                let Some(&(tw, _)) = st.iter().find(|(_, s)| *s == State::TimeWait) else { continue };
                let Some(&(closed, _)) = st.iter().rev().find(|(_, s)| *s == State::Closed) else { continue };
                let span = closed - tw;
                prop_assert!(span >= 2 * MSL_US, "TIME-WAIT {} us", span);
                let last_in = sim.trace().iter().filter_map(|e| match e {
                    TraceEvent::Segment(s) if s.dst == h && !s.is_lost() => Some(s.t_us),
                    _ => None,
                }).max().unwrap_or(tw);
                let slack = (f.delay_ms + f.jitter_ms) * 1000 + 5_100 + 1_000;
                prop_assert!(closed <= last_in.max(tw) + 2 * MSL_US + slack, "TIME-WAIT too long: {} us", span);
            }
        }
    }

    #[test]
    fn refused_or_timed_out_leaves_nothing_behind(seed in any::<u64>(), f in faults()) {
        let (sim, sum) = run(seed, &f, 100, 0, Ending::ClientFirst, false);
        check_legality(&sim)?;
        let reason = sum.hosts[0].close_reason;
        prop_assert!(matches!(reason, Some(CloseReason::Refused | CloseReason::TimedOut)), "{:?}", reason);
        // The passive side keeps nothing for it.
        prop_assert_eq!(sim.engine(1).unwrap().connection_count(), 0);
        prop_assert_eq!(sim.engine(1).unwrap().poll_timeout(), None);
    }
}

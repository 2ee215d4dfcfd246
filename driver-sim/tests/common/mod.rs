//! Helpers shared by the integration tests: run a scenario, read state sequences and
//! segments out of the trace.

#![allow(dead_code, unreachable_pub)]

use driver_sim::scenarios::{find, ScenarioOptions};
use driver_sim::sim::{SegmentRecord, Sim, StateRecord, Summary, TraceEvent};
use tcp_engine::conn::State;
use tcp_engine::wire::TcpFlags;

/// Host A's and host B's indexes.
pub const A: u32 = 0;
pub const B: u32 = 1;

/// Runs scenario `name` with `opts`; panics if it does not end quietly.
pub fn run(name: &str, opts: &ScenarioOptions) -> (Sim, Summary) {
    let mut sim = find(name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
        .build(opts)
        .expect("valid options");
    let summary = sim.run();
    assert_eq!(
        summary.end,
        driver_sim::sim::RunEnd::Quiet,
        "{name} did not end quietly"
    );
    (sim, summary)
}

/// Runs scenario `name` with default options and the given seed.
pub fn run_default(name: &str) -> (Sim, Summary) {
    run(name, &ScenarioOptions::default())
}

/// The state changes of `host`, in order.
pub fn state_records(trace: &[TraceEvent], host: u32) -> Vec<StateRecord> {
    trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::State(s) if s.host == host => Some(*s),
            _ => None,
        })
        .collect()
}

/// The states `host` went through: the first `from`, then every `to`.
pub fn states(trace: &[TraceEvent], host: u32) -> Vec<State> {
    let recs = state_records(trace, host);
    let mut out: Vec<State> = recs.first().map(|r| r.from).into_iter().collect();
    out.extend(recs.iter().map(|r| r.to));
    out
}

/// When `host` entered `state` (the first time), in µs.
pub fn entered(trace: &[TraceEvent], host: u32, state: State) -> u64 {
    state_records(trace, host)
        .iter()
        .find(|r| r.to == state)
        .unwrap_or_else(|| panic!("host {host} never entered {state}"))
        .t_us
}

/// When `host` left `state` (the last time it was in it), in µs.
pub fn left(trace: &[TraceEvent], host: u32, state: State) -> u64 {
    state_records(trace, host)
        .iter()
        .rev()
        .find(|r| r.from == state)
        .unwrap_or_else(|| panic!("host {host} never left {state}"))
        .t_us
}

/// Every segment, in order.
pub fn segments(trace: &[TraceEvent]) -> Vec<&SegmentRecord> {
    trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment(s) => Some(s),
            TraceEvent::State(_) => None,
        })
        .collect()
}

/// Segments from `host`.
pub fn from(trace: &[TraceEvent], host: u32) -> Vec<&SegmentRecord> {
    segments(trace)
        .into_iter()
        .filter(|s| s.src == host)
        .collect()
}

/// Flags as letters, for readable assertions.
pub fn letters(f: TcpFlags) -> String {
    f.letters().to_string()
}

/// Two MSL at the engine's default MSL (30 s), in µs.
pub const TWO_MSL_US: u64 = 60_000_000;

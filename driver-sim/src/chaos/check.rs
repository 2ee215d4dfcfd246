//! The invariants every chaos case must hold, checked on the trace and the engines after the
//! run: handshake, data, legality of every state change and segment, TIME-WAIT's length, and
//! that nothing is left behind once the run is quiet.

use std::collections::HashMap;

use core::net::SocketAddr;

use tcp_engine::conn::{is_legal, CloseReason, State};
use tcp_engine::wire::TcpFlags;

use super::case::ChaosCase;
use crate::sim::{payload, RunEnd, SegmentRecord, Sha256Digest, Sim, Summary, TraceEvent};

/// Slack allowed past 2·MSL for a TIME-WAIT entry, whose expiry is kept in whole milliseconds
/// (rounded up, never early).
const TIME_WAIT_ROUNDING_US: u64 = 1_000;

/// Every invariant `sim` (a finished run of `case`, summed up in `summary`) breaks, in words;
/// empty when the run is correct.
#[must_use]
pub fn violations(case: &ChaosCase, sim: &Sim, summary: &Summary) -> Vec<String> {
    let mut v = Vec::new();
    if summary.end != RunEnd::Quiet {
        v.push(format!(
            "the run ended {:?} at {:.3} s instead of going quiet",
            summary.end,
            summary.duration_us as f64 / 1e6
        ));
    }
    legal_transitions(sim.trace(), &mut v);
    handshake(case, sim, summary, &mut v);
    data(case, summary, &mut v);
    segments(sim.trace(), &mut v);
    for h in 0..2 {
        time_wait(case, sim.trace(), h, &mut v);
    }
    left_behind(sim, summary, &mut v);
    v
}

fn name(h: u32) -> char {
    if h == 0 {
        'A'
    } else {
        'B'
    }
}

/// Every state change is an edge of the transition table.
fn legal_transitions(trace: &[TraceEvent], v: &mut Vec<String>) {
    for e in trace {
        if let TraceEvent::State(s) = e {
            if !is_legal(s.from, s.to) {
                v.push(format!(
                    "illegal transition {} -> {} on {} at {} us",
                    s.from,
                    s.to,
                    name(s.host),
                    s.t_us
                ));
            }
        }
    }
}

/// Whether host `h`'s connection ever reached ESTABLISHED (or a later synchronized state).
fn synchronized(trace: &[TraceEvent], h: u32) -> bool {
    trace.iter().any(|e| {
        matches!(e, TraceEvent::State(s)
            if s.host == h && s.conn.is_some() && s.to.is_synchronized())
    })
}

/// Both sides reach ESTABLISHED, or the opener reports refused or timed out.
fn handshake(case: &ChaosCase, sim: &Sim, summary: &Summary, v: &mut Vec<String>) {
    let trace = sim.trace();
    let aborter = case.ending.aborter();
    let openers: &[u32] = if case.simultaneous_open {
        &[0, 1]
    } else {
        &[0]
    };
    for &h in openers {
        if synchronized(trace, h) {
            continue;
        }
        let reason = summary.host(h).and_then(|s| s.close_reason);
        let ok = match reason {
            Some(CloseReason::Refused | CloseReason::TimedOut) => true,
            Some(CloseReason::Aborted) => aborter == Some(h),
            // The peer aborted, or in a simultaneous open reset our SYN-RECEIVED.
            Some(CloseReason::Reset) => aborter.is_some() || case.simultaneous_open,
            _ => false,
        };
        if !ok {
            v.push(format!(
                "opener {} never reached ESTABLISHED and was not refused or timed out (reason {:?})",
                name(h),
                reason
            ));
        }
    }
    // B's half-open entry may time out (all its SYN-ACK retransmissions or A's ACKs lost)
    // while A is established; A then learns it by a RST, or keeps waiting if it has nothing
    // to send.
    let a_reason = summary.host(0).and_then(|s| s.close_reason);
    let b_reason = summary.host(1).and_then(|s| s.close_reason);
    if synchronized(trace, 0)
        && aborter.is_none()
        && !matches!(a_reason, Some(CloseReason::Reset | CloseReason::TimedOut))
        && b_reason != Some(CloseReason::TimedOut)
        && !synchronized(trace, 1)
    {
        v.push("A reached ESTABLISHED but B never did".to_string());
    }
}

/// Exactly the bytes written are read, once, in order: what arrived is always a prefix of what
/// was sent (SHA-256), and all of it when both sides closed gracefully.
fn data(case: &ChaosCase, summary: &Summary, v: &mut Vec<String>) {
    let graceful = summary
        .hosts
        .iter()
        .all(|h| h.close_reason == Some(CloseReason::Normal));
    for from in 0..2u32 {
        let to = 1 - from;
        let (Some(_), Some(r)) = (summary.host(from), summary.host(to)) else {
            continue;
        };
        let sent = case.bytes[from as usize] as u64;
        if r.received > sent {
            v.push(format!(
                "{} read {} bytes but {} sent only {sent}",
                name(to),
                r.received,
                name(from)
            ));
            continue;
        }
        let prefix = payload(case.seed, from, r.received as usize);
        if Sha256Digest::of(&prefix) != r.received_digest {
            v.push(format!(
                "the {} bytes {} read are not the first {} bytes {} sent (SHA-256 differs)",
                r.received,
                name(to),
                r.received,
                name(from)
            ));
        }
        // An application that aborts (even after the connection closed) stops reading.
        let stopped_reading = case.ending.aborter() == Some(to);
        if graceful && !stopped_reading && (r.received != sent || !r.eof) {
            v.push(format!(
                "both closed gracefully but {} read {} of {sent} bytes from {} (end of stream {})",
                name(to),
                r.received,
                name(from),
                r.eof
            ));
        }
    }
}

/// What one direction of a connection has sent so far.
#[derive(Default)]
struct Flow {
    /// One past the highest sequence number sent.
    max_end: Option<u32>,
    /// The FIN's sequence number.
    fin: Option<u32>,
    /// The advertised right window edge (ACK + window).
    edge: Option<u32>,
}

/// `a` after `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Nothing new after a FIN; no ACK of unsent data; the right window edge never moves left.
fn segments(trace: &[TraceEvent], v: &mut Vec<String>) {
    let mut flows: HashMap<(SocketAddr, SocketAddr), Flow> = HashMap::new();
    let mut time_wait = [false; 2];
    for e in trace {
        let s = match e {
            TraceEvent::State(s) => {
                if let Some(tw) = time_wait.get_mut(s.host as usize) {
                    *tw = s.to == State::TimeWait;
                }
                continue;
            }
            TraceEvent::Segment(s) => s,
        };
        if s.flags.contains(TcpFlags::RST) {
            continue;
        }
        let end = s.seq.wrapping_add(s.seg_len());
        if s.flags.contains(TcpFlags::SYN) {
            // A new incarnation starts its own sequence space.
            let f = flows.entry((s.src_addr, s.dst_addr)).or_default();
            *f = Flow {
                max_end: Some(end),
                ..Flow::default()
            };
        } else {
            one_segment(&mut flows, s, time_wait, v);
        }
        if v.len() > 20 {
            return;
        }
    }
}

fn one_segment(
    flows: &mut HashMap<(SocketAddr, SocketAddr), Flow>,
    s: &SegmentRecord,
    time_wait: [bool; 2],
    v: &mut Vec<String>,
) {
    let end = s.seq.wrapping_add(s.seg_len());
    let f = flows.entry((s.src_addr, s.dst_addr)).or_default();
    if let Some(fin) = f.fin {
        if after(end, fin.wrapping_add(1)) {
            v.push(format!(
                "{} sent past its FIN at {} us (seq {} len {}, FIN at {fin})",
                name(s.src),
                s.t_us,
                s.seq,
                s.len
            ));
        }
    }
    if s.flags.contains(TcpFlags::FIN) && f.fin.is_none() {
        f.fin = Some(s.seq.wrapping_add(s.len as u32));
    }
    if f.max_end.map_or(true, |m| after(end, m)) {
        f.max_end = Some(end);
    }
    if !s.flags.contains(TcpFlags::ACK) {
        return;
    }
    let peer_max = flows.get(&(s.dst_addr, s.src_addr)).and_then(|p| p.max_end);
    if let Some(m) = peer_max {
        if after(s.ack, m) {
            v.push(format!(
                "{} acknowledged unsent data at {} us (ack {}, peer sent up to {m})",
                name(s.src),
                s.t_us,
                s.ack
            ));
        }
    }
    // A compact TIME-WAIT entry keeps no receive buffer: its window means nothing.
    if time_wait.get(s.src as usize).copied().unwrap_or(false) {
        return;
    }
    let right = s.ack.wrapping_add(s.win);
    let f = flows.entry((s.src_addr, s.dst_addr)).or_default();
    if let Some(prev) = f.edge {
        if after(prev, right) {
            v.push(format!(
                "{} moved its right window edge left at {} us ({prev} -> {right})",
                name(s.src),
                s.t_us
            ));
        }
    }
    f.edge = Some(right);
}

/// A segment's arrivals at its destination (original and duplicate) unless it was lost, each
/// with whether it was corrupted (a corrupted IPv6 header field outside the pseudo-header, such
/// as the flow label, still passes the TCP checksum).
fn arrivals(s: &SegmentRecord) -> impl Iterator<Item = (u64, bool)> + '_ {
    s.outcome.iter().flat_map(|o| {
        [o.arrival_us, o.duplicate_arrival_us]
            .into_iter()
            .flatten()
            .map(|t| (t, o.is_corrupted()))
    })
}

/// TIME-WAIT lasts 2·MSL from entering it or from the last retransmitted FIN that restarted it
/// (RFC 9293 §3.10.7.4), within the entry's millisecond rounding; an exact RST may end it
/// early only when the RFC 1337 guard is off.
fn time_wait(case: &ChaosCase, trace: &[TraceEvent], h: u32, v: &mut Vec<String>) {
    let two_msl = 2 * case.msl_us(h);
    let guard = case.engines[h as usize].conn.time_wait_rst_guard;
    let mut start = None;
    for e in trace {
        let TraceEvent::State(s) = e else { continue };
        if s.host != h || s.conn.is_none() {
            continue;
        }
        if s.to == State::TimeWait {
            start = Some(s.t_us);
        } else if s.from == State::TimeWait {
            // The application may abort in TIME-WAIT: that ends it at once.
            if let (Some(t0), false) = (start.take(), s.reason == Some(CloseReason::Aborted)) {
                check_time_wait(trace, h, (t0, s.t_us), two_msl, guard, v);
            }
        }
    }
}

fn check_time_wait(
    trace: &[TraceEvent],
    h: u32,
    (t0, end): (u64, u64),
    two_msl: u64,
    guard: bool,
    v: &mut Vec<String>,
) {
    // FINs that may have restarted the timer, and those that must have: a FIN whose timestamp
    // is not older than any segment that arrived before it passes PAWS.
    let mut may = vec![t0];
    let mut must = t0;
    let mut newest_ts: Option<u32> = None;
    let mut rst_at = Vec::new();
    let mut incoming: Vec<(u64, bool, &SegmentRecord)> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment(s) if s.dst == h => Some(s),
            _ => None,
        })
        .flat_map(|s| arrivals(s).map(move |(t, bad)| (t, bad, s)))
        .collect();
    incoming.sort_by_key(|(t, _, _)| *t);
    for (t, corrupted, s) in incoming {
        let ts = s.options.timestamps.map(|(val, _)| val);
        let fresh = !corrupted
            && match (ts, newest_ts) {
                (Some(val), Some(n)) => !after(n, val),
                _ => true,
            };
        if let (Some(val), false) = (ts, corrupted) {
            if newest_ts.map_or(true, |n| after(val, n)) {
                newest_ts = Some(val);
            }
        }
        if t < t0 || t > end {
            continue;
        }
        if s.flags.contains(TcpFlags::RST) {
            rst_at.push(t);
        } else if s.flags.contains(TcpFlags::FIN) && t < end {
            may.push(t);
            if fresh {
                must = must.max(t);
            }
        }
    }
    let span = end - t0;
    if !guard && rst_at.contains(&end) {
        return; // an exact RST ended it (RFC 9293 behaviour without the RFC 1337 guard)
    }
    if end < must + two_msl {
        v.push(format!(
            "{}'s TIME-WAIT ended early: {span} us in it, 2·MSL is {two_msl} us from {must} us",
            name(h)
        ));
    } else if !may
        .iter()
        .any(|&c| end >= c + two_msl && end - (c + two_msl) <= TIME_WAIT_ROUNDING_US)
    {
        v.push(format!(
            "{}'s TIME-WAIT lasted {span} us (from {t0} us): not 2·MSL ({two_msl} us) from its \
             start or from a FIN that arrived in it",
            name(h)
        ));
    }
}

/// After a quiet run: no connection (but a handle the application still holds after a reset,
/// refusal or timeout, as a socket would), no TIME-WAIT entry, no timer.
fn left_behind(sim: &Sim, summary: &Summary, v: &mut Vec<String>) {
    if summary.end != RunEnd::Quiet {
        return;
    }
    for h in 0..2u32 {
        let Some(e) = sim.engine(h) else { continue };
        let reason = summary.host(h).and_then(|s| s.close_reason);
        // A peer that timed out sends nothing more (no RST, RFC 9293 §3.8.3): the other side
        // keeps its half-open connection until it sends something or a keep-alive probe.
        let peer_timed_out =
            summary.host(1 - h).and_then(|s| s.close_reason) == Some(CloseReason::TimedOut);
        let held = peer_timed_out
            || matches!(
                reason,
                Some(CloseReason::Reset | CloseReason::Refused | CloseReason::TimedOut)
            );
        let allowed = usize::from(held);
        if e.connection_count() > allowed {
            v.push(format!(
                "{} keeps {} connection(s) after the run (final state {}, reason {:?})",
                name(h),
                e.connection_count(),
                summary.host(h).map_or("?", |s| s.final_state.name()),
                reason
            ));
        }
        if e.time_wait_count() > 0 {
            v.push(format!(
                "{} keeps {} TIME-WAIT entries",
                name(h),
                e.time_wait_count()
            ));
        }
        if let Some(t) = e.poll_timeout() {
            v.push(format!("{} keeps a timer armed for {t:?}", name(h)));
        }
    }
    let graceful = summary
        .hosts
        .iter()
        .all(|h| h.close_reason == Some(CloseReason::Normal));
    if graceful
        && !sim.trace().iter().any(
            |e| matches!(e, TraceEvent::State(s) if s.conn.is_some() && s.to == State::TimeWait),
        )
    {
        v.push("both closed gracefully but nobody went through TIME-WAIT".to_string());
    }
}

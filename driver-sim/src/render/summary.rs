//! The text summary printed under the ladder.

use core::fmt::Write as _;
use core::time::Duration;

use crate::sim::{reason_name, HostSummary, RunEnd, Summary, TraceEvent};

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One direction: what was sent, what arrived, whether it matches.
fn direction(out: &mut String, from: &HostSummary, to: Option<&HostSummary>) {
    let (got, digest) = match to {
        Some(t) if t.peer == Some(from.index) => (t.received, Some(t.received_digest)),
        _ => (0, None),
    };
    let verdict = if from.to_send == 0 && got == 0 {
        "nothing to send".to_string()
    } else if got == from.to_send && digest == Some(from.sent_digest) {
        format!("intact (SHA-256 {:#}… both sides)", from.sent_digest)
    } else {
        format!(
            "NOT intact (sent SHA-256 {:#}…, received {})",
            from.sent_digest,
            digest.map_or("nothing".to_string(), |d| format!("{d:#}…"))
        )
    };
    let to_name = to.map_or("?".to_string(), HostSummary::name);
    let _ = writeln!(
        out,
        "  {} → {to_name}  {:>9} bytes sent, {:>9} received, {verdict}",
        from.name(),
        from.to_send,
        got
    );
}

/// The summary: bytes each way and whether they arrived intact, retransmissions, RTT and RTO,
/// what the link did, the simulated duration and each host's final state.
#[must_use]
pub fn summary_text(s: &Summary, trace: &[TraceEvent]) -> String {
    let mut out = String::new();
    let end = match s.end {
        RunEnd::Quiet => "nothing left to do",
        RunEnd::Deadline => "deadline reached",
        RunEnd::Stalled => "STALLED: the clock stopped advancing",
    };
    let _ = writeln!(
        out,
        "Summary: {:.3} s of simulated time ({end})",
        s.duration_us as f64 / 1e6
    );
    for h in s.hosts.iter().take(2) {
        let other = s.host(1 - h.index.min(1));
        direction(&mut out, h, other);
    }
    let _ = writeln!(
        out,
        "  data intact       {}",
        if s.intact() { "yes" } else { "NO" }
    );
    let retrans: Vec<String> = s
        .hosts
        .iter()
        .map(|h| match h.stats {
            Some(st) => format!(
                "{} {} ({} on timeout, {} fast)",
                h.name(),
                st.retransmissions,
                st.timeouts,
                st.fast_retransmits
            ),
            None => format!("{} -", h.name()),
        })
        .collect();
    let _ = writeln!(out, "  retransmissions   {}", retrans.join(", "));
    let rtt: Vec<String> = s
        .hosts
        .iter()
        .filter_map(|h| {
            let st = h.stats?;
            let srtt = st.srtt.map_or("not measured".to_string(), ms);
            Some(format!("{} srtt {srtt}, rto {}", h.name(), ms(st.rto)))
        })
        .collect();
    if !rtt.is_empty() {
        let _ = writeln!(out, "  RTT / RTO         {}", rtt.join("; "));
    }
    let segs = trace
        .iter()
        .filter(|e| matches!(e, TraceEvent::Segment(_)))
        .count();
    let n = &s.net;
    let _ = writeln!(
        out,
        "  link              {segs} segments: {} lost, {} duplicated, {} reordered, {} corrupted",
        n.dropped() + s.rule_drops,
        n.duplicated,
        n.reordered,
        n.corrupted
    );
    let finals: Vec<String> = s
        .hosts
        .iter()
        .map(|h| match h.close_reason {
            Some(r) if h.final_state.name() == "CLOSED" => {
                format!("{} CLOSED ({})", h.name(), reason_name(r))
            }
            _ => format!("{} {}", h.name(), h.final_state),
        })
        .collect();
    let _ = writeln!(out, "  final states      {}", finals.join(", "));
    for h in &s.hosts {
        for e in &h.errors {
            let _ = writeln!(out, "  {} error         {e}", h.name());
        }
    }
    out
}

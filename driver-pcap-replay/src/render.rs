//! Plain-text rendering of flow tables and replay reports, for `tcp-replay`.

use std::fmt::Write as _;

use crate::flows::Flows;
use crate::report::{ReplayReport, SegmentSummary, Step, Verdict};

/// A table of the flows: index, endpoints, packets and payload bytes per
/// direction, handshake seen, how it ended.
pub fn flows_table(flows: &Flows) -> String {
    let header = [
        "#",
        "client",
        "server",
        "pkts c>s",
        "pkts s>c",
        "bytes c>s",
        "bytes s>c",
        "handshake",
        "ended",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for f in &flows.flows {
        rows.push(vec![
            f.index.to_string(),
            f.client.to_string(),
            f.server.to_string(),
            f.to_server.packets.to_string(),
            f.to_client.packets.to_string(),
            f.to_server.bytes.to_string(),
            f.to_client.bytes.to_string(),
            f.handshake.to_string(),
            f.ending.to_string(),
        ]);
    }
    let cols = header.len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let w = widths[c];
            // Numbers right-aligned, text left-aligned; the last column unpadded.
            if c == cols - 1 {
                line.push_str(cell);
            } else if (3..=6).contains(&c) || c == 0 {
                let _ = write!(line, "{cell:>w$}  ");
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if flows.flows.is_empty() {
        out.push_str("(no TCP connections)\n");
    }
    if !flows.unassigned.is_empty() {
        let _ = writeln!(
            out,
            "{} segment(s) too short to hold their ports belong to no flow",
            flows.unassigned.len()
        );
    }
    out
}

fn segment(s: &SegmentSummary) -> String {
    let ack = s.ack.map_or_else(|| "-".to_string(), |a| a.to_string());
    let frame = s.frame.map_or_else(String::new, |f| format!("#{f} "));
    format!(
        "{frame}{:.3}ms {} seq={} ack={} len={} win={}",
        s.time_us as f64 / 1000.0,
        if s.flags.is_empty() { "." } else { &s.flags },
        s.seq,
        ack,
        s.len,
        s.window
    )
}

fn step_line(step: &Step) -> String {
    let verdict = match step.verdict {
        Verdict::Mismatch => {
            let fields: Vec<String> = step.differences.iter().map(|f| f.to_string()).collect();
            format!("MISMATCH({})", fields.join(","))
        }
        v => v.to_string(),
    };
    let rec = step.expected.as_ref().map_or_else(|| "-".into(), segment);
    let eng = step.actual.as_ref().map_or_else(|| "-".into(), segment);
    let mut extra = Vec::new();
    if step.window_differs {
        extra.push("window differs");
    }
    if step.options_differ {
        extra.push("options differ");
    }
    if step.push_differs {
        extra.push("PSH differs");
    }
    let mut line = format!(
        "{:>5}  {verdict:<20} recorded: {rec:<52} engine: {eng}",
        step.index
    );
    if !extra.is_empty() {
        let _ = write!(line, "  [{}]", extra.join(", "));
    }
    if step.options_differ {
        let o =
            |s: &Option<SegmentSummary>| s.as_ref().map_or(String::new(), |s| s.options.clone());
        let _ = write!(
            line,
            "\n{:>28}recorded options: {}; engine options: {}",
            "",
            o(&step.expected),
            o(&step.actual)
        );
    }
    line
}

/// The step-by-step comparison and a summary, as text.
pub fn report_text(r: &ReplayReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "flow {}: client {}, server {}; the engine plays the {}",
        r.flow, r.client, r.server, r.role
    );
    if let Some(why) = &r.not_replayed {
        let _ = writeln!(out, "{why}");
        return out;
    }
    let isn = |x: Option<u32>| x.map_or_else(|| "?".to_string(), |v| v.to_string());
    let _ = writeln!(
        out,
        "ISNs: recorded {}, engine {}, peer {} (seq and ack below are relative to them)",
        isn(r.recorded_isn),
        isn(r.engine_isn),
        isn(r.peer_isn)
    );
    for step in &r.steps {
        out.push_str(&step_line(step));
        out.push('\n');
    }
    let c = &r.counts;
    let _ = writeln!(
        out,
        "summary: {} steps: {} matched, {} mismatched, {} missing, {} extra \
         (recorded side sent {}, engine sent {}); window differs in {}, options in {}, PSH in {}{}",
        c.steps,
        c.matched,
        c.mismatched,
        c.missing,
        c.extra,
        c.recorded,
        c.engine,
        c.window_differs,
        c.options_differ,
        c.push_differs,
        if r.capped { " (capped)" } else { "" }
    );
    let states: Vec<&str> = r.states.iter().map(|s| s.name()).collect();
    let _ = writeln!(
        out,
        "engine states: {} (final {})",
        if states.is_empty() {
            "none".to_string()
        } else {
            states.join(" > ")
        },
        r.final_state.map_or("none", |s| s.name())
    );
    let disp: Vec<String> = r
        .dispositions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        out,
        "peer segments fed: {} ({})",
        r.peer_segments,
        disp.join(", ")
    );
    for note in &r.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

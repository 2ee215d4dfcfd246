//! JSON lines: one object per segment and per state change, then a summary.
//!
//! ```text
//! {"t_us":0,"ev":"seg","src":"A","dst":"B","flags":"S","seq":0,"ack":0,"len":0,"win":64240,"fate":"delivered"}
//! {"t_us":10000,"ev":"state","host":"B","from":"LISTEN","to":"SYN-RECEIVED"}
//! {"ev":"summary","bytes_a_to_b":0,"bytes_b_to_a":0,"intact":true,"retransmissions":0,"duration_us":20000,"final":{"A":"ESTABLISHED","B":"ESTABLISHED"}}
//! ```
//!
//! `flags` lists the set flags in the order `FSRPAUEC`; `seq` and `ack` are relative to each
//! side's ISN unless absolute numbers are asked for (`ack` is 0 when the ACK flag is not set);
//! `win` is the window in bytes (scaled); `fate` is `delivered`, `lost`, `duplicated` or
//! `corrupted` (a reordered segment is `delivered`), and a lost segment also has a `cause`:
//! `rule` (a scenario's targeted loss), `loss`, `tail_drop`, `too_big` or `partition`.

use core::fmt::Write as _;

use tcp_engine::wire::TcpFlags;

use crate::sim::{host_name, SegmentRecord, StateRecord, Summary, TraceEvent};
use crate::Fate;

/// A JSON string literal.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn name(host: u32) -> String {
    if host == u32::MAX {
        string("?")
    } else {
        string(&host_name(host))
    }
}

/// One segment's line.
#[must_use]
pub fn segment_json(s: &SegmentRecord, absolute: bool) -> String {
    let seq = if absolute { s.seq } else { s.rel_seq() };
    let ack = match (s.flags.contains(TcpFlags::ACK), absolute) {
        (false, _) => 0,
        (true, true) => s.ack,
        (true, false) => s.rel_ack(),
    };
    let fate = match s.fate {
        Fate::Reordered | Fate::Delivered => "delivered",
        Fate::Corrupted => "corrupted",
        Fate::Duplicated => "duplicated",
        _ => "lost",
    };
    let mut line = format!(
        "{{\"t_us\":{},\"ev\":\"seg\",\"src\":{},\"dst\":{},\"flags\":{},\"seq\":{seq},\"ack\":{ack},\"len\":{},\"win\":{},\"fate\":\"{fate}\"",
        s.t_us,
        name(s.src),
        name(s.dst),
        string(&s.flags.letters().to_string()),
        s.len,
        s.win,
    );
    if let Some(c) = s.cause {
        let _ = write!(line, ",\"cause\":\"{}\"", c.name());
    }
    line.push('}');
    line
}

/// One state change's line.
#[must_use]
pub fn state_json(s: &StateRecord) -> String {
    format!(
        "{{\"t_us\":{},\"ev\":\"state\",\"host\":{},\"from\":\"{}\",\"to\":\"{}\"}}",
        s.t_us,
        name(s.host),
        s.from.name(),
        s.to.name()
    )
}

/// The summary line.
#[must_use]
pub fn summary_json(s: &Summary) -> String {
    let finals: Vec<String> = s
        .hosts
        .iter()
        .map(|h| format!("{}:\"{}\"", string(&h.name()), h.final_state.name()))
        .collect();
    format!(
        "{{\"ev\":\"summary\",\"bytes_a_to_b\":{},\"bytes_b_to_a\":{},\"intact\":{},\"retransmissions\":{},\"duration_us\":{},\"final\":{{{}}}}}",
        s.bytes(0, 1),
        s.bytes(1, 0),
        s.intact(),
        s.retransmissions(),
        s.duration_us,
        finals.join(",")
    )
}

/// The whole trace as JSON lines, ending with the summary line.
#[must_use]
pub fn json_lines(trace: &[TraceEvent], summary: &Summary, absolute: bool) -> String {
    let mut out = String::new();
    for e in trace {
        match e {
            TraceEvent::Segment(s) => out.push_str(&segment_json(s, absolute)),
            TraceEvent::State(s) => out.push_str(&state_json(s)),
        }
        out.push('\n');
    }
    out.push_str(&summary_json(summary));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
        assert_eq!(name(u32::MAX), "\"?\"");
        assert_eq!(name(1), "\"B\"");
    }
}

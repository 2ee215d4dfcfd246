//! The ladder diagram: time runs down, `A` on the left, `B` on the right, one arrow per
//! segment, each host's state written in its column whenever it changes.

use core::fmt::Write as _;

use tcp_engine::conn::State;
use tcp_engine::wire::TcpFlags;

use crate::sim::{reason_name, SegmentRecord, StateRecord, Summary, TraceEvent};

/// Width of the time column.
const TIME_W: usize = 10;
/// Width of a host's state column.
const STATE_W: usize = 13;
/// Width of the region between the two columns, where arrows go.
const ARROW_W: usize = 62;

/// How to draw the ladder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LadderOptions {
    /// Absolute sequence and acknowledgment numbers instead of relative ones.
    pub absolute: bool,
}

/// One printed line.
#[derive(Debug, Default)]
struct Line {
    t_us: u64,
    a: String,
    middle: String,
    b: String,
    notes: String,
}

impl Line {
    fn render(&self, out: &mut String) {
        let time = format!("{:.3}", self.t_us as f64 / 1000.0);
        let mut s = format!(
            "{time:>TIME_W$}   {:<STATE_W$}{:<ARROW_W$} {:<STATE_W$}",
            self.a, self.middle, self.b
        );
        if !self.notes.is_empty() {
            s.push(' ');
            s.push_str(&self.notes);
        }
        out.push_str(s.trim_end());
        out.push('\n');
    }
}

/// The text label of a segment: flags, seq, ack, len, win and options.
#[must_use]
pub fn segment_label(s: &SegmentRecord, absolute: bool) -> String {
    let (seq, ack) = if absolute {
        (s.seq, s.ack)
    } else {
        (s.rel_seq(), s.rel_ack())
    };
    let mut l = format!("{:<2} seq {seq}", s.flags.letters().to_string());
    if s.flags.contains(TcpFlags::ACK) {
        let _ = write!(l, " ack {ack}");
    }
    if s.len > 0 {
        let _ = write!(l, " len {}", s.len);
    }
    if !s.flags.contains(TcpFlags::RST) {
        let _ = write!(l, " win {}", s.win);
    }
    let o = &s.options;
    let mut opts = Vec::new();
    if let Some(m) = o.mss {
        opts.push(format!("mss {m}"));
    }
    if let Some(w) = o.window_scale {
        opts.push(format!("ws {w}"));
    }
    if o.sack_permitted {
        opts.push("sack".to_string());
    }
    if o.timestamps.is_some() && s.flags.contains(TcpFlags::SYN) {
        opts.push("ts".to_string());
    }
    for &(left, right) in &o.sack {
        let base = if absolute { 0 } else { s.ack_base.unwrap_or(0) };
        opts.push(format!(
            "sack {}:{}",
            left.wrapping_sub(base),
            right.wrapping_sub(base)
        ));
    }
    if !opts.is_empty() {
        let _ = write!(l, " <{}>", opts.join(","));
    }
    l
}

/// The notes after a segment's arrow: `(lost)`, `(retransmission)`, ...
fn segment_notes(s: &SegmentRecord) -> String {
    let mut notes = Vec::new();
    if let Some(cause) = s.cause {
        notes.push(match cause {
            crate::sim::DropCause::Rule | crate::sim::DropCause::Loss => "lost",
            crate::sim::DropCause::TailDrop => "lost: queue full",
            crate::sim::DropCause::TooBig => "lost: larger than the MTU",
            crate::sim::DropCause::Partition => "lost: no path",
        });
    }
    let n = s.notes;
    if n.retransmission {
        notes.push("retransmission");
    }
    if n.dup_ack {
        notes.push("dup ack");
    }
    if n.keep_alive {
        notes.push("keep-alive");
    }
    if n.window_probe {
        notes.push("window probe");
    }
    if let Some(o) = &s.outcome {
        if o.is_corrupted() {
            notes.push("corrupted");
        }
        if o.duplicated {
            notes.push("duplicated");
        }
        if o.reordered {
            notes.push("reordered");
        }
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!("({})", notes.join(", "))
    }
}

/// The arrow of a segment, `left_to_right` from A to B.
fn arrow(label: &str, left_to_right: bool, lost: bool) -> String {
    let len = label.chars().count();
    let fill = ARROW_W.saturating_sub(len + 2).max(3);
    let dashes = "─".repeat(fill);
    match (left_to_right, lost) {
        (true, false) => format!("{label} {dashes}▶"),
        (true, true) => format!("{label} {}✗", "─".repeat(fill.saturating_sub(4).max(2))),
        (false, false) => format!("◀{dashes} {label}"),
        (false, true) => format!("    ✗{} {label}", "─".repeat(fill.saturating_sub(4).max(2))),
    }
}

fn state_text(s: &StateRecord) -> String {
    match (s.to, s.reason) {
        (State::Closed, Some(r)) if r != tcp_engine::conn::CloseReason::Normal => {
            format!("CLOSED ({})", reason_name(r))
        }
        (to, _) => to.name().to_string(),
    }
}

/// Draws the ladder of hosts `A` and `B` (indexes 0 and 1) from a trace, headed by their
/// addresses from the summary. Events of other hosts are left out.
#[must_use]
pub fn ladder(trace: &[TraceEvent], summary: &Summary, opts: LadderOptions) -> String {
    let mut out = String::new();
    let head = |i: u32| {
        summary.host(i).map_or_else(
            || crate::sim::host_name(i),
            |h| match h.local {
                Some(sock) => format!("{} {sock}", h.name()),
                None => format!("{} {}", h.name(), h.addr),
            },
        )
    };
    let header = Line {
        a: head(0),
        ..Line::default()
    };
    let b_head = head(1);
    let _ = writeln!(
        out,
        "{:>TIME_W$}   {:<w$} {b_head}",
        "t (ms)",
        header.a,
        w = STATE_W + ARROW_W
    );
    let first = |host: u32| {
        trace
            .iter()
            .find_map(|e| match e {
                TraceEvent::State(s) if s.host == host => Some(s.from),
                _ => None,
            })
            .unwrap_or(State::Closed)
    };
    let _ = writeln!(
        out,
        "{:>TIME_W$}   {:<w$} {}",
        "",
        first(0).name(),
        first(1).name(),
        w = STATE_W + ARROW_W
    );

    let mut pending: Option<(u32, StateRecord)> = None;
    let flush = |pending: &mut Option<(u32, StateRecord)>, out: &mut String| {
        if let Some((host, s)) = pending.take() {
            let mut line = Line {
                t_us: s.t_us,
                ..Line::default()
            };
            if host == 0 {
                line.a = state_text(&s);
            } else {
                line.b = state_text(&s);
            }
            line.render(out);
        }
    };
    for event in trace {
        match event {
            TraceEvent::State(s) if s.host <= 1 => {
                flush(&mut pending, &mut out);
                pending = Some((s.host, *s));
            }
            TraceEvent::Segment(seg) if seg.src <= 1 && seg.dst <= 1 => {
                let a_to_b = seg.src == 0;
                let label = segment_label(seg, opts.absolute);
                let mut line = Line {
                    t_us: seg.t_us,
                    middle: arrow(&label, a_to_b, seg.is_lost()),
                    notes: segment_notes(seg),
                    ..Line::default()
                };
                // A state change of the sender just before it sends shares the line.
                match pending {
                    Some((host, s))
                        if host == seg.src
                            && s.t_us == seg.t_us
                            && state_text(&s).chars().count() < STATE_W =>
                    {
                        if a_to_b {
                            line.a = state_text(&s);
                        } else {
                            line.b = state_text(&s);
                        }
                        pending = None;
                    }
                    _ => flush(&mut pending, &mut out),
                }
                line.render(&mut out);
            }
            _ => {}
        }
    }
    flush(&mut pending, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_point_the_right_way_and_keep_their_width() {
        let r = arrow("S  seq 0", true, false);
        assert!(r.starts_with("S  seq 0 ─") && r.ends_with('▶'));
        assert_eq!(r.chars().count(), ARROW_W);
        let l = arrow("SA seq 0 ack 1", false, false);
        assert!(l.starts_with('◀') && l.ends_with("ack 1"));
        assert_eq!(l.chars().count(), ARROW_W);
        assert!(arrow("x", true, true).ends_with('✗'));
        assert!(arrow("x", false, true).trim_start().starts_with('✗'));
        // A label longer than the region still gets an arrow.
        let long = "y".repeat(100);
        assert!(arrow(&long, true, false).ends_with("───▶"));
    }
}

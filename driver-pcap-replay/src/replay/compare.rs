//! Step-by-step comparison of what the engine sent with what the recorded side sent.
//!
//! The two segment lists are aligned like a diff (a Needleman–Wunsch
//! alignment): pairing two segments costs 2 per differing field among flags,
//! relative seq, relative ack and length; leaving one unpaired costs 3. So
//! segments that agree in at least two of the four fields are paired (a
//! mismatch), and the others are listed as missing or extra.
//!
//! PSH is left out of the flags comparison and reported on its own, like the
//! window and the options: when to set it is the sender's choice (RFC 9293
//! §3.9.1.2), and the replay's application hands data over segment by
//! segment, so the engine's buffer empties, and PSH goes out, more often.

use tcp_engine::wire::{ChecksumCheck, TcpFlags, TcpOptions, TcpRepr};

use super::run::Sent;
use super::script::Script;
use crate::report::{Counts, Field, SegmentSummary, Step, Verdict};
use crate::segment::HeaderView;

const GAP: u32 = 3;
const PER_FIELD: u32 = 2;

/// The comparison's result.
#[derive(Debug, Clone, Default)]
pub(crate) struct Comparison {
    pub steps: Vec<Step>,
    pub counts: Counts,
    pub capped: bool,
}

/// Relative number: `x - base`, or `x` when the base is unknown.
fn rel(x: u32, base: Option<u32>) -> u32 {
    base.map_or(x, |b| x.wrapping_sub(b))
}

/// The options that matter for comparison, as text.
fn describe_options(o: &TcpOptions, ack_base: Option<u32>) -> String {
    let mut parts = Vec::new();
    if let Some(m) = o.mss {
        parts.push(format!("mss={m}"));
    }
    if o.sack_permitted {
        parts.push("sackOK".to_string());
    }
    if o.timestamps.is_some() {
        parts.push("ts".to_string());
    }
    if let Some(w) = o.window_scale {
        parts.push(format!("ws={w}"));
    }
    if !o.sack_blocks().is_empty() {
        let blocks: Vec<String> = o
            .sack_blocks()
            .iter()
            .map(|b| format!("{}-{}", rel(b.left.0, ack_base), rel(b.right.0, ack_base)))
            .collect();
        parts.push(format!("sack={}", blocks.join(",")));
    }
    parts.join(" ")
}

/// Summary of a recorded segment (lenient: a cut header still has its flags).
fn recorded_summary(ev: &super::script::Event<'_>, script: &Script<'_>) -> Option<SegmentSummary> {
    let v: &HeaderView = &ev.view;
    let flags = v.flags?;
    let seg = ev.seg;
    let options = TcpRepr::parse_bytes(&seg.tcp, &seg.src, &seg.dst, ChecksumCheck::Skip)
        .map(|r| describe_options(&r.options, script.peer_isn))
        .unwrap_or_else(|_| "?".to_string());
    let window = seg
        .tcp
        .get(14..16)
        .map_or(0, |w| u16::from_be_bytes([w[0], w[1]]));
    Some(SegmentSummary {
        frame: Some(seg.frame),
        time_us: ev.time_us,
        flags: flags.letters().to_string(),
        seq: rel(v.seq.unwrap_or(0), script.recorded_isn),
        ack: flags
            .contains(TcpFlags::ACK)
            .then(|| rel(v.ack.unwrap_or(0), script.peer_isn)),
        len: v.payload_len(seg),
        window,
        options,
    })
}

fn engine_summary(s: &Sent, isn: Option<u32>, peer_isn: Option<u32>) -> Option<SegmentSummary> {
    let r = TcpRepr::parse_bytes(&s.bytes, &s.src, &s.dst, ChecksumCheck::Skip).ok()?;
    Some(SegmentSummary {
        frame: None,
        time_us: s.time_us,
        flags: r.flags.letters().to_string(),
        seq: rel(r.seq_number.0, isn),
        ack: r
            .flags
            .contains(TcpFlags::ACK)
            .then(|| rel(r.ack_number.0, peer_isn)),
        len: r.payload.len(),
        window: r.window_len,
        options: describe_options(&r.options, peer_isn),
    })
}

/// The flag letters without PSH.
fn without_push(flags: &str) -> impl Iterator<Item = char> + '_ {
    flags.chars().filter(|&c| c != 'P')
}

fn differences(a: &SegmentSummary, b: &SegmentSummary) -> Vec<Field> {
    let mut d = Vec::new();
    if !without_push(&a.flags).eq(without_push(&b.flags)) {
        d.push(Field::Flags);
    }
    if a.seq != b.seq {
        d.push(Field::Seq);
    }
    if a.ack != b.ack {
        d.push(Field::Ack);
    }
    if a.len != b.len {
        d.push(Field::Len);
    }
    d
}

/// Compares the recorded side's segments with the engine's.
pub(crate) fn compare(
    script: &Script<'_>,
    sent: &[Sent],
    engine_isn: Option<u32>,
    max_steps: usize,
) -> Comparison {
    let mut expected: Vec<SegmentSummary> = script
        .events
        .iter()
        .filter(|e| e.recorded)
        .filter_map(|e| recorded_summary(e, script))
        .collect();
    let mut actual: Vec<SegmentSummary> = sent
        .iter()
        .filter_map(|s| engine_summary(s, engine_isn, script.peer_isn))
        .collect();
    let max = max_steps.max(1);
    let capped = expected.len() > max || actual.len() > max;
    expected.truncate(max);
    actual.truncate(max);
    let pairs = align(&expected, &actual);
    let mut out = Comparison {
        capped,
        ..Comparison::default()
    };
    out.counts.recorded = expected.len();
    out.counts.engine = actual.len();
    for (i, (e, a)) in pairs.into_iter().enumerate() {
        let expected = e.map(|i| expected[i].clone());
        let actual = a.map(|j| actual[j].clone());
        let (verdict, diffs, window, opts, push) = match (&expected, &actual) {
            (Some(x), Some(y)) => {
                let d = differences(x, y);
                let v = if d.is_empty() {
                    Verdict::Match
                } else {
                    Verdict::Mismatch
                };
                let push = x.flags.contains('P') != y.flags.contains('P');
                (v, d, x.window != y.window, x.options != y.options, push)
            }
            (Some(_), None) => (Verdict::Missing, Vec::new(), false, false, false),
            _ => (Verdict::Extra, Vec::new(), false, false, false),
        };
        let c = &mut out.counts;
        match verdict {
            Verdict::Match => c.matched += 1,
            Verdict::Mismatch => c.mismatched += 1,
            Verdict::Missing => c.missing += 1,
            Verdict::Extra => c.extra += 1,
        }
        c.window_differs += usize::from(window);
        c.options_differ += usize::from(opts);
        c.push_differs += usize::from(push);
        out.steps.push(Step {
            index: i + 1,
            verdict,
            expected,
            actual,
            differences: diffs,
            window_differs: window,
            options_differ: opts,
            push_differs: push,
        });
    }
    out.counts.steps = out.steps.len();
    out
}

/// Aligns the two lists; each pair is (recorded index, engine index), either may be absent.
fn align(e: &[SegmentSummary], a: &[SegmentSummary]) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (e.len(), a.len());
    // 0 = diagonal, 1 = up (missing), 2 = left (extra)
    let mut dir = vec![0u8; (n + 1) * (m + 1)];
    let mut prev: Vec<u32> = (0..=m as u32).map(|j| j * GAP).collect();
    for d in dir.iter_mut().take(m + 1).skip(1) {
        *d = 2;
    }
    for i in 1..=n {
        let mut row = vec![0u32; m + 1];
        row[0] = i as u32 * GAP;
        dir[i * (m + 1)] = 1;
        for j in 1..=m {
            let k = differences(&e[i - 1], &a[j - 1]).len() as u32;
            let mut best = (prev[j] + GAP, 1u8);
            if row[j - 1] + GAP < best.0 {
                best = (row[j - 1] + GAP, 2);
            }
            if k < 4 {
                // Ties between pairing and two gaps go to the gaps when 3 fields differ.
                let diag = prev[j - 1] + k * PER_FIELD;
                if diag < best.0 || (diag == best.0 && k < 3) {
                    best = (diag, 0);
                }
            }
            let (best, d) = best;
            row[j] = best;
            dir[i * (m + 1) + j] = d;
        }
        prev = row;
    }
    let (mut i, mut j) = (n, m);
    let mut out = Vec::with_capacity(n + m);
    while i > 0 || j > 0 {
        match dir[i * (m + 1) + j] {
            0 if i > 0 && j > 0 => {
                out.push((Some(i - 1), Some(j - 1)));
                i -= 1;
                j -= 1;
            }
            1 if i > 0 => {
                out.push((Some(i - 1), None));
                i -= 1;
            }
            _ if j > 0 => {
                out.push((None, Some(j - 1)));
                j -= 1;
            }
            _ => {
                out.push((Some(i - 1), None));
                i -= 1;
            }
        }
    }
    out.reverse();
    sort_gap_runs(&mut out, e, a);
    out
}

/// Within each run of unpaired segments, lists them in time order.
fn sort_gap_runs(
    steps: &mut [(Option<usize>, Option<usize>)],
    e: &[SegmentSummary],
    a: &[SegmentSummary],
) {
    let time = |s: &(Option<usize>, Option<usize>)| match s {
        (Some(i), None) => e[*i].time_us,
        (None, Some(j)) => a[*j].time_us,
        _ => 0,
    };
    let mut start = 0;
    while start < steps.len() {
        let unpaired = |s: &(Option<usize>, Option<usize>)| s.0.is_none() || s.1.is_none();
        if !unpaired(&steps[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < steps.len() && unpaired(&steps[end]) {
            end += 1;
        }
        steps[start..end].sort_by_key(|s| (time(s), s.1.is_some()));
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(flags: &str, seq: u32, ack: u32, len: usize, time_us: u64) -> SegmentSummary {
        SegmentSummary {
            frame: None,
            time_us,
            flags: flags.to_string(),
            seq,
            ack: Some(ack),
            len,
            window: 0,
            options: String::new(),
        }
    }

    #[test]
    fn alignment_pairs_near_misses_and_lists_the_rest() {
        let recorded = [
            s("SA", 0, 1, 0, 0),
            s("A", 1, 100, 0, 10),
            s("PA", 1, 100, 50, 20),
            s("FA", 51, 100, 0, 30),
        ];
        let engine = [
            s("SA", 0, 1, 0, 0),
            s("A", 1, 100, 50, 20),  // PSH aside, same as recorded #2
            s("FA", 51, 101, 0, 30), // ack differs: a mismatch, not missing + extra
            s("R", 52, 0, 0, 40),
        ];
        let steps = align(&recorded, &engine);
        assert_eq!(
            steps,
            vec![
                (Some(0), Some(0)),
                (Some(1), None),
                (Some(2), Some(1)),
                (Some(3), Some(2)),
                (None, Some(3)),
            ]
        );
        assert!(differences(&recorded[2], &engine[1]).is_empty());
        assert_eq!(differences(&recorded[3], &engine[2]), vec![Field::Ack]);
        assert!(align(&[], &[]).is_empty());
        assert_eq!(align(&recorded[..1], &[]), vec![(Some(0), None)]);
    }
}

//! The figures as a table, or as one JSON object per line

use std::fmt::Write as _;

use super::Figure;

fn number(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{v:.0}")
            } else {
                format!("{v:.6}")
            }
        }
        _ => "null".into(),
    }
}

fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// One JSON object: `{"workload":..,"metric":..,"ours":..,"smoltcp":..}`
pub fn json(f: &Figure) -> String {
    format!(
        "{{\"workload\":\"{}\",\"metric\":\"{}\",\"ours\":{},\"smoltcp\":{}}}",
        escape(f.workload),
        escape(&f.metric),
        number(f.ours),
        number(f.smoltcp)
    )
}

fn cell(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.3}"),
    }
}

/// The table: one row per figure, with the ratio ours/smoltcp and which way is better
pub fn table(figures: &[Figure]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8} {:<18} {:>12} {:>12} {:>8} {:>12}  note",
        "workload", "metric", "ours", "smoltcp", "ratio", "ours better"
    );
    for f in figures {
        let ratio = match (f.ours, f.smoltcp) {
            (Some(o), Some(s)) if s != 0.0 => format!("{:.2}", o / s),
            _ => "-".into(),
        };
        let adv = f.advantage().map_or("-".into(), |a| format!("{a:.2}x"));
        let _ = writeln!(
            out,
            "{:<8} {:<18} {:>12} {:>12} {:>8} {:>12}  {}",
            f.workload,
            f.metric,
            cell(f.ours),
            cell(f.smoltcp),
            ratio,
            adv,
            f.note
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line() {
        let f = Figure::new("bulk", "MiB/s", Some(1.5), None, true);
        assert_eq!(
            json(&f),
            r#"{"workload":"bulk","metric":"MiB/s","ours":1.500000,"smoltcp":null}"#
        );
        assert!(table(&[f]).contains("bulk"));
    }
}

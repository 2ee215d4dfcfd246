//! The RFC 9293 conformance matrix, generated from the tests themselves
//!
//! A test covers a requirement when its name starts `rfc9293_must_13_...` (or `shld_`,
//! `may_`, `rec_`), or when a doc line right above it says `Covers: MUST-13, SHLD-14`. The
//! generator scans the workspace's Rust files for `#[test]` functions (plain and inside
//! `proptest!`), reads the requirement list from `../shared/spec/rfc9293-requirements.md`,
//! and writes `docs/conformance.md`: for every requirement marked applicable, the tests that
//! cover it or the reason it is not covered yet ([`NOT_YET`]). `cargo run -p tcp-tests --bin
//! conformance` rewrites the file; a test fails when the committed file is stale.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Requirements without a test yet, each with the reason
pub const NOT_YET: &[(&str, &str)] = &[
    ("MUST-20", "R2 (retry limit) is implemented and tested; R1 negative advice to IP is not reported yet"),
    ("MUST-30", "the urgent mechanism is parsed but urgent data is delivered in line without a separate mark"),
    ("MUST-31", "urgent data: see MUST-30"),
    ("MUST-32", "urgent data: no asynchronous urgent notification yet"),
    ("MUST-33", "urgent data: no query for unread urgent data yet"),
    ("MUST-62", "urgent pointer semantics: see MUST-30"),
    ("SHLD-4", "RFC 6191 timestamp-based TIME-WAIT shortcut not implemented"),
    ("SHLD-8", "ECN (RFC 3168) not implemented"),
    ("MAY-6", "keep-alive garbage octet not offered"),
    ("MAY-7", "data beyond a shrunk window waits for the window to reopen"),
    ("MAY-15", "SEND has no PUSH flag argument (PSH is set on the segment that empties the buffer)"),
    ("MAY-17", "PSH is not reported to the application"),
];

/// One row of the requirement table
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// `MUST-13`, `SHLD-4`, ...
    pub id: String,
    /// MUST, SHOULD, MAY, ...
    pub level: String,
    /// RFC 9293 section
    pub section: String,
    /// Table 8 group
    pub group: String,
    /// Whether the engine itself can own it ("yes" in the applies column)
    pub applies: bool,
}

/// Parse the requirement table of `rfc9293-requirements.md`
pub fn parse_requirements(text: &str) -> Vec<Requirement> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // "", ID, level, section, group, paraphrase, applies, tests, ""
            let id = *cells.get(1)?;
            let (kind, num) = id.split_once('-')?;
            if !matches!(kind, "MUST" | "SHLD" | "MAY" | "REC") || num.parse::<u32>().is_err() {
                return None;
            }
            Some(Requirement {
                id: id.to_string(),
                level: cells
                    .get(2)?
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" "),
                section: cells.get(3)?.split_whitespace().next()?.to_string(),
                group: cells.get(4)?.to_string(),
                applies: cells.get(6)?.starts_with("yes"),
            })
        })
        .collect()
}

fn id_from_name(name: &str) -> Option<String> {
    let rest = name.strip_prefix("rfc9293_")?;
    let (kind, rest) = rest.split_once('_')?;
    let num: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let kind = match kind {
        "must" => "MUST",
        "shld" => "SHLD",
        "may" => "MAY",
        "rec" => "REC",
        _ => return None,
    };
    (!num.is_empty()).then(|| format!("{kind}-{num}"))
}

/// Requirement ID → tests covering it (as `path::function`), from the Rust files under `root`
pub fn scan_tests(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    collect_rs(root, &mut files);
    files.sort();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let mut covers: Vec<String> = Vec::new();
        let mut test_attr = false;
        let in_proptest = text.contains("proptest!");
        for line in text.lines() {
            let t = line.trim();
            if let Some(list) = t.strip_prefix("/// Covers:") {
                covers.extend(
                    list.split(',')
                        .map(|s| s.trim().trim_end_matches('.').to_string()),
                );
                continue;
            }
            if t.starts_with("#[test]") {
                test_attr = true;
                continue;
            }
            if let Some(rest) = t.strip_prefix("fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if test_attr || (in_proptest && !covers.is_empty()) {
                    let key = format!("{rel}::{name}");
                    for id in covers.iter().cloned().chain(id_from_name(&name)) {
                        out.entry(id).or_default().insert(key.clone());
                    }
                }
                covers.clear();
                test_attr = false;
            } else if !t.starts_with("#[") && !t.starts_with("///") && !t.is_empty() {
                covers.clear();
                test_attr = false;
            }
        }
    }
    out
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if !matches!(name.as_ref(), "target" | ".git" | "corpus" | "artifacts") {
                collect_rs(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

/// The matrix as Markdown
pub fn render(reqs: &[Requirement], covered: &BTreeMap<String, BTreeSet<String>>) -> String {
    let applicable: Vec<&Requirement> = reqs.iter().filter(|r| r.applies).collect();
    let reasons: BTreeMap<&str, &str> = NOT_YET.iter().copied().collect();
    let n_cov = applicable
        .iter()
        .filter(|r| covered.contains_key(&r.id))
        .count();
    let mut s = String::new();
    let _ = writeln!(s, "# RFC 9293 conformance matrix\n");
    let _ = writeln!(
        s,
        "Generated by `cargo run -p tcp-tests --bin conformance` from the test names and `Covers:` lines; \
         do not edit by hand (a test fails when this file is stale).\n"
    );
    let _ = writeln!(s, "- requirements in RFC 9293 Appendix B: {}", reqs.len());
    let _ = writeln!(s, "- applicable to the engine: {}", applicable.len());
    let _ = writeln!(s, "- covered by at least one test: **{n_cov}**");
    let _ = writeln!(
        s,
        "- not covered yet (reason given): {}\n",
        applicable.len() - n_cov
    );
    let _ = writeln!(s, "| ID | Level | § | Group | Tests, or why not yet |");
    let _ = writeln!(s, "| --- | --- | --- | --- | --- |");
    for r in applicable {
        let cell = match covered.get(&r.id) {
            Some(tests) => tests
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join("<br>"),
            None => format!(
                "not yet: {}",
                reasons.get(r.id.as_str()).copied().unwrap_or("no test yet")
            ),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.id, r.level, r.section, r.group, cell
        );
    }
    s
}

/// The workspace root (the parent of this crate)
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Generate the matrix from the spec in `shared` and the tests under the workspace root
pub fn generate(shared: &Path) -> std::io::Result<String> {
    let spec = std::fs::read_to_string(shared.join("spec/rfc9293-requirements.md"))?;
    let reqs = parse_requirements(&spec);
    Ok(render(&reqs, &scan_tests(&workspace_root())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_test_names() {
        assert_eq!(
            id_from_name("rfc9293_must_13_time_wait").as_deref(),
            Some("MUST-13")
        );
        assert_eq!(
            id_from_name("rfc9293_shld_31_ooo").as_deref(),
            Some("SHLD-31")
        );
        assert_eq!(id_from_name("rfc9293_x_1"), None);
        assert_eq!(id_from_name("handshake"), None);
    }

    #[test]
    fn parses_table_rows() {
        let t = "| MUST-1 | MUST | 3.1 | Window | text | yes |  |\n| MUST-44 | MUST | 3.9.1.1 | Opening | t | driver — x |  |\n";
        let r = parse_requirements(t);
        assert_eq!(r.len(), 2);
        assert!(r[0].applies && !r[1].applies);
        assert_eq!(r[0].section, "3.1");
    }
}

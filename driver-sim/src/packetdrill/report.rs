//! Running scripts and reporting: outcomes, the first failure, and `tcp-sim pkt`

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::parser::parse;
use super::profile::Profile;
use super::run::Runner;

/// How to run scripts
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Use this profile for every script instead of choosing one per script
    pub profile: Option<Profile>,
    /// Also check that the engine's TS ecr echoes the peer's TS val as written
    pub check_ecr: bool,
    /// Also fail on segments the engine sent before the last event that no line expected
    pub strict: bool,
    /// Record every event and every segment the engine sent in [`Outcome::trace`]
    pub trace: bool,
}

/// Why a script failed: the line and what went wrong there
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Line number (0 when no single line is to blame)
    pub line: usize,
    /// The line's text, trimmed
    pub text: String,
    /// What went wrong
    pub reason: String,
}

impl Failure {
    pub(crate) fn at(line: usize, text: &str, reason: impl Into<String>) -> Self {
        Self {
            line,
            text: text.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.text.is_empty()) {
            (0, _) => write!(f, "{}", self.reason),
            (n, true) => write!(f, "line {n}: {}", self.reason),
            (n, false) => write!(f, "line {n}: {}\n  {}", self.text, self.reason),
        }
    }
}

/// The result of one script
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The script's name (its path as given)
    pub name: String,
    /// The profile it ran with
    pub profile: Profile,
    /// `Ok` when every line ran as the script says
    pub result: Result<(), Failure>,
    /// Things worth knowing that did not fail the script (settings with no engine
    /// equivalent in a setup bundle, `--non_fatal` mismatches)
    pub notes: Vec<String>,
    /// With [`RunOptions::trace`]: each event run and each segment sent, with its time
    pub trace: Vec<String>,
}

impl Outcome {
    /// Whether the script passed
    pub fn passed(&self) -> bool {
        self.result.is_ok()
    }
}

/// Run a script's text; `path` (if any) picks the profile when `opts` does not
pub fn run_script(text: &str, path: Option<&Path>, opts: &RunOptions) -> Outcome {
    let profile = opts
        .profile
        .unwrap_or_else(|| Profile::for_script(path.unwrap_or(Path::new("")), text));
    let name = path.map_or_else(|| "(script)".to_string(), |p| p.display().to_string());
    let line_text = |n: usize| {
        text.lines()
            .nth(n.saturating_sub(1))
            .map_or(String::new(), |l| l.trim().to_string())
    };
    let (result, notes, trace) = match parse(text) {
        Err(e) => (
            Err(Failure::at(e.line, &line_text(e.line), e.reason)),
            Vec::new(),
            Vec::new(),
        ),
        Ok(script) => {
            let mut runner = Runner::new(profile.settings(), opts.clone());
            let r = runner.run(&script).map_err(|mut f| {
                if f.text.is_empty() && f.line > 0 {
                    f.text = line_text(f.line);
                }
                f
            });
            (r, runner.notes, runner.trace)
        }
    };
    Outcome {
        name,
        profile,
        result,
        notes,
        trace,
    }
}

/// Read and run one script file
///
/// # Errors
///
/// When the file cannot be read.
pub fn run_file(path: &Path, opts: &RunOptions) -> std::io::Result<Outcome> {
    let text = std::fs::read_to_string(path)?;
    Ok(run_script(&text, Some(path), opts))
}

/// The `.pkt` files named by `paths`: files as given, folders searched recursively, sorted
///
/// # Errors
///
/// A message naming a path that cannot be read or a folder with no scripts.
pub fn collect_scripts(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .map(|e| {
                e.map(|e| e.path())
                    .map_err(|e| format!("{}: {e}", dir.display()))
            })
            .collect::<Result<_, _>>()?;
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "pkt") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                return Err(format!("{}: no .pkt scripts in this folder", p.display()));
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// `tcp-sim pkt`: run packetdrill scripts against the engine
#[derive(Debug, Clone, Args)]
pub struct PktArgs {
    /// Engine profile for every script: rfc, linux or freebsd [default: per script, from the
    /// corpus MANIFEST or the script's folder]
    #[arg(long, value_name = "NAME", value_parser = profile_arg)]
    pub profile: Option<Profile>,
    /// Also check that the engine's TS ecr echoes the peer's TS val
    #[arg(long)]
    pub check_ecr: bool,
    /// Also fail on segments no line expected (packetdrill ignores them until the next `>`)
    #[arg(long)]
    pub strict: bool,
    /// Show the notes of passing scripts too
    #[arg(long, short)]
    pub verbose: bool,
    /// Show every event and every segment the engine sent, with times
    #[arg(long)]
    pub trace: bool,
    /// Scripts, or folders searched recursively for `.pkt` files
    #[arg(value_name = "FILE_OR_DIR", required = true)]
    pub paths: Vec<PathBuf>,
}

fn profile_arg(s: &str) -> Result<Profile, String> {
    Profile::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
        format!(
            "unknown profile `{s}`; the profiles are {}",
            names.join(", ")
        )
    })
}

/// Run `tcp-sim pkt`; returns the exit status: 0 when every script passed, 1 when one
/// failed, 2 when a path cannot be read
pub fn execute(args: &PktArgs, out: &mut impl Write) -> i32 {
    let scripts = match collect_scripts(&args.paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tcp-sim pkt: {e}");
            return 2;
        }
    };
    let opts = RunOptions {
        profile: args.profile,
        check_ecr: args.check_ecr,
        strict: args.strict,
        trace: args.trace,
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &scripts {
        let outcome = match run_file(path, &opts) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("tcp-sim pkt: {}: {e}", path.display());
                return 2;
            }
        };
        let text = describe(&outcome, args.verbose);
        if outcome.passed() {
            passed += 1;
        } else {
            failed += 1;
        }
        if write!(out, "{text}").is_err() {
            return 1;
        }
    }
    let ok = writeln!(out, "{passed} passed, {failed} failed").is_ok() && out.flush().is_ok();
    match (ok, failed) {
        (true, 0) => 0,
        _ => 1,
    }
}

/// The report of one script: `PASS name [profile]` or `FAIL ...` with the first failure
pub fn describe(o: &Outcome, verbose: bool) -> String {
    let mut s = format!(
        "{} {} [{}]\n",
        if o.passed() { "PASS" } else { "FAIL" },
        o.name,
        o.profile.name()
    );
    if let Err(f) = &o.result {
        for line in f.to_string().lines() {
            s.push_str(&format!("    {line}\n"));
        }
    }
    if verbose || !o.passed() {
        for n in &o.notes {
            s.push_str(&format!("    note: {n}\n"));
        }
    }
    for t in &o.trace {
        s.push_str(&format!("    | {t}\n"));
    }
    s
}

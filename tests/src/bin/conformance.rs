//! Regenerates `docs/conformance.md` from the tests (see `tcp_tests::conformance`)

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(shared) = tcp_tests::shared::shared_dir() else {
        eprintln!("error: the shared reference folder is missing (set TCP_SHARED_DIR)");
        return ExitCode::from(2);
    };
    let text = match tcp_tests::conformance::generate(&shared) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read the requirement list: {e}");
            return ExitCode::from(2);
        }
    };
    let out = tcp_tests::conformance::workspace_root().join("docs/conformance.md");
    if let Err(e) = std::fs::write(&out, &text) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return ExitCode::from(1);
    }
    let covered = text
        .lines()
        .find(|l| l.contains("covered by at least one test"))
        .unwrap_or("");
    println!(
        "wrote {} ({})",
        out.display(),
        covered.trim_start_matches("- ")
    );
    ExitCode::SUCCESS
}

//! Where the third-party reference files live
//!
//! The captures, specs and scripts in `../shared` are not copied into this repository. Tests
//! find them through the `TCP_SHARED_DIR` environment variable, defaulting to `../shared` next
//! to the repository root. When the folder is missing, a test skips with a note, except under
//! CI (`CI=true`), where a missing folder is a failure.

use std::path::PathBuf;

/// The shared reference folder, or `None` (after printing why) when it is absent outside CI
///
/// # Panics
///
/// When the folder is missing and `CI=true`: in CI every reference must be there.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TCP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "shared reference folder {} not found (set TCP_SHARED_DIR)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}: in CI it must be present");
    }
    eprintln!("note: {msg}; skipping");
    None
}

/// Every regular file directly inside `sub` of the shared folder, sorted by name
pub fn shared_files(sub: &str) -> Option<Vec<PathBuf>> {
    let dir = shared_dir()?.join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Some(files)
}

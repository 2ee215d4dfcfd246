//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

/// The `pcaps` folder of the shared corpus (`$TCP_SHARED_DIR/pcaps`, or
/// `shared/pcaps` beside the workspace), or `None` after a note when it is
/// absent. Under `CI=true` a missing corpus fails the test instead.
pub fn pcaps_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("TCP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    let dir = shared.join("pcaps");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "shared capture corpus not found at {} (set TCP_SHARED_DIR)",
        dir.display()
    );
    eprintln!(
        "note: {} not found, shared capture tests skipped",
        dir.display()
    );
    None
}

/// Every file of the corpus, replay captures first, sorted by name.
pub fn corpus_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["replay", "seeds"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .expect("readable corpus folder")
            .map(|e| e.expect("dir entry").path())
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

//! Writes fuzz seed corpora from the TCP segments of every capture under a folder
//!
//! Usage: `fuzz-seeds PCAP_DIR CORPUS_DIR` (run by `fuzz/build-seeds.sh`). Each target gets
//! a sub-folder of CORPUS_DIR: `parse_segment` and `checksum` get whole segments,
//! `parse_options` gets their option bytes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use driver_pcap_replay::read_capture_file;

fn captures(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            captures(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "pcap" || e == "pcapng")
        {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pcaps, corpus] = args.as_slice() else {
        eprintln!("usage: fuzz-seeds PCAP_DIR CORPUS_DIR");
        return ExitCode::from(2);
    };
    let mut files = Vec::new();
    if let Err(e) = captures(Path::new(pcaps), &mut files) {
        eprintln!("error: cannot read {pcaps}: {e}");
        return ExitCode::from(2);
    }
    files.sort();
    let mut segments = BTreeSet::new();
    for f in &files {
        match read_capture_file(f) {
            Ok(cap) => segments.extend(cap.segments.into_iter().map(|s| s.tcp)),
            Err(e) => eprintln!("warning: {}: {e}", f.display()),
        }
    }
    for target in ["parse_segment", "checksum", "parse_options"] {
        let dir = Path::new(corpus).join(target);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("error: cannot create {}: {e}", dir.display());
            return ExitCode::from(1);
        }
        for (i, seg) in segments.iter().enumerate() {
            let bytes: &[u8] = if target == "parse_options" {
                let hl = seg.get(12).map_or(20, |b| usize::from(b >> 4) * 4);
                seg.get(20..hl.min(seg.len()).max(20)).unwrap_or(&[])
            } else {
                seg
            };
            if let Err(e) = std::fs::write(dir.join(format!("seed-{i:05}")), bytes) {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    println!(
        "{} seeds from {} captures into {corpus}",
        segments.len(),
        files.len()
    );
    ExitCode::SUCCESS
}

//! The fuzz targets' bodies over the seed corpora, so `cargo test` covers them on stable
//!
//! The seeds are the TCP segments of every capture in `../shared/pcaps` (the same set
//! `fuzz/build-seeds.sh` writes for cargo-fuzz), plus a few hand-made edge cases.

use driver_pcap_replay::read_capture_file;
use tcp_tests::fuzz_targets;
use tcp_tests::shared::shared_files;

fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![
        vec![],
        vec![0; 19],
        vec![0xff; 60],
        [&[0u8; 12][..], &[0xf0, 0x02], &[0u8; 6], &[2, 4, 5]].concat(),
    ];
    for sub in ["pcaps/replay", "pcaps/seeds"] {
        let Some(files) = shared_files(sub) else {
            continue;
        };
        for path in files {
            if let Ok(cap) = read_capture_file(&path) {
                out.extend(cap.segments.into_iter().map(|s| s.tcp));
            }
        }
    }
    out
}

#[test]
fn parse_segment_over_seeds() {
    for s in seeds() {
        fuzz_targets::parse_segment(&s);
    }
}

#[test]
fn parse_options_over_seeds() {
    for s in seeds() {
        let start = s.len().min(20);
        fuzz_targets::parse_options(&s[start..]);
        fuzz_targets::parse_options(&s);
    }
}

#[test]
fn checksum_over_seeds() {
    for s in seeds() {
        fuzz_targets::checksum(&s);
    }
}

#[test]
fn engine_target_over_seeds_and_simple_scripts() {
    let scripts: Vec<Vec<u8>> = vec![
        vec![],
        vec![5, 200, 4, 0, 100, 1, 0x18, 3, 232, 0, 0, 0, 0, 255, 255, 10],
        vec![7, 1, 4, 0, 50, 4, 255, 255, 4, 255, 255],
        vec![7, 2, 5, 255, 4, 3, 232, 4, 39, 16],
        (0..=255u8).collect(),
    ];
    for s in scripts.iter().chain(seeds().iter()) {
        fuzz_targets::engine(s);
    }
}

/// Found by the `parse_segment` fuzz target in CI: timestamps, window scale and three SACK
/// blocks packed into 40 option bytes, which the NOP-aligned layout cannot re-emit
#[test]
fn packed_options_re_emit() {
    let crash: &[u8] = &[
        130, 92, 0, 80, 156, 157, 233, 208, 90, 54, 44, 114, 240, 16, 3, 252, 44, 29, 0, 1, 8, 10,
        5, 110, 5, 48, 123, 99, 1, 17, 5, 26, 123, 162, 90, 54, 129, 35, 26, 0, 0, 0, 0, 0, 0, 0,
        0, 60, 0, 0, 0, 2, 4, 5, 160, 1, 3, 3, 4, 1, 4, 2, 0, 178, 90, 90, 54, 123, 162, 90, 54,
        84, 129, 60, 178, 54, 0, 0, 0, 6, 84, 10,
    ];
    fuzz_targets::parse_segment(crash);
}

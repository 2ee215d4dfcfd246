//! cargo-fuzz target: see `tcp_tests::fuzz_targets::checksum`
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tcp_tests::fuzz_targets::checksum(data);
});

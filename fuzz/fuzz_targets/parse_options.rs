//! cargo-fuzz target: see `tcp_tests::fuzz_targets::parse_options`
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tcp_tests::fuzz_targets::parse_options(data);
});

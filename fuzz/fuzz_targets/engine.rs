//! cargo-fuzz target: see `tcp_tests::fuzz_targets::engine`
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tcp_tests::fuzz_targets::engine(data);
});

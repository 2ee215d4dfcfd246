//! Cross-crate tests of the TCP engine, and the code they share with the fuzz targets.

pub mod bench;
pub mod conformance;
pub mod fuzz_engine;
pub mod fuzz_targets;
pub mod shared;

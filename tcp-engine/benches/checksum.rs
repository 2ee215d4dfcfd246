#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Checksum speed: the engine's add-with-carry word sum against a plain 16-bit-at-a-time loop
//!
//! `cargo bench -p tcp-engine --bench checksum`; criterion reports throughput in bytes per
//! second for each size.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tcp_engine::wire::checksum;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("checksum");
    for size in [40usize, 576, 1460, 9000, 65536] {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("fast", size), &data, |b, d| {
            b.iter(|| checksum::data(black_box(d)))
        });
        group.bench_with_input(BenchmarkId::new("plain_16bit", size), &data, |b, d| {
            b.iter(|| checksum::reference(black_box(d)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Micro benches: snapshot encode + hash, and diff, at 100,000 resources.
//!
//! `cargo bench -p benches --bench snapshot`

use butterfly_core::diff;
use butterfly_testkit::synthetic;
use criterion::{Criterion, criterion_group, criterion_main};

fn encode_hash(c: &mut Criterion) {
    let snapshot = synthetic::snapshot(100_000, 1);
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.bench_function("encode_hash_100k", |b| {
        b.iter(|| snapshot.encode().map(|e| e.blobs.len()))
    });
    group.finish();
}

fn diff_100k(c: &mut Criterion) {
    let a = synthetic::snapshot(100_000, 2);
    let b = synthetic::mutate(&a, 1.0, 3);
    let mut group = c.benchmark_group("diff");
    group.sample_size(10);
    group.bench_function("diff_100k_1pct", |bench| {
        bench.iter(|| diff::diff(&a, &b, synthetic::KINDS, &[]).changes.len())
    });
    group.finish();
}

criterion_group!(benches, encode_hash, diff_100k);
criterion_main!(benches);

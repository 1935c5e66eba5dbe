//! `cargo bench --bench matmul`: criterion groups per size, every variant this build has.
//!
//! Throughput is declared in floating-point operations (criterion prints it as "elem/s", so
//! `Gelem/s` reads as GFLOP/s). Every variant is validated against the oracle on the exact
//! input before criterion times it; a wrong one is reported and skipped.
//!
//! Flamegraphs: `cargo bench --bench matmul -- --profile-time 10` samples each benchmark for 10 s
//! with pprof instead of timing it, and writes `flamegraphs/matmul/<variant>-<size>-threads-<n>.svg`.
//!
//! Environment: `PERFLAB_THREADS` (default: all cores) sets rayon's and the libraries' threads;
//! `PERFLAB_BENCH_SIZES=256,1024,2048` overrides the sizes. The naive baseline and the exercises
//! (which start as naive) run only up to 512, where one call still takes well under a second.

use std::time::Duration;

mod support;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use perflab_labs::Role;
use perflab_labs::matmul::{self, Shape, check, random_matrix};

/// Largest n at which the naive-speed variants are benchmarked.
const SLOW_VARIANT_MAX: usize = 512;

fn threads() -> usize {
    std::env::var("PERFLAB_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn sizes() -> Vec<usize> {
    std::env::var("PERFLAB_BENCH_SIZES")
        .ok()
        .map(|s| {
            s.split(',')
                .map(|n| n.trim().parse().unwrap_or_else(|_| panic!("PERFLAB_BENCH_SIZES: '{n}' is not a size")))
                .collect()
        })
        .unwrap_or_else(|| vec![128, 512, 1024])
}

fn bench_matmul(c: &mut Criterion) {
    let threads = threads();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    for n in sizes() {
        let shape = Shape::square(n);
        let (a, b) = (random_matrix(n, n, 1), random_matrix(n, n, 2));
        let mut out = vec![0.0f32; n * n];
        let mut group = c.benchmark_group(format!("matmul/{shape}/threads-{threads}"));
        group.throughput(Throughput::Elements(shape.flops() as u64));
        if n >= 1024 {
            group.sample_size(10).measurement_time(Duration::from_secs(4));
        }
        for variant in matmul::variants() {
            let Ok(kernel) = variant.kernel else { continue };
            let slow = matches!(variant.role, Role::Baseline | Role::Exercise);
            if slow && n > SLOW_VARIANT_MAX {
                continue;
            }
            out.fill(f32::NAN);
            pool.install(|| kernel(shape, &a, &b, &mut out));
            if let Err(mismatch) = check::check(shape, &a, &b, &out, 7) {
                eprintln!("skipping {} at n = {n}: it fails validation\n{mismatch}", variant.name);
                continue;
            }
            group.bench_function(BenchmarkId::from_parameter(variant.name), |bench| {
                bench.iter(|| pool.install(|| kernel(shape, &a, &b, &mut out)))
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    // Libraries read their thread count once: set it before anything multiplies.
    // SAFETY: criterion calls this first thing in `main`, before any thread exists.
    unsafe { perflab_labs::set_library_threads(threads()) };
    Criterion::default().with_profiler(support::Flamegraphs::default())
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_matmul
}
criterion_main!(benches);

//! `cargo bench --bench <lab>`: criterion groups per size, every variant this build has.
//!
//! Throughput is declared in the lab's units of work (floating-point operations for matmul:
//! criterion prints it as "elem/s", so `Gelem/s` reads as GFLOP/s). Every variant is validated
//! against the oracle on the exact input before criterion times it; a wrong one is reported and
//! skipped, and so is one whose single call takes over a second (the naive baseline at large
//! sizes: criterion needs dozens of calls; `cargo lab bench` handles those by slicing).
//!
//! Flamegraphs: `cargo bench --bench <lab> -- --profile-time 10` samples each benchmark for 10 s
//! with pprof instead of timing it, and writes `flamegraphs/<lab>/<variant>-<size>-threads-<n>.svg`.
//!
//! Environment: `PERFLAB_THREADS` (default: all cores) sets rayon's and the libraries' threads;
//! `PERFLAB_BENCH_SIZES='256;2048'` (sizes in the lab's syntax, separated by `;`, since a k-NN size
//! has commas of its own) overrides the lab's bench sizes.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use perflab_labs::Lab;

use super::flamegraphs::Flamegraphs;

/// A variant whose one call takes longer than this is left out: criterion needs many calls.
const SLOWEST_CALL: Duration = Duration::from_secs(1);
/// Above this per call, a group takes 10 samples over 4 s instead of criterion's 100 over 5 s.
const LONG_CALL: Duration = Duration::from_millis(20);

/// The `main` of `benches/<lab>.rs`.
pub fn main(lab: &'static dyn Lab) {
    let threads = perflab_labs::threads::resolve(
        std::env::var("PERFLAB_THREADS").ok().and_then(|t| t.parse().ok()).filter(|&t| t > 0),
    );
    // SAFETY: first thing in main: no other thread exists yet.
    let pool = unsafe { perflab_labs::threads::pool(threads) }.expect("a thread pool");
    let mut criterion = Criterion::default().with_profiler(Flamegraphs::default()).configure_from_args();
    for size in sizes(lab) {
        let mut case = lab.prepare(&size, 1).unwrap_or_else(|e| panic!("PERFLAB_BENCH_SIZES: {e}"));
        let mut group = criterion.benchmark_group(format!("{}/{}/threads-{threads}", lab.name(), case.label()));
        group.throughput(Throughput::Elements(case.work().per_call as u64));
        let mut runnable = Vec::new();
        for (v, variant) in lab.variants().iter().enumerate().filter(|(_, v)| v.kernel.is_ok()) {
            if let Err(error) = pool.install(|| case.validate(v)) {
                eprintln!("skipping {} at {size}: it fails validation\n{error}", variant.name);
                continue;
            }
            let start = Instant::now();
            pool.install(|| case.run(v));
            let call = start.elapsed();
            if call > SLOWEST_CALL {
                eprintln!("skipping {} at {size}: one call takes over {SLOWEST_CALL:?}", variant.name);
                continue;
            }
            runnable.push((v, variant.name, call));
        }
        if runnable.iter().any(|&(_, _, call)| call > LONG_CALL) {
            group.sample_size(10).measurement_time(Duration::from_secs(4));
        }
        for (v, name, _) in runnable {
            group
                .bench_function(BenchmarkId::from_parameter(name), |bench| bench.iter(|| pool.install(|| case.run(v))));
        }
        group.finish();
    }
    criterion.final_summary();
}

fn sizes(lab: &dyn Lab) -> Vec<String> {
    match std::env::var("PERFLAB_BENCH_SIZES") {
        Ok(list) => list.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        Err(_) => lab.bench_sizes().iter().map(|s| s.to_string()).collect(),
    }
}

//! `cargo bench --bench iai_matmul`: deterministic instruction counts and simulated cache
//! behaviour (callgrind, through gungraun) for every matmul variant, at sizes valgrind runs in
//! seconds. The counts do not move with machine noise: a learner sees one change's effect exactly.
//!
//! Needs valgrind and the runner at exactly gungraun's version:
//! `cargo install gungraun-runner --version 0.20.0 --locked`. `cargo lab callgrind` checks both
//! and prints that line when something is missing.
//!
//! Regression check: `benches/iai_matmul.reference.json` holds the instruction counts of the
//! reference solutions; a run more than `margin_percent` above them fails (exit code 3). The
//! counts belong to one SIMD level (valgrind hides AVX-512, so on x86-64 it is AVX2+FMA where the
//! CPU has it); on another level the limits are not applied. After an intended change, record
//! new counts with `cargo lab callgrind matmul --record` (see README). The counts also belong to
//! one compiler version: built by another, the limits are skipped with a note.

use std::hint::black_box;

use gungraun::{Callgrind, EventKind, LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main};
use std::sync::Once;

use perflab_harness::callgrind::{MARGIN_PERCENT, level_under_valgrind};
use perflab_labs::matmul::{self, Kernel, Shape, random_matrix};

/// The committed reference counts.
const REFERENCE: &str = include_str!("iai_matmul.reference.json");

/// Everything one call needs, built outside the measured function.
struct Input {
    kernel: Kernel,
    shape: Shape,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    /// A one-thread pool whose only worker is this thread: rayon variants run here, inline,
    /// where callgrind counts them (idle pool threads would add spin-loop noise).
    pool: rayon::ThreadPool,
}

fn setup(variant: &str, n: usize) -> Input {
    let kernel = matmul::variant(variant).and_then(|v| v.kernel.ok()).expect("variant available in this build");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).use_current_thread().build().expect("pool");
    Input {
        kernel,
        shape: Shape::square(n),
        a: random_matrix(n, n, 1),
        b: random_matrix(n, n, 2),
        c: vec![0.0; n * n],
        pool,
    }
}

/// Hard instruction limits for the reference solutions, from the committed file, unless this
/// run records new counts, or was built by another compiler or runs at another SIMD level than
/// the counts were recorded with (then the counts would differ for reasons other than the code).
fn limits(id: &str) -> LibraryBenchmarkConfig {
    let mut config = LibraryBenchmarkConfig::default();
    if std::env::var_os("PERFLAB_IAI_RECORD").is_some() {
        return config;
    }
    let reference: serde_json::Value = serde_json::from_str(REFERENCE).expect("valid reference JSON");
    let level = level_under_valgrind().as_str();
    let rustc = env!("PERFLAB_RUSTC_VERSION");
    if reference["simd_level"] != level || reference["rustc"] != rustc {
        static NOTE: Once = Once::new();
        NOTE.call_once(|| {
            eprintln!(
                "note: reference counts were recorded with {} at {}; this is {rustc} at {level}: \
                 not checking them (record your own: `cargo lab callgrind matmul --record`)",
                reference["rustc"], reference["simd_level"]
            )
        });
        return config;
    }
    if let Some(count) = reference["instructions"][id].as_u64() {
        let margin = reference["margin_percent"].as_f64().unwrap_or(MARGIN_PERCENT);
        let limit = (count as f64 * (1.0 + margin / 100.0)).round() as u64;
        config.tool(Callgrind::default().hard_limits([(EventKind::Ir, limit)]));
    }
    config
}

#[library_benchmark]
#[bench::naive_48(args = ("naive", 48), setup = setup)]
#[bench::naive_128(args = ("naive", 128), setup = setup)]
#[bench::loop_order_48(args = ("loop-order", 48), setup = setup, config = limits("loop_order_48"))]
#[bench::loop_order_128(args = ("loop-order", 128), setup = setup, config = limits("loop_order_128"))]
#[bench::blocked_48(args = ("blocked", 48), setup = setup, config = limits("blocked_48"))]
#[bench::blocked_128(args = ("blocked", 128), setup = setup, config = limits("blocked_128"))]
#[bench::simd_48(args = ("simd", 48), setup = setup, config = limits("simd_48"))]
#[bench::simd_128(args = ("simd", 128), setup = setup, config = limits("simd_128"))]
#[bench::parallel_48(args = ("parallel", 48), setup = setup, config = limits("parallel_48"))]
#[bench::parallel_128(args = ("parallel", 128), setup = setup, config = limits("parallel_128"))]
#[bench::best_48(args = ("best", 48), setup = setup, config = limits("best_48"))]
#[bench::best_128(args = ("best", 128), setup = setup, config = limits("best_128"))]
#[bench::your_blocked_128(args = ("your-blocked", 128), setup = setup)]
#[bench::your_simd_128(args = ("your-simd", 128), setup = setup)]
#[bench::your_parallel_128(args = ("your-parallel", 128), setup = setup)]
#[bench::ndarray_128(args = ("ndarray", 128), setup = setup)]
fn multiply(mut input: Input) -> Vec<f32> {
    let Input { kernel, shape, ref a, ref b, ref mut c, ref pool } = input;
    pool.install(|| kernel(shape, black_box(a), black_box(b), black_box(c)));
    std::mem::take(&mut input.c)
}

library_benchmark_group!(name = variants, benchmarks = multiply);

main!(library_benchmark_groups = variants);

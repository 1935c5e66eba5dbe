//! `cargo bench --bench iai_kmeans`: instruction counts of every k-means variant under callgrind
//! (see `support/callgrind.rs`): the reference rungs on a small assignment and on far-from-origin
//! data, and `best` with 8 centroids (its path for few centroids), with regression limits from
//! `iai_kmeans.reference.json`; the baseline and the exercises on the small assignment.

use gungraun::{LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main};
use perflab_labs::kmeans::Kmeans;

mod support;

use support::callgrind::Input;

/// Bench ids name the size; the sizes themselves (callgrind runs ~50 times slower than the CPU).
fn size(name: &str) -> &'static str {
    match name {
        "small" => "n=4096,d=32,k=32",
        "shifted" => "n=4096,d=32,k=32,data=shifted",
        "few" => "n=4096,d=16,k=8",
        _ => panic!("unknown bench size {name}"),
    }
}

fn setup(variant: &str, name: &str) -> Input {
    support::callgrind::setup(&Kmeans, variant, size(name))
}

fn limits(variant: &str, name: &str) -> LibraryBenchmarkConfig {
    support::callgrind::limits(&Kmeans, include_str!("iai_kmeans.reference.json"), variant, name)
}

#[library_benchmark]
#[bench::naive_small(args = ("naive", "small"), setup = setup)]
#[bench::simd_small(args = ("simd", "small"), setup = setup, config = limits("simd", "small"))]
#[bench::blocked_small(args = ("blocked", "small"), setup = setup, config = limits("blocked", "small"))]
#[bench::blocked_shifted(args = ("blocked", "shifted"), setup = setup, config = limits("blocked", "shifted"))]
#[bench::parallel_small(args = ("parallel", "small"), setup = setup, config = limits("parallel", "small"))]
#[bench::best_small(args = ("best", "small"), setup = setup, config = limits("best", "small"))]
#[bench::best_shifted(args = ("best", "shifted"), setup = setup, config = limits("best", "shifted"))]
#[bench::best_few(args = ("best", "few"), setup = setup, config = limits("best", "few"))]
#[bench::your_simd_small(args = ("your-simd", "small"), setup = setup)]
#[bench::your_blocked_small(args = ("your-blocked", "small"), setup = setup)]
#[bench::your_parallel_small(args = ("your-parallel", "small"), setup = setup)]
fn call(mut input: Input) -> Input {
    input.run();
    input
}

library_benchmark_group!(name = variants, benchmarks = call);

main!(library_benchmark_groups = variants);

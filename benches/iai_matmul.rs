//! `cargo bench --bench iai_matmul`: instruction counts of every matmul variant under callgrind
//! (see `support/callgrind.rs`): the reference rungs at n = 48 and 128, with regression limits
//! from `iai_matmul.reference.json`; the baseline, the exercises and ndarray at n = 128.

use gungraun::{LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main};
use perflab_labs::matmul::Matmul;

mod support;

use support::callgrind::Input;

fn setup(variant: &str, size: &str) -> Input {
    support::callgrind::setup(&Matmul, variant, size)
}

fn limits(variant: &str, size: &str) -> LibraryBenchmarkConfig {
    support::callgrind::limits(&Matmul, include_str!("iai_matmul.reference.json"), variant, size)
}

#[library_benchmark]
#[bench::naive_48(args = ("naive", "48"), setup = setup)]
#[bench::naive_128(args = ("naive", "128"), setup = setup)]
#[bench::loop_order_48(args = ("loop-order", "48"), setup = setup, config = limits("loop-order", "48"))]
#[bench::loop_order_128(args = ("loop-order", "128"), setup = setup, config = limits("loop-order", "128"))]
#[bench::blocked_48(args = ("blocked", "48"), setup = setup, config = limits("blocked", "48"))]
#[bench::blocked_128(args = ("blocked", "128"), setup = setup, config = limits("blocked", "128"))]
#[bench::simd_48(args = ("simd", "48"), setup = setup, config = limits("simd", "48"))]
#[bench::simd_128(args = ("simd", "128"), setup = setup, config = limits("simd", "128"))]
#[bench::parallel_48(args = ("parallel", "48"), setup = setup, config = limits("parallel", "48"))]
#[bench::parallel_128(args = ("parallel", "128"), setup = setup, config = limits("parallel", "128"))]
#[bench::best_48(args = ("best", "48"), setup = setup, config = limits("best", "48"))]
#[bench::best_128(args = ("best", "128"), setup = setup, config = limits("best", "128"))]
#[bench::your_blocked_128(args = ("your-blocked", "128"), setup = setup)]
#[bench::your_simd_128(args = ("your-simd", "128"), setup = setup)]
#[bench::your_parallel_128(args = ("your-parallel", "128"), setup = setup)]
#[bench::ndarray_128(args = ("ndarray", "128"), setup = setup)]
fn call(mut input: Input) -> Input {
    input.run();
    input
}

library_benchmark_group!(name = variants, benchmarks = call);

main!(library_benchmark_groups = variants);

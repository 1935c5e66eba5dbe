//! `cargo bench --bench iai_lloyd`: instruction counts of the k-means lab's Lloyd case under
//! callgrind (see `support/callgrind.rs`): Hamerly's bounds with regression limits from
//! `iai_lloyd.reference.json`, plain Lloyd and the exercise beside it.

use gungraun::{LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main};
use perflab_labs::kmeans::lloyd::KmeansLloyd;

mod support;

use support::callgrind::Input;

/// Bench ids name the size; the sizes themselves (callgrind runs ~50 times slower than the CPU).
fn size(name: &str) -> &'static str {
    match name {
        "small" => "n=4096,d=16,k=32,iters=8",
        _ => panic!("unknown bench size {name}"),
    }
}

fn setup(variant: &str, name: &str) -> Input {
    support::callgrind::setup(&KmeansLloyd, variant, size(name))
}

fn limits(variant: &str, name: &str) -> LibraryBenchmarkConfig {
    support::callgrind::limits(&KmeansLloyd, include_str!("iai_lloyd.reference.json"), variant, name)
}

#[library_benchmark]
#[bench::lloyd_small(args = ("lloyd", "small"), setup = setup)]
#[bench::hamerly_small(args = ("hamerly", "small"), setup = setup, config = limits("hamerly", "small"))]
#[bench::your_hamerly_small(args = ("your-hamerly", "small"), setup = setup)]
fn call(mut input: Input) -> Input {
    input.run();
    input
}

library_benchmark_group!(name = variants, benchmarks = call);

main!(library_benchmark_groups = variants);

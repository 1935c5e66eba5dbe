//! `cargo bench --bench iai_<lab>`: deterministic instruction counts and simulated cache
//! behaviour (callgrind, through gungraun), at sizes valgrind runs in seconds. Each lab's file
//! lists its benchmarks (variant and size); this module prepares their inputs through the lab's
//! `Case` and sets the regression limits.
//!
//! Needs valgrind and the runner at exactly gungraun's version
//! (`cargo install gungraun-runner --version 0.20.0 --locked`); `cargo lab callgrind` checks both.
//!
//! Regression check: `benches/iai_<lab>.reference.json` holds the instruction counts of the
//! reference solutions; a run more than `margin_percent` above them fails (exit code 3). A
//! reference solution without a count fails too, rather than running unchecked. The counts belong
//! to one compiler version and one SIMD level (valgrind hides AVX-512, so on x86-64 it is
//! AVX2+FMA where the CPU has it): built by another compiler or run at another level, the limits
//! are skipped with a note. After an intended change: `cargo lab callgrind <lab> --record`.

use std::sync::Once;

use gungraun::{Callgrind, EventKind, LibraryBenchmarkConfig};
use perflab_harness::callgrind::{MARGIN_PERCENT, level_under_valgrind};
use perflab_labs::{Case, Lab, Role};

/// Everything one call needs, built outside the measured function.
pub struct Input {
    case: Box<dyn Case>,
    variant: usize,
    /// A one-thread pool whose only worker is this thread: rayon variants run here, inline,
    /// where callgrind counts them (idle pool threads would add spin-loop noise).
    pool: rayon::ThreadPool,
}

impl Input {
    /// One call of the variant: what callgrind counts.
    pub fn run(&mut self) {
        let Input { case, variant, pool } = self;
        pool.install(|| case.run(*variant));
    }
}

fn variant_index(lab: &dyn Lab, variant: &str) -> usize {
    let variants = lab.variants();
    let index = variants.iter().position(|v| v.name == variant);
    let index = index.unwrap_or_else(|| panic!("{} has no variant {variant}", lab.name()));
    assert!(variants[index].kernel.is_ok(), "{variant} is not available in this build");
    index
}

/// The input of one benchmark: `variant` of `lab` on random data of `size`, after one warm-up
/// call (so that what is counted is a warm call's work, as in the harness: buffers that a first
/// call allocates and zeroes, and whose cost depends on the allocator's state, are not counted).
pub fn setup(lab: &dyn Lab, variant: &str, size: &str) -> Input {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).use_current_thread().build().expect("pool");
    let case = lab.prepare(size, 1).unwrap_or_else(|e| panic!("{e}"));
    let mut input = Input { case, variant: variant_index(lab, variant), pool };
    input.run();
    input
}

/// The hard instruction limit of one benchmark, from `reference` (the lab's committed JSON):
/// none for baselines, exercises and libraries, none while recording, none for another compiler
/// or SIMD level than the counts were recorded with. A reference solution without a count panics.
pub fn limits(lab: &dyn Lab, reference: &str, variant: &str, size: &str) -> LibraryBenchmarkConfig {
    let mut config = LibraryBenchmarkConfig::default();
    let role = lab.variants()[variant_index(lab, variant)].role;
    if role != Role::Reference || std::env::var_os("PERFLAB_IAI_RECORD").is_some() {
        return config;
    }
    let reference: serde_json::Value = serde_json::from_str(reference).expect("valid reference JSON");
    let level = level_under_valgrind().as_str();
    let rustc = env!("PERFLAB_RUSTC_VERSION");
    if reference["simd_level"] != level || reference["rustc"] != rustc {
        static NOTE: Once = Once::new();
        NOTE.call_once(|| {
            eprintln!(
                "note: reference counts were recorded with {} at {}; this is {rustc} at {level}: \
                 not checking them (record your own: `cargo lab callgrind {} --record`)",
                reference["rustc"],
                reference["simd_level"],
                lab.name()
            )
        });
        return config;
    }
    let id = format!("{}_{size}", variant.replace('-', "_"));
    let Some(count) = reference["instructions"][&id].as_u64() else {
        panic!(
            "benches/iai_{}.reference.json has no count for the reference solution {id}: record it with \
             `cargo lab callgrind {} --record`",
            lab.name(),
            lab.name()
        );
    };
    let margin = reference["margin_percent"].as_f64().unwrap_or(MARGIN_PERCENT);
    let limit = (count as f64 * (1.0 + margin / 100.0)).round() as u64;
    config.tool(Callgrind::default().hard_limits([(EventKind::Ir, limit)]));
    config
}

//! `cargo bench --bench iai_<lab>`: deterministic instruction counts and simulated cache
//! behaviour (callgrind, through gungraun), at sizes valgrind runs in seconds. The benchmarks come
//! from the registry: every variant of the lab at each of its callgrind sizes
//! ([`perflab_labs::lab::callgrind_cases`]), prepared through the lab's `Case` as the harness
//! does. Each `benches/iai_<lab>.rs` is one line: [`iai!`].
//!
//! Needs valgrind and the runner at exactly gungraun's version
//! (`cargo install gungraun-runner --version 0.20.0 --locked`); `cargo lab callgrind` checks both,
//! names each benchmark (gungraun numbers them: `case_0`, `case_1`, ...), and holds the counts of
//! the reference solutions against `benches/iai_<lab>.reference.json` (see `harness/src/callgrind.rs`).

use perflab_labs::Case;
use perflab_labs::lab::{CallgrindCase, Lab, callgrind_cases};

/// The benches of one lab: `support::callgrind::iai!(perflab_labs::knn::Knn);` is a whole
/// `iai_knn.rs`. (Unused in the criterion benches, which include this module too.)
#[allow(unused_macros)]
macro_rules! iai {
    ($lab:expr) => {
        use gungraun::{library_benchmark, library_benchmark_group, main};

        /// The lab's benchmarks, in [`perflab_labs::lab::callgrind_cases`]'s order.
        fn cases() -> Vec<perflab_labs::lab::CallgrindCase> {
            support::callgrind::cases(&$lab)
        }

        #[library_benchmark]
        #[benches::case(iter = cases(), setup = support::callgrind::setup)]
        fn call(mut input: support::callgrind::Input) -> support::callgrind::Input {
            input.run();
            input
        }

        library_benchmark_group!(name = variants, benchmarks = call);

        main!(library_benchmark_groups = variants);
    };
}

#[allow(unused_imports)]
pub(crate) use iai;

/// Every benchmark of `lab`.
pub fn cases(lab: &'static dyn Lab) -> Vec<CallgrindCase> {
    callgrind_cases(lab)
}

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

/// The input of one benchmark, after one warm-up call (so that what is counted is a warm call's
/// work, as in the harness: buffers that a first call allocates and zeroes, and whose cost
/// depends on the allocator's state, are not counted).
pub fn setup(bench: CallgrindCase) -> Input {
    let CallgrindCase { lab, variant, size, .. } = bench;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).use_current_thread().build().expect("pool");
    let case = lab.prepare(size.size, 1).unwrap_or_else(|e| panic!("{e}"));
    let index = lab.variants().iter().position(|v| v.name == variant).expect("a variant of the lab");
    let mut input = Input { case, variant: index, pool };
    input.run();
    input
}

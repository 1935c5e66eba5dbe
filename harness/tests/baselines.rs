//! Baseline verdicts on real timings: a variant slowed on purpose (the same kernel plus a fixed
//! delay, put in through `Swapped`) reads *slower*; the same code run twice never reads slower or
//! faster, also when CPU hogs run beside the second run for part of it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perflab_harness::baseline::{self, VariantChange};
use perflab_harness::change::{DEFAULT_NOISE_BAND, Verdict};
use perflab_harness::machine::Machine;
use perflab_harness::measure::{self, Budget};
use perflab_harness::report::{self, Document, Row};
use perflab_harness::saved::SavedRun;
use perflab_labs::Lab;
use perflab_labs::lab::Swapped;
use perflab_labs::matmul::{self, Kernel, Matmul, Shape};

/// The two tests take turns: each one's verdicts are about its own runs (and its own hogs).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// simd takes about 50 µs here at this size: small enough for many rounds, large enough to time.
const SIZE: &str = "128";
/// What the slowed kernel adds to every call: about the kernel's own time, so about 2x.
const DELAY: Duration = Duration::from_micros(60);

fn simd() -> Kernel {
    matmul::variants().into_iter().find(|v| v.name == "simd").and_then(|v| v.kernel.ok()).expect("simd is built in")
}

/// simd, then a busy wait of `DELAY`.
fn slowed(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    simd()(shape, a, b, c);
    let start = Instant::now();
    while start.elapsed() < DELAY {
        std::hint::spin_loop();
    }
}

/// simd and best of `lab` at `SIZE` on one thread, timed in epochs as `cargo lab bench` does.
fn run(lab: &dyn Lab) -> SavedRun {
    let names = ["simd", "best"];
    let table = lab.variants();
    let variants: Vec<usize> = names.iter().map(|n| table.iter().position(|v| v.name == *n).unwrap()).collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut machine = Machine::probe(&pool);
    let mut case = lab.prepare(SIZE, 42).unwrap();
    let mut fresh = measure::fresh_copies(lab, SIZE, 42);
    let budget = Budget { min_sample: Duration::from_millis(2), min_rounds: 24, ..Budget::thorough(0.4) };
    let outcomes =
        pool.install(|| measure::measure(&mut *case, &mut fresh, &variants, &mut [], &budget, "test", &mut machine));
    let rows: Vec<Row> = variants.iter().zip(outcomes).map(|(&v, o)| Row::of(table[v], Some(o))).collect();
    let record = report::record(lab, &*case, &machine, &rows);
    SavedRun::of(&Document::new(machine, vec![record]))
}

/// Runs `f` with one spinning thread per core for its first `for_how_long`.
fn with_hogs<R>(for_how_long: Duration, f: impl FnOnce() -> R) -> R {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        for _ in 0..cores {
            scope.spawn(|| {
                let start = Instant::now();
                while !stop.load(Ordering::Relaxed) && start.elapsed() < for_how_long {
                    std::hint::spin_loop();
                }
            });
        }
        let result = f();
        stop.store(true, Ordering::Relaxed);
        result
    })
}

fn verdict_of<'c>(changes: &'c [VariantChange], name: &str) -> &'c VariantChange {
    changes.iter().find(|c| c.variant == name).unwrap_or_else(|| panic!("no change for {name}: {changes:?}"))
}

#[test]
fn a_slowed_variant_reads_slower_and_the_untouched_one_does_not() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let lab: &'static Swapped = Box::leak(Box::new(Swapped::new(&Matmul, "simd", slowed as Kernel)));
    // The slowed variant reads slower in every pair of runs. The untouched one must read unchanged
    // in one of three pairs: a shared host's other tenants have moved a whole run by 15% (seen:
    // `best` 0.86x, the FMA probe's correction unable to undo it), while a change pinned on the
    // wrong variant would show in every pair.
    let mut untouched = Vec::new();
    for _ in 0..3 {
        let before = run(&Matmul);
        let after = run(lab);
        let changes = baseline::changes(&before, &after, DEFAULT_NOISE_BAND);
        let simd = verdict_of(&changes, "simd");
        assert_eq!(simd.change.verdict, Verdict::Slower, "{simd:#?}");
        assert!(simd.change.raw_ratio > 1.3, "{simd:#?}");
        let best = verdict_of(&changes, "best").clone();
        if !matches!(best.change.verdict, Verdict::Slower | Verdict::Faster) {
            return;
        }
        untouched.push(best);
    }
    panic!("the untouched variant read slower or faster in three pairs of runs: {untouched:#?}");
}

#[test]
fn the_same_code_twice_is_never_slower_or_faster_even_with_a_hog_for_part_of_the_second_run() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = run(&Matmul);
    let after = with_hogs(Duration::from_millis(400), || run(&Matmul));
    for change in baseline::changes(&before, &after, DEFAULT_NOISE_BAND) {
        assert!(
            matches!(change.change.verdict, Verdict::Unchanged | Verdict::Inconclusive),
            "{}: {:#?}",
            change.variant,
            change.change
        );
    }
}

//! `cargo lab check` and `cargo lab status` against scaffolds broken on purpose: the learner's
//! kernel is swapped for a wrong one (`perflab_labs::lab::Swapped`), the files stay untouched,
//! and what the learner would read is asserted. (Its own process: the checker forces the SIMD
//! level for the whole process while it runs.)

use perflab_harness::checker;
use perflab_harness::cli::status::{self, NotCorrect, Options, Report, When};
use perflab_harness::exercises::{self, Exercise};
use perflab_harness::measure::Stats;
use perflab_labs::lab::Swapped;
use perflab_labs::matmul::{self, Kernel, Shape};
use perflab_labs::simd::{self, SimdLevel};
use perflab_labs::{Lab, knn};

/// The `perflab` binary's allocator, so that a timing counts allocations as `cargo lab check` does.
#[global_allocator]
static ALLOCATOR: perflab_harness::alloc::Switch = perflab_harness::alloc::Switch;

fn workspace() -> std::path::PathBuf {
    exercises::workspace().expect("the tests run inside the workspace")
}

/// Exercise `name` of `lab`, with its kernel swapped for `kernel` (of the lab's kernel type).
fn swapped<K: std::any::Any + Send + Sync>(lab: &str, name: &str, kernel: K) -> Exercise {
    let lab: &'static dyn Lab = Box::leak(Box::new(Swapped::new(perflab_labs::find(lab).unwrap(), name, kernel)));
    let all = exercises::load(&workspace(), &[lab]).unwrap();
    all.into_iter().find(|e| e.name == name).unwrap()
}

fn validate_only() -> Options {
    Options { time: When::Never, size: None, threads: None, seconds: 0.1, seed: 42, python: Default::default() }
}

/// The naive product, then the last column of every row off by one when n is not a multiple of 8:
/// a right-edge bug, the kind a SIMD kernel's leftover columns have.
fn wrong_right_edge(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    matmul::naive::matmul(shape, a, b, c);
    if !shape.n.is_multiple_of(8) {
        for row in c.chunks_mut(shape.n) {
            row[shape.n - 1] += 1.0;
        }
    }
}

/// The naive product for every row but the band 6..12, which is never written: a loop over bands
/// that skips one.
fn skipped_band(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let Shape { m, k, n } = shape;
    for i in (0..m).filter(|i| !(6..12).contains(i)) {
        let row = Shape { m: 1, k, n };
        matmul::naive::matmul(row, &a[i * k..(i + 1) * k], b, &mut c[i * n..(i + 1) * n]);
    }
}

#[test]
fn a_wrong_edge_is_reported_once_with_the_size_the_element_and_the_bound() {
    let exercise = swapped("matmul", "your-simd", wrong_right_edge as Kernel);
    let report = status::check_one(&exercise, &workspace(), &validate_only());
    let out = status::render_check(&report);
    // The first edge size with a column to get wrong: 5x0x7 (k = 0, so C must be all zeros).
    assert!(out.contains("FAILED on 5x0x7 (edge size 3 of"), "{out}");
    assert!(out.contains("C[0, 6]"), "names the first wrong element: {out}");
    assert!(out.contains("expected"), "says what was expected: {out}");
    assert!(out.contains("not timed: a wrong kernel's speed means nothing"), "{out}");
    // Where else it fails: every shape with a column count off the multiples of 8 (7, 13, 33, ...),
    // never 6x16x16 or 12x8x32, whose right edge is whole.
    assert!(out.contains("it also fails on ") && out.contains("13x9x33"), "{out}");
    let also = out.lines().find(|l| l.contains("it also fails on")).unwrap();
    assert!(!also.contains("6x16x16") && !also.contains("12x8x32"), "{also}");
    assert!(out.contains("cargo lab hint matmul your-simd"), "{out}");
    assert_eq!(out.matches("FAILED").count(), 1, "one failure, not one per size or level: {out}");
}

#[test]
fn a_skipped_band_shows_in_the_error_map() {
    let exercise = swapped("matmul", "your-simd", skipped_band as Kernel);
    let failure = checker::check_correctness(&exercise, 42, |_| {}).unwrap_err();
    // The first edge size with more than 6 rows: 7x11x13, whose row 6 is never written.
    assert_eq!(failure.shape.size, "7x11x13", "{}", failure.error);
    assert!(failure.error.contains("C[6, 0] = NaN"), "{}", failure.error);
    // The coarse map: one line per row (7 rows), the first six right, the band's row all wrong.
    let map: Vec<&str> = failure.error.lines().map(str::trim).filter(|l| l.starts_with(['#', '.'])).collect();
    assert_eq!(map.len(), 7, "{}", failure.error);
    assert!(map[..6].iter().all(|l| l.chars().all(|c| c == '.')), "{}", failure.error);
    assert!(map[6].chars().all(|c| c == '#'), "{}", failure.error);
}

#[test]
fn a_correct_kernel_is_correct_everywhere_at_every_level() {
    let exercise = swapped("matmul", "your-simd", matmul::solutions::simd::matmul as Kernel);
    let correct = checker::check_correctness(&exercise, 42, |_| {}).unwrap();
    let shapes = checker::shapes(&exercise, 42).len();
    assert_eq!(correct.shapes, shapes);
    assert!(shapes > exercise.lab.edge_sizes().len() + checker::RANDOM_SIZES - 1);
    assert!(correct.describe().starts_with(&format!("correct on {shapes} shapes at ")), "{}", correct.describe());
}

/// Every SIMD level the kernel itself saw (through `simd_level()`, as a learner's kernel asks).
static LEVELS_SEEN: std::sync::Mutex<Vec<SimdLevel>> = std::sync::Mutex::new(Vec::new());

fn records_its_level(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let mut seen = LEVELS_SEEN.lock().unwrap();
    let level = simd::simd_level();
    if !seen.contains(&level) {
        seen.push(level);
    }
    drop(seen);
    matmul::naive::matmul(shape, a, b, c);
}

#[test]
fn the_kernel_itself_runs_at_every_level_the_cpu_has() {
    let exercise = swapped("matmul", "your-simd", records_its_level as Kernel);
    checker::check_correctness(&exercise, 42, |_| {}).unwrap();
    let mut seen = LEVELS_SEEN.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, SimdLevel::available());
}

/// Right at every level but the portable one, as a kernel whose scalar fallback is wrong.
fn wrong_only_when_portable(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    matmul::naive::matmul(shape, a, b, c);
    if simd::simd_level() == SimdLevel::Scalar && !c.is_empty() {
        c[0] = -c[0] - 1.0;
    }
}

#[test]
fn a_failure_at_one_level_names_that_level() {
    let exercise = swapped("matmul", "your-simd", wrong_only_when_portable as Kernel);
    let failure = checker::check_correctness(&exercise, 42, |_| {}).unwrap_err();
    assert_eq!(failure.level, Some(SimdLevel::Scalar), "{}", failure.error);
    assert!(failure.headline().contains("at scalar, 3 threads"), "{}", failure.headline());
}

#[test]
fn a_parallel_exercise_is_also_checked_on_one_thread() {
    let kernel: knn::Kernel = knn::solutions::parallel::knn;
    let exercise = swapped("knn", "your-parallel", kernel);
    let correct = checker::check_correctness(&exercise, 7, |_| {}).unwrap();
    assert_eq!(correct.pools, [3, 1]);
}

#[test]
fn a_wrong_neighbour_list_names_the_query() {
    fn swaps_the_last_neighbour(inputs: &knn::Inputs, answer: &mut knn::Answer) {
        knn::naive::knn(inputs, answer);
        let knn::Shape { n, m, k, .. } = inputs.shape;
        if m > 0 && k > 1 && n > k {
            answer.indices[k - 1] = (answer.indices[k - 1] + 1) % n as u32;
        }
    }
    let exercise = swapped("knn", "your-simd", swaps_the_last_neighbour as knn::Kernel);
    let out = status::render_check(&status::check_one(&exercise, &workspace(), &validate_only()));
    assert!(out.contains("FAILED on n="), "{out}");
    assert!(out.contains("query 0"), "names the query: {out}");
}

fn stats(seconds: f64) -> Stats {
    Stats::of(vec![seconds; 5])
}

/// A report of `exercise` timed at its goal: the reference took 1 s, the exercise `seconds`.
fn timed(exercise: &Exercise, seconds: f64) -> Report {
    let correctness = Ok(checker::Correct { shapes: 3, levels: vec![], pools: vec![3] });
    let timing = checker::Timing {
        label: "1024x1024x1024".into(),
        threads: 1,
        level: simd::detected(),
        exercise: stats(seconds),
        naive: stats(100.0),
        reference: stats(1.0),
        exercise_allocs: None,
        reference_allocs: None,
        document: serde_json::Value::Null,
    };
    let (exercise, timing) = (exercise.clone(), Some(Ok(timing)));
    Report { exercise, as_shipped: Some(false), correctness, timing, at_goal: true }
}

#[test]
fn the_goal_is_met_at_its_ratio_and_not_below() {
    let exercise = swapped("matmul", "your-simd", matmul::solutions::simd::matmul as Kernel);
    let ratio = exercise.goal.ratio;
    let met = timed(&exercise, 1.0 / ratio * 0.99);
    assert_eq!(met.goal_met(), Some(true));
    assert!(status::render_check(&met).contains(&format!("goal ≥ {ratio:.2}x simd")));
    assert!(status::render_check(&met).contains(": met ("));
    let short = timed(&exercise, 2.0 / ratio);
    assert_eq!(short.goal_met(), Some(false));
    let out = status::render_check(&short);
    assert!(out.contains("not yet (") && out.contains("2.00x faster to go"), "{out}");
    assert!(!status::render_check(&met).contains("within this run's noise"), "steady samples: no doubt");
    let mut noisy = timed(&exercise, 1.0 / ratio * 0.99);
    if let Some(Ok(t)) = &mut noisy.timing {
        // Rounds in which the exercise ran 20% slower or faster than the reference's steady 1 s.
        let median = t.exercise.median;
        t.exercise = Stats::of([0.8, 0.8, 1.0, 1.2, 1.2].iter().map(|f| f * median).collect());
    }
    let out = status::render_check(&noisy);
    assert!(out.contains("met (") && out.contains("within this run's noise (±21%) of the goal"), "{out}");
    let elsewhere = Report { at_goal: false, ..timed(&exercise, 1.0) };
    assert_eq!(elsewhere.goal_met(), None, "judged only at the goal's own size and threads");
    assert!(status::render_check(&elsewhere).contains("not judged"));
}

#[test]
fn an_exercise_not_checked_is_neither_right_nor_wrong_and_says_why_once() {
    let exercise = swapped("matmul", "your-simd", matmul::solutions::simd::matmul as Kernel);
    let why = "no Python found (a test's reason)";
    let not_checked =
        || Report { correctness: Err(NotCorrect::NotChecked(why.into())), timing: None, ..timed(&exercise, 1.0) };
    let report = not_checked();
    assert!(!report.failed() && report.goal_met().is_none());
    let check = status::render_check(&report);
    assert!(check.contains(&format!("not checked: {why}")) && !check.contains("FAILED"), "{check}");
    let table = status::render_status(&[report, not_checked()]);
    assert_eq!(table.matches(why).count(), 1, "the reason once, not per row:\n{table}");
    assert!(table.contains("not checked (no Python)") && !table.contains("FAILED"), "{table}");
}

/// The naive product of a fresh copy of B: right, and one allocation of k·n floats per call.
fn copies_b_every_call(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let copy = b.to_vec();
    matmul::naive::matmul(shape, a, &copy, c);
}

#[test]
fn the_timing_names_its_simd_level_and_shows_what_each_call_allocates() {
    let exercise = swapped("matmul", "your-simd", copies_b_every_call as Kernel);
    let timing = checker::time(&exercise, "40x30x20", 1, 0.05, 42).unwrap();
    let report = Report { timing: Some(Ok(timing)), ..timed(&exercise, 1.0) };
    let out = status::render_check(&report);
    let level = simd::simd_level();
    assert!(out.contains(&format!("timed at 40x30x20, 1 thread, {level}")), "{out}");
    // B is 30x20 floats: 2400 bytes.
    assert!(out.contains("heap per call: your-simd 1 allocation, 2KB | simd no allocation"), "{out}");
    assert!(out.contains("note: your-simd allocates on every call and simd does not"), "{out}");
    let naive = swapped("matmul", "your-simd", matmul::naive::matmul as Kernel);
    let timing = checker::time(&naive, "40x30x20", 1, 0.05, 42).unwrap();
    let out = status::render_check(&Report { timing: Some(Ok(timing)), ..timed(&naive, 1.0) });
    assert!(
        out.contains("heap per call: your-simd no allocation | simd no allocation")
            && !out.contains("allocates on every call"),
        "{out}"
    );
}

#[test]
fn an_edited_exercise_at_the_baselines_speed_is_asked_whether_its_code_is_called() {
    let exercise = swapped("matmul", "your-simd", matmul::naive::matmul as Kernel);
    let out = status::render_check(&timed(&exercise, 100.0));
    assert!(out.contains("runs at the baseline's speed (1.00x): if your new code is called"), "{out}");
}

#[test]
fn status_lists_every_exercise_and_leads_with_the_first_failure() {
    let broken = swapped("matmul", "your-simd", wrong_right_edge as Kernel);
    let fine = swapped("matmul", "your-blocked", matmul::solutions::blocked::matmul as Kernel);
    let reports = [
        status::check_one(&broken, &workspace(), &validate_only()),
        status::check_one(&fine, &workspace(), &validate_only()),
        timed(&fine, 1.0),
    ];
    let out = status::render_status(&reports);
    assert!(out.contains("FAILED on 5x0x7"), "{out}");
    let failure = out.find("matmul your-simd FAILED on 5x0x7 (edge size 3 of").expect("the failure in full");
    assert!(failure > out.find('└').expect("a table"), "the failure comes under the table: {out}");
    assert!(out.contains("C[0, 6]"), "{out}");
    assert!(out.contains("yes (") && out.contains("1.00x blocked") && out.contains("100x"), "{out}");
}

#[test]
fn an_exercise_as_shipped_is_validated_but_not_timed() {
    let dir = tempfile::tempdir().unwrap();
    let exercise = swapped("matmul", "your-simd", matmul::naive::matmul as Kernel);
    let (file, shipped) = (dir.path().join(&exercise.file), dir.path().join(exercise.shipped()));
    std::fs::create_dir_all(shipped.parent().unwrap()).unwrap();
    std::fs::write(&shipped, "scaffold").unwrap();
    std::fs::write(&file, "scaffold").unwrap();
    let options = Options { time: When::Edited, ..validate_only() };
    let report = status::check_one(&exercise, dir.path(), &options);
    assert!(report.timing.is_none());
    let out = status::render_check(&report);
    assert!(out.contains("(as shipped)") && out.contains("not timed: still as shipped"), "{out}");
    std::fs::write(&file, "scaffold, edited").unwrap();
    let report = status::check_one(&exercise, dir.path(), &Options { size: Some("48".into()), ..options });
    let timing = report.timing.as_ref().expect("an edited exercise is timed").as_ref().unwrap();
    assert_eq!((timing.label.as_str(), report.at_goal), ("48x48x48", false));
    assert!(status::render_check(&report).contains("(edited)"));
}

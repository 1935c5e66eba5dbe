//! Checking one exercise: is it right everywhere, and how fast is it against its goal?
//!
//! Correctness comes first and is thorough: the lab's edge sizes (empty, tiny, primes, one off
//! every block and lane width), its larger sizes (serial and parallel paths), and random sizes,
//! each validated by the lab's oracle through `Case::validate` (output filled with junk first),
//! at every SIMD level the CPU has, in a pool of three threads (so a parallel split has uneven
//! parts), and a parallel exercise once more in a pool of one. The first failure stops the check:
//! one well-explained failure beats a screenful.
//!
//! Then one timing at the goal's size and threads: the exercise beside the lab's baseline and
//! its reference, in the same interleaved rounds as `cargo lab bench`, so the ratio is fair.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use perflab_labs::simd::{self, SimdLevel};

use crate::alloc::AllocStats;
use crate::exercises::Exercise;
use crate::machine::Machine;
use crate::measure::{self, Budget, External, Outcome, Stats};
use crate::report::{self, Document, Row};
use crate::{isolate, panics};

/// Random sizes checked after the edge sizes.
pub const RANDOM_SIZES: usize = 12;

/// Where the sizes checked come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Edge,
    Larger,
    Random,
}

/// One size to check, and where it came from.
#[derive(Clone, Debug)]
pub struct Shape {
    pub size: String,
    pub source: Source,
    /// Its position among the sizes of its source, and how many there are.
    pub index: usize,
    pub of: usize,
}

impl Shape {
    /// `edge size 11 of 24`
    pub fn describe(&self) -> String {
        let kind = match self.source {
            Source::Edge => "edge size",
            Source::Larger => "larger size",
            Source::Random => "random size",
        };
        format!("{kind} {} of {}", self.index + 1, self.of)
    }
}

/// Every size an exercise is checked on, edges first.
pub fn shapes(exercise: &Exercise, seed: u64) -> Vec<Shape> {
    let lab = exercise.lab;
    let listed = |sizes: Vec<String>, source: Source| {
        let of = sizes.len();
        sizes.into_iter().enumerate().map(move |(index, size)| Shape { size, source, index, of })
    };
    let strings = |sizes: &[&str]| sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    listed(strings(lab.edge_sizes()), Source::Edge)
        .chain(listed(strings(lab.allocation_sizes()), Source::Larger))
        .chain(listed(lab.random_sizes(seed, RANDOM_SIZES), Source::Random))
        .collect()
}

/// An exercise that was right on every size, level and pool.
#[derive(Clone, Debug)]
pub struct Correct {
    pub shapes: usize,
    /// Widest first.
    pub levels: Vec<SimdLevel>,
    /// The pools it ran in (3, and 1 for a parallel exercise).
    pub pools: Vec<usize>,
}

impl Correct {
    /// `correct on 38 shapes at avx512f, avx2+fma, scalar on 3 threads, and at avx512f on 1`;
    /// `correct on 31 shapes in Python` (no levels: a Python exercise).
    pub fn describe(&self) -> String {
        if self.levels.is_empty() {
            return format!("correct on {} shapes in Python", self.shapes);
        }
        let levels: Vec<&str> = self.levels.iter().map(|l| l.as_str()).collect();
        let mut out =
            format!("correct on {} shapes at {} on {} threads", self.shapes, levels.join(", "), self.pools[0]);
        for pool in &self.pools[1..] {
            out += &format!(", and at {} on {pool}", levels[0]);
        }
        out
    }
}

/// The first failure found.
#[derive(Clone, Debug)]
pub struct Failure {
    pub shape: Shape,
    /// None: in Python, where there are no levels to force.
    pub level: Option<SimdLevel>,
    pub threads: usize,
    /// The oracle's message (or the panic's).
    pub error: String,
    /// The other sizes that fail at the same level and threads (checked after the first failure,
    /// so that a pattern shows: every shape, or only those with a leftover edge), of `checked`.
    pub also: Vec<String>,
    pub checked: usize,
}

impl Failure {
    /// `it also fails on 17 more of the 39 sizes checked at avx512f, 3 threads: 13x9x33, ...`, or that it
    /// is the only one.
    pub fn pattern(&self) -> String {
        let at = self.at();
        if self.also.is_empty() {
            return format!("the only failing size of the {} checked {at}", self.checked);
        }
        let shown: Vec<&str> = self.also.iter().take(6).map(String::as_str).collect();
        let more = if self.also.len() > shown.len() { ", ..." } else { "" };
        format!(
            "it also fails on {} more of the {} sizes checked {at}: {}{more}",
            self.also.len(),
            self.checked,
            shown.join(", ")
        )
    }

    /// The headline: `FAILED on 13x9x33 (edge size 11 of 24) at avx2+fma, 3 threads`.
    pub fn headline(&self) -> String {
        format!("FAILED on {} ({}) {}", self.shape.size, self.shape.describe(), self.at())
    }

    /// `at avx2+fma, 3 threads`, or `in Python`.
    fn at(&self) -> String {
        match self.level {
            Some(level) => format!("at {level}, {} thread{}", self.threads, if self.threads == 1 { "" } else { "s" }),
            None => "in Python".into(),
        }
    }
}

/// Held while a check forces SIMD levels or times: the forced level is the whole process's
/// (every rayon worker must see it), so two checks in one process (the tests) take turns.
static ONE_CHECK_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    // A check that panicked left nothing half-done behind the lock (its level was restored).
    ONE_CHECK_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Puts the level forced before back when dropped, whatever happens in between.
struct ForcedLevel(Option<SimdLevel>);

impl ForcedLevel {
    fn set(level: SimdLevel) -> ForcedLevel {
        ForcedLevel(simd::force_level(Some(level)))
    }
}

impl Drop for ForcedLevel {
    fn drop(&mut self) {
        simd::force_level(self.0);
    }
}

/// Validates `exercise` on every shape, at every SIMD level, in every pool; stops at the first
/// failure. `progress` is told each step (for a progress bar).
pub fn check_correctness(exercise: &Exercise, seed: u64, mut progress: impl FnMut(&str)) -> Result<Correct, Failure> {
    if let Some(file) = exercise.python() {
        return crate::python_check::check_correctness(exercise, file, seed, progress);
    }
    let _turn = one_at_a_time();
    let shapes = shapes(exercise, seed);
    let mut levels = SimdLevel::available();
    levels.reverse(); // the level the learner's code runs at by default first
    let parallel = exercise.lab.variants()[exercise.variant].parallel;
    let pools: Vec<usize> = if parallel { vec![3, 1] } else { vec![3] };
    for &threads in &pools {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a rayon pool");
        // A single-threaded pool adds little at narrower levels: the widest one is enough there.
        let pool_levels = if threads == pools[0] { &levels[..] } else { &levels[..1] };
        for &level in pool_levels {
            let _forced = ForcedLevel::set(level);
            let mut first: Option<Failure> = None;
            for (i, shape) in shapes.iter().enumerate() {
                let step = format!("{level}, {threads} thread(s), {}", shape.size);
                isolate::step(&format!("{} at {step}", exercise.id()), isolate::step_deadline());
                progress(&step);
                let verdict = validate(exercise, &pool, &shape.size, seed.wrapping_add(i as u64));
                match (verdict, &mut first) {
                    (Ok(()), _) => {}
                    (Err(error), None) => {
                        let (also, checked) = (Vec::new(), shapes.len());
                        let level = Some(level);
                        first = Some(Failure { shape: shape.clone(), level, threads, error, also, checked });
                    }
                    (Err(_), Some(failure)) => failure.also.push(shape.size.clone()),
                }
            }
            if let Some(failure) = first {
                return Err(failure);
            }
        }
    }
    Ok(Correct { shapes: shapes.len(), levels, pools })
}

/// One validation of the exercise on `size` in `pool`: what is wrong, if anything (a panic too).
fn validate(exercise: &Exercise, pool: &rayon::ThreadPool, size: &str, seed: u64) -> Result<(), String> {
    let mut case = exercise.lab.prepare(size, seed).map_err(|e| format!("bad size: {e}"))?;
    match panics::capturing(|| pool.install(|| case.validate(exercise.variant))) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error),
        Err(panic) => Err(format!("it panicked: {panic}")),
    }
}

/// The exercise, the baseline and the reference, timed in one run.
#[derive(Clone, Debug)]
pub struct Timing {
    /// The size as the lab prints it, and the threads of the pool.
    pub label: String,
    pub threads: usize,
    /// The SIMD level the kernels ran at (the CPU's widest, or a narrower one from `PERFLAB_SIMD`).
    pub level: SimdLevel,
    pub exercise: Stats,
    pub naive: Stats,
    pub reference: Stats,
    /// Heap allocations of one warm call of the exercise and of its reference (None: not counted,
    /// as in a process without the counting allocator).
    pub exercise_allocs: Option<AllocStats>,
    pub reference_allocs: Option<AllocStats>,
    /// The run as a report document (JSON, `report::SCHEMA`): for the last check, baselines and
    /// reference comparisons.
    pub document: serde_json::Value,
}

impl Timing {
    /// The reference's time over the exercise's (above 1, the exercise is faster): the median of
    /// the round-by-round ratios, which a busy machine disturbs far less than either median.
    pub fn ratio(&self) -> f64 {
        self.exercise.ratio_to(&self.reference)
    }

    /// How much [`Timing::ratio`] moved between rounds: half the interquartile range of the
    /// round-by-round ratios, relative to their median (from the medians' spreads without them).
    pub fn ratio_noise(&self) -> f64 {
        match self.exercise.paired_ratio(&self.reference) {
            Some(ratios) => ratios.spread() / 2.0,
            None => self.exercise.spread().max(self.reference.spread()) / 2.0,
        }
    }

    /// The baseline's time over the exercise's, round by round as [`Timing::ratio`].
    pub fn speedup(&self) -> f64 {
        self.exercise.ratio_to(&self.naive)
    }

    /// The widest interquartile spread of the three, relative to the median.
    pub fn spread(&self) -> f64 {
        [&self.exercise, &self.naive, &self.reference].iter().map(|s| s.spread()).fold(0.0, f64::max)
    }
}

/// Times `exercise` beside the baseline and its reference on `size` with `threads` threads,
/// sampling `seconds` per variant. Err: what went wrong (a failure at this size, or a size that
/// does no work).
pub fn time(exercise: &Exercise, size: &str, threads: usize, seconds: f64, seed: u64) -> Result<Timing, String> {
    let _turn = one_at_a_time();
    let lab = exercise.lab;
    let (naive, reference) = exercise.baseline_and_reference();
    let mut case = lab.prepare(size, seed)?;
    if case.work().per_call == 0.0 {
        return Err(format!("{} {}: nothing to time (a call on this size does no work)", lab.name(), case.label()));
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| e.to_string())?;
    let mut machine = Machine::probe(&pool).with_limits(&pool);
    let mut fresh = measure::fresh_copies(lab, size, seed);
    // `cargo lab bench`'s budget, with shorter samples and fewer rounds: a check is a quick loop.
    let budget =
        Budget { min_sample: Duration::from_millis(5), min_rounds: 5, max_rounds: 100, ..Budget::thorough(seconds) };
    let title = format!("{} {}", exercise.id(), case.label());
    // Calibration, then `seconds` for each of the three variants and the probe, in rounds.
    let mut allowed = isolate::step_deadline() + Duration::from_secs_f64(8.0 * seconds);
    if exercise.python().is_some() {
        // A Python file starts as a loop thousands of times slower than naive, and its process
        // has deadlines of its own for a call that never returns.
        allowed += Duration::from_secs(300);
    }
    let level = simd::simd_level();
    isolate::step(&format!("timing {title} ({level}, {threads} thread(s))"), allowed);
    // The lab's own variants run here; a Python exercise and its Python reference in processes
    // of their own, in the same rounds.
    let order = [exercise.variant, naive, reference];
    let (every, own_count) = (lab.every_variant(), lab.variants().len());
    let own: Vec<usize> = order.iter().copied().filter(|&v| v < own_count).collect();
    let mut anchors = crate::python_check::start_all(exercise, &order, threads, &*case)?;
    let mut externals: Vec<&mut dyn External> = anchors.iter_mut().map(|a| a as &mut dyn External).collect();
    let outcomes =
        pool.install(|| measure::measure(&mut *case, &mut fresh, &own, &mut externals, &budget, &title, &mut machine));
    // `outcomes` follow `own`, then the anchors: put them back in `order`.
    let (mut ours, mut theirs) = (outcomes[..own.len()].iter(), outcomes[own.len()..].iter().zip(&anchors));
    let rows: Vec<Row> = order
        .iter()
        .map(|&v| match v < own_count {
            true => Row::of(every[v], ours.next().cloned()),
            false => {
                let (outcome, anchor) = theirs.next().expect("one outcome per anchor");
                Row { library: Some(anchor.library_info()), ..Row::of(every[v], Some(outcome.clone())) }
            }
        })
        .collect();
    drop(anchors);
    machine.keep_peak();
    let record = report::record(lab, &*case, &machine, &rows);
    let (mut stats, mut allocs) = (Vec::new(), Vec::new());
    for row in rows {
        match row.outcome.expect("every variant timed has an outcome") {
            Outcome::Measured { stats: s, allocs: a, .. } => {
                stats.push(s);
                allocs.push(a);
            }
            Outcome::Failed { error, .. } => {
                let name = row.variant.name;
                return Err(format!(
                    "{name} FAILED at {}, {threads} thread(s), so nothing was timed:\n{error}",
                    case.label()
                ));
            }
        }
    }
    let [exercise, naive, reference] = <[Stats; 3]>::try_from(stats).expect("three outcomes");
    let (exercise_allocs, reference_allocs) = (allocs[0], allocs[2]);
    let document = serde_json::to_value(Document::new(machine, vec![record])).map_err(|e| e.to_string())?;
    let label = case.label();
    Ok(Timing { label, threads, level, exercise, naive, reference, exercise_allocs, reference_allocs, document })
}

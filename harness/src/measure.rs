//! Calibrate, validate, then time every variant in interleaved rounds.
//!
//! - Calibrate: time one call on a growing slice of the input until it takes a few ms, and
//!   extrapolate. A variant whose full call would exceed the budget (naive at n = 2048 takes
//!   about a minute) is limited to a slice of the input, and the report says so.
//! - Validate: fill the output with junk, run once on the exact input that will be timed, and
//!   check against the oracle. A variant that fails is never timed.
//! - Time: rounds in which every variant runs one sample (several calls when a call is short),
//!   rotating the order each round, so that a slow patch of the machine hits all variants
//!   alike and ratios measured in one run stay fair. The first round warms caches and is dropped.
//!   The FMA-peak probe is one more entry of the rotation, so the peak the report divides by is
//!   the best of many probes spread over the run, not one taken at a busy moment.
//! - Count allocations: one warm-up call, then one call under dhat (see `alloc.rs`), after all
//!   timing is done.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use perflab_labs::{Case, Lab};

use crate::alloc::{self, AllocStats};
use crate::machine::Machine;
use crate::panics;

/// How much time to spend.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// A variant whose call would take longer than this runs on a slice of the input.
    pub call_limit: Duration,
    /// Total sampling time per variant (the rounds stop once every variant had about this much).
    pub per_variant: Duration,
    /// A sample is at least this long: short calls are repeated inside one sample.
    pub min_sample: Duration,
    pub min_rounds: usize,
    pub max_rounds: usize,
}

impl Budget {
    /// `cargo lab`: every lab in about a minute.
    pub fn quick() -> Budget {
        Budget {
            call_limit: Duration::from_millis(250),
            per_variant: Duration::from_millis(500),
            min_sample: Duration::from_millis(5),
            min_rounds: 5,
            max_rounds: 30,
        }
    }

    /// `perflab bench`: `seconds` of sampling per variant.
    pub fn thorough(seconds: f64) -> Budget {
        Budget {
            call_limit: Duration::from_secs_f64((seconds / 2.0).max(0.25)),
            per_variant: Duration::from_secs_f64(seconds),
            min_sample: Duration::from_millis(10),
            min_rounds: 7,
            max_rounds: 200,
        }
    }
}

/// What happened to one variant.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Validated, then timed, then its allocations counted (None: no counting allocator).
    /// `counted`: what the case counted beside time ([`Case::counted`]).
    Measured {
        validation: String,
        counted: Option<String>,
        fraction: f64,
        stats: Stats,
        allocs: Option<AllocStats>,
        /// A Python variant's memory, by tracemalloc.
        python_memory: Option<crate::anchors::PythonMemory>,
    },
    /// Failed validation: never timed. `finding`: a library answered, and the oracle rejected
    /// the answer (a fact about the library on this input, not an error of the run); otherwise a
    /// variant of ours was wrong or panicked, or a library could not answer at all.
    Failed { error: String, fraction: f64, finding: bool },
}

/// Why an external's answer was not accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum Rejection {
    /// It answered, and the oracle rejected the answer.
    Wrong(String),
    /// It could not answer: it crashed, hung, or broke the protocol.
    Broken(String),
}

/// Seconds per call on the full input (samples of a limited variant are scaled up).
#[derive(Clone, Debug)]
pub struct Stats {
    pub median: f64,
    pub p25: f64,
    pub p75: f64,
    pub min: f64,
    pub samples: usize,
    /// The samples in the order they were taken: one per timing round, so that the i-th samples of
    /// two variants measured together come from the same round (see [`Stats::paired_ratio`]).
    pub in_order: Vec<f64>,
    /// The epochs the samples fall in, in equal consecutive parts (see [`measure`]).
    pub epochs: usize,
}

impl Stats {
    /// The statistics of a non-empty list of seconds (or of anything else), in the order taken.
    pub fn of(mut seconds: Vec<f64>) -> Stats {
        let in_order = seconds.clone();
        seconds.sort_by(f64::total_cmp);
        // Quantile by linear interpolation between the two nearest ranks.
        let at = |q: f64| {
            let position = (seconds.len() - 1) as f64 * q;
            let (low, high) = (position.floor() as usize, position.ceil() as usize);
            seconds[low] + (seconds[high] - seconds[low]) * (position - low as f64)
        };
        let samples = seconds.len();
        Stats { median: at(0.5), p25: at(0.25), p75: at(0.75), min: seconds[0], samples, in_order, epochs: 1 }
    }

    /// `theirs` time over `self`'s: the median of [`Stats::paired_ratio`] where the samples pair
    /// up, else the ratio of the two medians.
    pub fn ratio_to(&self, theirs: &Stats) -> f64 {
        self.paired_ratio(theirs).map_or(theirs.median / self.median, |ratios| ratios.median)
    }

    /// `theirs` time over `self`'s, round by round, and the statistics of those ratios: both ran in
    /// each round, so a slow patch of the machine slows both and mostly cancels out of the ratio,
    /// which the ratio of two medians does not do. None without paired samples.
    pub fn paired_ratio(&self, theirs: &Stats) -> Option<Stats> {
        let ratios: Vec<f64> = theirs.in_order.iter().zip(&self.in_order).map(|(t, s)| t / s).collect();
        (!ratios.is_empty() && self.in_order.len() == theirs.in_order.len()).then(|| Stats::of(ratios))
    }

    /// The interquartile range relative to the median: how noisy the samples were.
    pub fn spread(&self) -> f64 {
        (self.p75 - self.p25) / self.median
    }
}

/// Epochs of a run (see [`measure`]): the input and three fresh copies of it.
pub const EPOCHS: usize = 4;

/// Where an epoch after the first gets its fresh copy of the input (see [`measure`]): a new
/// case, or None to stay on the first.
pub type Fresh<'f> = &'f mut dyn FnMut() -> Option<Box<dyn Case>>;

/// Fresh copies of `lab`'s input at `size`, made when an epoch starts (the same seed, so the
/// same values); None where the input and one copy would not fit in half the available memory.
pub fn fresh_copies<'l>(lab: &'l dyn Lab, size: &'l str, seed: u64) -> impl FnMut() -> Option<Box<dyn Case>> + 'l {
    move || {
        let footprint = lab.footprint(size).ok()?;
        let fits = crate::machine::available_memory().is_none_or(|available| 2 * footprint <= available / 2);
        fits.then(|| lab.prepare(size, seed).ok()).flatten()
    }
}

/// Something timed beside the lab's own variants that measures its own time: a Python variant in
/// another process (see `anchors.rs`).
pub trait External: Send {
    /// Whether it can run on a slice of the input (a library anchor always runs the whole).
    fn sliceable(&self) -> bool;
    /// Limits it to the first `rows` rows of the case's input (see [`Case::rows`]).
    fn limit(&mut self, rows: usize) -> Result<(), String>;
    /// Runs once on the case's input (its first `rows` rows) and checks the outputs against the
    /// case's oracle.
    fn validate(&mut self, case: &dyn Case, rows: usize) -> Result<String, Rejection>;
    /// Runs `calls` calls and returns their seconds, measured around the calls alone; an error
    /// (or no answer within `deadline`) fails the external.
    fn sample(&mut self, calls: usize, deadline: Duration) -> Result<f64, String>;
    /// One call's memory, as its own runtime measures it (None: not measured).
    fn memory(&mut self, deadline: Duration) -> Option<crate::anchors::PythonMemory>;
}

/// What a plan times: a variant of the case, or an external (index into `externals`).
#[derive(Clone, Copy, Debug)]
enum Target {
    Variant(usize),
    External(usize),
}

/// Validates and times `variants` (indices into the lab's table) on `case`, and `externals`
/// beside them, probing `machine`'s FMA peak once per round. Runs on the current rayon pool.
/// The outcomes come in the order of `variants`, then `externals`.
///
/// The rounds are split into up to [`EPOCHS`] epochs, the first on `case` and each later one on
/// a copy `fresh` makes as it starts (the same input, fresh allocations), so that the samples
/// include what differs between two allocations of one input (where its pages land in the
/// caches), which otherwise differs only between two runs and would pass for a change of the code.
pub fn measure(
    case: &mut dyn Case,
    fresh: Fresh,
    variants: &[usize],
    externals: &mut [&mut dyn External],
    budget: &Budget,
    title: &str,
    machine: &mut Machine,
) -> Vec<Outcome> {
    let targets: Vec<Target> =
        variants.iter().map(|&v| Target::Variant(v)).chain((0..externals.len()).map(Target::External)).collect();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; targets.len()];
    let mut plans = Vec::new();
    let bar = progress_bar(targets.len() as u64, &format!("{title}: validating"));
    for (slot, &target) in targets.iter().enumerate() {
        match validate(case, externals, target, budget) {
            Ok(plan) => plans.push(Plan { slot, ..plan }),
            Err(Failed { error, fraction, finding }) => {
                outcomes[slot] = Some(Outcome::Failed { error, fraction, finding })
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    machine.round_probes.clear();
    machine.round_together.clear();
    time_in_rounds(case, fresh, externals, &mut plans, budget, title, machine);
    // Allocations last, in a pass of their own: dhat's allocator is never on while timing.
    let bar = progress_bar(plans.len() as u64, &format!("{title}: counting allocations"));
    for plan in plans {
        let slot = plan.slot;
        outcomes[slot] = Some(plan.outcome(case, externals));
        bar.inc(1);
    }
    bar.finish_and_clear();
    outcomes.into_iter().map(|o| o.expect("every variant has an outcome")).collect()
}

/// Validates one target on the very input that will be timed and estimates its call: its plan
/// (slot still to be set), or why it failed. A variant that panics (an exercise indexing past a
/// buffer, say) fails like a wrong one.
fn validate(
    case: &mut dyn Case,
    externals: &mut [&mut dyn External],
    target: Target,
    budget: &Budget,
) -> Result<Plan, Failed> {
    let failed = |error, finding| Failed { error, fraction: 1.0, finding };
    let (call, fraction, validation) = match target {
        Target::Variant(v) => {
            let (call, fraction, validation) = panics::capturing(|| {
                let (call, fraction) = calibrate(case, v, budget.call_limit.as_secs_f64());
                (call, fraction, case.validate(v))
            })
            .unwrap_or_else(|panic| (0.0, 1.0, Err(panic)));
            match validation {
                Ok(validation) => (call, fraction, validation),
                Err(error) => return Err(Failed { error, fraction, finding: false }),
            }
        }
        Target::External(e) => {
            let external = &mut *externals[e];
            let (call, rows, fraction) =
                calibrate_external(case, external, budget.call_limit.as_secs_f64()).map_err(|e| failed(e, false))?;
            let failed = |error, finding| Failed { error, fraction, finding };
            match external.validate(case, rows) {
                Ok(validation) => (call, fraction, validation),
                Err(Rejection::Wrong(error)) => return Err(failed(error, true)),
                Err(Rejection::Broken(error)) => return Err(failed(error, false)),
            }
        }
    };
    let reps = (budget.min_sample.as_secs_f64() / call.max(1e-9)).ceil().clamp(1.0, 10_000.0) as usize;
    let counted = match target {
        Target::Variant(v) => case.counted(v),
        Target::External(_) => None,
    };
    Ok(Plan {
        slot: 0,
        target,
        fraction,
        reps,
        call,
        validation,
        counted,
        seconds: Vec::new(),
        epochs: 1,
        failed: None,
    })
}

/// Why a target failed validation (see [`Outcome::Failed`]).
struct Failed {
    error: String,
    fraction: f64,
    finding: bool,
}

/// The timing rounds: in each, every plan takes one sample (`reps` calls) and the peak is probed
/// once, in an order rotated round by round. The first round of each epoch is a warm-up and is
/// dropped; a later epoch runs on a copy from `fresh` (one copy alive at a time), where each
/// variant is first limited as on `case` and validated again.
fn time_in_rounds(
    case: &mut dyn Case,
    fresh: Fresh,
    externals: &mut [&mut dyn External],
    plans: &mut [Plan],
    budget: &Budget,
    title: &str,
    machine: &mut Machine,
) {
    let round_time: f64 = plans.iter().map(|p| p.reps as f64 * p.call).sum();
    let rounds = if plans.is_empty() {
        0
    } else {
        let wanted = budget.per_variant.as_secs_f64() * plans.len() as f64 / round_time.max(1e-9);
        (wanted.ceil() as usize).clamp(budget.min_rounds, budget.max_rounds)
    };
    // At least two kept rounds per epoch, or fewer epochs.
    let epochs = EPOCHS.min(rounds / 2).max(1);
    let bar = progress_bar(((rounds + epochs) * plans.len()) as u64, &format!("{title}: timing"));
    let count = plans.len();
    let mut round = 0;
    let mut copy: Option<Box<dyn Case>> = None;
    for epoch in 0..epochs {
        if epoch > 0 {
            drop(copy.take()); // the last epoch's copy goes before the next is made
            copy = fresh();
        }
        let case: &mut dyn Case = match copy.as_deref_mut() {
            Some(copy) => {
                revalidate(copy, plans);
                copy
            }
            None => &mut *case,
        };
        // Rounds [first, last) of `rounds` are this epoch's, after its warm-up round.
        let kept = rounds * (epoch + 1) / epochs - rounds * epoch / epochs;
        for r in 0..=kept {
            // Every plan, and the peak probe as one more entry (index `count`).
            for i in 0..=count {
                // Rotate the order each round so no variant always runs right after another.
                let entry = (i + round) % (count + 1);
                if entry == count {
                    let probe = machine.probe_peak();
                    // Kept from the measured rounds only, so not run in the warm-up round.
                    let together = (r > 0 && machine.cores > 1).then(|| machine.probe_cores_together());
                    if r > 0 {
                        machine.round_probes.push(probe);
                        machine.round_together.extend(together);
                    }
                    continue;
                }
                let plan = &mut plans[entry];
                if plan.failed.is_none() {
                    plan.sample(case, externals, r > 0);
                }
                bar.inc(1);
            }
            round += 1;
        }
    }
    for plan in plans.iter_mut() {
        plan.epochs = epochs;
    }
    bar.finish_and_clear();
}

/// Limits each variant on a fresh copy of the input as on the first, and validates it there: a
/// kernel that is right on one allocation and wrong on another (an alignment assumption) fails.
fn revalidate(case: &mut dyn Case, plans: &mut [Plan]) {
    for plan in plans.iter_mut().filter(|p| p.failed.is_none()) {
        let Target::Variant(v) = plan.target else { continue };
        case.limit(v, plan.fraction);
        if let Err(error) = panics::capturing(|| case.validate(v)).and_then(|r| r) {
            plan.failed = Some(format!("wrong on a second copy of the same input (fresh allocations): {error}"));
        }
    }
}

/// [`calibrate`] for an external: the rows it runs on (all of them unless a call on the whole
/// input would exceed `limit`), its seconds per call there, and the fraction of the input.
/// Starts from a thinner slice than for a variant of ours: the slowest Python rung is a thousand
/// times slower than the slowest Rust one.
fn calibrate_external(case: &dyn Case, external: &mut dyn External, limit: f64) -> Result<(f64, usize, f64), String> {
    let slicing = case.rows().filter(|rows| rows.total > 0 && external.sliceable());
    let Some(slicing) = slicing else {
        let all = case.rows().map_or(0, |rows| rows.total);
        return Ok((timed_call(external)?, all, 1.0));
    };
    let mut rows = slicing.total;
    let (call, fraction) = grow_slice(1.0 / 4096.0, limit, |asked, timed| {
        rows = slicing.at(asked);
        external.limit(rows)?;
        let seconds = if timed { timed_call(external)? } else { 0.0 };
        Ok::<_, String>((rows as f64 / slicing.total as f64, seconds))
    })?;
    Ok((call, rows, fraction))
}

/// One warm call of an external: the first call warms it, the second is timed. Either may take
/// two minutes (a slice is meant to take milliseconds): a variant that never returns is stopped.
fn timed_call(external: &mut dyn External) -> Result<f64, String> {
    external.sample(1, CALIBRATION_DEADLINE)?;
    external.sample(1, CALIBRATION_DEADLINE)
}

/// How long one call of an external may take while it is calibrated.
const CALIBRATION_DEADLINE: Duration = Duration::from_secs(120);

/// How long an external may take to answer a sample it expects to take `seconds`: generous, so
/// that only a hang (not a slow machine) trips it.
fn sample_deadline(seconds: f64) -> Duration {
    Duration::from_secs_f64((20.0 * seconds).max(60.0))
}

struct Plan {
    slot: usize,
    target: Target,
    fraction: f64,
    reps: usize,
    /// Estimated seconds per call, as run (after any limit).
    call: f64,
    validation: String,
    counted: Option<String>,
    seconds: Vec<f64>,
    /// How many epochs `seconds` spans (see [`measure`]).
    epochs: usize,
    /// Why an external stopped answering while it was being timed.
    failed: Option<String>,
}

impl Plan {
    /// One sample: `reps` calls, kept (scaled to the full input for a variant that runs on a
    /// slice) unless this is the warm-up round.
    fn sample(&mut self, case: &mut dyn Case, externals: &mut [&mut dyn External], keep: bool) {
        let seconds = match self.target {
            Target::Variant(v) => {
                let start = Instant::now();
                for _ in 0..self.reps {
                    case.run(v);
                }
                Ok(start.elapsed().as_secs_f64())
            }
            Target::External(e) => externals[e].sample(self.reps, sample_deadline(self.reps as f64 * self.call)),
        };
        match seconds {
            Ok(seconds) if keep => self.seconds.push(seconds / self.reps as f64 / self.fraction),
            Ok(_) => {}
            Err(error) => self.failed = Some(error),
        }
    }

    /// What became of the plan, with one call's allocations counted for a variant of ours.
    fn outcome(self, case: &mut dyn Case, externals: &mut [&mut dyn External]) -> Outcome {
        let fraction = self.fraction;
        if let Some(error) = self.failed {
            return Outcome::Failed { error: format!("failed while being timed: {error}"), fraction, finding: false };
        }
        let (allocs, python_memory) = match self.target {
            Target::Variant(v) => (alloc::count(|| case.run(v)), None),
            // Under tracemalloc a pure-Python loop runs several times slower (it traces every float).
            Target::External(e) => (None, externals[e].memory(sample_deadline(10.0 * self.call))),
        };
        let stats = Stats { epochs: self.epochs, ..Stats::of(self.seconds) };
        Outcome::Measured { validation: self.validation, counted: self.counted, fraction, stats, allocs, python_memory }
    }
}

/// Decides how much of the input `variant` runs on, and estimates the seconds per call there.
///
/// Starts with a thin slice of the input and grows it eightfold until a call takes a few
/// milliseconds. If the extrapolated full call fits `limit`, the full call is timed for real
/// (extrapolating from a slice overestimates blocked kernels, whose fixed costs such as packing
/// all of B do not shrink with the slice). A variant is limited only when a slice taking at
/// least `limit / 8` says the full call would exceed `limit`: a genuinely slow variant.
pub fn calibrate(case: &mut dyn Case, variant: usize, limit: f64) -> (f64, f64) {
    let at = |asked: f64, timed: bool| {
        let fraction = case.limit(variant, asked);
        if !timed {
            return Ok::<_, std::convert::Infallible>((fraction, 0.0));
        }
        case.run(variant); // warm: first touch of the output, code and data into cache
        let start = Instant::now();
        case.run(variant);
        Ok((fraction, start.elapsed().as_secs_f64()))
    };
    let Ok(calibrated) = grow_slice(1.0 / 512.0, limit, at);
    calibrated
}

/// The search [`calibrate`] and [`calibrate_external`] share: `at(asked, timed)` limits the
/// variant to about `asked` of the input and returns the fraction it took, and (when `timed`) the
/// seconds of one warm call there. From `first`, the slice grows eightfold until a call takes at
/// least `limit / 8`; then the whole input if a call on it fits `limit`, else the slice that
/// would take `limit`. Returns the estimated seconds per call as run, and the fraction.
fn grow_slice<E>(
    first: f64,
    limit: f64,
    mut at: impl FnMut(f64, bool) -> Result<(f64, f64), E>,
) -> Result<(f64, f64), E> {
    let mut asked = first;
    loop {
        let (fraction, seconds) = at(asked, true)?;
        if fraction >= 1.0 {
            return Ok((seconds, 1.0));
        }
        if seconds / fraction <= limit {
            asked = 1.0;
        } else if seconds >= limit / 8.0 {
            let per_full_call = seconds / fraction;
            let (limited, _) = at(limit / per_full_call, false)?;
            return Ok((per_full_call * limited, limited));
        } else {
            asked = (asked * 8.0).min(1.0);
        }
    }
}

pub(crate) fn progress_bar(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use perflab_labs::WorkUnit;
    use perflab_labs::problem::Rows;

    /// A case whose variant 0 works and variant 1 panics, like an exercise indexing out of bounds.
    struct Fragile;

    impl Case for Fragile {
        fn label(&self) -> String {
            "fragile".into()
        }
        fn scale_inputs(&mut self, _: f32) -> Result<(), String> {
            Ok(())
        }
        fn params(&self) -> Vec<(&'static str, usize)> {
            Vec::new()
        }
        fn work(&self) -> WorkUnit {
            WorkUnit { per_call: 1.0, name: "calls/s", scale: 1.0, is_flops: false, items: None }
        }
        fn limit(&mut self, _: usize, _: f64) -> f64 {
            1.0
        }
        fn run(&mut self, variant: usize) {
            let data = [1u8; 4];
            std::hint::black_box(data[std::hint::black_box(4 * variant)]);
        }
        fn validate(&mut self, variant: usize) -> Result<String, String> {
            self.run(variant);
            Ok("checked".into())
        }
        fn counted(&self, _: usize) -> Option<String> {
            None
        }
        fn inputs(&self) -> Vec<perflab_labs::NamedArray<'_>> {
            Vec::new()
        }
        fn rows(&self) -> Option<Rows> {
            None
        }
        fn check_output(&self, _: usize, _: &[perflab_labs::Output]) -> Result<String, String> {
            Err("not checked here".into())
        }
    }

    #[test]
    fn a_panicking_variant_fails_and_the_others_are_still_measured() {
        let budget = Budget { per_variant: Duration::from_millis(20), ..Budget::quick() };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let mut machine = Machine::probe(&pool);
        let outcomes =
            pool.install(|| measure(&mut Fragile, &mut || None, &[0, 1], &mut [], &budget, "test", &mut machine));
        assert!(machine.peak_probes > budget.min_rounds, "the peak is probed in every round");
        assert!(matches!(&outcomes[0], Outcome::Measured { stats, .. } if stats.samples >= budget.min_rounds));
        match &outcomes[1] {
            Outcome::Failed { error, .. } => {
                assert!(error.contains("index out of bounds") && error.contains("measure.rs"), "{error}")
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let stats = Stats::of(vec![4.0, 1.0, 3.0, 2.0]);
        assert_eq!((stats.median, stats.p25, stats.p75, stats.min), (2.5, 1.75, 3.25, 1.0));
        assert_eq!(stats.spread(), 1.5 / 2.5);
        assert_eq!(Stats::of(vec![7.0]).median, 7.0);
    }

    #[test]
    fn a_paired_ratio_cancels_what_slowed_both_in_the_same_round() {
        // The machine got twice and three times slower in later rounds, for both variants alike.
        let ours = Stats::of(vec![1.0, 2.0, 3.0]);
        let theirs = Stats::of(vec![2.0, 4.0, 6.0]);
        let paired = ours.paired_ratio(&theirs).unwrap();
        assert_eq!((paired.median, paired.spread()), (2.0, 0.0));
        assert!(theirs.median / ours.median == 2.0 && ours.spread() == 0.5, "each median is as noisy as the rounds");
        assert!(ours.paired_ratio(&Stats::of(vec![1.0])).is_none(), "no pairs from different rounds");
    }
}

//! Checking a learner's Python file: the same sizes and oracle as a Rust exercise, in one Python
//! process that loads each size in turn (no SIMD levels or pools to force: numpy picks its own).

use std::time::{Duration, Instant};

use perflab_labs::{Case, OutOfProcess};

use crate::anchors::{self, Anchor, Unavailable};
use crate::checker::{Correct, Failure, shapes};
use crate::exercises::Exercise;
use crate::isolate;
use crate::measure::{External, Rejection};

/// Time for starting Python and loading a size, on top of the call's own deadline, before the
/// watching parent stops the whole check (a backstop: the call's deadline comes first).
const START_SLACK: Duration = Duration::from_secs(60);

/// Validates the Python exercise `file` on every shape; stops at the first failure, then
/// checks the other shapes for the pattern, as the Rust checker does. A call that overruns the
/// check's step deadline (`--deadline`: those sizes are small, the shipped loops take seconds
/// on the largest) is stopped and ends the check there, as a Rust kernel's would: one such call
/// per size would keep the learner waiting for minutes.
pub fn check_correctness(
    exercise: &Exercise,
    file: &'static OutOfProcess,
    seed: u64,
    progress: impl FnMut(&str),
) -> Result<Correct, Failure> {
    check_within(exercise, file, seed, isolate::step_deadline(), progress)
}

/// [`check_correctness`] with each call's `deadline` given (a test sets a short one).
pub fn check_within(
    exercise: &Exercise,
    file: &'static OutOfProcess,
    seed: u64,
    deadline: Duration,
    mut progress: impl FnMut(&str),
) -> Result<Correct, Failure> {
    let shapes = shapes(exercise, seed);
    let failure_on = |index: usize, error: String| Failure {
        shape: shapes[index].clone(),
        level: None,
        threads: 1,
        error,
        also: Vec::new(),
        checked: shapes.len(),
    };
    let python = anchors::find_python(None).map_err(|why| failure_on(0, why))?;
    let mut process: Option<Anchor> = None;
    let mut first: Option<Failure> = None;
    for (i, shape) in shapes.iter().enumerate() {
        let step = format!("Python, {}", shape.size);
        isolate::step(&format!("{} at {step}", exercise.id()), deadline + START_SLACK);
        progress(&step);
        let verdict = match exercise.lab.prepare(&shape.size, seed.wrapping_add(i as u64)) {
            Ok(case) => validate(&mut process, &python, exercise, file, &*case, deadline),
            Err(e) => Err(Failed { error: format!("bad size: {e}"), overran: false }),
        };
        // Stopped at the deadline, not merely wrong after a long call.
        let overran = verdict.as_ref().is_err_and(|failed| failed.overran);
        match (verdict.map_err(|failed| failed.error), &mut first) {
            (Ok(()), _) => {}
            (Err(error), None) if overran => {
                let error = format!(
                    "{error}\n(the deadline of one call is --deadline, {deadline:?}; the sizes after this one were not checked)"
                );
                return Err(Failure { checked: i + 1, ..failure_on(i, error) });
            }
            (Err(error), None) => first = Some(failure_on(i, error)),
            (Err(_), Some(failure)) => {
                failure.also.push(shape.size.clone());
                if overran {
                    failure.checked = i + 1;
                    break;
                }
            }
        }
    }
    match first {
        Some(failure) => Err(failure),
        None => Ok(Correct { shapes: shapes.len(), levels: Vec::new(), pools: vec![1] }),
    }
}

/// Why one validation failed, and whether a call was stopped at its deadline (the file's code
/// ran too long, so the sizes after this one are not tried).
struct Failed {
    error: String,
    overran: bool,
}

/// One validation of the file on `case`, in `process` (started, or restarted after a crash or a
/// call that never returned, as needed).
fn validate(
    process: &mut Option<Anchor>,
    python: &std::path::Path,
    exercise: &Exercise,
    file: &'static OutOfProcess,
    case: &dyn Case,
    deadline: Duration,
) -> Result<(), Failed> {
    // A process kept from the last size loads this case; a new one loaded it when it started.
    let (mut running, loaded) = match process.take() {
        Some(mut running) => {
            let loaded = running.load(case);
            (running, loaded)
        }
        None => {
            let starting = Instant::now();
            let started = start(python, exercise.lab.name(), file, 1, case);
            // A start that fails only after a whole call's deadline hung (top-level code that
            // never returns): another start for the next size would hang as long.
            let overran = starting.elapsed() >= deadline;
            (started.map_err(|error| Failed { error, overran })?, Ok(()))
        }
    };
    let verdict = loaded.map_err(Rejection::Broken).and_then(|()| {
        running.set_call_deadline(deadline);
        running.validate(case, case.rows().map_or(0, |rows| rows.total))
    });
    let overran = running.stopped_at_deadline();
    if running.is_alive() {
        *process = Some(running);
    }
    match verdict {
        Ok(_) => Ok(()),
        Err(Rejection::Wrong(error) | Rejection::Broken(error)) => Err(Failed { error, overran }),
    }
}

fn start(
    python: &std::path::Path,
    lab: &str,
    file: &OutOfProcess,
    threads: usize,
    case: &dyn Case,
) -> Result<Anchor, String> {
    match Anchor::start(python, lab, file, threads, case) {
        Ok(Ok(anchor)) => Ok(anchor),
        Ok(Err(error)) => Err(error),
        Err(Unavailable(why)) => Err(why),
    }
}

/// Starts the Python processes of the variants in `order` that are the lab's out-of-process ones
/// (numbered past its own, as [`Exercise::variant`]), in that order.
pub fn start_all(exercise: &Exercise, order: &[usize], threads: usize, case: &dyn Case) -> Result<Vec<Anchor>, String> {
    let lab = exercise.lab;
    let own = lab.variants().len();
    let files: Vec<&OutOfProcess> =
        order.iter().filter_map(|&v| v.checked_sub(own)).map(|i| &lab.out_of_process()[i]).collect();
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let python = anchors::find_python(None)?;
    files.into_iter().map(|file| start(&python, lab.name(), file, threads, case)).collect()
}

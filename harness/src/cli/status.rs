//! `cargo lab check [<lab> [<exercise>]]` and `cargo lab status`: is my exercise right, how fast
//! is it, and is its goal met? Both are built on [`crate::checker`]; what they print is built
//! here as text, so the tests can read it.

use std::path::Path;
use std::process::ExitCode;

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_BORDERS_ONLY};
use indicatif::{ProgressBar, ProgressStyle};

use super::{CheckArgs, StatusArgs};
use crate::checker::{self, Correct, Failure, Timing};
use crate::exercises::{self, Exercise};
use crate::{anchors, baseline};
use perflab_labs::simd::{self, SimdLevel};

use crate::alloc::AllocStats;
use crate::report::{format_bytes, format_ratio, format_seconds, indent};

/// When to time an exercise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Never,
    /// Only once it is no longer the shipped scaffold (which is the baseline).
    Edited,
    Always,
}

/// How to check: the timing's size, threads and seconds (None: the goal's), and the seed.
#[derive(Clone, Debug)]
pub struct Options {
    pub time: When,
    pub size: Option<String>,
    pub threads: Option<usize>,
    pub seconds: f64,
    pub seed: u64,
    /// The Python that runs the Python exercises, or why there is none: probed at most once per
    /// command (a short run of the interpreter), at the first Python exercise.
    pub python: std::sync::OnceLock<Result<std::path::PathBuf, String>>,
}

impl Options {
    fn working_python(&self) -> &Result<std::path::PathBuf, String> {
        self.python.get_or_init(|| anchors::find_working_python(None))
    }
}

/// Why an exercise is not known to be correct.
#[derive(Debug)]
pub enum NotCorrect {
    /// It was checked and gave a wrong answer (or panicked, or ran out of time).
    Failed(Failure),
    /// It could not be checked, and why: a Python exercise where no Python was found. Python is
    /// optional, so that is neither right nor wrong, and only a check of that one exercise fails for it.
    NotChecked(String),
}

/// What checking one exercise found.
#[derive(Debug)]
pub struct Report {
    pub exercise: Exercise,
    /// None: its file or its shipped copy is missing.
    pub as_shipped: Option<bool>,
    pub correctness: Result<Correct, NotCorrect>,
    /// None: not timed (failed, not checked, as shipped, or not asked for).
    pub timing: Option<Result<Timing, String>>,
    /// Whether the timing was at the goal's own size and threads (only then is the goal judged).
    pub at_goal: bool,
}

impl Report {
    /// Whether the exercise was wrong, or its timing could not be done: what makes the exit code 1.
    pub fn failed(&self) -> bool {
        matches!(self.correctness, Err(NotCorrect::Failed(_))) || matches!(self.timing, Some(Err(_)))
    }

    /// Why it was not checked, if it was not.
    pub fn not_checked(&self) -> Option<&str> {
        match &self.correctness {
            Err(NotCorrect::NotChecked(why)) => Some(why),
            _ => None,
        }
    }

    /// The goal's verdict: None when it was not judged.
    pub fn goal_met(&self) -> Option<bool> {
        match &self.timing {
            Some(Ok(timing)) if self.at_goal => Some(timing.ratio() >= self.exercise.goal.ratio),
            _ => None,
        }
    }
}

/// Checks one exercise: correctness first, then (when asked and correct) one timing.
pub fn check_one(exercise: &Exercise, workspace: &Path, options: &Options) -> Report {
    let as_shipped = exercise.is_as_shipped(workspace);
    let goal = &exercise.goal;
    let size = options.size.clone().unwrap_or_else(|| goal.size.clone());
    let threads = options.threads.unwrap_or_else(|| goal.threads.resolve());
    let at_goal = exercise.at_goal(&size, threads);
    if exercise.python().is_some()
        && let Err(why) = options.working_python()
    {
        let exercise = exercise.clone();
        return Report {
            exercise,
            as_shipped,
            correctness: Err(NotCorrect::NotChecked(why.clone())),
            timing: None,
            at_goal,
        };
    }
    let bar = spinner(&exercise.id());
    let correctness = checker::check_correctness(exercise, options.seed, |step| bar.set_message(step.to_string()));
    bar.finish_and_clear();
    let wants_time = match options.time {
        When::Never => false,
        When::Edited => as_shipped != Some(true),
        When::Always => true,
    };
    let timing = (correctness.is_ok() && wants_time)
        .then(|| checker::time(exercise, &size, threads, options.seconds, options.seed));
    let correctness = correctness.map_err(NotCorrect::Failed);
    Report { exercise: exercise.clone(), as_shipped, correctness, timing, at_goal }
}

fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} checking {prefix}: {wide_msg}").expect("a valid template"));
    bar.set_prefix(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// `as shipped`, `edited`, or `missing` (the file or its shipped copy).
fn state(report: &Report) -> &'static str {
    match report.as_shipped {
        Some(true) => "as shipped",
        Some(false) => "edited",
        None => "missing",
    }
}

/// Between these speedups over the baseline an edited exercise is, within one run's noise, the
/// baseline itself: most likely its new code is not called yet.
const BASELINE_SPEED: std::ops::Range<f64> = 0.85..1.18;

/// What `cargo lab check` prints for one exercise.
pub fn render_check(report: &Report) -> String {
    let e = &report.exercise;
    let mut out = format!("{}  {} ({})\n", e.id(), e.file.display(), state(report));
    let failure = match &report.correctness {
        Ok(correct) => {
            out += &format!("  {}\n", correct.describe());
            None
        }
        Err(NotCorrect::Failed(failure)) => Some(failure),
        Err(NotCorrect::NotChecked(why)) => return out + &format!("  not checked: {why}\n"),
    };
    if let Some(failure) = failure {
        out += &format!("  {}:\n{}\n", failure.headline(), indent(&failure.error));
        out += &format!("  {}\n", failure.pattern());
        out += &format!(
            "  not timed: a wrong kernel's speed means nothing. Fix it and run `cargo lab check {}` again \
             (stuck? `cargo lab hint {}`)\n",
            e.id(),
            e.id()
        );
        return out;
    }
    let goal = e.goal.describe(e.reference);
    match &report.timing {
        None if report.as_shipped == Some(true) => {
            out += &format!(
                "  not timed: still as shipped, nothing of yours to time yet. Start with TODO 1 in {} (goal: {goal})\n",
                e.file.display()
            );
        }
        None => out += &format!("  not timed (goal: {goal})\n"),
        Some(Err(error)) => out += &format!("  timing failed: {}\n", indent(error).trim_start()),
        Some(Ok(t)) => out += &render_timing(report, t, &goal),
    }
    out
}

/// The timing of a correct exercise: its line, its heap, the goal's verdict and the notes that
/// qualify it (noise, as shipped, still at the baseline's speed).
fn render_timing(report: &Report, t: &Timing, goal: &str) -> String {
    let e = &report.exercise;
    let mut out = String::new();
    let name = e.name;
    // A Python exercise is timed beside the Rust baseline: say which language each row is.
    let (naive, at) = match e.python() {
        Some(_) => ("Rust naive", "in Python".to_string()),
        None => ("naive", describe_level(t.level)),
    };
    out += &format!(
        "  timed at {}, {} thread{}, {at}: {name} {} | {naive} {} (speedup {}x) | {} {} ({}x {})\n",
        t.label,
        t.threads,
        if t.threads == 1 { "" } else { "s" },
        format_seconds(t.exercise.median),
        format_seconds(t.naive.median),
        format_ratio(t.speedup()),
        e.reference,
        format_seconds(t.reference.median),
        format_ratio(t.ratio()),
        e.reference
    );
    out += &render_heap(name, e.reference, t);
    out += &match report.goal_met() {
        Some(true) => format!("  goal {goal}: met ({}x)\n", format_ratio(t.ratio())),
        Some(false) => format!(
            "  goal {goal}: not yet ({}x: {}x faster to go). Next: the next TODO step, or \
             `cargo lab hint {}`\n",
            format_ratio(t.ratio()),
            format_ratio(e.goal.ratio / t.ratio()),
            e.id()
        ),
        None => format!("  goal {goal}: not judged (timed at another size or thread count)\n"),
    };
    // The ratio's own noise: nearer the goal than that, it can land either side of it from
    // one run to the next.
    let noise = t.ratio_noise();
    if report.goal_met().is_some() && (t.ratio() / e.goal.ratio - 1.0).abs() < noise {
        out += &format!(
            "  note: that is within this run's noise (±{:.0}%) of the goal: run it again, or give \
             more --seconds, before you trust the verdict\n",
            100.0 * noise
        );
    } else if t.spread() > crate::report::NOISY_SPREAD {
        out += "  note: wide spread between samples (the machine was busy): run it again before you trust the ratio\n";
    }
    if report.as_shipped == Some(true) {
        out += "  (as shipped: this is where you start)\n";
    } else if BASELINE_SPEED.contains(&t.speedup()) {
        out += &format!(
            "  note: {name} runs at the baseline's speed ({:.2}x): if your new code is called, it is not \
             faster yet; if it is not, each TODO step's `Check:` line says what to wire in\n",
            t.speedup()
        );
    }

    out
}

/// The level the timing ran at, saying so when it is narrower than the CPU's (`PERFLAB_SIMD`).
fn describe_level(level: SimdLevel) -> String {
    let cpu = simd::detected();
    if level == cpu { level.to_string() } else { format!("{level} (set by PERFLAB_SIMD; this CPU has {cpu})") }
}

/// One warm call's heap use, the exercise's beside its reference's (memory is an interview topic
/// of its own), and a note when the exercise allocates where its reference does not.
fn render_heap(name: &str, reference: &str, t: &Timing) -> String {
    let (Some(yours), Some(theirs)) = (t.exercise_allocs, t.reference_allocs) else { return String::new() };
    let mut out =
        format!("  heap per call: {name} {} | {reference} {}\n", describe_allocs(yours), describe_allocs(theirs));
    if yours.blocks > 0 && theirs.blocks == 0 {
        out += &format!(
            "  note: {name} allocates on every call and {reference} does not: allocate once and reuse (see how \
             {reference} keeps its scratch), or write into the output you are given\n"
        );
    }
    out
}

fn describe_allocs(allocs: AllocStats) -> String {
    match allocs.blocks {
        0 => "no allocation".into(),
        blocks => {
            format!("{blocks} allocation{}, {}B", if blocks == 1 { "" } else { "s" }, format_bytes(allocs.bytes))
        }
    }
}

/// The `cargo lab status` table.
pub fn render_status(reports: &[Report]) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["lab", "exercise", "file", "correct", "vs naive", "vs ref", "goal", "at size", "met"]);
    let mut failures = Vec::new();
    let mut not_checked = Vec::new();
    for r in reports {
        let e = &r.exercise;
        let state = state(r);
        let correct = match &r.correctness {
            Ok(c) => format!("yes ({} shapes)", c.shapes),
            Err(NotCorrect::Failed(failure)) => {
                failures.push(format!("{} {}:\n{}", e.id(), failure.headline(), indent(&failure.error)));
                format!("FAILED on {}", failure.shape.size)
            }
            Err(NotCorrect::NotChecked(why)) => {
                not_checked.push(why.clone());
                "not checked (no Python)".into()
            }
        };
        let (speedup, vs_ref) = match &r.timing {
            Some(Ok(t)) => (format!("{}x", format_ratio(t.speedup())), format!("{:.2}x {}", t.ratio(), e.reference)),
            Some(Err(_)) => ("failed".into(), "-".into()),
            None => ("-".into(), "-".into()),
        };
        let met = match (r.goal_met(), &r.correctness, r.as_shipped) {
            (Some(true), ..) => "yes",
            (Some(false), ..) => "not yet",
            (None, Err(NotCorrect::Failed(_)), _) => "no",
            (None, Err(NotCorrect::NotChecked(_)), _) => "-",
            (None, Ok(_), Some(true)) => "not started",
            (None, Ok(_), _) => "-",
        };
        let cells = [
            Cell::new(e.lab.name()),
            Cell::new(e.name),
            Cell::new(state),
            Cell::new(correct),
            Cell::new(speedup).set_alignment(CellAlignment::Right),
            Cell::new(vs_ref).set_alignment(CellAlignment::Right),
            Cell::new(e.goal.short(e.reference)),
            Cell::new(&e.goal.size),
            Cell::new(met),
        ];
        table.add_row(cells);
    }
    let mut out = format!("{table}\n");
    out += "correct: validated on the lab's edge, larger and random sizes at every SIMD level this CPU has\n\
            vs naive, vs ref: timed at the goal's size and threads (edited exercises only; as shipped they are the baseline)\n";
    for failure in failures {
        out += &format!("\n{failure}\n");
    }
    // The same reason for every Python exercise: said once.
    not_checked.dedup();
    for why in not_checked {
        out += &format!("\nPython exercises not checked (Python is optional): {why}\n");
    }
    out += "\nOne exercise in detail: `cargo lab check <lab> <exercise>`; a hint: `cargo lab hint <lab> <exercise>`\n";
    out
}

pub fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let (workspace, all) = exercises::load_all()?;
    let chosen = exercises::select(&all, &args.exercise)?;
    if let Some(threads) = args.threads {
        super::check_thread_count(usize::from(threads))?;
    }
    if let Some(size) = &args.size {
        for e in &chosen {
            // Refused before anything is built: a size beyond this machine's memory.
            super::check_size(e.lab, size)?;
            let case = e.lab.prepare(size, args.seed).map_err(anyhow::Error::msg)?;
            if case.work().per_call == 0.0 {
                anyhow::bail!("{} {}: nothing to time (a call on this size does no work)", e.lab.name(), case.label());
            }
        }
    }
    // One exercise asked for by name is timed even as shipped (its starting point); a whole list
    // times only what has been edited, as `status` does.
    let time = match (args.no_time, chosen.len()) {
        (true, _) => When::Never,
        (false, 1) => When::Always,
        (false, _) => When::Edited,
    };
    let options = Options {
        time,
        size: args.size.clone(),
        threads: args.threads.map(usize::from),
        seconds: args.seconds,
        seed: args.seed,
        python: Default::default(),
    };
    let against = super::against::Prepared::new(&args.against)?;
    let mut failed = false;
    let mut documents = None;
    for exercise in &chosen {
        let report = check_one(exercise, &workspace, &options);
        failed |= report.failed();
        // Asked for this one exercise by name, and it could not be checked: that is an error.
        if chosen.len() == 1
            && let Some(why) = report.not_checked()
        {
            anyhow::bail!("{} is a Python exercise and could not be checked: {why}", exercise.id());
        }
        println!("{}", render_check(&report));
        if let Some(Ok(timing)) = &report.timing {
            let (lab, name) = (exercise.lab.name(), exercise.name);
            if let Some(line) = baseline::against_last_check(lab, name, &timing.document, args.against.noise_band) {
                println!("  {line}\n");
            }
            documents = Some(crate::saved::merge(documents, timing.document.clone()));
        }
    }
    if let Some(documents) = documents {
        against.report(&documents)?;
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn status(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let (workspace, all) = exercises::load_all()?;
    let options = Options {
        time: if args.no_time { When::Never } else { When::Edited },
        size: None,
        threads: None,
        seconds: args.seconds,
        seed: args.seed,
        python: Default::default(),
    };
    let reports: Vec<Report> = all.iter().map(|e| check_one(e, &workspace, &options)).collect();
    print!("{}", render_status(&reports));
    let failed = reports.iter().any(Report::failed);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

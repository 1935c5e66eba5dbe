//! `cargo lab` / `cargo lab quick` and `cargo lab bench <lab>`: validate, time and report.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use perflab_labs::{Case, Lab, OutOfProcess, Role};

use super::{
    BenchArgs, Common, ThreadCounts, against, check_size, find_lab, scaling, select_variants, thread_pool, with_data,
};
use crate::anchors::{self, Anchor, Unavailable};
use crate::exercises::{self, Exercise};
use crate::machine::Machine;
use crate::measure::{self, Budget, External, Outcome};
use crate::pictures::html::Report;
use crate::report::{self, Document, Row};
use crate::saved::SavedRun;

/// One lab to run: which sizes, which variants (indices into its variants, then its Python
/// anchors: see `variant_names`).
pub(super) struct Job {
    pub lab: &'static dyn Lab,
    pub sizes: Vec<String>,
    pub variants: Vec<usize>,
    /// One line per size instead of a table (a sweep: its own table follows).
    pub compact: bool,
    /// Time a Python library whose OpenBLAS loaded a kernel narrower than this CPU a second time,
    /// with the nearest core type forced (`faiss-blas@SkylakeX`); the quick run only notes it.
    pub forced_twins: bool,
}

/// Every lab at its quick sizes, every variant but the Python rungs whose lesson is their
/// slowness and the exercises as shipped (the baseline's code until edited: `cargo lab check`
/// validates and times them), both named at the end.
pub fn quick(common: &Common) -> anyhow::Result<ExitCode> {
    let labs = perflab_labs::all();
    let shipped = shipped_exercises(&labs);
    let jobs = labs
        .iter()
        .map(|&lab| {
            let variants = quick_variants(lab, &shipped);
            Job {
                lab,
                sizes: lab.quick_sizes().iter().map(|s| s.to_string()).collect(),
                variants,
                compact: false,
                forced_twins: false,
            }
        })
        .collect();
    let again = |threads: u16, json: &Path| args(["quick", "--threads", &threads.to_string(), "--json"], json);
    let code = run_jobs(jobs, common, &Budget::quick(), &again, "quick")?;
    let slow: Vec<String> = labs
        .iter()
        .flat_map(|lab| {
            lab.out_of_process().iter().filter(|v| v.slow).map(move |v| format!("{} {}", lab.name(), v.name))
        })
        .collect();
    println!(
        "left out of this quick run, as slow by design (their lesson): {}; `cargo lab bench <lab>` times them",
        slow.join(", ")
    );
    if !shipped.is_empty() {
        let names: Vec<String> = shipped.iter().map(|e| e.id()).collect();
        println!(
            "and the exercises as shipped, which run the baseline's code until you edit them: {} \
             (`cargo lab status` checks and times them; an edited one is in this run)",
            names.join(", ")
        );
    }
    Ok(code)
}

/// The variants of `lab` the quick run times: all but the slow Python rungs and the `shipped`
/// exercises.
fn quick_variants(lab: &dyn Lab, shipped: &[Exercise]) -> Vec<usize> {
    let own = lab.variants().len();
    let fast = |&i: &usize| i < own || !lab.out_of_process()[i - own].slow;
    let edited = |&i: &usize| !shipped.iter().any(|e| e.lab.name() == lab.name() && e.variant == i);
    (0..own + lab.out_of_process().len()).filter(fast).filter(edited).collect()
}

/// The exercises whose files are as shipped (none outside the workspace, where their files are
/// not to be read: there every variant runs).
fn shipped_exercises(labs: &[&'static dyn Lab]) -> Vec<Exercise> {
    let Ok(workspace) = exercises::workspace() else { return Vec::new() };
    let all = exercises::load(&workspace, labs).unwrap_or_default();
    all.into_iter().filter(|e| e.is_as_shipped(&workspace) == Some(true)).collect()
}

/// One lab, the sizes and variants asked for.
pub fn bench(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let lab = find_lab(&args.lab)?;
    let sizes = if args.size.is_empty() {
        lab.default_sizes().iter().map(|s| s.to_string()).collect()
    } else {
        args.size.clone()
    };
    let sizes: Vec<String> =
        sizes.iter().map(|size| with_data(lab, size, args.data.as_deref())).collect::<anyhow::Result<_>>()?;
    let variants = select_variants(lab, &args.variant)?;
    let again = |threads: u16, json: &Path| {
        let mut line = vec!["bench".to_string(), lab.name().to_string(), "--seconds".into(), args.seconds.to_string()];
        for size in &sizes {
            line.extend(["--size".to_string(), size.to_string()]);
        }
        for name in &args.variant {
            line.extend(["--variant".to_string(), name.clone()]);
        }
        line.extend(["--threads".to_string(), threads.to_string(), "--json".into()]);
        args_with(line, json)
    };
    run_jobs(
        vec![Job { lab, sizes: sizes.clone(), variants, compact: false, forced_twins: true }],
        &args.common,
        &Budget::thorough(args.seconds),
        &again,
        &format!("bench-{}", lab.name()),
    )
}

/// A command line of words, then a path.
fn args<const N: usize>(words: [&str; N], path: &Path) -> Vec<OsString> {
    args_with(words.iter().map(|w| w.to_string()).collect(), path)
}

pub(super) fn args_with(words: Vec<String>, path: &Path) -> Vec<OsString> {
    words.into_iter().map(OsString::from).chain(std::iter::once(path.as_os_str().to_owned())).collect()
}

/// Creates the report's folder before a run, so that an unwritable one is refused at once.
pub(super) fn create_report_folder(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the report folder {}", dir.display()))
}

/// Writes the HTML report of `report` into `dir` and says where.
pub(super) fn write_report(dir: &Path, page: &str, report: &Report) -> anyhow::Result<()> {
    let path = crate::pictures::html::write(dir, page, report)?;
    println!("report written to {} (opens offline; its charts are SVG files beside it)", path.display());
    Ok(())
}

/// The command line as typed, for a report.
pub(super) fn command_line() -> String {
    std::iter::once("cargo lab".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ")
}

/// What every case of a run shares.
struct Run<'r> {
    budget: &'r Budget,
    pool: rayon::ThreadPool,
    python: Result<PathBuf, String>,
    seed: u64,
    /// The exercises' goals, for a note under each table (none outside the workspace).
    goals: Vec<Exercise>,
    workspace: Option<PathBuf>,
}

/// Measures `jobs` and reports them; with several thread counts, runs `again(threads, json)` (this
/// command for one count) once per count instead, and adds the scaling.
fn run_jobs(
    jobs: Vec<Job>,
    common: &Common,
    budget: &Budget,
    again: &dyn Fn(u16, &Path) -> Vec<OsString>,
    page: &str,
) -> anyhow::Result<ExitCode> {
    // Everything that can be refused is refused before any time is spent: sizes (parsed, and
    // checked against memory), the JSON path, the baseline and the reference.
    for job in &jobs {
        for size in &job.sizes {
            check_size(job.lab, size)?;
        }
    }
    // The baseline and reference first: a refusal there leaves no JSON file begun.
    scaling::one_count_with_against(common)?;
    let against = against::Prepared::new(&common.against)?;
    let json = common.json.as_deref().map(|path| create_json(path).map(|file| (file, path))).transpose()?;
    if let Some(dir) = &common.report {
        create_report_folder(dir)?;
    }
    if ThreadCounts::several(common.threads.as_ref()) {
        let (documents, failed) = scaling::per_count(common, again)?;
        let runs = scaling::saved(&documents)?;
        scaling::print(&runs);
        let document = scaling::merged(&documents);
        if let Some((file, path)) = json {
            write_json(file, path, &document)?;
        }
        if let Some(dir) = &common.report {
            let run = SavedRun::from_value(document, "this run")?;
            let title = "perflab: thread scaling".to_string();
            write_report(
                dir,
                page,
                &Report { title, command: command_line(), run: Some(run), by_threads: runs, ..Default::default() },
            )?;
        }
        return Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS });
    }
    let (failures, document) = measure_jobs(jobs, common, budget)?;
    let mut document = serde_json::to_value(&document)?;
    let compared = against.report(&document)?;
    if !compared.is_null() {
        document["against"] = compared.clone();
    }
    if let Some((file, path)) = json {
        write_json(file, path, &document)?;
    }
    if let Some(dir) = &common.report {
        let run = SavedRun::from_value(document, "this run")?;
        let report = Report {
            title: "perflab run".to_string(),
            command: command_line(),
            run: Some(run),
            against: (!compared.is_null()).then_some(compared),
            ..Default::default()
        };
        write_report(dir, page, &report)?;
    }
    if failures > 0 {
        eprintln!("{failures} variant(s) failed validation: see the notes under the tables");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Validates and times every job, printing a table per case; the count of variants that failed
/// validation, and the run's document.
pub(super) fn measure_jobs(jobs: Vec<Job>, common: &Common, budget: &Budget) -> anyhow::Result<(usize, Document)> {
    // A job's variants index the lab's own table, then its out-of-process (Python) ones.
    let in_python = |job: &Job, v: usize| v >= job.lab.variants().len();
    let wants_python = jobs.iter().any(|job| job.variants.iter().any(|&v| in_python(job, v)));
    let python = if wants_python { anchors::find_working_python(common.python.as_deref()) } else { Err(String::new()) };
    let only_python = jobs.iter().all(|job| job.variants.iter().all(|&v| in_python(job, v)));
    if wants_python
        && only_python
        && let Err(why) = &python
    {
        anyhow::bail!("nothing to time: every variant asked for runs in Python, and {why}");
    }
    let pool = thread_pool(ThreadCounts::single(common.threads.as_ref()))?;
    let labs: Vec<&'static dyn Lab> = jobs.iter().map(|job| job.lab).collect();
    let (workspace, goals) = match exercises::workspace().and_then(|w| exercises::load(&w, &labs).map(|g| (w, g))) {
        Ok((workspace, goals)) => (Some(workspace), goals),
        Err(error) => {
            eprintln!("note: no exercise goals in this run's notes: {error:#}");
            (None, Vec::new())
        }
    };
    let run = Run { budget, pool, python, seed: common.seed, goals, workspace };
    let mut machine = Machine::probe(&run.pool).with_limits(&run.pool);
    println!("{}\n", machine.describe());
    let mut records = Vec::new();
    let mut failures = 0;
    for job in &jobs {
        for size in &job.sizes {
            let Some((record, failed)) = run_case(&run, job, size, &mut machine)? else { continue };
            failures += failed;
            let any_failed = record.variants.iter().any(|v| v.verdict.status == report::Status::Failed);
            if job.compact && !any_failed {
                println!("{}", report::one_line(&record));
                records.push(record);
                continue;
            }
            print!("{}", report::render(&record));
            for note in goal_notes(&record, &run.goals, run.workspace.as_deref()) {
                println!("{note}");
            }
            println!();
            records.push(record);
        }
    }
    // Every record divides by the best peak of the whole run (tables printed along the way used
    // the best so far).
    if let Some(earlier) = report::rescale_to_peak(&mut records, machine.core_peak_gflops) {
        println!(
            "note: the FMA probe rose from {earlier:.1} to {:.1} GFLOP/s per core during the run: tables printed \
             before divided by the lower figure; the saved results (JSON, HTML report, comparisons) divide \
             every row by the higher\n",
            machine.core_peak_gflops
        );
    }
    machine.keep_peak();
    Ok((failures, Document::new(machine, records)))
}

/// One lab at one size: its variants and Python anchors validated and timed together, and the
/// record, with how many failed (a library's answer rejected by the oracle is a finding, reported
/// and never timed, not a failure of the run: on far-from-origin data that is the lesson). None:
/// a size that does no work.
fn run_case(
    run: &Run,
    job: &Job,
    size: &str,
    machine: &mut Machine,
) -> anyhow::Result<Option<(report::Record, usize)>> {
    let table = job.lab.variants();
    let mut case = job.lab.prepare(size, run.seed).map_err(anyhow::Error::msg)?;
    let title = format!("{} {}", job.lab.name(), case.label());
    if case.work().per_call == 0.0 {
        println!("{title}: nothing to time (a call on this size does no work)\n");
        return Ok(None);
    }
    let own: Vec<usize> = job.variants.iter().copied().filter(|&v| v < table.len()).collect();
    let runnable: Vec<usize> = own.iter().copied().filter(|&v| table[v].kernel.is_ok()).collect();
    let wanted: Vec<&OutOfProcess> =
        job.variants.iter().filter_map(|&v| v.checked_sub(table.len())).map(|a| &job.lab.out_of_process()[a]).collect();
    let twins = job.forced_twins.then_some(machine.cpu_simd_level.as_str());
    let mut started = start_anchors(job.lab, &wanted, &run.python, run.pool.current_num_threads(), &*case, twins);
    let mut externals: Vec<&mut dyn External> =
        started.iter_mut().filter_map(|(_, s)| s.as_mut().ok()).map(|a| a as &mut dyn External).collect();
    let mut fresh = measure::fresh_copies(job.lab, size, run.seed);
    let outcomes = run
        .pool
        .install(|| measure::measure(&mut *case, &mut fresh, &runnable, &mut externals, run.budget, &title, machine));
    let mut failures = outcomes.iter().filter(|o| matches!(o, Outcome::Failed { finding: false, .. })).count();
    // `outcomes` follow `runnable`, then the anchors that started: hand them out in order.
    let mut outcomes = outcomes.into_iter();
    let kernels = job.lab.library_kernels();
    let mut rows: Vec<Row> = own
        .iter()
        .map(|&v| {
            let outcome = table[v].kernel.is_ok().then(|| outcomes.next()).flatten();
            let library = kernels.iter().find(|k| k.variant == table[v].name).map(in_process_library);
            Row { library, ..Row::of(table[v], outcome) }
        })
        .collect();
    for (anchor, state) in &started {
        let variant = anchor.describe();
        rows.push(match state {
            Ok(process) => {
                let mut outcome = outcomes.next();
                // The learner's Python failing the oracle is their bug to fix, not a finding.
                if let Some(Outcome::Failed { finding: finding @ true, .. }) = outcome.as_mut()
                    && anchor.role == Role::Exercise
                {
                    *finding = false;
                    failures += 1;
                }
                Row { library: Some(process.library_info()), ..Row::of(variant, outcome) }
            }
            Err(AnchorState::Failed(error)) => {
                failures += 1;
                Row::of(variant, Some(Outcome::Failed { error: error.clone(), fraction: 1.0, finding: false }))
            }
            Err(AnchorState::Unavailable(why)) => Row { unavailable: Some(why.clone()), ..Row::of(variant, None) },
        });
    }
    drop(started); // the Python processes end here
    for row in &mut rows {
        judge_kernels(row, &machine.cpu_simd_level);
    }
    compare_twins(&mut rows);
    Ok(Some((report::record(job.lab, &*case, machine, &rows), failures)))
}

/// An in-process library's kernel, as the Python anchors report theirs.
fn in_process_library(kernel: &perflab_labs::LibraryKernel) -> serde_json::Value {
    serde_json::json!({
        "in_process": true,
        "blas": format!("{} {} ({})", kernel.library, kernel.version, kernel.kernel),
        "build": kernel.detail,
        "blas_kernels": [{ "library": kernel.library, "version": kernel.version, "kernel": kernel.kernel }],
    })
}

/// Adds `kernel_note` to a library row whose BLAS runs an older kernel than this CPU's widest SIMD
/// level (`crate::blas`): its time understates the library, and the report says so.
fn judge_kernels(row: &mut Row, cpu_level: &str) {
    let Some(library) = row.library.as_mut() else { return };
    let notes = crate::blas::notes(row.variant.name, library, cpu_level);
    if let (false, Some(object)) = (notes.is_empty(), library.as_object_mut()) {
        object.insert("kernel_note".into(), notes.join("; ").into());
    }
}

/// Writes the document to `path` through its temporary file, then renames it into place.
pub(super) fn write_json(file: File, path: &Path, document: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, document)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush())
        .and_then(|()| std::fs::rename(temporary(path), path))
        .with_context(|| format!("writing {}", path.display()))?;
    if std::env::var_os(super::scaling::ONE_COUNT_OF_SEVERAL).is_none() {
        println!("results written to {}", path.display());
    }
    Ok(())
}

/// One line per edited exercise measured in `record`: its goal, and, where this run is at the
/// goal's size and threads, the verdict. (An exercise as shipped is the baseline: its ratio says
/// nothing about the goal, so it gets no line.)
fn goal_notes(record: &report::Record, goals: &[Exercise], workspace: Option<&Path>) -> Vec<String> {
    let mut notes = Vec::new();
    for v in record.variants.iter().filter(|v| v.role == Role::Exercise) {
        let Some(e) = goals.iter().find(|e| e.lab.name() == record.lab && e.name == v.name) else { continue };
        let (Some(ratio), Some(workspace)) = (v.speed.as_ref().and_then(|s| s.ratio_vs_reference), workspace) else {
            continue;
        };
        if e.is_as_shipped(workspace) != Some(false) {
            continue;
        }
        let goal = e.goal.describe(e.reference);
        notes.push(match e.at_goal(&record.size, record.threads) {
            true if ratio >= e.goal.ratio => format!("goal of {}: {goal}; this run {ratio:.2}x: met", v.name),
            true => format!("goal of {}: {goal}; this run {ratio:.2}x: not yet", v.name),
            false => format!(
                "goal of {}: {goal} (not judged here, at another size or thread count: `cargo lab check {}`)",
                v.name,
                e.id()
            ),
        });
    }
    notes
}

/// What became of starting a Python anchor, when it did not start.
enum AnchorState {
    /// No Python, or a package missing: the row says how to enable it.
    Unavailable(String),
    /// It started but failed (crashed, hung, garbled, could not load the inputs).
    Failed(String),
}

/// Starts every anchor asked for on `case`'s inputs; with `twins` (this CPU's SIMD level), a
/// library whose OpenBLAS loaded a narrower kernel is started a second time with the nearest core
/// type forced, as a row of its own (`faiss-blas@SkylakeX`).
fn start_anchors<'a>(
    lab: &dyn Lab,
    wanted: &[&'a OutOfProcess],
    python: &Result<PathBuf, String>,
    threads: usize,
    case: &dyn Case,
    twins: Option<&str>,
) -> Vec<(&'a OutOfProcess, Result<Anchor, AnchorState>)> {
    let state = |started: Result<Result<Anchor, String>, Unavailable>| match started {
        Ok(Ok(process)) => Ok(process),
        Ok(Err(error)) => Err(AnchorState::Failed(error)),
        Err(Unavailable(why)) => Err(AnchorState::Unavailable(why)),
    };
    let mut out = Vec::new();
    for &anchor in wanted {
        let python = match python {
            Ok(python) => python,
            Err(why) => {
                out.push((anchor, Err(AnchorState::Unavailable(why.clone()))));
                continue;
            }
        };
        let first = state(Anchor::start(python, lab.name(), anchor, threads, case));
        let core = match (&first, twins) {
            (Ok(process), Some(level)) if !crate::blas::notes(anchor.name, &process.info, level).is_empty() => {
                crate::blas::nearest_core(level)
            }
            _ => None,
        };
        out.push((anchor, first));
        if let Some(core) = core {
            out.push((
                forced_twin(anchor, core),
                state(Anchor::start_forced(python, lab.name(), anchor, threads, case, core)),
            ));
        }
    }
    out
}

/// `anchor` as the row of its twin with the library's OpenBLAS forced to `core`
/// (`faiss-blas@SkylakeX`). Leaked: a few short strings per case, for the life of the process.
fn forced_twin(anchor: &OutOfProcess, core: &str) -> &'static OutOfProcess {
    let name = Box::leak(format!("{}@{core}", anchor.name).into_boxed_str());
    let summary =
        Box::leak(format!("{}; its own OpenBLAS forced to the {core} kernel", anchor.summary).into_boxed_str());
    Box::leak(Box::new(OutOfProcess { name, summary, ..*anchor }))
}

/// Where a library was also timed with its kernel forced (`faiss-blas` and `faiss-blas@SkylakeX`),
/// says on the library's row which of the two was faster: that one is the library at its
/// strongest, the row to hold perflab's kernels against.
fn compare_twins(rows: &mut [Row]) {
    let median = |row: &Row| match &row.outcome {
        Some(Outcome::Measured { stats, .. }) => Some(stats.median),
        _ => None,
    };
    let twins: Vec<(String, Option<f64>)> =
        rows.iter().filter(|r| r.variant.name.contains('@')).map(|r| (r.variant.name.to_string(), median(r))).collect();
    for (twin, forced) in twins {
        let original = twin.split('@').next().unwrap_or_default();
        let Some(row) = rows.iter_mut().find(|r| r.variant.name == original) else { continue };
        let (Some(own), Some(forced), Some(object)) =
            (median(row), forced, row.library.as_mut().and_then(|l| l.as_object_mut()))
        else {
            continue;
        };
        let verdict = if forced < own {
            format!("{twin} ran {:.2}x faster: it is {original} at its strongest", own / forced)
        } else {
            format!("{twin} ran {:.2}x slower: this row is {original} at its strongest", forced / own)
        };
        let note = object.get("kernel_note").and_then(|n| n.as_str()).unwrap_or_default().to_string();
        object.insert("kernel_note".into(), format!("{note}; timed with it forced as well: {verdict}").into());
    }
}

/// Opens the JSON output at once (as `<path>.tmp`, renamed when complete, so an interrupted run
/// leaves an earlier file intact), so that an unwritable path is refused before the run.
pub(super) fn create_json(path: &Path) -> anyhow::Result<File> {
    anyhow::ensure!(!path.is_dir(), "cannot write the JSON output {}: it is a folder", path.display());
    File::create(temporary(path)).with_context(|| format!("cannot write the JSON output {}", path.display()))
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Stats;

    fn timed(anchor: &OutOfProcess, seconds: f64, library: serde_json::Value) -> Row {
        let stats = Stats::of(vec![seconds; 5]);
        let outcome = Outcome::Measured {
            validation: "ok".into(),
            counted: None,
            fraction: 1.0,
            stats,
            allocs: None,
            python_memory: None,
        };
        Row { library: Some(library), ..Row::of(anchor.describe(), Some(outcome)) }
    }

    #[test]
    fn the_quick_run_leaves_out_slow_rungs_and_shipped_exercises_but_times_edited_ones() {
        let (_, exercises) = exercises::load_all().unwrap();
        for lab in perflab_labs::all() {
            let names = super::super::variant_names(lab);
            let mine: Vec<Exercise> = exercises.iter().filter(|e| e.lab.name() == lab.name()).cloned().collect();
            let all_edited = quick_variants(lab, &[]);
            let all_shipped = quick_variants(lab, &mine);
            for e in &mine {
                assert!(all_edited.contains(&e.variant) && !all_shipped.contains(&e.variant), "{}", e.id());
            }
            assert!(all_shipped.contains(&names.iter().position(|n| *n == lab.flagship()).unwrap()));
            let slow: Vec<&str> = lab.out_of_process().iter().filter(|v| v.slow).map(|v| v.name).collect();
            assert!(all_edited.iter().all(|&i| !slow.contains(&names[i])), "{}: slow rungs left out", lab.name());
        }
    }

    #[test]
    fn a_library_timed_with_its_kernel_forced_is_told_apart_and_the_faster_named() {
        let faiss = OutOfProcess::python_library("faiss", "faiss IndexFlatL2.search");
        let twin = forced_twin(&faiss, "SkylakeX");
        assert_eq!((twin.name, twin.role), ("faiss@SkylakeX", faiss.role));
        assert!(twin.summary.ends_with("its own OpenBLAS forced to the SkylakeX kernel"), "{}", twin.summary);
        let fallback = serde_json::json!({ "blas_kernels": [{ "library": "openblas", "version": "0.3.15", "kernel": "Prescott" }] });
        let forced = serde_json::json!({ "blas_kernels": [{ "library": "openblas", "version": "0.3.15", "kernel": "SkylakeX" }] });
        let mut rows = [timed(&faiss, 2.0, fallback), timed(twin, 1.0, forced)];
        for row in &mut rows {
            judge_kernels(row, "avx512f");
        }
        compare_twins(&mut rows);
        let note = rows[0].library.as_ref().unwrap()["kernel_note"].as_str().unwrap().to_string();
        assert!(
            note.contains("Prescott kernel")
                && note.ends_with("faiss@SkylakeX ran 2.00x faster: it is faiss at its strongest"),
            "{note}"
        );
        assert!(rows[1].library.as_ref().unwrap().get("kernel_note").is_none(), "the forced twin is at its widest");
    }
}

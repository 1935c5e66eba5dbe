//! The `perflab` command line (`cargo lab ...`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::callgrind;
use crate::lab::Lab;
use crate::labs;
use crate::machine::Machine;
use crate::measure::{self, Budget, Outcome};
use crate::profile;
use crate::report::{self, Document};

#[derive(Debug, Parser)]
#[command(
    name = "perflab",
    bin_name = "cargo lab",
    version,
    about = "Validate, time and compare the optimisation ladder of classic kernels",
    long_about = "perflab validates every variant of a lab against an oracle (a variant that fails is \
never timed), then times them in interleaved rounds and reports median time, spread, throughput, \
fraction of the measured FMA peak, speedup over naive, and the ratio to the reference solution.\n\n\
With no command it runs `quick`: every lab at small sizes, in about a minute. Options given without a \
command (--threads, --json, --seed) configure that quick run; each command has its own options \
(`cargo lab <command> --help`).",
    after_help = "Examples:\n  \
cargo lab                                          quick run of every lab\n  \
cargo lab bench matmul --size 1024 --size 2048     one lab, chosen sizes\n  \
cargo lab bench matmul --variant your-simd --variant simd --threads 1\n  \
cargo lab bench matmul --size 512x2048x256 --json out.json\n  \
cargo lab profile matmul best --size 2048 --seconds 10   flamegraph of one variant\n  \
cargo lab callgrind matmul                         instruction counts, checked against the reference\n  \
cargo lab list                                     labs, variants, size syntax\n\n\
Set PERFLAB_SIMD=scalar|avx2|avx512 to run the SIMD kernels at a narrower level.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub quick: Common,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every lab at its quick sizes, about a minute in all (the default command)
    Quick(Common),
    /// Validate and time one lab at chosen sizes
    Bench(Bench),
    /// Profile one variant with pprof and write a flamegraph SVG under flamegraphs/
    Profile(ProfileArgs),
    /// Deterministic instruction counts (callgrind via gungraun) and the regression check
    Callgrind(CallgrindArgs),
    /// List the labs, their variants and how to write a size
    List,
}

#[derive(Debug, Args)]
pub struct CallgrindArgs {
    /// The lab [default: every lab]
    pub lab: Option<String>,
    /// Write the counts of this run as the new reference (after an intended change)
    #[arg(long)]
    pub record: bool,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The lab (see `cargo lab list`)
    pub lab: String,
    /// The variant to profile (see `cargo lab list`)
    pub variant: String,
    /// Problem size; matmul: N or MxKxN [default: the lab's default size]
    #[arg(long, short)]
    pub size: Option<String>,
    /// How long to sample; at about 250 samples/s, 5 s gives over a thousand samples
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    pub seconds: f64,
    /// Where to write the SVG [default: flamegraphs/<lab>/<variant>-<size>-threads-<n>.svg]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Threads for rayon variants and for the libraries [default: all cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Seed of the random inputs
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct Common {
    /// Threads for rayon variants and for the libraries [default: all cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Also write the results as JSON to this file (schema in README.md)
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Seed of the random inputs
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct Bench {
    /// The lab (see `cargo lab list`)
    pub lab: String,
    /// Problem size, repeatable; matmul: N or MxKxN [default: the lab's default sizes]
    #[arg(long, short)]
    pub size: Vec<String>,
    /// Only these variants, repeatable (see `cargo lab list`) [default: all]
    #[arg(long)]
    pub variant: Vec<String>,
    /// Sampling time per variant, in seconds
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds)]
    pub seconds: f64,
    #[command(flatten)]
    pub common: Common,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!("'{text}' is not a number of seconds between 0 and 3600")),
    }
}

/// One lab to run: which sizes, which variants (indices into its table).
struct Job {
    lab: &'static dyn Lab,
    sizes: Vec<String>,
    variants: Vec<usize>,
}

/// Runs a parsed command line. Exit code 1 when a variant failed validation.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Quick(cli.quick)) {
        Command::Profile(args) => run_profile(&args),
        Command::Callgrind(args) => {
            let labs = match &args.lab {
                Some(name) => vec![labs::find(name).map_err(anyhow::Error::msg)?],
                None => labs::all(),
            };
            for lab in labs {
                let code = callgrind::run(lab, args.record)?;
                if code != ExitCode::SUCCESS {
                    return Ok(code);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List => {
            print!("{}", list());
            Ok(ExitCode::SUCCESS)
        }
        Command::Quick(common) => {
            let jobs = labs::all()
                .into_iter()
                .map(|lab| Job {
                    lab,
                    sizes: lab.quick_sizes().iter().map(|s| s.to_string()).collect(),
                    variants: (0..lab.variants().len()).collect(),
                })
                .collect();
            run_jobs(jobs, &common, &Budget::quick())
        }
        Command::Bench(bench) => {
            let lab = labs::find(&bench.lab).map_err(anyhow::Error::msg)?;
            let sizes = if bench.size.is_empty() {
                lab.default_sizes().iter().map(|s| s.to_string()).collect()
            } else {
                bench.size.clone()
            };
            let variants = select_variants(lab, &bench.variant)?;
            run_jobs(vec![Job { lab, sizes, variants }], &bench.common, &Budget::thorough(bench.seconds))
        }
    }
}

/// Indices of the named variants (all when none is named), or an error listing the valid names.
fn select_variants(lab: &dyn Lab, names: &[String]) -> anyhow::Result<Vec<usize>> {
    let table = lab.variants();
    if names.is_empty() {
        return Ok((0..table.len()).collect());
    }
    let mut chosen = Vec::new();
    for name in names {
        match table.iter().position(|v| v.name == name) {
            Some(i) if !chosen.contains(&i) => chosen.push(i),
            Some(_) => {}
            None => {
                let known: Vec<_> = table.iter().map(|v| v.name).collect();
                bail!("lab '{}' has no variant '{name}'; its variants: {}", lab.name(), known.join(", "));
            }
        }
    }
    chosen.sort_unstable();
    Ok(chosen)
}

/// Threads asked for, or all cores; the libraries are told first, then rayon's pool is built.
fn thread_pool(threads: Option<u16>) -> anyhow::Result<rayon::ThreadPool> {
    let threads =
        threads.map(usize::from).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // Libraries first: matrixmultiply reads its thread count from the environment once.
    // SAFETY: the harness has started no thread yet (the pool is built below, and progress bars
    // draw from this thread).
    unsafe { perflab_labs::set_library_threads(threads) };
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("starting the thread pool")
}

/// `perflab profile`: validate, then sample one variant for `--seconds` and write a flamegraph.
fn run_profile(args: &ProfileArgs) -> anyhow::Result<ExitCode> {
    let lab = labs::find(&args.lab).map_err(anyhow::Error::msg)?;
    let variant = select_variants(lab, std::slice::from_ref(&args.variant))?[0];
    let info = &lab.variants()[variant];
    if let Some(why) = info.unavailable {
        bail!("variant '{}' is not available in this build: {why}", info.name);
    }
    let size = args.size.clone().unwrap_or_else(|| lab.default_sizes()[0].to_string());
    lab.check_size(&size).map_err(anyhow::Error::msg)?;
    let pool = thread_pool(args.threads)?;
    capture_panics();
    let mut case = lab.prepare(&size, args.seed).map_err(anyhow::Error::msg)?;
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| profile::flamegraph_path(lab.name(), info.name, &case.label(), pool.current_num_threads()));

    // A profile of a wrong kernel teaches nothing: validate first, and keep single calls short
    // enough that the profile holds at least ten of them.
    let checked = capturing_panics(|| {
        pool.install(|| {
            let (_, fraction) = measure::calibrate(&mut *case, variant, args.seconds / 10.0);
            (fraction, case.validate(variant))
        })
    });
    let fraction = match checked {
        Ok((fraction, Ok(_))) => fraction,
        Ok((_, Err(error))) => {
            eprintln!("{} FAILED validation, so it is not profiled:\n{error}", info.name);
            return Ok(ExitCode::from(1));
        }
        Err(_) => {
            eprintln!("{} FAILED: {}", info.name, last_panic());
            return Ok(ExitCode::from(1));
        }
    };

    let guard = profile::start()?;
    let start = std::time::Instant::now();
    let calls =
        pool.install(|| profile::run_for(std::time::Duration::from_secs_f64(args.seconds), || case.run(variant)));
    let result = profile::finish(guard, &path, start.elapsed().as_secs_f64())?;
    println!("flamegraph: {}", result.path.display());
    println!(
        "  {} samples in {:.1} s ({:.0} per second), {calls} calls of {} on {}{} with {} thread(s)",
        result.samples,
        result.seconds,
        result.samples as f64 / result.seconds,
        info.name,
        case.label(),
        if fraction < 1.0 { format!(" ({:.1}% of the rows)", 100.0 * fraction) } else { String::new() },
        pool.current_num_threads(),
    );
    if result.samples < 1000 {
        println!("  note: under 1000 samples; give more --seconds for a steadier picture");
    }
    println!("  where the samples were (innermost function):");
    for (name, share) in &result.hottest {
        println!("    {:>5.1}%  {name}", 100.0 * share);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_jobs(jobs: Vec<Job>, common: &Common, budget: &Budget) -> anyhow::Result<ExitCode> {
    // Parse every size before spending any time, so a typo fails at once.
    for job in &jobs {
        for size in &job.sizes {
            job.lab.check_size(size).map_err(anyhow::Error::msg)?;
        }
    }
    let pool = thread_pool(common.threads)?;
    capture_panics();

    let machine = Machine::probe(&pool);
    println!("{}\n", machine.describe());
    let mut records = Vec::new();
    let mut failures = 0;
    for job in &jobs {
        let table = job.lab.variants();
        for size in &job.sizes {
            let mut case = job.lab.prepare(size, common.seed).map_err(anyhow::Error::msg)?;
            let runnable: Vec<usize> =
                job.variants.iter().copied().filter(|&v| table[v].unavailable.is_none()).collect();
            let title = format!("{} {}", job.lab.name(), case.label());
            let outcomes = pool.install(|| measure::measure(&mut *case, &runnable, budget, &title));
            failures += outcomes.iter().filter(|o| matches!(o, Outcome::Failed { .. })).count();
            // `runnable` is `job.variants` less the unavailable ones, in order: hand the outcomes out.
            let mut outcomes = outcomes.into_iter();
            let rows: Vec<_> = job
                .variants
                .iter()
                .map(|&v| (table[v].clone(), table[v].unavailable.is_none().then(|| outcomes.next()).flatten()))
                .collect();
            let record = report::record(
                job.lab.name(),
                job.lab.flagship(),
                case.label(),
                case.params(),
                case.work(),
                &machine,
                &rows,
            );
            println!("{}", report::render(&record));
            records.push(record);
        }
    }
    if let Some(path) = &common.json {
        let document = Document { perflab_version: env!("CARGO_PKG_VERSION"), machine, records };
        let text = serde_json::to_string_pretty(&document)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    if failures > 0 {
        eprintln!("{failures} variant(s) failed validation: see the notes under the tables");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `perflab list`.
pub fn list() -> String {
    let mut out = String::new();
    for lab in labs::all() {
        out += &format!("{}: {}\n  sizes: {}\n  variants:\n", lab.name(), lab.about(), lab.size_syntax());
        for v in lab.variants() {
            let status = v.unavailable.map(|why| format!(" [unavailable: {why}]")).unwrap_or_default();
            out += &format!("    {:<14} {:<9} {}{status}\n", v.name, v.role.as_str(), v.summary);
        }
    }
    out
}

/// The last captured panic's message and location, kept for the report instead of printed.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);
/// While true, panics are captured (a variant under validation); otherwise they print as usual.
static CAPTURING: AtomicBool = AtomicBool::new(false);

/// Installs the panic hook: inside [`capturing_panics`] it records the message for the report;
/// anywhere else it hands over to the default hook, so a harness bug is never silent.
fn capture_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !CAPTURING.load(Ordering::SeqCst) {
            return default_hook(info);
        }
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("panicked{place}: {message}"));
    }));
}

/// Runs `f`, turning a panic into `Err` with its message (see [`last_panic`]).
pub fn capturing_panics<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    CAPTURING.store(true, Ordering::SeqCst);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CAPTURING.store(false, Ordering::SeqCst);
    result
}

/// The message of the last captured panic.
pub fn last_panic() -> String {
    LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_else(|| "panicked".into())
}

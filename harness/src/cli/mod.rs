//! The `perflab` command line (`cargo lab ...`): the arguments, and one file per command.

mod against;
mod bench;
mod compare;
mod hint;
mod list;
mod machine;
mod profile;
mod profile_python;
mod scaling;
pub mod status;
mod sweep;
mod tune;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use perflab_labs::Lab;

use crate::{callgrind, isolate};

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
Is it the machine or the code?\n  \
cargo lab machine                                  this machine's FMA peak, memory bandwidth, caches\n  \
cargo lab bench matmul --save-baseline before      keep this run; after a change:\n  \
cargo lab bench matmul --baseline before           faster, slower, unchanged or inconclusive, per variant\n  \
cargo lab compare matmul                           against the nearest reference machine (reference-timings/)\n\n\
Pictures (one HTML report, charts as SVG):\n  \
cargo lab --report r/                              the quick run: tables, the ladder as bars, rooflines\n  \
cargo lab sweep matmul --variant simd --variant best --threads 1 --report r/   sizes across the caches, cliffs named\n  \
cargo lab bench kmeans --threads 1..all --report r/    thread scaling: speedup and efficiency per variant\n\n\
Your exercises (labs/<lab>/exercises/):\n  \
cargo lab status                                   every exercise: correct? speedup? goal met?\n  \
cargo lab check matmul your-simd                   validate one exercise everywhere, then time it against its goal\n  \
cargo lab hint matmul your-simd                    the next hint, one at a time\n  \
cargo lab watch matmul your-simd                   re-check on every save\n  \
cargo lab reset matmul your-simd                   back to the shipped scaffold (your file is backed up)\n\n\
Environment:\n  \
PERFLAB_SIMD=scalar|avx2|avx512   run the SIMD kernels at a narrower level than the CPU has\n  \
PERFLAB_KNN_FILTER=f32|bf16       k-NN best: its filter's products in f32 or bf16 (default: bf16 where a probe finds it pays)\n  \
PERFLAB_OUT=DIR                   write flamegraphs/ under DIR instead of the workspace\n  \
PERFLAB_PYTHON=PATH               the Python of the Python rows and exercises (default: .venv/bin/python; optional)\n  \
PERFLAB_GEMM_KC=N (_NC, _MC)      override a GEMM cache block for one run (`cargo lab machine` shows them)\n  \
PERFLAB_STATE_DIR=DIR             where revealed hints and backups of reset exercises go (default: .perflab/)",
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
    Bench(BenchArgs),
    /// Time variants over sizes whose working set crosses each cache level, and name the cliffs
    #[command(long_about = "Times each variant over a range of sizes of one lab (the same validation and \
interleaved rounds as `bench`), from a working set inside L1 to four times the last-level cache: `--sizes auto` \
places sizes at half and twice each cache level the OS reports, from the lab's own model of its working set \
(its inputs and outputs). Prints a compact table (GFLOP/s and fraction of peak per size, a line where each cache \
level fills) and names the cliffs: where a variant falls by more than a quarter from one size to the next, and \
which cache stopped holding one of its inputs or outputs (A, B and C; the points), or its whole working set.\n\n\
Examples:\n  cargo lab sweep matmul --variant simd --variant best --threads 1\n  \
cargo lab sweep matmul --sizes 64,128,256,512,1024 --report r/\n  \
cargo lab sweep kmeans --variant best --threads 1..all --report r/   (and thread scaling at every size)")]
    Sweep(SweepArgs),
    /// Profile one variant: a flamegraph SVG under flamegraphs/ (pprof; py-spy for a Python rung or your-numpy), then the time by source line
    Profile(ProfileArgs),
    /// Deterministic instruction counts (callgrind via gungraun) and the regression check
    Callgrind(CallgrindArgs),
    /// List the labs, their variants and how to write a size
    List,
    /// This machine's limits: FMA peak, memory bandwidth (1 thread and all), caches, and its fingerprint
    #[command(long_about = "Prints this machine's limits: one core's f32 FMA peak, the memory bandwidth of a \
STREAM-triad probe on arrays four times the last-level cache (one thread and all threads, the best of 12 passes: \
load can only lower a pass), the cache hierarchy the OS reports, and the balance between the two (FLOP per \
byte: a kernel below it is bound by memory). Measured once per machine fingerprint (CPU model, family and \
model, widest SIMD level, cores) and kept in target/perflab/; every run reads them from there.\n\n\
Examples:\n  cargo lab machine\n  cargo lab machine --remeasure     after a change to the machine, or if a run was disturbed")]
    Machine(MachineArgs),
    /// Hold this machine's timings against a reference machine's (reference-timings/): is it the machine or the code?
    #[command(long_about = "Times the cases a reference file has (each lab's default sizes) on this machine, or \
reads a saved run (--run FILE, from --json), and holds each variant against the reference machine's: both times, \
both fractions of the limit that binds it (the FMA peak, or the memory bandwidth where the machine's balance \
says the variant is memory-bound), and a verdict: 'the machine' (as far from this machine's limits as the \
reference is from its own) or 'the code' (markedly further from them here, with what differs between the \
machines: SIMD level, a cache size, core count). Then the ladder as shapes: each rung's speedup over the one \
below, here and there.\n\n\
The reference is the nearest shipped file (same fingerprint; else same vendor, generation and SIMD level; \
else same SIMD level...) unless --reference names one.\n\n\
Examples:\n  cargo lab compare --list\n  cargo lab compare matmul\n  cargo lab compare knn --threads 1 --reference amd-epyc-f25m17-avx512f-2c\n  \
cargo lab bench matmul --json run.json && cargo lab compare --run run.json")]
    Compare(CompareArgs),
    /// Record this machine's reference timings into reference-timings/<fingerprint>.json (minutes; nothing else should run)
    #[command(long_about = "Measures this machine's limits again, then runs every lab at its default sizes (and its \
quick sizes and its exercises' goal sizes, so that `cargo lab --reference` and `check --reference` find their \
cases) on one thread and on all cores, every variant but the exercises (reference rungs, flagship, Rust libraries, and the \
Python anchors where a Python with the pinned packages is found), each lab in a fresh process, and writes \
reference-timings/<fingerprint>.json: the fingerprint, the limits, how and when it was recorded (command, \
commit, rustc) and the runs. The layout is described in reference-timings/README.md.\n\n\
Example:\n  cargo lab record-reference --note \"quiet machine, nothing else running\"")]
    RecordReference(RecordArgs),
    /// Check your exercise: correct on every edge, random shape and SIMD level, then timed against its goal
    #[command(long_about = "Checks one exercise (or all of a lab's, or every exercise): validates it against the \
lab's oracle on the lab's edge sizes (empty, tiny, primes, one off every block and lane width), its larger \
sizes and random sizes, at every SIMD level this CPU has, in pools of 3 threads (and 1 for a parallel \
exercise); a Python exercise (your-numpy) on the same sizes in one Python process. The first failure is printed alone, with the size, what was expected, what came back and the \
bound. A correct exercise is then timed beside the baseline and its reference at its goal's size and \
threads, and the goal (a ratio to the reference, from labs/<lab>/exercises/exercises.toml) is judged.\n\n\
One exercise named alone is timed even as shipped (your starting point); checking a lab's or every \
exercise times only the edited ones.\n\n\
Examples:\n  cargo lab check matmul your-simd\n  cargo lab check matmul simd        (the rung's name works too)\n  \
cargo lab check your-hamerly       (the lab may be left out when only one lab has the exercise)\n  \
cargo lab check knn                every exercise of a lab\n  cargo lab check                    every exercise")]
    Check(CheckArgs),
    /// Every exercise of every lab: as shipped or edited, correct, speedup over naive, ratio to its reference, goal met
    Status(StatusArgs),
    /// Search the matmul flagship's cache block sizes around the model's choice and keep the best for this CPU
    #[command(long_about = "The flagship GEMM blocks for three cache levels: a depth kc (an A sliver of MR × kc \
stays in L1), a B block of kc × nc (L2) and an A panel of mc × kc (L3). By default the sizes come from BLIS's \
analytical model applied to the caches the OS reports (labs/gemm/blocking.rs); `cargo lab machine` prints them \
with the reason for each. `tune` validates and times candidates around the model's choice (depths from half to \
eight times its kc, B blocks from half to four times as wide), then runs the fastest few, the model's choice and \
the sizes in use in interleaved rounds, prints them with their spread and the gain over the model, and keeps the \
winner for this CPU and SIMD level in labs/gemm/tuned-blocks.json (the next `cargo lab` rebuilds with it). The \
k-NN and k-means flagships reuse the GEMM's micro-kernel and its kc.\n\n\
PERFLAB_GEMM_KC, PERFLAB_GEMM_NC and PERFLAB_GEMM_MC override any size for one run.\n\n\
Examples:\n  cargo lab tune matmul                    one thread, n = 1024 and 2048, about a minute\n  \
cargo lab tune matmul --dry-run          measure and print, keep nothing\n  \
cargo lab tune matmul --level avx2 --sizes 512,1024\n  \
PERFLAB_GEMM_KC=512 cargo lab bench matmul --variant best --threads 1")]
    Tune(TuneArgs),
    /// Reveal the next hint of an exercise (or hint N), one at a time
    #[command(long_about = "Prints the next hint of an exercise you have not seen yet (hints go from a nudge to \
nearly the answer), or hint N. What you have seen is remembered in .perflab/hints.json.\n\n\
Examples:\n  cargo lab hint matmul your-simd      the next hint\n  cargo lab hint matmul your-simd 2    hint 2\n  \
cargo lab hint matmul your-simd --all  every hint")]
    Hint(HintArgs),
    /// Re-run `check` whenever a source file under labs/ is saved (or when you press Enter), even while it does not compile
    #[command(long_about = "Watches the labs' sources (labs/**/*.rs, *.toml and *.py) and re-runs `cargo lab check` \
with the same arguments after each save, rebuilding first. While your code does not compile, the compiler's \
errors are shown and the watch waits for the next save. Where file events do not arrive (some network or \
WSL2 file systems), press Enter to re-run by hand; type q and Enter (or Ctrl-C) to stop.\n\n\
Takes check's arguments and options (`cargo lab check --help`).\n\nExample:\n  cargo lab watch matmul your-simd")]
    Watch(CheckArgs),
    /// Restore an exercise's shipped scaffold (after confirmation; your file is backed up first)
    Reset(ResetArgs),
}

#[derive(Debug, Args)]
pub struct Common {
    /// Threads for rayon variants and for the libraries [default: all cores]. Several (1,2 or 1..all:
    /// 1, 2, 4, ... up to all cores) run the whole command once per count, each in a fresh process,
    /// and add each parallel variant's speedup and efficiency
    #[arg(long, value_name = "N|N,N,..|1..N|1..all", value_parser = thread_counts, allow_negative_numbers = true)]
    pub threads: Option<ThreadCounts>,
    /// Also write the results as JSON to this file (schema in README.md)
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Also write an HTML report into DIR: one self-contained page per command (quick.html, bench-<lab>.html,
    /// sweep-<lab>.html, compare-<reference>.html; opens offline), each chart as an SVG file named after its
    /// page, and index.html listing the folder's pages
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Seed of the random inputs
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
    pub seed: u64,
    /// The Python that runs the Python anchors (numpy, ...) [default: $PERFLAB_PYTHON, else .venv/bin/python]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    #[command(flatten)]
    pub against: Against,
}

/// What a run is held against afterwards: a baseline of this machine, a reference machine.
#[derive(Debug, Args, Default)]
pub struct Against {
    /// Save this run as baseline NAME of this machine (under target/perflab/baselines/<machine>/)
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Compare this run with baseline NAME, variant by variant: faster, slower, unchanged or inconclusive
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// The smallest change (in %) a baseline comparison calls faster or slower
    #[arg(long, value_name = "PERCENT", default_value_t = 5.0, value_parser = percent, allow_negative_numbers = true)]
    pub noise_band: f64,
    /// Hold this run against reference timings: the nearest machine's file in reference-timings/, or the one named
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    pub reference: Option<String>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The lab (see `cargo lab list`)
    pub lab: String,
    /// Problem size, repeatable, in the lab's syntax (see `cargo lab list`) [default: the lab's default sizes]
    #[arg(long, short, allow_negative_numbers = true)]
    pub size: Vec<String>,
    /// Only these variants, repeatable (see `cargo lab list`) [default: all]
    #[arg(long)]
    pub variant: Vec<String>,
    #[arg(long, value_name = "NAME", help = data_help())]
    pub data: Option<String>,
    /// Sampling time per variant, in seconds
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The lab (see `cargo lab list`)
    pub lab: String,
    /// `auto` (around each cache level: see above), or values of the swept count (`n` of the lab's sweep
    /// size, `cargo lab list`), comma-separated: 64,128,256
    #[arg(long, default_value = "auto", value_name = "auto|N,N,..", allow_negative_numbers = true)]
    pub sizes: String,
    /// Only these variants, repeatable [default: all but the exercises and the slow Python rungs]
    #[arg(long)]
    pub variant: Vec<String>,
    #[arg(long, value_name = "NAME", help = data_help())]
    pub data: Option<String>,
    /// Sampling time per variant and size, in seconds
    #[arg(long, default_value_t = 0.5, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The lab: matmul (the others reuse its micro-kernel and depth block)
    pub lab: String,
    /// Square sizes n to time, comma-separated; the score is the geometric mean over them
    #[arg(long, default_value = "1024,2048", value_name = "N,N,..", allow_negative_numbers = true)]
    pub sizes: String,
    /// Threads (blocks are per thread: each thread packs its own A panel and B block)
    #[arg(long, default_value_t = 1, value_parser = one_thread_count, allow_negative_numbers = true)]
    pub threads: u16,
    /// The SIMD level whose kernel is tuned (scalar, avx2, avx512) [default: the widest this CPU has]
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// Screening time per candidate and size, in seconds
    #[arg(long, default_value_t = 0.3, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    /// Measure and print, but keep nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The file to keep the result in [default: labs/gemm/tuned-blocks.json, which the build reads]
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Seed of the random matrices
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The lab (see `cargo lab list`)
    pub lab: String,
    /// The variant to profile (see `cargo lab list`)
    pub variant: String,
    /// Problem size, in the lab's syntax (see `cargo lab list`) [default: the lab's default size]
    #[arg(long, short, allow_negative_numbers = true)]
    pub size: Option<String>,
    #[arg(long, value_name = "NAME", help = data_help())]
    pub data: Option<String>,
    /// How long each of the two samplings of a Rust variant runs (pprof's flamegraph, then the per-line one;
    /// the command takes twice this; a Python one is sampled once, by py-spy): at about 250 samples/s, 5 s
    /// gives over a thousand samples each
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    /// Where to write the SVG [default: flamegraphs/<lab>/<variant>-<size>-threads-<n>.svg]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Threads for rayon variants and for the libraries [default: all cores]
    #[arg(long, value_parser = one_thread_count, allow_negative_numbers = true)]
    pub threads: Option<u16>,
    /// Seed of the random inputs
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
    pub seed: u64,
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
pub struct CheckArgs {
    /// [<lab>] [<exercise>]: a lab and one of its exercises (`matmul your-simd`), a lab, an exercise
    /// only one lab has, or nothing for every exercise
    #[arg(value_name = "LAB EXERCISE")]
    pub exercise: Vec<String>,
    /// Only validate: skip the timing against the goal
    #[arg(long)]
    pub no_time: bool,
    /// Time at this size instead of the goal's (the goal is judged only at its own size and threads)
    #[arg(long, short, allow_negative_numbers = true)]
    pub size: Option<String>,
    /// Time with this many threads instead of the goal's
    #[arg(long, value_parser = one_thread_count, allow_negative_numbers = true)]
    pub threads: Option<u16>,
    /// Sampling time per variant when timing, in seconds
    #[arg(long, default_value_t = 1.0, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    /// Seed of the random inputs and random sizes
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
    pub seed: u64,
    /// Seconds one check step (one size at one SIMD level) may take before it is stopped as a
    /// loop that never ends (the check runs in a child process, so a hang or a crash in your
    /// kernel is reported, not inherited)
    #[arg(long, default_value_t = 60.0, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub deadline: f64,
    #[command(flatten)]
    pub against: Against,
}

#[derive(Debug, Args)]
pub struct MachineArgs {
    /// Measure again instead of reading what an earlier run kept
    #[arg(long)]
    pub remeasure: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The lab [default: every lab the reference has]
    pub lab: Option<String>,
    /// The reference: a file of reference-timings/ (name without .json) or a path [default: the nearest machine's]
    #[arg(long, value_name = "NAME")]
    pub reference: Option<String>,
    /// Compare this saved run (written by --json) instead of timing now
    #[arg(long, value_name = "FILE")]
    pub run: Option<PathBuf>,
    /// Only these sizes (of those the reference has), repeatable
    #[arg(long, short, allow_negative_numbers = true)]
    pub size: Vec<String>,
    /// Only these variants, repeatable
    #[arg(long)]
    pub variant: Vec<String>,
    /// Threads; a count the reference lacks is compared with its run on all its cores [default: all cores]
    #[arg(long, value_parser = one_thread_count, allow_negative_numbers = true)]
    pub threads: Option<u16>,
    /// Sampling time per variant, in seconds
    #[arg(long, default_value_t = 0.5, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    /// Seed of the random inputs
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
    pub seed: u64,
    /// The Python that runs the Python anchors [default: $PERFLAB_PYTHON, else .venv/bin/python]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// List the shipped reference files, nearest first, and stop
    #[arg(long)]
    pub list: bool,
    /// Also write the comparisons as JSON to this file (schema in README.md)
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Also write an HTML report (the run, the comparison, charts) into DIR
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Sampling time per variant, in seconds
    #[arg(long, default_value_t = 0.5, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    /// Where to write [default: reference-timings/<fingerprint>.json]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// The Python that runs the Python anchors [default: $PERFLAB_PYTHON, else .venv/bin/python]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// A note kept in the file (how the machine was: idle, what else ran)
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only validate: no timings
    #[arg(long)]
    pub no_time: bool,
    /// Sampling time per variant for the edited exercises, in seconds
    #[arg(long, default_value_t = 0.5, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub seconds: f64,
    /// Seed of the random inputs and random sizes
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
    pub seed: u64,
    /// Seconds one check step may take before it is stopped (see `check --help`)
    #[arg(long, default_value_t = 60.0, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub deadline: f64,
}

#[derive(Debug, Args)]
pub struct HintArgs {
    /// [<lab>] <exercise> [N]: the exercise (`matmul your-simd`) and, optionally, which hint
    #[arg(value_name = "LAB EXERCISE N", required = true)]
    pub words: Vec<String>,
    /// Every hint at once
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// [<lab>] <exercise>: the exercise to restore (`matmul your-simd`)
    #[arg(value_name = "LAB EXERCISE", required = true)]
    pub exercise: Vec<String>,
    /// Do not ask for confirmation (your file is still backed up)
    #[arg(long, short)]
    pub yes: bool,
}

/// `--data`'s help: every lab that generates several data sets, with their names.
fn data_help() -> String {
    let labs = perflab_labs::all();
    let with: Vec<String> = labs
        .iter()
        .filter(|lab| !lab.data_sets().is_empty())
        .map(|lab| format!("{}: {}", lab.name(), lab.data_sets().join(", ")))
        .collect();
    format!("Data set, for labs that generate several ({}) [default: the lab's first]", with.join("; "))
}

/// `--threads`: one count, a list (`1,2,4`) or a doubling range (`1..8`: 1, 2, 4, 8; `1..all`: up
/// to every core), in increasing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadCounts(pub Vec<u16>);

impl ThreadCounts {
    /// The one count of `counts` (None: all cores); callers split several counts first.
    pub fn single(counts: Option<&ThreadCounts>) -> Option<u16> {
        counts.map(|c| c.0[0])
    }

    /// More than one count: the command runs once per count.
    pub fn several(counts: Option<&ThreadCounts>) -> bool {
        counts.is_some_and(|c| c.0.len() > 1)
    }
}

/// One `--threads N` (the commands that time one count).
fn one_thread_count(text: &str) -> Result<u16, String> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| format!("'{text}' is not a thread count: write a whole number from 1 to {}, e.g. 2", u16::MAX))
}

fn thread_counts(text: &str) -> Result<ThreadCounts, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = |word: &str| match word.trim() {
        "all" => Ok(cores.min(u16::MAX as usize) as u16),
        w => w.parse::<u16>().ok().filter(|&n| n >= 1).ok_or_else(|| {
            format!("'{w}' is not a thread count: write a whole number from 1 (or `all`), e.g. 2, 1,2,4 or 1..all")
        }),
    };
    let mut counts = match text.split_once("..") {
        Some((low, high)) => {
            let (low, high) = (one(low)?, one(high)?);
            if low > high {
                return Err(format!("'{text}': a range goes from fewer threads to more, e.g. {high}..{low}"));
            }
            let mut counts: Vec<u16> =
                std::iter::successors(Some(low), |&t| t.checked_mul(2)).take_while(|&t| t < high).collect();
            counts.push(high);
            counts
        }
        None => text.split(',').map(one).collect::<Result<Vec<u16>, String>>()?,
    };
    counts.sort_unstable();
    counts.dedup();
    Ok(ThreadCounts(counts))
}

fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if p.is_finite() && p > 0.0 && p < 100.0 => Ok(p / 100.0),
        _ => Err(format!("'{text}' is not a percentage between 0 and 100 (e.g. 5)")),
    }
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!("'{text}' is not a number of seconds: it must be more than 0 and at most 3600")),
    }
}

/// Runs this very command line again in a watched child process (see [`crate::isolate`]), unless
/// this process is that child (None: go on here). A learner's kernel that hangs is stopped at the
/// deadline, one that crashes the process is named; either way the exit code is 1.
fn in_child(deadline: f64) -> Option<anyhow::Result<ExitCode>> {
    (!isolate::is_watched()).then(|| run_watched(deadline))
}

/// The parent's side of [`in_child`]: the child's exit code, or 1 and why it was stopped.
fn run_watched(deadline: f64) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("finding the perflab binary to run the check in")?;
    let mut command = std::process::Command::new(exe);
    command.args(std::env::args_os().skip(1));
    // The deadline is said when a step overruns it (and in `--help`), not before every check.
    match isolate::watch(command, std::time::Duration::from_secs_f64(deadline))? {
        Ok(status) => Ok(ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8)),
        Err(stopped) => {
            eprintln!("error: {stopped}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Runs a parsed command line. Exit code 1 when a variant failed validation.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // A mistyped block size would otherwise be ignored with a note, deep inside the first run.
    perflab_labs::gemm::blocking::env_overrides().map_err(anyhow::Error::msg)?;
    match cli.command.unwrap_or(Command::Quick(cli.quick)) {
        Command::Quick(common) => bench::quick(&common),
        Command::Bench(args) => bench::bench(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Profile(args) => profile::run(&args),
        Command::Callgrind(args) => {
            let labs = match &args.lab {
                Some(name) => vec![find_lab(name)?],
                None => perflab_labs::all(),
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
            print!("{}", list::list());
            Ok(ExitCode::SUCCESS)
        }
        Command::Machine(args) => machine::machine(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::RecordReference(args) => machine::record_reference(&args),
        Command::Check(args) => in_child(args.deadline).unwrap_or_else(|| status::check(&args)),
        Command::Status(args) => in_child(args.deadline).unwrap_or_else(|| status::status(&args)),
        Command::Tune(args) => tune::tune(&args),
        Command::Hint(args) => hint::hint(&args),
        Command::Watch(_) => anyhow::bail!(
            "watch rebuilds this program after every save, so cargo runs it: `cargo lab watch <lab> <exercise>` \
             (through the launcher, harness/launcher)"
        ),
        Command::Reset(args) => hint::reset(&args),
    }
}

fn find_lab(name: &str) -> anyhow::Result<&'static dyn Lab> {
    perflab_labs::find(name).map_err(anyhow::Error::msg)
}

/// Every name `--variant` accepts: the lab's variants, then those that run in a process of their own.
fn variant_names(lab: &dyn Lab) -> Vec<&'static str> {
    lab.every_variant().iter().map(|v| v.name).collect()
}

/// Indices of the named variants into [`variant_names`] (all when none is named), or an error
/// listing the valid names.
fn select_variants(lab: &dyn Lab, names: &[String]) -> anyhow::Result<Vec<usize>> {
    let table = variant_names(lab);
    if names.is_empty() {
        return Ok((0..table.len()).collect());
    }
    let mut chosen = Vec::new();
    for name in names {
        match table.iter().position(|v| v == name) {
            Some(i) if !chosen.contains(&i) => chosen.push(i),
            Some(_) => {}
            None => {
                let known = &table;
                anyhow::bail!("lab '{}' has no variant '{name}'; its variants: {}", lab.name(), known.join(", "));
            }
        }
    }
    chosen.sort_unstable();
    Ok(chosen)
}

/// `size` with the data set `data` (labs with several data sets take it as one more key,
/// `data=<name>`), or an error naming the data sets the lab has.
fn with_data(lab: &dyn Lab, size: &str, data: Option<&str>) -> anyhow::Result<String> {
    let Some(data) = data else { return Ok(size.to_string()) };
    let known = lab.data_sets();
    if known.is_empty() {
        let with: Vec<&str> =
            perflab_labs::all().iter().filter(|l| !l.data_sets().is_empty()).map(|l| l.name()).collect();
        anyhow::bail!(
            "{} generates one kind of data; --data is for labs with several ({})",
            lab.name(),
            with.join(", ")
        );
    }
    if !known.contains(&data) {
        anyhow::bail!("{} has no data set '{data}'; known: {}", lab.name(), known.join(", "));
    }
    Ok(format!("{size},data={data}"))
}

/// Parses `size` for `lab` and checks that its inputs fit in memory, before anything is built.
fn check_size(lab: &dyn Lab, size: &str) -> anyhow::Result<()> {
    let bytes = lab.footprint(size).map_err(anyhow::Error::msg)?;
    crate::machine::ensure_memory(bytes, &format!("{} {size}", lab.name())).map_err(anyhow::Error::msg)
}

/// The rayon pool of `--threads` threads (all cores by default), with every library anchor told
/// the same count first. Call before starting any other thread.
fn thread_pool(threads: Option<u16>) -> anyhow::Result<rayon::ThreadPool> {
    let threads = perflab_labs::threads::resolve(threads.map(usize::from));
    check_thread_count(threads)?;
    // SAFETY: called from `run`, before the harness starts any thread (progress bars draw from
    // this thread).
    unsafe { perflab_labs::threads::pool(threads) }.context("starting the thread pool")
}

/// Refuses more than four threads per logical core (they would only take turns), and warns
/// above one per core.
fn check_thread_count(threads: usize) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if threads > 4 * cores {
        anyhow::bail!(
            "--threads {threads} on a machine with {cores} logical core(s): more threads than cores only \
             take turns on them, and the timings would measure that (use at most {cores}; more, up to {}, runs \
             with a warning)",
            4 * cores
        );
    }
    if threads > cores {
        eprintln!(
            "warning: --threads {threads} exceeds the {cores} logical core(s): threads will take turns, \
             and parallel variants will read slower than the machine is"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_are_one_a_list_or_a_doubling_range() {
        let counts = |text: &str| thread_counts(text).map(|c| c.0);
        assert_eq!(counts("3"), Ok(vec![3]));
        assert_eq!(counts("2,1,2"), Ok(vec![1, 2]));
        assert_eq!(counts("1..8"), Ok(vec![1, 2, 4, 8]));
        assert_eq!(counts("1..6"), Ok(vec![1, 2, 4, 6]));
        assert_eq!(counts("2..2"), Ok(vec![2]));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u16;
        assert_eq!(counts("1..all").unwrap().last(), Some(&cores));
        assert!(counts("0").unwrap_err().contains("'0' is not a thread count"));
        assert!(counts("4..1").unwrap_err().contains("from fewer threads to more, e.g. 1..4"));
    }
}

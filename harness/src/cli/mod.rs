//! The `perflab` command line (`cargo lab ...`): the arguments, and one file per command.

mod bench;
mod list;
mod profile;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use perflab_labs::Lab;

use crate::callgrind;

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
Environment:\n  \
PERFLAB_SIMD=scalar|avx2|avx512   run the SIMD kernels at a narrower level than the CPU has\n  \
PERFLAB_OUT=DIR                   write flamegraphs/ under DIR instead of the workspace",
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
    /// Profile one variant with pprof and write a flamegraph SVG under flamegraphs/
    Profile(ProfileArgs),
    /// Deterministic instruction counts (callgrind via gungraun) and the regression check
    Callgrind(CallgrindArgs),
    /// List the labs, their variants and how to write a size
    List,
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
    /// The Python that runs the Python anchors (numpy, ...) [default: $PERFLAB_PYTHON, else .venv/bin/python]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The lab (see `cargo lab list`)
    pub lab: String,
    /// Problem size, repeatable, in the lab's syntax (see `cargo lab list`) [default: the lab's default sizes]
    #[arg(long, short)]
    pub size: Vec<String>,
    /// Only these variants, repeatable (see `cargo lab list`) [default: all]
    #[arg(long)]
    pub variant: Vec<String>,
    /// Data set, for labs that generate several (knn: normal, shifted, duplicates) [default: the lab's first]
    #[arg(long, value_name = "NAME")]
    pub data: Option<String>,
    /// Sampling time per variant, in seconds
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds)]
    pub seconds: f64,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The lab (see `cargo lab list`)
    pub lab: String,
    /// The variant to profile (see `cargo lab list`)
    pub variant: String,
    /// Problem size, in the lab's syntax (see `cargo lab list`) [default: the lab's default size]
    #[arg(long, short)]
    pub size: Option<String>,
    /// Data set, for labs that generate several (knn: normal, shifted, duplicates) [default: the lab's first]
    #[arg(long, value_name = "NAME")]
    pub data: Option<String>,
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
pub struct CallgrindArgs {
    /// The lab [default: every lab]
    pub lab: Option<String>,
    /// Write the counts of this run as the new reference (after an intended change)
    #[arg(long)]
    pub record: bool,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!("'{text}' is not a number of seconds between 0 and 3600")),
    }
}

/// Runs a parsed command line. Exit code 1 when a variant failed validation.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Quick(cli.quick)) {
        Command::Quick(common) => bench::quick(&common),
        Command::Bench(args) => bench::bench(&args),
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
    }
}

fn find_lab(name: &str) -> anyhow::Result<&'static dyn Lab> {
    perflab_labs::find(name).map_err(anyhow::Error::msg)
}

/// Every name `--variant` accepts: the lab's variants, then its Python anchors.
fn variant_names(lab: &dyn Lab) -> Vec<&'static str> {
    lab.variants().iter().map(|v| v.name).chain(lab.python_anchors().iter().map(|a| a.name)).collect()
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
    // SAFETY: called from `run`, before the harness starts any thread (progress bars draw from
    // this thread).
    unsafe { perflab_labs::threads::pool(threads) }.context("starting the thread pool")
}

//! `cargo lab` / `cargo lab quick` and `cargo lab bench <lab>`: validate, time and report.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use perflab_labs::Lab;

use super::{BenchArgs, Common, check_size, find_lab, select_variants, thread_pool};
use crate::machine::Machine;
use crate::measure::{self, Budget, Outcome};
use crate::report::{self, Document};

/// One lab to run: which sizes, which variants (indices into its table).
struct Job {
    lab: &'static dyn Lab,
    sizes: Vec<String>,
    variants: Vec<usize>,
}

/// Every lab at its quick sizes, every variant.
pub fn quick(common: &Common) -> anyhow::Result<ExitCode> {
    let jobs = perflab_labs::all()
        .into_iter()
        .map(|lab| Job {
            lab,
            sizes: lab.quick_sizes().iter().map(|s| s.to_string()).collect(),
            variants: (0..lab.variants().len()).collect(),
        })
        .collect();
    run_jobs(jobs, common, &Budget::quick())
}

/// One lab, the sizes and variants asked for.
pub fn bench(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let lab = find_lab(&args.lab)?;
    let sizes = if args.size.is_empty() {
        lab.default_sizes().iter().map(|s| s.to_string()).collect()
    } else {
        args.size.clone()
    };
    let variants = select_variants(lab, &args.variant)?;
    run_jobs(vec![Job { lab, sizes, variants }], &args.common, &Budget::thorough(args.seconds))
}

fn run_jobs(jobs: Vec<Job>, common: &Common, budget: &Budget) -> anyhow::Result<ExitCode> {
    // Everything that can be refused is refused before any time is spent: sizes (parsed, and
    // checked against memory), and the JSON path.
    for job in &jobs {
        for size in &job.sizes {
            check_size(job.lab, size)?;
        }
    }
    let json = common.json.as_deref().map(|path| create_json(path).map(|file| (file, path))).transpose()?;
    let pool = thread_pool(common.threads)?;

    let mut machine = Machine::probe(&pool);
    println!("{}\n", machine.describe());
    let mut records = Vec::new();
    let mut failures = 0;
    for job in &jobs {
        let table = job.lab.variants();
        for size in &job.sizes {
            let mut case = job.lab.prepare(size, common.seed).map_err(anyhow::Error::msg)?;
            let title = format!("{} {}", job.lab.name(), case.label());
            if case.work().per_call == 0.0 {
                println!("{title}: nothing to time (a call on this size does no work)\n");
                continue;
            }
            let runnable: Vec<usize> = job.variants.iter().copied().filter(|&v| table[v].kernel.is_ok()).collect();
            let outcomes = pool.install(|| measure::measure(&mut *case, &runnable, budget, &title, &mut machine));
            failures += outcomes.iter().filter(|o| matches!(o, Outcome::Failed { .. })).count();
            // `runnable` is `job.variants` less the unavailable ones, in order: hand the outcomes out.
            let mut outcomes = outcomes.into_iter();
            let rows: Vec<_> = job
                .variants
                .iter()
                .map(|&v| (table[v], table[v].kernel.is_ok().then(|| outcomes.next()).flatten()))
                .collect();
            let record = report::record(job.lab, &*case, &machine, &rows);
            println!("{}", report::render(&record));
            records.push(record);
        }
    }
    if let Some((file, path)) = json {
        // Every record divides by the best peak of the whole run (tables printed along the way
        // used the best so far).
        report::rescale_to_peak(&mut records, machine.fma_peak_gflops);
        let document = Document { perflab_version: env!("CARGO_PKG_VERSION"), machine, records };
        let mut out = BufWriter::new(file);
        serde_json::to_writer_pretty(&mut out, &document)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush())
            .and_then(|()| std::fs::rename(temporary(path), path))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    if failures > 0 {
        eprintln!("{failures} variant(s) failed validation: see the notes under the tables");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the JSON output at once (as `<path>.tmp`, renamed when complete, so an interrupted run
/// leaves an earlier file intact), so that an unwritable path is refused before the run.
fn create_json(path: &Path) -> anyhow::Result<File> {
    File::create(temporary(path)).with_context(|| format!("cannot write the JSON output {}", path.display()))
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

//! `cargo lab machine` (this machine's limits) and `cargo lab record-reference` (this machine's
//! reference timings, written to `reference-timings/<fingerprint>.json`).

use std::process::ExitCode;

use anyhow::Context;
use perflab_labs::{Lab, Role};

use super::{MachineArgs, RecordArgs};
use crate::limits::{self, Limits};
use crate::reference::{self, Recorded, ReferenceFile};

pub fn machine(args: &MachineArgs) -> anyhow::Result<ExitCode> {
    let pool = rayon::ThreadPoolBuilder::new().build().context("starting the thread pool")?;
    let fresh = args.remeasure || Limits::cached().is_none();
    if fresh {
        eprintln!("measuring this machine's limits (a few seconds; nothing else should run)...");
    }
    let limits = Limits::load_or_measure(&pool, args.remeasure);
    for line in limits.describe() {
        println!("{line}");
    }
    let level = perflab_labs::simd::simd_level();
    for line in perflab_labs::gemm::blocking::blocking(level).describe() {
        println!("{line}");
    }
    println!("  (`cargo lab tune matmul` searches around them; PERFLAB_GEMM_KC, _NC and _MC override them)");
    if let Some(gain) = perflab_labs::distance::bf16::rate_over_f32() {
        let filter = perflab_labs::knn::solutions::best::Filter::fastest(level);
        println!(
            "bf16 pairs (AVX-512 BF16): {gain:.2}x the f32 multiply-add rate on one core (probed now): the k-NN \
             flagship filters in {} (bf16 where at least 1.5x; PERFLAB_KNN_FILTER overrides)",
            filter.name()
        );
    }
    println!("{}", perflab_labs::assignment::best::describe_forms());
    let path = limits::cache_path(&limits.fingerprint.id);
    match (fresh, path) {
        (_, None) => println!("(not kept: run inside the workspace to keep them)"),
        (true, Some(path)) => println!("kept in {}", path.display()),
        (false, Some(path)) => {
            println!("read from {} (`cargo lab machine --remeasure` measures again)", path.display())
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every lab at its default sizes (and its quick sizes and its exercises' goal sizes, so that
/// `cargo lab --reference` and `check --reference` find their cases), on one thread and on all,
/// every variant but the exercises, each lab in a fresh process of its own (`cargo lab bench`), and
/// the machine's limits measured first.
pub fn record_reference(args: &RecordArgs) -> anyhow::Result<ExitCode> {
    let workspace =
        crate::paths::workspace().context("record-reference writes into the workspace: run it inside it")?;
    let pool = rayon::ThreadPoolBuilder::new().build().context("starting the thread pool")?;
    eprintln!("measuring this machine's limits...");
    let mut limits = Limits::load_or_measure(&pool, true);
    drop(pool);
    let all_threads = limits.fingerprint.cores.max(1);
    let threads: Vec<usize> = if all_threads == 1 { vec![1] } else { vec![1, all_threads] };
    let labs = perflab_labs::all();
    let (_, exercises) = crate::exercises::load_all()?;
    let exe = std::env::current_exe().context("finding the perflab binary")?;
    let scratch = tempfile::tempdir().context("creating a scratch folder")?;
    let mut runs = Vec::new();
    for &t in &threads {
        let mut merged: Option<serde_json::Value> = None;
        for (i, lab) in labs.iter().enumerate() {
            eprintln!(
                "\n[{}/{}] {} on {t} thread(s)",
                i + 1 + labs.len() * runs.len(),
                labs.len() * threads.len(),
                lab.name()
            );
            let json = scratch.path().join(format!("{}-{t}.json", lab.name()));
            let mut command = std::process::Command::new(&exe);
            command.args(["bench", lab.name(), "--threads", &t.to_string(), "--seconds", &args.seconds.to_string()]);
            command.arg("--json").arg(&json);
            for size in recorded_sizes(*lab, &exercises) {
                command.args(["--size", &size]);
            }
            if let Some(python) = &args.python {
                command.arg("--python").arg(python);
            }
            for name in recorded_variants(*lab) {
                command.args(["--variant", name]);
            }
            let status = command.status().context("running cargo lab bench")?;
            anyhow::ensure!(status.success(), "{} on {t} thread(s) failed ({status}): no file written", lab.name());
            let document: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
            merged = Some(crate::saved::merge(merged, document));
        }
        runs.push(merged.expect("at least one lab"));
    }
    // Each run raised the cached peak where its rounds probed higher than the start-up probe; only
    // the peak is taken from the cache (the rest was measured above, for this file).
    let start_up = limits.core_peak_gflops;
    if let Some(cached) = Limits::cached()
        && limits.raise_peak(cached.core_peak_gflops)
    {
        eprintln!(
            "the core peak: {:.1} GFLOP/s, the best probe of the runs' rounds (the start-up probe read {start_up:.1}: \
             something held the core then)",
            limits.core_peak_gflops
        );
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace.join(reference::FOLDER).join(format!("{}.json", limits.fingerprint.id)));
    let file = ReferenceFile {
        reference_schema: reference::REFERENCE_SCHEMA,
        fingerprint: limits.fingerprint.clone(),
        recorded: recorded(&workspace, args, threads),
        limits,
        runs,
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&file)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    println!("\nreference timings written to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// The lab's default sizes, then its quick sizes and its exercises' goal sizes not already among
/// them (compared as the lab prints them).
fn recorded_sizes(lab: &dyn Lab, exercises: &[crate::exercises::Exercise]) -> Vec<String> {
    let goals = exercises.iter().filter(|e| e.lab.name() == lab.name()).map(|e| e.goal.size.as_str());
    let candidates = lab.default_sizes().iter().chain(lab.quick_sizes()).copied().chain(goals);
    let mut labels = Vec::new();
    let mut sizes = Vec::new();
    for size in candidates {
        let label = lab.label(size).unwrap_or_else(|_| size.to_string());
        if !labels.contains(&label) {
            labels.push(label);
            sizes.push(size.to_string());
        }
    }
    sizes
}

/// Every variant of the lab but the exercises (a learner's file is not a reference), and its
/// anchors in other processes.
fn recorded_variants(lab: &dyn Lab) -> Vec<&'static str> {
    let own = lab.variants().into_iter().filter(|v| v.role != Role::Exercise).map(|v| v.name);
    own.chain(lab.out_of_process().iter().filter(|a| a.role != Role::Exercise).map(|a| a.name)).collect()
}

fn recorded(workspace: &std::path::Path, args: &RecordArgs, threads: Vec<usize>) -> Recorded {
    let (commit, rustc) = reference::versions(workspace);
    let command =
        std::iter::once("cargo lab".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
    Recorded {
        at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        command,
        perflab_version: env!("CARGO_PKG_VERSION").to_string(),
        commit,
        rustc,
        threads,
        seconds: args.seconds,
        note: args.note.clone().unwrap_or_default(),
    }
}

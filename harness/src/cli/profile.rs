//! `cargo lab profile <lab> <variant>`: validate, then sample one variant twice, each for
//! `--seconds`: with pprof for a flamegraph of its functions, then with [`sampler`] for where the
//! time goes line by line.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use perflab_labs::Case;

use super::{ProfileArgs, check_size, find_lab, select_variants, thread_pool, with_data};
use crate::{measure, panics, profile, sampler};

/// A Python rung or exercise, under py-spy (a library anchor is not ours to profile).
fn profile_python(
    args: &ProfileArgs,
    lab: &'static dyn perflab_labs::Lab,
    file: &'static perflab_labs::OutOfProcess,
) -> anyhow::Result<ExitCode> {
    if file.file().is_none() {
        bail!("'{}' is a library anchor: profile perflab's variants, or a Python rung (py-*) or your-numpy", file.name);
    }
    let size = args.size.clone().unwrap_or_else(|| lab.default_sizes()[0].to_string());
    let size = with_data(lab, &size, args.data.as_deref())?;
    check_size(lab, &size)?;
    let case = lab.prepare(&size, args.seed).map_err(anyhow::Error::msg)?;
    let threads = thread_pool(args.threads)?.current_num_threads();
    let path =
        args.out.clone().unwrap_or_else(|| profile::flamegraph_path(lab.name(), file.name, &case.label(), threads));
    super::profile_python::run(lab, file, &*case, threads, args.seconds, &path)
}

pub fn run(args: &ProfileArgs) -> anyhow::Result<ExitCode> {
    let lab = find_lab(&args.lab)?;
    let variant = select_variants(lab, std::slice::from_ref(&args.variant))?[0];
    let Some(&info) = lab.variants().get(variant) else {
        return profile_python(args, lab, &lab.out_of_process()[variant - lab.variants().len()]);
    };
    if let Some(why) = info.unavailable() {
        bail!("variant '{}' is not available in this build: {why}", info.name);
    }
    let size = args.size.clone().unwrap_or_else(|| lab.default_sizes()[0].to_string());
    let size = with_data(lab, &size, args.data.as_deref())?;
    check_size(lab, &size)?;
    let pool = thread_pool(args.threads)?;
    let mut case = lab.prepare(&size, args.seed).map_err(anyhow::Error::msg)?;
    if case.work().per_call == 0.0 {
        bail!("{} {}: nothing to profile (a call on this size does no work)", lab.name(), case.label());
    }
    let threads = pool.current_num_threads();
    let path =
        args.out.clone().unwrap_or_else(|| profile::flamegraph_path(lab.name(), info.name, &case.label(), threads));
    profile::ensure_writable(&path)?;
    let Some(fraction) = validate(&pool, &mut *case, variant, info.name, args.seconds) else {
        return Ok(ExitCode::from(1));
    };

    // Two samplings, one after the other (both need SIGPROF): pprof's stacks for the flamegraph,
    // then the leaf addresses for the per-line breakdown, each for --seconds.
    let seconds = Duration::from_secs_f64(args.seconds);
    let guard = profile::start()?;
    let start = Instant::now();
    let calls = pool.install(|| profile::run_for(seconds, || case.run(variant)));
    let result = profile::finish(guard, &path, start.elapsed().as_secs_f64())?;
    let slice =
        if fraction < 1.0 { format!(" ({:.1}% of the {})", 100.0 * fraction, lab.slice_unit()) } else { String::new() };
    println!("flamegraph: {} (functions only)", result.path.display());
    println!(
        "  {} samples in {:.1} s ({:.0} per second), {calls} calls of {} on {}{slice} with {threads} thread(s)",
        result.samples,
        result.seconds,
        result.samples as f64 / result.seconds,
        info.name,
        case.label(),
    );
    let few = result.samples < MIN_SAMPLES;
    match sampler::start() {
        Ok(sampling) => print_lines(sampling, few, || pool.install(|| profile::run_for(seconds, || case.run(variant)))),
        Err(why) => {
            // Function level is right in pprof's samples (see profile::real_functions).
            print_few(few);
            println!("  no per-line breakdown: {why}");
            println!("  where the samples were (innermost function):");
            for (name, share) in &result.hottest {
                println!("    {:>5.1}%  {name}", 100.0 * share);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A profile of a wrong kernel teaches nothing: validates first, and keeps single calls short
/// enough that a sampling of `seconds` holds at least ten of them. The fraction of the input it
/// runs on, or None (said why) when it failed.
fn validate(pool: &rayon::ThreadPool, case: &mut dyn Case, variant: usize, name: &str, seconds: f64) -> Option<f64> {
    let checked = panics::capturing(|| {
        pool.install(|| {
            let (_, fraction) = measure::calibrate(case, variant, seconds / 10.0);
            (fraction, case.validate(variant))
        })
    });
    match checked {
        Ok((fraction, Ok(_))) => Some(fraction),
        Ok((_, Err(error))) => {
            eprintln!("{name} FAILED validation, so it is not profiled:\n{error}");
            None
        }
        Err(panic) => {
            eprintln!("{name} FAILED: {panic}");
            None
        }
    }
}

/// The second sampling, of `calls` (which runs the variant for --seconds and returns how many
/// calls it made): where the samples were, by function and by source line.
fn print_lines(sampling: sampler::Sampling, few: bool, calls: impl FnOnce() -> u64) {
    let start = Instant::now();
    let calls = calls();
    let elapsed = start.elapsed().as_secs_f64();
    let taken = sampling.stop();
    let resolved = sampler::resolve(&taken.samples);
    let lines = sampler::by_line(&resolved, TOP_LINES);
    println!(
        "lines: {} more samples in {elapsed:.1} s ({:.0} per second), {calls} calls, each at its own address",
        lines.total,
        lines.total as f64 / elapsed,
    );
    if taken.lost > 0 {
        println!("  ({} samples lost: the sampler's buffer was full)", taken.lost);
    }
    print_few(few || lines.total < MIN_SAMPLES);
    println!("  where the samples were (innermost function):");
    for (name, share) in sampler::by_function(&resolved, 5) {
        println!("    {:>5.1}%  {name}", 100.0 * share);
    }
    println!("  where the samples were, by source line (inlined code at its own line; {} samples):", lines.total);
    print!("{lines}");
}

/// Fewer samples than this in either sampling and the shares move from run to run by more than a
/// point or two; the default --seconds (5 s at about 250 samples a second) gives about 1250.
const MIN_SAMPLES: u64 = 1000;

/// Source lines printed in the breakdown.
const TOP_LINES: usize = 12;

fn print_few(few: bool) {
    if few {
        println!("  note: under {MIN_SAMPLES} samples; give more --seconds for a steadier picture");
    }
}

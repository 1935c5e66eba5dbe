//! `cargo lab compare`: this machine's run (timed now, or a saved `--json` file) beside a reference
//! machine's file from `reference-timings/`.

use std::process::ExitCode;

use anyhow::Context;

use super::bench::{Job, command_line, create_report_folder, measure_jobs, write_report};
use super::{Against, Common, CompareArgs, against, find_lab, variant_names};
use crate::limits::Fingerprint;
use crate::measure::Budget;
use crate::pictures::html::Report;
use crate::reference::{self, Reference};
use crate::saved::SavedRun;

pub fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        return list();
    }
    let (reference, why) = against::pick_reference(args.reference.as_deref())?;
    if let Some(dir) = &args.report {
        create_report_folder(dir)?;
    }
    let run = match &args.run {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            SavedRun::parse(&text, &path.display().to_string())?
        }
        None => run_now(args, &reference)?,
    };
    let (text, comparisons) = against::against_reference(&run, &reference, &why)?;
    print!("{text}");
    if let Some(path) = &args.json {
        let value = serde_json::json!({
            "schema": crate::report::SCHEMA,
            "reference": { "name": reference.name, "why": why, "recorded": reference.file.recorded },
            "comparisons": comparisons,
        });
        std::fs::write(path, serde_json::to_string_pretty(&value)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("comparisons written to {}", path.display());
    }
    if let Some(dir) = &args.report {
        let values = comparisons.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>()?;
        let report = Report {
            title: format!("perflab: this machine against reference {}", reference.name),
            command: command_line(),
            run: Some(run),
            compare: Some((reference.name.clone(), why, values)),
            ..Default::default()
        };
        write_report(dir, &format!("compare-{}", reference.name), &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Times, on this machine, the cases and variants the reference has (of `args.lab`, or of every
/// lab), with `args`' threads.
fn run_now(args: &CompareArgs, reference: &Reference) -> anyhow::Result<SavedRun> {
    let threads = args.threads.map_or_else(|| perflab_labs::threads::resolve(None), usize::from);
    let there = reference
        .run_for(threads)
        .with_context(|| format!("reference {} has no run on {threads} thread(s)", reference.name))?;
    let labs = match &args.lab {
        Some(name) => vec![find_lab(name)?],
        None => perflab_labs::all(),
    };
    let mut jobs = Vec::new();
    for lab in labs {
        let records: Vec<_> = there.records.iter().filter(|r| r.lab == lab.name()).collect();
        let mut sizes: Vec<String> = records.iter().map(|r| r.size.clone()).collect();
        sizes.dedup();
        if !args.size.is_empty() {
            let asked: Vec<String> =
                args.size.iter().map(|s| lab.label(s).map_err(anyhow::Error::msg)).collect::<anyhow::Result<_>>()?;
            sizes.retain(|s| asked.contains(s));
            anyhow::ensure!(
                !sizes.is_empty(),
                "reference {} has no {} at {}",
                reference.name,
                lab.name(),
                args.size.join(", ")
            );
        }
        let names = variant_names(lab);
        let timed_there = |name: &str| records.iter().any(|r| r.variant(name).is_some_and(|v| v.timing.is_some()));
        let variants: Vec<usize> = (0..names.len())
            .filter(|&i| {
                timed_there(names[i]) && (args.variant.is_empty() || args.variant.iter().any(|v| v == names[i]))
            })
            .collect();
        if !sizes.is_empty() && !variants.is_empty() {
            jobs.push(Job { lab, sizes, variants, compact: false, forced_twins: false });
        }
    }
    anyhow::ensure!(!jobs.is_empty(), "nothing to compare: reference {} has none of those cases", reference.name);
    let common = Common {
        threads: Some(super::ThreadCounts(vec![threads as u16])),
        report: None,
        json: None,
        seed: args.seed,
        python: args.python.clone(),
        against: Against::default(),
    };
    let (_, document) = measure_jobs(jobs, &common, &Budget::thorough(args.seconds))?;
    Ok(SavedRun::of(&document))
}

/// The shipped files, nearest first.
fn list() -> anyhow::Result<ExitCode> {
    let workspace = crate::paths::workspace().context("reference timings live in the workspace: run this inside it")?;
    let here = Fingerprint::here();
    let peak = crate::limits::Limits::cached().map(|l| l.core_peak_gflops);
    let mut references: Vec<_> = reference::all(&workspace)?
        .into_iter()
        .map(|r| {
            let (key, gap, why) = reference::nearness(&here, peak, &r);
            (key, gap, why, r)
        })
        .collect();
    references.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.total_cmp(&b.1)));
    println!("this machine: {}", here.id);
    for (i, (_, _, why, r)) in references.iter().enumerate() {
        let mark = if i == 0 { " (nearest)" } else { "" };
        println!("  {}{mark}: {why}; recorded {} with `{}`", r.name, r.file.recorded.at, r.file.recorded.command);
    }
    if references.is_empty() {
        println!("  no reference timings yet: `cargo lab record-reference` writes this machine's");
    }
    Ok(ExitCode::SUCCESS)
}

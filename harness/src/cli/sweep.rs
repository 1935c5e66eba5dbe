//! `cargo lab sweep <lab>`: the variants over sizes whose working set crosses each cache level,
//! measured as `bench` measures, then a compact table, the cliffs in words, JSON and pictures.

use std::path::Path;
use std::process::ExitCode;

use perflab_labs::{Lab, Role};

use super::bench::{
    Job, args_with, command_line, create_json, create_report_folder, measure_jobs, write_json, write_report,
};
use super::{SweepArgs, ThreadCounts, against, check_size, find_lab, scaling, select_variants, with_data};
use crate::measure::Budget;
use crate::pictures::html::{Report, SweepPart};
use crate::pictures::sweep;
use crate::saved::SavedRun;

pub fn sweep(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    let lab = find_lab(&args.lab)?;
    let caches = perflab_labs::caches::hierarchy().unwrap_or_default();
    let counts = swept_counts(lab, &args.sizes, &caches)?;
    let sizes: Vec<String> = counts
        .iter()
        .map(|&count| with_data(lab, &lab.sweep().at(count), args.data.as_deref()))
        .collect::<anyhow::Result<_>>()?;
    for size in &sizes {
        check_size(lab, size)?;
    }
    let variants = if args.variant.is_empty() { default_variants(lab) } else { select_variants(lab, &args.variant)? };
    let names = super::variant_names(lab);
    let axis = lab.sweep().axis;
    println!(
        "sweeping {} over {axis} = {} ({}), variants: {}\n",
        lab.name(),
        counts.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
        if args.sizes == "auto" { "auto: half and twice each cache level, then memory" } else { "as asked" },
        variants.iter().map(|&v| names[v]).collect::<Vec<_>>().join(", ")
    );
    let common = &args.common;
    // Refused before any time is spent: an unwritable JSON path or report folder.
    // A baseline or reference asked for is read (and refused) before the sweep too, and before
    // the JSON file is begun.
    scaling::one_count_with_against(common)?;
    let against = against::Prepared::new(&common.against)?;
    let json = common.json.as_deref().map(|path| create_json(path).map(|file| (file, path))).transpose()?;
    if let Some(dir) = &common.report {
        create_report_folder(dir)?;
    }
    let (documents, failed) = measure(args, lab, &counts, sizes, variants)?;
    let runs = scaling::saved(&documents)?;
    let document = scaling::merged(&documents);
    let run = SavedRun::from_value(document.clone(), "this sweep")?;
    let (curves, counts_flop) = sweep::curves(&run, lab.name());
    let cliffs = sweep::cliffs(&curves, &caches, axis, lab, counts_flop);
    let summaries = sweep::summaries(&curves, &caches, axis, lab, counts_flop);
    println!("\n{}", sweep::table(&curves, &caches, lab, counts_flop));
    if cliffs.is_empty() {
        println!("no cliff: no variant lost more than {:.0}% from one size to the next", (1.0 - sweep::CLIFF) * 100.0);
    }
    cliffs.iter().for_each(|cliff| println!("cliff: {}", cliff.sentence));
    summaries.iter().for_each(|line| println!("{line}"));
    if runs.len() > 1 {
        scaling::print(&runs);
    }
    let compared = against.report(&document)?;
    if let Some((file, path)) = json {
        let mut document = document.clone();
        if !compared.is_null() {
            document["against"] = compared.clone();
        }
        document["sweep"] = serde_json::json!({ "lab": lab.name(), "axis": axis, "curves": curves, "cliffs": cliffs, "summaries": summaries });
        write_json(file, path, &document)?;
    }
    if let Some(dir) = &common.report {
        let report = Report {
            title: format!("perflab: {} size sweep", lab.name()),
            command: command_line(),
            run: Some(run),
            by_threads: if runs.len() > 1 { runs } else { Vec::new() },
            sweep: Some(SweepPart { lab, curves, cliffs, summaries, counts_flop }),
            against: (!compared.is_null()).then_some(compared),
            ..Default::default()
        };
        write_report(dir, &format!("sweep-{}", lab.name()), &report)?;
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Every size measured as `bench` measures, in this process; or, with several thread counts, this
/// sweep once per count in processes of their own. The runs' documents, and whether a variant failed.
fn measure(
    args: &SweepArgs,
    lab: &'static dyn Lab,
    counts: &[usize],
    sizes: Vec<String>,
    variants: Vec<usize>,
) -> anyhow::Result<(Vec<serde_json::Value>, bool)> {
    let common = &args.common;
    if !ThreadCounts::several(common.threads.as_ref()) {
        let job = Job { lab, sizes, variants, compact: true, forced_twins: true };
        let (failures, document) = measure_jobs(vec![job], common, &Budget::thorough(args.seconds))?;
        return Ok((vec![serde_json::to_value(&document)?], failures > 0));
    }
    let names = super::variant_names(lab);
    let again = |threads: u16, json: &Path| {
        let list = counts.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        let mut line = vec!["sweep".to_string(), lab.name().into(), "--sizes".into(), list];
        line.extend(["--seconds".to_string(), args.seconds.to_string(), "--threads".into(), threads.to_string()]);
        for &v in &variants {
            line.extend(["--variant".to_string(), names[v].to_string()]);
        }
        if let Some(data) = &args.data {
            line.extend(["--data".to_string(), data.clone()]);
        }
        line.push("--json".into());
        args_with(line, json)
    };
    scaling::per_count(common, &again)
}

/// The values of the swept count: `auto` (around each cache level) or a comma-separated list.
fn swept_counts(lab: &dyn Lab, sizes: &str, caches: &[perflab_labs::caches::Cache]) -> anyhow::Result<Vec<usize>> {
    let sweep = lab.sweep();
    if sizes == "auto" {
        return Ok(sweep::auto_counts(lab, caches));
    }
    let mut counts = Vec::new();
    for word in sizes.split(',') {
        let count: usize = word.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "--sizes '{sizes}': '{word}' is not a value of {} (the swept count of {} sizes, `{}`): write auto or \
                 numbers, e.g. --sizes 64,256,1024",
                sweep.axis,
                lab.name(),
                sweep.size.replacen("{}", &sweep.axis.to_uppercase(), 1)
            )
        })?;
        anyhow::ensure!(count >= 1, "--sizes: {} = {count} does no work", sweep.axis);
        counts.push(count);
    }
    counts.sort_unstable();
    counts.dedup();
    Ok(counts)
}

/// Every variant but the exercises and the Python rungs whose lesson is their slowness.
fn default_variants(lab: &dyn Lab) -> Vec<usize> {
    let own = lab.variants();
    let outside = lab.out_of_process();
    let keep = |i: &usize| match own.get(*i) {
        Some(v) => v.role != Role::Exercise,
        None => {
            let anchor = &outside[i - own.len()];
            anchor.role != Role::Exercise && !anchor.slow
        }
    };
    (0..own.len() + outside.len()).filter(keep).collect()
}

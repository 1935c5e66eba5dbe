//! `--threads 1,2` (several counts): the command again once per count, each in a fresh process of
//! its own (libraries read their thread count once, at start-up), then each parallel variant's
//! speedup and efficiency.

use std::ffi::OsString;
use std::path::Path;

use anyhow::Context;

use super::{Common, ThreadCounts};
use crate::pictures::scaling;
use crate::saved::SavedRun;

/// Set for the process of one thread count: its JSON is scratch for this process, which merges
/// the counts (and writes them where --json asked), so the child does not name its file.
pub(super) const ONE_COUNT_OF_SEVERAL: &str = "PERFLAB_ONE_COUNT_OF_SEVERAL";

/// Refuses `--baseline`, `--save-baseline` and `--reference` with several thread counts.
pub(super) fn one_count_with_against(common: &Common) -> anyhow::Result<()> {
    let against = &common.against;
    let asked = against.baseline.is_some() || against.save_baseline.is_some() || against.reference.is_some();
    anyhow::ensure!(
        !(asked && ThreadCounts::several(common.threads.as_ref())),
        "--baseline, --save-baseline and --reference compare one thread count: give --threads one count with them"
    );
    Ok(())
}

/// The runs of every count (fewest threads first, as JSON documents), and whether a variant failed
/// validation in any. `args_for(threads, json)` is the command line of one count.
pub(super) fn per_count(
    common: &Common,
    args_for: &dyn Fn(u16, &Path) -> Vec<OsString>,
) -> anyhow::Result<(Vec<serde_json::Value>, bool)> {
    let counts = common.threads.as_ref().map(|c| c.0.clone()).unwrap_or_default();
    one_count_with_against(common)?;
    // The largest count refused now, not after the runs of the smaller ones.
    if let Some(&most) = counts.last() {
        super::check_thread_count(usize::from(most))?;
    }
    let exe = std::env::current_exe().context("finding the perflab binary")?;
    let scratch = tempfile::tempdir().context("creating a scratch folder")?;
    let mut documents = Vec::new();
    let mut failed = false;
    for (i, &threads) in counts.iter().enumerate() {
        eprintln!("\n[{}/{}] {threads} thread(s), in a process of its own", i + 1, counts.len());
        let json = scratch.path().join(format!("threads-{threads}.json"));
        let mut command = std::process::Command::new(&exe);
        command.args(args_for(threads, &json)).args(["--seed", &common.seed.to_string()]);
        command.env(ONE_COUNT_OF_SEVERAL, "1");
        if let Some(python) = &common.python {
            command.arg("--python").arg(python);
        }
        let status = command.status().context("running perflab for one thread count")?;
        match status.code() {
            Some(0) => {}
            Some(1) if json.exists() => failed = true, // a variant failed validation: reported there
            _ => anyhow::bail!("the run on {threads} thread(s) failed ({status}): stopping"),
        }
        let text = std::fs::read_to_string(&json).with_context(|| format!("reading the run on {threads} thread(s)"))?;
        documents.push(serde_json::from_str(&text)?);
    }
    Ok((documents, failed))
}

/// Prints one scaling table per case of `runs`.
pub(super) fn print(runs: &[SavedRun]) {
    let all = scaling::scalings(runs);
    let mut cases: Vec<(&str, &str)> = all.iter().map(|s| (s.lab.as_str(), s.size.as_str())).collect();
    cases.dedup();
    if cases.is_empty() {
        println!("\nno parallel variant was timed at more than one thread count: no scaling to show");
    }
    for (lab, size) in cases {
        let mine: Vec<&scaling::Scaling> = all.iter().filter(|s| s.lab == lab && s.size == size).collect();
        println!("\n{}", scaling::table(&mine));
    }
}

/// Each document read back as a run.
pub(super) fn saved(documents: &[serde_json::Value]) -> anyhow::Result<Vec<SavedRun>> {
    documents.iter().map(|d| SavedRun::from_value(d.clone(), "a run of one thread count")).collect()
}

/// One document of every count's records (the first's machine): what `--json` writes.
pub(super) fn merged(documents: &[serde_json::Value]) -> serde_json::Value {
    documents.iter().cloned().fold(None, |all, next| Some(crate::saved::merge(all, next))).unwrap_or_default()
}

//! Baselines: a run saved under a name on this machine (`--save-baseline NAME`), and a later run
//! held against it variant by variant (`--baseline NAME`): faster, slower, unchanged or
//! inconclusive, from both runs' per-round samples (`change.rs`). Baselines are kept per machine
//! fingerprint under `<target>/perflab/baselines/`; a run from another machine is refused with a
//! pointer to `cargo lab compare`, which is made for that.

use std::path::PathBuf;

use anyhow::Context;
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_BORDERS_ONLY};
use serde::Serialize;

use crate::change::{self, Change, Samples};
use crate::limits::Fingerprint;
use crate::paths;
use crate::report::format_seconds;
use crate::saved::{SavedRecord, SavedRun};

/// `<target>/perflab/baselines/<fingerprint>/`, in the workspace this is run from.
pub fn folder(fingerprint: &str) -> anyhow::Result<PathBuf> {
    let workspace =
        paths::workspace().context("baselines live in the workspace's target folder: run this inside it")?;
    Ok(paths::target_dir(&workspace).join("perflab").join("baselines").join(fingerprint))
}

/// Where `cargo lab check` keeps an exercise's last timed result on this machine.
pub fn last_check_path(lab: &str, exercise: &str) -> anyhow::Result<PathBuf> {
    let fingerprint = Fingerprint::here().id;
    let baselines = folder(&fingerprint)?;
    let perflab = baselines.parent().and_then(|p| p.parent()).expect("baselines/<machine> sits in perflab/");
    Ok(perflab.join("last-check").join(fingerprint).join(format!("{lab}-{exercise}.json")))
}

/// "vs your last check: 1.12x faster (significant)" for `exercise` in `now`, then keeps `now` as
/// its last check. None: no earlier check at this size and thread count (or nothing to keep).
pub fn against_last_check(lab: &str, exercise: &str, now: &serde_json::Value, band: f64) -> Option<String> {
    let path = last_check_path(lab, exercise).ok()?;
    let before = std::fs::read_to_string(&path).ok().and_then(|text| SavedRun::parse(&text, "the last check").ok());
    let line = before.and_then(|before| {
        let now = SavedRun::from_value(now.clone(), "this check").ok()?;
        let change = changes(&before, &now, band).into_iter().find(|c| c.variant == exercise)?;
        Some(format!(
            "vs your last check: {} (from the fastest fifth of each run's rounds, corrected for the machine's speed \
             by the FMA probe, so not the medians above)",
            change.change.describe()
        ))
    });
    std::fs::create_dir_all(path.parent()?).ok()?;
    std::fs::write(&path, now.to_string()).ok()?;
    line
}

/// A baseline's file: names are words (letters, digits, `-`, `_`, `.`), not paths.
pub fn path(name: &str) -> anyhow::Result<PathBuf> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    anyhow::ensure!(ok, "baseline name '{name}': use letters, digits, '-', '_' and '.' (e.g. before-tiling)");
    Ok(folder(&Fingerprint::here().id)?.join(format!("{name}.json")))
}

/// Saves this run's JSON text as baseline `name` (replacing one of that name).
pub fn save(name: &str, json: &str) -> anyhow::Result<PathBuf> {
    let path = path(name)?;
    let dir = path.parent().expect("a baseline has a folder");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Loads baseline `name` of this machine, or says which ones exist, or why another machine's
/// cannot be used.
pub fn load(name: &str) -> anyhow::Result<SavedRun> {
    let here = Fingerprint::here().id;
    let path = path(name)?;
    let Ok(text) = std::fs::read_to_string(&path) else {
        let elsewhere = other_machines_with(name);
        if !elsewhere.is_empty() {
            anyhow::bail!(
                "baseline '{name}' was saved on another machine ({}), and this one is {here}: a baseline compares \
                 runs of one machine; `cargo lab compare` holds a run against another machine's",
                elsewhere.join(", ")
            );
        }
        anyhow::bail!("no baseline '{name}' on this machine ({here}); saved here: {}", list(&here).join(", "));
    };
    let run = SavedRun::parse(&text, &format!("baseline '{name}' ({})", path.display()))?;
    if let Some(theirs) = run.fingerprint().filter(|id| *id != here) {
        anyhow::bail!(
            "baseline '{name}' was measured on {theirs}, and this machine is {here}: use `cargo lab compare`"
        );
    }
    Ok(run)
}

/// The names of this machine's baselines.
fn list(fingerprint: &str) -> Vec<String> {
    let mut names: Vec<String> = folder(fingerprint)
        .ok()
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    if names.is_empty() { vec!["none yet (--save-baseline NAME)".into()] } else { names }
}

/// The fingerprints of other machines that have a baseline called `name`.
fn other_machines_with(name: &str) -> Vec<String> {
    let Ok(root) = folder("x").map(|f| f.parent().expect("baselines/x has a parent").to_path_buf()) else {
        return Vec::new();
    };
    std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(format!("{name}.json")).is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect()
}

/// One variant's change between the baseline and this run.
#[derive(Clone, Debug, Serialize)]
pub struct VariantChange {
    pub lab: String,
    pub size: String,
    pub threads: usize,
    pub variant: String,
    /// The [`change::QUANTILE`] of each run's round times.
    pub before_s: f64,
    pub now_s: f64,
    /// The variant whose rounds corrected the change for the machine's speed (None: raw only).
    pub anchor: Option<String>,
    pub change: Change,
}

/// Every variant timed in both `before` and `now` (same lab, size and threads), with its change.
pub fn changes(before: &SavedRun, now: &SavedRun, noise_band: f64) -> Vec<VariantChange> {
    let mut out = Vec::new();
    for record in &now.records {
        let Some(old) = before.record(&record.lab, &record.size, record.threads) else { continue };
        for variant in &record.variants {
            if let Some(c) = variant_change(old, record, &variant.name, noise_band) {
                out.push(c);
            }
        }
    }
    out
}

/// The change of `name` between two records of one case, corrected through each round's FMA
/// probe (how fast one core ran in that round) where both records kept them.
pub fn variant_change(old: &SavedRecord, new: &SavedRecord, name: &str, band: f64) -> Option<VariantChange> {
    let (before, now) = (old.variant(name)?.timing.as_ref()?, new.variant(name)?.timing.as_ref()?);
    let slowness = |record: &SavedRecord, timing: &crate::saved::SavedTiming| {
        (record.probe_gflops.len() == timing.samples_s.len())
            .then(|| record.probe_gflops.iter().map(|g| 1.0 / g).collect::<Vec<f64>>())
    };
    let (before_anchor, now_anchor) = (slowness(old, before), slowness(new, now));
    let anchored = before_anchor.is_some() && now_anchor.is_some();
    let seed = name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let change = change::change(
        Samples {
            variant: &before.samples_s,
            epochs: before.epochs,
            anchor: before_anchor.as_deref().filter(|_| anchored),
        },
        Samples { variant: &now.samples_s, epochs: now.epochs, anchor: now_anchor.as_deref().filter(|_| anchored) },
        band,
        seed,
    )?;
    Some(VariantChange {
        lab: new.lab.clone(),
        size: new.size.clone(),
        threads: new.threads,
        variant: name.to_string(),
        before_s: change::low(&before.samples_s),
        now_s: change::low(&now.samples_s),
        anchor: anchored.then(|| "FMA probe".to_string()),
        change,
    })
}

/// The terminal table of `changes` against baseline `name`.
pub fn render(name: &str, changes: &[VariantChange]) -> String {
    if changes.is_empty() {
        return format!("vs baseline '{name}': no variant of this run was timed at the same size and threads there\n");
    }
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["case", "variant", "baseline", "now", "now/then (95%)", "corrected (95%)", "verdict"]);
    for c in changes {
        let ratio = |r: f64, (low, high): (f64, f64)| format!("{r:.3} ({low:.2}-{high:.2})");
        let corrected = match (c.change.corrected_ratio, c.change.corrected_interval) {
            (Some(r), Some(i)) => ratio(r, i),
            _ => "-".into(),
        };
        let row = [
            format!("{} {} t={}", c.lab, c.size, c.threads),
            c.variant.clone(),
            format_seconds(c.before_s),
            format_seconds(c.now_s),
            ratio(c.change.raw_ratio, c.change.raw_interval),
            corrected,
            c.change.describe(),
        ];
        table.add_row(row.into_iter().enumerate().map(|(i, text)| {
            Cell::new(text).set_alignment(if (2..6).contains(&i) { CellAlignment::Right } else { CellAlignment::Left })
        }));
    }
    format!(
        "vs baseline '{name}': each run's time is the 20th percentile of its rounds (another process only adds time \
         to a round, so the low rounds are the undisturbed ones); now/then below 1 is faster, with its 95% interval \
         from both runs' rounds in epochs (fresh copies of the input); 'corrected' also divides by the FMA probe's \
         own change, so a machine that ran slower as a whole cancels out. Faster or slower needs both intervals \
         beyond ±{:.0}% (wider where a run's own epochs differed more); unchanged, an interval inside it.\n{table}\n",
        changes[0].change.noise_band * 100.0
    )
}

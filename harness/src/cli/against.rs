//! `--save-baseline`, `--baseline` and `--reference` on `quick`, `bench` and `sweep`: loaded (and refused)
//! before anything is timed, applied to the run's document afterwards.

use crate::baseline;
use crate::compare::{self, Machines, VariantComparison};
use crate::limits::{Fingerprint, Limits};
use crate::reference::{self, Reference};
use crate::saved::SavedRun;

use super::Against;

/// What the run will be held against, read before the run.
pub struct Prepared {
    save: Option<String>,
    baseline: Option<(String, SavedRun)>,
    reference: Option<(Reference, String)>,
    noise_band: f64,
}

impl Prepared {
    pub fn new(against: &Against) -> anyhow::Result<Prepared> {
        if let Some(name) = &against.save_baseline {
            baseline::path(name)?;
        }
        let baseline = against.baseline.as_ref().map(|name| baseline::load(name).map(|run| (name.clone(), run)));
        let reference = against.reference.as_deref().map(|name| pick_reference((!name.is_empty()).then_some(name)));
        Ok(Prepared {
            save: against.save_baseline.clone(),
            baseline: baseline.transpose()?,
            reference: reference.transpose()?,
            noise_band: against.noise_band,
        })
    }

    /// Saves the run (a report document as JSON) and prints its comparisons; returns them as
    /// JSON (the document's `against`; null when there was nothing to compare with).
    pub fn report(&self, document: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let run = SavedRun::from_value(document.clone(), "this run")?;
        let mut out = serde_json::Map::new();
        if let Some((name, before)) = &self.baseline {
            let changes = baseline::changes(before, &run, self.noise_band);
            print!("{}", baseline::render(name, &changes));
            out.insert("baseline".into(), serde_json::json!({ "name": name, "changes": changes }));
        }
        if let Some((reference, why)) = &self.reference {
            let (text, comparisons) = against_reference(&run, reference, why)?;
            print!("{text}");
            let value = serde_json::json!({ "name": reference.name, "why": why, "comparisons": comparisons });
            out.insert("reference".into(), value);
        }
        if let Some(name) = &self.save {
            let text = serde_json::to_string_pretty(document)?;
            let path = baseline::save(name, &text)?;
            println!(
                "saved as baseline '{name}' of this machine ({}): compare later runs with --baseline {name}",
                path.display()
            );
        }
        Ok(if out.is_empty() { serde_json::Value::Null } else { serde_json::Value::Object(out) })
    }
}

/// The named reference, or the nearest to this machine, with why it was picked.
pub fn pick_reference(name: Option<&str>) -> anyhow::Result<(Reference, String)> {
    let workspace = crate::paths::workspace()
        .ok_or_else(|| anyhow::anyhow!("reference timings live in the workspace: run this inside it"))?;
    let peak = Limits::cached().map(|l| l.core_peak_gflops);
    reference::pick(&workspace, name, &Fingerprint::here(), peak)
}

/// `run` beside the reference's run of the same thread count: the text, and each variant's
/// comparison.
pub fn against_reference(
    run: &SavedRun,
    reference: &Reference,
    why: &str,
) -> anyhow::Result<(String, Vec<VariantComparison>)> {
    let here =
        run.machine.limits.as_ref().ok_or_else(|| anyhow::anyhow!("this run did not read the machine's limits"))?;
    let there_limits = &reference.file.limits;
    let Some(there) = reference.run_for(run.machine.threads) else {
        let text = format!("reference {} has no run on {} thread(s)\n", reference.name, run.machine.threads);
        return Ok((text, Vec::new()));
    };
    let machines = Machines {
        here,
        there: there_limits,
        here_level: &run.machine.simd_level,
        there_level: &there.machine.simd_level,
    };
    let comparisons = compare::compare(run, there, &machines);
    let mut out = format!(
        "\nvs reference {} ({why}; recorded {} with `{}`), {} thread(s) here, {} there.\n\
         'the machine': as far from this machine's limits as the reference is from its own (within {:.0}%); 'the code': \
         markedly further from them here; 'closer here': markedly closer to them here (the reference ran slower than \
         its machine allows, or this machine suits the code better). Times are the 20th percentile of each run's rounds (rounds another process \
         interrupted, on either machine, do not count).\n\n",
        reference.name,
        reference.file.recorded.at,
        reference.file.recorded.command,
        run.machine.threads,
        there.machine.threads,
        compare::MACHINE_BAND * 100.0
    );
    if comparisons.is_empty() {
        out += "no variant of this run was timed at the same size there (the reference has each lab's default sizes)\n";
    }
    out += &compare::render(&comparisons, run, there, &reference.name);
    Ok((out, comparisons))
}

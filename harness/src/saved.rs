//! A run read back from JSON: a baseline, a reference machine's file, or this run itself turned
//! into the same form, so that every comparison reads one kind of thing. Only the fields the
//! comparisons use; the layout is the report's (`report::SCHEMA`).

use anyhow::Context;
use serde::Deserialize;

use crate::limits::Limits;
use crate::report::{Document, SCHEMA};

#[derive(Clone, Debug, Deserialize)]
pub struct SavedRun {
    pub schema: u32,
    pub machine: SavedMachine,
    pub records: Vec<SavedRecord>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SavedMachine {
    pub cpu: String,
    /// The level the kernels ran at (`PERFLAB_SIMD` may have narrowed it below the CPU's).
    pub simd_level: String,
    pub threads: usize,
    pub core_peak_gflops: f64,
    pub limits: Option<Limits>,
    /// The GEMM's cache blocks (absent in runs saved before they were recorded).
    #[serde(default)]
    pub gemm_blocks: Option<perflab_labs::gemm::blocking::Blocking>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SavedRecord {
    pub lab: String,
    /// The size's parameters, as the record names them (`n`, `d`, ...).
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    pub size: String,
    pub threads: usize,
    pub cores: usize,
    pub core_peak_gflops: f64,
    pub footprint_bytes: Option<u64>,
    /// Absent in runs recorded before it was kept.
    #[serde(default)]
    pub footprint_parts: Vec<crate::report::FootprintPart>,
    pub probe_gflops: Vec<f64>,
    pub variants: Vec<SavedVariant>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SavedVariant {
    pub name: String,
    pub role: String,
    pub reference: Option<String>,
    pub cores: usize,
    #[serde(default)]
    pub verdict: Option<SavedVerdict>,
    pub timing: Option<SavedTiming>,
    pub speed: Option<SavedSpeed>,
    /// For a Python anchor: its libraries, BLAS and threads.
    #[serde(default)]
    pub library: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SavedVerdict {
    /// `measured`, `failed` or `unavailable`.
    pub status: String,
    #[serde(default)]
    pub rejected_library_answer: bool,
    pub detail: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SavedTiming {
    pub median_s: f64,
    #[serde(default)]
    pub p25_s: f64,
    #[serde(default)]
    pub p75_s: f64,
    /// Below 1: timed on a slice, scaled up.
    #[serde(default = "whole")]
    pub fraction_run: f64,
    pub spread: f64,
    pub samples_s: Vec<f64>,
    pub epochs: usize,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SavedSpeed {
    #[serde(default)]
    pub throughput: Option<SavedThroughput>,
    pub gflops: Option<f64>,
    pub fraction_of_peak: Option<f64>,
    #[serde(default)]
    pub speedup_vs_naive: Option<f64>,
    #[serde(default)]
    pub ratio_vs_reference: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SavedThroughput {
    pub value: f64,
    pub unit: String,
}

impl SavedSpeed {
    /// Work per second in the lab's unit (0 where not recorded).
    pub fn throughput_value(&self) -> f64 {
        self.throughput.as_ref().map_or(0.0, |t| t.value)
    }
}

fn whole() -> f64 {
    1.0
}

impl SavedRun {
    /// This run's document in the saved form.
    pub fn of(document: &Document) -> SavedRun {
        let value = serde_json::to_value(document).expect("a report serialises");
        serde_json::from_value(value).expect("a report reads back as a saved run")
    }

    /// Reads a run from JSON text (`what` names it in errors), refusing another layout.
    pub fn parse(text: &str, what: &str) -> anyhow::Result<SavedRun> {
        let value: serde_json::Value = serde_json::from_str(text).with_context(|| format!("{what} is not JSON"))?;
        let run = SavedRun::from_value(value, what)?;
        run.ensure_measurements(what)?;
        Ok(run)
    }

    /// Reads a run from a parsed JSON document, refusing another layout (a file read from disk goes
    /// through [`SavedRun::parse`], which also refuses figures no measurement gives).
    pub fn from_value(value: serde_json::Value, what: &str) -> anyhow::Result<SavedRun> {
        let schema = value.get("schema").and_then(serde_json::Value::as_u64);
        anyhow::ensure!(
            schema == Some(SCHEMA as u64),
            "{what} has report layout {} and this perflab reads layout {SCHEMA}: record it again",
            schema.map_or("(none)".to_string(), |s| s.to_string())
        );
        serde_json::from_value(value).with_context(|| format!("{what} does not have a report's fields"))
    }

    /// Refuses a run whose figures no measurement can give (a time of zero or below, a peak of
    /// zero, a NaN): the file was damaged or edited, and every ratio drawn from it would be too.
    pub fn ensure_measurements(&self, what: &str) -> anyhow::Result<()> {
        let damaged = |figure: String| anyhow::anyhow!("{what} is damaged: {figure}; record it again");
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.machine.core_peak_gflops) {
            return Err(damaged(format!("a core peak of {} GFLOP/s", self.machine.core_peak_gflops)));
        }
        if let Some(limits) = &self.machine.limits {
            ensure_limits(limits, what)?;
        }
        for record in &self.records {
            let case = format!("{} {} on {} thread(s)", record.lab, record.size, record.threads);
            if !positive(record.core_peak_gflops) {
                return Err(damaged(format!("{case}: a core peak of {} GFLOP/s", record.core_peak_gflops)));
            }
            for variant in &record.variants {
                let Some(timing) = &variant.timing else { continue };
                let bad =
                    std::iter::once(timing.median_s).chain(timing.samples_s.iter().copied()).find(|&t| !positive(t));
                if let Some(time) = bad {
                    return Err(damaged(format!("{case}, {}: a time of {time} s", variant.name)));
                }
            }
        }
        Ok(())
    }

    /// The machine's fingerprint, where the run read its limits.
    pub fn fingerprint(&self) -> Option<&str> {
        self.machine.limits.as_ref().map(|l| l.fingerprint.id.as_str())
    }

    /// The record of `lab` at `size` with `threads` threads.
    pub fn record(&self, lab: &str, size: &str, threads: usize) -> Option<&SavedRecord> {
        self.records.iter().find(|r| r.lab == lab && r.size == size && r.threads == threads)
    }
}

/// One report document from two (as JSON): the first's machine, both's records.
pub fn merge(into: Option<serde_json::Value>, next: serde_json::Value) -> serde_json::Value {
    let Some(mut into) = into else { return next };
    if let (Some(records), Some(more)) =
        (into.get_mut("records").and_then(|r| r.as_array_mut()), next.get("records").and_then(|r| r.as_array()))
    {
        records.extend(more.iter().cloned());
    }
    into
}

impl SavedRecord {
    pub fn variant(&self, name: &str) -> Option<&SavedVariant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// The lab's baseline variant, where it was timed: the anchor of a round-by-round correction.
    pub fn baseline(&self) -> Option<&SavedVariant> {
        self.variants.iter().find(|v| v.role == "baseline" && v.timing.is_some())
    }
}

/// Refuses limits no measurement can give (a peak or a bandwidth of zero or below, or NaN).
pub fn ensure_limits(limits: &Limits, what: &str) -> anyhow::Result<()> {
    let figures = [
        ("core peak", limits.core_peak_gflops),
        ("one-thread bandwidth", limits.bandwidth.one_thread_gbs),
        ("all-thread bandwidth", limits.bandwidth.all_threads_gbs),
    ];
    for (name, value) in figures {
        anyhow::ensure!(value.is_finite() && value > 0.0, "{what} is damaged: a {name} of {value}; record it again");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first run of a shipped reference file, as JSON.
    fn shipped_run() -> serde_json::Value {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../reference-timings");
        let path = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "json"));
        let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path.unwrap()).unwrap()).unwrap();
        file["runs"][0].clone()
    }

    #[test]
    fn a_file_with_a_time_or_peak_no_measurement_gives_is_refused_as_damaged() {
        let run = shipped_run();
        assert!(SavedRun::parse(&run.to_string(), "shipped").is_ok());
        type Damage = fn(&mut serde_json::Value);
        let damage: [(&str, Damage); 4] = [
            ("a time of 0 s", |run| run["records"][0]["variants"][0]["timing"]["median_s"] = 0.0.into()),
            ("a time of -1 s", |run| run["records"][0]["variants"][0]["timing"]["samples_s"][0] = (-1.0).into()),
            ("a core peak of 0 GFLOP/s", |run| run["machine"]["core_peak_gflops"] = 0.0.into()),
            ("a one-thread bandwidth of 0", |run| run["machine"]["limits"]["bandwidth"]["one_thread_gbs"] = 0.0.into()),
        ];
        for (figure, damage) in damage {
            let mut run = run.clone();
            damage(&mut run);
            let error = SavedRun::parse(&run.to_string(), "a test file").unwrap_err().to_string();
            assert!(error.contains("a test file is damaged") && error.contains(figure), "{figure}: {error}");
        }
    }
}

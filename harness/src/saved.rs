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
        SavedRun::from_value(value, what)
    }

    /// Reads a run from a parsed JSON document, refusing another layout.
    pub fn from_value(value: serde_json::Value, what: &str) -> anyhow::Result<SavedRun> {
        let schema = value.get("schema").and_then(serde_json::Value::as_u64);
        anyhow::ensure!(
            schema == Some(SCHEMA as u64),
            "{what} has report layout {} and this perflab reads layout {SCHEMA}: record it again",
            schema.map_or("(none)".to_string(), |s| s.to_string())
        );
        serde_json::from_value(value).with_context(|| format!("{what} does not have a report's fields"))
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

//! Reference timings: one file per machine the project was measured on,
//! `reference-timings/<fingerprint>.json`, written by `cargo lab record-reference`. A file is data:
//! the machine's fingerprint and limits, how and when it was recorded, and the runs (one report
//! document per thread count, in the report's layout). Its own layout is `REFERENCE_SCHEMA`,
//! documented in `reference-timings/README.md`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::limits::{Fingerprint, Limits};
use crate::saved::SavedRun;

/// The version of a reference file's layout (the runs inside carry the report's own `schema`).
pub const REFERENCE_SCHEMA: u32 = 1;
/// Where the files live, under the workspace.
pub const FOLDER: &str = "reference-timings";

/// How and when a file was recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recorded {
    /// RFC 3339, UTC.
    pub at: String,
    /// The command line that wrote it.
    pub command: String,
    pub perflab_version: String,
    /// `git rev-parse HEAD` of the checkout, where git could say.
    pub commit: Option<String>,
    /// `rustc --version`, where rustc could say.
    pub rustc: Option<String>,
    /// The thread counts of the runs, in order.
    pub threads: Vec<usize>,
    /// Sampling seconds per variant.
    pub seconds: f64,
    /// What else is worth knowing (nothing else running, the Python anchors found or not).
    pub note: String,
}

/// One reference file as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReferenceFile {
    pub reference_schema: u32,
    pub fingerprint: Fingerprint,
    pub limits: Limits,
    pub recorded: Recorded,
    /// Report documents (`report::Document`), one per thread count.
    pub runs: Vec<serde_json::Value>,
}

/// A reference file read back, with its runs in the saved form.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The file's name without `.json` (its fingerprint, as shipped).
    pub name: String,
    pub path: PathBuf,
    pub file: ReferenceFile,
    pub runs: Vec<SavedRun>,
}

impl Reference {
    pub fn read(path: &Path) -> anyhow::Result<Reference> {
        let what = format!("reference file {}", path.display());
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what}"))?;
        let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{what} is not JSON"))?;
        let schema = value.get("reference_schema").and_then(serde_json::Value::as_u64);
        match schema {
            None => anyhow::bail!(
                "{what} is not a reference file (it has no reference_schema): reference-timings/ holds only \
                 the files `cargo lab record-reference` writes"
            ),
            Some(schema) => anyhow::ensure!(
                schema == REFERENCE_SCHEMA as u64,
                "{what} has layout {schema}; this perflab reads reference layout {REFERENCE_SCHEMA}: record it again"
            ),
        }
        let file: ReferenceFile = serde_json::from_value(value).with_context(|| format!("{what} lacks fields"))?;
        let runs =
            file.runs.iter().map(|run| SavedRun::from_value(run.clone(), &what)).collect::<anyhow::Result<Vec<_>>>()?;
        runs.iter().try_for_each(|run| run.ensure_measurements(&what))?;
        crate::saved::ensure_limits(&file.limits, &what)?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
        Ok(Reference { name, path: path.to_path_buf(), file, runs })
    }

    /// The run to hold a run of `threads` threads against: the same count, else (several threads
    /// here) the reference's run on all its threads.
    pub fn run_for(&self, threads: usize) -> Option<&SavedRun> {
        let same = self.runs.iter().find(|r| r.machine.threads == threads);
        same.or_else(|| (threads > 1).then(|| self.runs.iter().max_by_key(|r| r.machine.threads)).flatten())
    }
}

/// Every reference file shipped in `workspace`, by name.
pub fn all(workspace: &Path) -> anyhow::Result<Vec<Reference>> {
    let dir = workspace.join(FOLDER);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("no reference timings: {} cannot be read", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Reference::read(p)).collect()
}

/// How near a reference machine is to this one, and why: the same fingerprint first, then the
/// same SIMD level and vendor, the same SIMD level, the same vendor; then the nearest core peak.
pub fn nearness(
    here: &Fingerprint,
    here_peak: Option<f64>,
    there: &Reference,
) -> ((bool, bool, bool, bool), f64, String) {
    let t = &there.file.fingerprint;
    let (same_simd, same_vendor) = (t.simd_level == here.simd_level, t.vendor == here.vendor);
    let same_generation = same_vendor && t.family == here.family && t.model == here.model;
    let key = (t.id == here.id, same_simd && same_generation, same_simd && same_vendor, same_simd);
    let peak_gap = here_peak.map_or(0.0, |peak| (there.file.limits.core_peak_gflops / peak).ln().abs());
    let why = if t.id == here.id {
        "the same machine fingerprint".to_string()
    } else {
        let mut said =
            vec![if same_vendor { format!("same vendor ({})", t.vendor) } else { format!("vendor {}", t.vendor) }];
        said.push(if same_simd {
            format!("same SIMD level ({})", t.simd_level)
        } else {
            format!("SIMD level {} (here {})", t.simd_level, here.simd_level)
        });
        if same_vendor && !same_generation {
            let known = |n: Option<u32>| n.map_or("unknown".to_string(), |n| n.to_string());
            said.push(format!("another generation (family {} model {})", known(t.family), known(t.model)));
        }
        let here_peak = here_peak.map_or("not measured yet".to_string(), |p| format!("{p:.0}"));
        said.push(format!("core peak {:.0} GFLOP/s (here {here_peak})", there.file.limits.core_peak_gflops));
        said.join(", ")
    };
    (key, peak_gap, why)
}

/// The reference named `name` (a file name without `.json`, or a path), or the nearest to this
/// machine, with the reason it was picked.
pub fn pick(
    workspace: &Path,
    name: Option<&str>,
    here: &Fingerprint,
    here_peak: Option<f64>,
) -> anyhow::Result<(Reference, String)> {
    if let Some(name) = name {
        // A path is read as given (a file that is not a reference is then refused for what it is).
        let path = if name.ends_with(".json") || Path::new(name).is_file() {
            PathBuf::from(name)
        } else {
            workspace.join(FOLDER).join(format!("{name}.json"))
        };
        if !path.is_file() {
            let known: Vec<String> = all(workspace).unwrap_or_default().into_iter().map(|r| r.name).collect();
            anyhow::bail!(
                "no reference '{name}'; shipped: {}",
                if known.is_empty() { "none".into() } else { known.join(", ") }
            );
        }
        return Ok((Reference::read(&path)?, "named on the command line".into()));
    }
    let references = all(workspace)?;
    anyhow::ensure!(
        !references.is_empty(),
        "no reference timings in {}: `cargo lab record-reference` writes one",
        FOLDER
    );
    let best = references
        .into_iter()
        .map(|r| {
            let (key, gap, why) = nearness(here, here_peak, &r);
            (key, gap, why, r)
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .expect("at least one reference");
    let why = if best.0.0 { best.2 } else { format!("no file for this machine ({}); nearest: {}", here.id, best.2) };
    Ok((best.3, why))
}

/// `git rev-parse HEAD` and `rustc --version`, where they answer.
pub fn versions(workspace: &Path) -> (Option<String>, Option<String>) {
    let run = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .current_dir(workspace)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    (run("git", &["rev-parse", "HEAD"]), run("rustc", &["--version"]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Bandwidth, LIMITS_SCHEMA};

    fn fingerprint(id: &str, vendor: &str, simd: &str, model: u32) -> Fingerprint {
        Fingerprint {
            id: id.into(),
            cpu: "test".into(),
            vendor: vendor.into(),
            family: Some(25),
            model: Some(model),
            simd_level: simd.into(),
            cores: 2,
        }
    }

    fn file(fingerprint: Fingerprint, peak: f64) -> ReferenceFile {
        let limits = Limits {
            schema: LIMITS_SCHEMA,
            fingerprint: fingerprint.clone(),
            core_peak_gflops: peak,
            peak_raised: None,
            bandwidth: Bandwidth { one_thread_gbs: 20.0, all_threads_gbs: 30.0, threads: 2, array_bytes: 1, passes: 1 },
            caches: Vec::new(),
            caches_unknown: Some("unknown: test".into()),
            measured_at: String::new(),
        };
        let recorded = Recorded {
            at: "2026-01-01T00:00:00Z".into(),
            command: "cargo lab record-reference".into(),
            perflab_version: "0".into(),
            commit: None,
            rustc: None,
            threads: vec![1, 2],
            seconds: 0.5,
            note: String::new(),
        };
        ReferenceFile { reference_schema: REFERENCE_SCHEMA, fingerprint, limits, recorded, runs: Vec::new() }
    }

    #[test]
    fn the_nearest_file_shares_vendor_and_simd_level_and_the_reason_is_said() {
        let workspace = tempfile::tempdir().unwrap();
        let dir = workspace.path().join(FOLDER);
        std::fs::create_dir_all(&dir).unwrap();
        let files = [
            file(fingerprint("intel-avx512", "intel", "avx512f", 207), 176.0),
            file(fingerprint("amd-zen3", "amd", "avx2+fma", 1), 100.0),
            file(fingerprint("amd-zen4", "amd", "avx512f", 17), 117.0),
        ];
        for f in &files {
            std::fs::write(dir.join(format!("{}.json", f.fingerprint.id)), serde_json::to_string(f).unwrap()).unwrap();
        }
        // A Zen 4 of another core count: no file of its own; the Zen 4 file is nearest.
        let here = fingerprint("amd-zen4-16c", "amd", "avx512f", 17);
        let (picked, why) = pick(workspace.path(), None, &here, Some(115.0)).unwrap();
        assert_eq!(picked.name, "amd-zen4");
        assert!(why.starts_with("no file for this machine (amd-zen4-16c); nearest:"), "{why}");
        assert!(why.contains("same vendor (amd)") && why.contains("same SIMD level (avx512f)"), "{why}");
        // An AVX2-only AMD: the Zen 3 file (same SIMD level and vendor) beats the Zen 4 one.
        let zen3 = fingerprint("amd-zen3-other", "amd", "avx2+fma", 1);
        assert_eq!(pick(workspace.path(), None, &zen3, None).unwrap().0.name, "amd-zen3");
        // The same fingerprint wins outright; a name picks that file; an unknown name lists them.
        assert_eq!(
            pick(workspace.path(), None, &files[0].fingerprint, None).unwrap().1,
            "the same machine fingerprint"
        );
        assert_eq!(pick(workspace.path(), Some("amd-zen3"), &here, None).unwrap().0.name, "amd-zen3");
        let unknown = pick(workspace.path(), Some("nope"), &here, None).unwrap_err().to_string();
        assert!(unknown.contains("amd-zen3, amd-zen4, intel-avx512"), "{unknown}");
        // A file named by its path, without `.json`, is read, and refused for what it is.
        let stray = workspace.path().join("notes.txt");
        std::fs::write(&stray, "root:x:0:0").unwrap();
        let error = pick(workspace.path(), Some(stray.to_str().unwrap()), &here, None).unwrap_err();
        let error = format!("{error:#}");
        assert!(error.contains("notes.txt") && !error.contains("no reference"), "{error}");
    }
}

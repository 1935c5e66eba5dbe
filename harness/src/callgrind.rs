//! `perflab callgrind`: the deterministic instruction-count benches (`benches/iai_<lab>.rs`, run
//! by gungraun under valgrind's callgrind), with their prerequisites checked first and, with
//! `--record`, new reference counts written for the regression check.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use perflab_labs::lab::{CallgrindCase, callgrind_cases};
use perflab_labs::simd::{self, SimdLevel};
use perflab_labs::{Lab, Role};
use serde_json::json;

use crate::paths;

/// Margin above the recorded counts that still passes, in percent: instruction counts of the
/// same binary are exact, so this only absorbs small code-generation shifts (a dependency
/// update), not noise.
pub const MARGIN_PERCENT: f64 = 2.0;

/// The workspace the current directory is in, where the benches and their counts live.
fn workspace() -> anyhow::Result<PathBuf> {
    paths::workspace().context(
        "run `cargo lab callgrind` inside the perflab checkout (no Cargo workspace found above the current directory)",
    )
}

/// `benches/iai_<lab>.reference.json` in `workspace`.
pub fn reference_path(workspace: &Path, lab: &str) -> PathBuf {
    workspace.join("benches").join(format!("iai_{lab}.reference.json"))
}

/// The SIMD level code runs at under valgrind: it cannot execute AVX-512 and hides it from CPUID.
pub fn level_under_valgrind() -> SimdLevel {
    simd::simd_level().min(SimdLevel::Avx2Fma)
}

/// The gungraun version the workspace's Cargo.lock pins (the runner must match it exactly).
pub fn locked_gungraun_version(workspace: &Path) -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"gungraun\""
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_string());
        }
    }
    bail!("gungraun is not in Cargo.lock")
}

/// Checks valgrind and the runner; the error is the one line that fixes it.
fn check_prerequisites(workspace: &Path) -> anyhow::Result<()> {
    let output = |program: &str| Command::new(program).arg("--version").output().ok().filter(|o| o.status.success());
    if output("valgrind").is_none() {
        bail!("valgrind is not installed: `apt-get install valgrind` (or your system's package)");
    }
    let wanted = locked_gungraun_version(workspace)?;
    let found = output("gungraun-runner").map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match found {
        Some(line) if line.split_whitespace().last() == Some(wanted.as_str()) => Ok(()),
        found => bail!(
            "gungraun-runner {wanted} is needed ({}): `cargo install gungraun-runner --version {wanted} --locked`",
            found.map_or("none found".to_string(), |f| format!("found {f}"))
        ),
    }
}

/// Runs the callgrind bench of `lab`, names each benchmark's count and holds the reference
/// solutions' against the recorded ones (exit code 3 on a regression); with `record`, writes the
/// counts instead.
pub fn run(lab: &'static dyn Lab, record: bool) -> anyhow::Result<ExitCode> {
    let workspace = workspace()?;
    check_prerequisites(&workspace)?;
    let cases = callgrind_cases(lab);
    let recorded = if record { None } else { Some(Recorded::read(&workspace, lab)?) };
    if let Some(recorded) = &recorded {
        recorded.ensure_every_reference_has_a_count(&cases)?;
    }
    let counts = run_bench(&workspace, lab, &cases)?;
    if record {
        write_reference(&workspace, lab, &cases, &counts)?;
        return Ok(ExitCode::SUCCESS);
    }
    let recorded = recorded.expect("read unless recording");
    let limits = recorded.limits_here(lab);
    print!("{}", render_counts(&cases, &counts, limits.as_ref()));
    let regressed: Vec<String> = cases
        .iter()
        .zip(&counts)
        .filter(|&(case, &count)| limits.as_ref().and_then(|l| l.limit(case)).is_some_and(|limit| count > limit))
        .map(|(case, _)| case.id())
        .collect();
    if regressed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "instruction counts of {} regressed by more than {}% against {}. If the change is intended, record \
         new counts: `cargo lab callgrind {} --record`",
        regressed.join(", "),
        recorded.margin,
        reference_path(&workspace, lab.name()).display(),
        lab.name()
    );
    Ok(ExitCode::from(3))
}

/// `cargo bench --bench iai_<lab>` with its summaries saved, and each case's instruction count
/// (callgrind's Ir), in the order of `cases`.
fn run_bench(workspace: &Path, lab: &dyn Lab, cases: &[CallgrindCase]) -> anyhow::Result<Vec<u64>> {
    let bench = format!("iai_{}", lab.name());
    // Summaries of benchmarks that no longer exist must not be read: start from nothing.
    let root = summary_root(workspace, &bench);
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
    }
    println!("{} benchmarks, numbered as gungraun prints them:", lab.name());
    for (i, case) in cases.iter().enumerate() {
        println!("  case_{i}: {} at {}", case.variant, case.size.size);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args(["bench", "-p", "perflab", "--bench", &bench, "--", "--save-summary=json"])
        .status()
        .context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench --bench {bench} failed ({status})");
    }
    let mut counts = vec![None; cases.len()];
    for summary in summaries(&root)? {
        let text = std::fs::read_to_string(&summary).with_context(|| format!("reading {}", summary.display()))?;
        let doc: serde_json::Value = serde_json::from_str(&text)?;
        let index = doc["id"].as_str().and_then(|id| id.strip_prefix("case_")).and_then(|i| i.parse::<usize>().ok());
        let ir = doc["profiles"][0]["data"]["total"]["metrics"]["Ir"]["values"]["new"].as_u64();
        if let (Some(slot), Some(ir)) = (index.and_then(|i| counts.get_mut(i)), ir) {
            *slot = Some(ir);
        }
    }
    cases
        .iter()
        .zip(counts)
        .map(|(case, count)| count.with_context(|| format!("no count for {} under {}", case.id(), root.display())))
        .collect()
}

/// A lab's committed counts (`benches/iai_<lab>.reference.json`).
struct Recorded {
    instructions: serde_json::Map<String, serde_json::Value>,
    rustc: String,
    simd_level: String,
    margin: f64,
}

/// The limits that apply here: the recorded counts plus the margin.
struct Limits<'r> {
    recorded: &'r Recorded,
}

impl Limits<'_> {
    /// A reference solution's limit (none for baselines, exercises and libraries).
    fn limit(&self, case: &CallgrindCase) -> Option<u64> {
        let count = self.recorded.count(case)?;
        Some((count as f64 * (1.0 + self.recorded.margin / 100.0)).round() as u64)
    }
}

impl Recorded {
    fn read(workspace: &Path, lab: &dyn Lab) -> anyhow::Result<Recorded> {
        let path = reference_path(workspace, lab.name());
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Recorded {
            instructions: doc["instructions"].as_object().cloned().unwrap_or_default(),
            rustc: doc["rustc"].as_str().unwrap_or_default().to_string(),
            simd_level: doc["simd_level"].as_str().unwrap_or_default().to_string(),
            margin: doc["margin_percent"].as_f64().unwrap_or(MARGIN_PERCENT),
        })
    }

    /// The recorded count of a reference solution's benchmark.
    fn count(&self, case: &CallgrindCase) -> Option<u64> {
        if case.role == Role::Reference { self.instructions.get(&case.id())?.as_u64() } else { None }
    }

    /// Fails unless every benchmark of a reference solution has a count: a reference rung
    /// without one would otherwise run with no regression limit at all.
    fn ensure_every_reference_has_a_count(&self, cases: &[CallgrindCase]) -> anyhow::Result<()> {
        let missing: Vec<String> = cases
            .iter()
            .filter(|case| case.role == Role::Reference)
            .filter(|case| self.count(case).is_none())
            .map(CallgrindCase::id)
            .collect();
        if let Some(lab) = cases.first().map(|case| case.lab.name())
            && !missing.is_empty()
        {
            bail!(
                "benches/iai_{lab}.reference.json has no instruction counts for the reference benchmark(s) {}: record \
                 them with `cargo lab callgrind {lab} --record`",
                missing.join(", ")
            );
        }
        Ok(())
    }

    /// The limits, when the counts were recorded with this compiler at this SIMD level (other
    /// code otherwise: the check is skipped, with a note).
    fn limits_here(&self, lab: &dyn Lab) -> Option<Limits<'_>> {
        let (rustc, level) = (rustc_version(), level_under_valgrind().as_str());
        if self.rustc == rustc && self.simd_level == level {
            return Some(Limits { recorded: self });
        }
        eprintln!(
            "note: reference counts were recorded with {} at {}; this is {rustc} at {level}: not checking them \
             (record your own: `cargo lab callgrind {} --record`)",
            self.rustc,
            self.simd_level,
            lab.name()
        );
        None
    }
}

/// One line per benchmark: its count, and a reference solution's recorded count and change.
fn render_counts(cases: &[CallgrindCase], counts: &[u64], limits: Option<&Limits>) -> String {
    let mut out = String::from("\nbenchmark                      instructions     recorded   change\n");
    for (case, &count) in cases.iter().zip(counts) {
        let recorded = limits.and_then(|l| l.recorded.count(case));
        let (was, change) = match recorded {
            Some(was) => (was.to_string(), format!("{:+.2}%", 100.0 * (count as f64 / was as f64 - 1.0))),
            None => ("-".into(), String::new()),
        };
        out += &format!("{:<28} {count:>14} {was:>12} {change:>8}\n", case.id());
    }
    out
}

/// The compiler's version line, as the counts record it.
fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(rustc).arg("--version").output();
    output.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
}

/// Writes the counts of the reference solutions' benchmarks.
fn write_reference(workspace: &Path, lab: &dyn Lab, cases: &[CallgrindCase], counts: &[u64]) -> anyhow::Result<()> {
    let mut instructions = serde_json::Map::new();
    for (case, &count) in cases.iter().zip(counts) {
        if case.role == Role::Reference {
            instructions.insert(case.id(), count.into());
        }
    }
    let document = json!({
        "about": "Instruction counts (callgrind Ir) of the reference solutions, checked by `cargo lab callgrind`; \
                  recorded with `cargo lab callgrind <lab> --record`. Applied only with the same rustc and SIMD level.",
        "rustc": rustc_version(),
        "simd_level": level_under_valgrind().as_str(),
        "margin_percent": MARGIN_PERCENT,
        "instructions": instructions,
    });
    let path = reference_path(workspace, lab.name());
    std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
    println!("recorded {} reference counts in {}", instructions.len(), path.display());
    Ok(())
}

/// Where gungraun writes the summaries of `bench`.
fn summary_root(workspace: &Path, bench: &str) -> PathBuf {
    paths::target_dir(workspace).join("gungraun/perflab").join(bench)
}

/// Every `summary.json` below `root`.
fn summaries(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "summary.json") {
                found.push(path);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runner_version_comes_from_the_lock_file() {
        let version = locked_gungraun_version(&paths::workspace().unwrap()).unwrap();
        assert!(version.split('.').all(|part| part.parse::<u32>().is_ok()), "{version}");
    }

    #[test]
    fn valgrind_never_sees_avx512() {
        assert!(level_under_valgrind() <= SimdLevel::Avx2Fma);
    }

    #[test]
    fn every_benchmark_of_a_reference_solution_has_a_recorded_count() {
        let workspace = paths::workspace().unwrap();
        for lab in perflab_labs::all() {
            let recorded = Recorded::read(&workspace, lab).unwrap();
            recorded.ensure_every_reference_has_a_count(&callgrind_cases(lab)).unwrap();
        }
    }

    #[test]
    fn every_variant_has_a_benchmark_and_ids_are_unique() {
        for lab in perflab_labs::all() {
            let cases = callgrind_cases(lab);
            for variant in lab.variants().iter().filter(|v| v.kernel.is_ok()) {
                assert!(cases.iter().any(|c| c.variant == variant.name), "{} {}", lab.name(), variant.name);
            }
            let mut ids: Vec<String> = cases.iter().map(CallgrindCase::id).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), cases.len(), "{}: two benchmarks share an id", lab.name());
        }
    }
}

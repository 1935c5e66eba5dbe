//! `perflab callgrind`: the deterministic instruction-count benches (`benches/iai_<lab>.rs`, run
//! by gungraun under valgrind's callgrind), with their prerequisites checked first and, with
//! `--record`, new reference counts written for the regression check.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
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

/// Runs the callgrind bench of `lab`; with `record`, writes new reference counts afterwards.
pub fn run(lab: &dyn Lab, record: bool) -> anyhow::Result<ExitCode> {
    let workspace = workspace()?;
    check_prerequisites(&workspace)?;
    if !record {
        check_every_reference_has_counts(&workspace, lab)?;
    }
    let bench = format!("iai_{}", lab.name());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(&workspace).args(["bench", "-p", "perflab", "--bench", &bench, "--"]);
    if record {
        // Summaries of renamed or removed benchmarks must not be recorded: start from nothing.
        let summaries = summary_root(&workspace, &bench);
        if summaries.exists() {
            std::fs::remove_dir_all(&summaries).with_context(|| format!("clearing {}", summaries.display()))?;
        }
        command.env("PERFLAB_IAI_RECORD", "1").arg("--save-summary=json");
    }
    let status = command.status().context("running cargo bench")?;
    match status.code() {
        Some(0) => {}
        Some(3) => {
            eprintln!(
                "instruction counts regressed by more than {MARGIN_PERCENT}% against {} (see above). \
                 If the change is intended, record new counts: `cargo lab callgrind {} --record`",
                reference_path(&workspace, lab.name()).display(),
                lab.name()
            );
            return Ok(ExitCode::from(3));
        }
        _ => bail!("cargo bench --bench {bench} failed ({status})"),
    }
    if record {
        let written = write_reference(&workspace, lab, &bench)?;
        println!("recorded {written} reference counts in {}", reference_path(&workspace, lab.name()).display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the instruction counts of the reference solutions from gungraun's summaries.
fn write_reference(workspace: &Path, lab: &dyn Lab, bench: &str) -> anyhow::Result<usize> {
    let references: Vec<String> =
        lab.variants().iter().filter(|v| v.role == Role::Reference).map(|v| v.name.replace('-', "_")).collect();
    let root = summary_root(workspace, bench);
    let mut counts = serde_json::Map::new();
    for summary in summaries(&root)? {
        let text = std::fs::read_to_string(&summary).with_context(|| format!("reading {}", summary.display()))?;
        let doc: serde_json::Value = serde_json::from_str(&text)?;
        let id = doc["id"].as_str().unwrap_or_default();
        let variant = id.rsplit_once('_').map_or(id, |(variant, _size)| variant);
        if references.iter().any(|r| r == variant)
            && let Some(ir) = doc["profiles"][0]["data"]["total"]["metrics"]["Ir"]["values"]["new"].as_u64()
            && counts.insert(id.to_string(), ir.into()).is_some()
        {
            bail!("two benchmarks are called {id} under {}", root.display());
        }
    }
    if counts.is_empty() {
        bail!("no summaries of reference solutions under {}", root.display());
    }
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).arg("--version").output()?;
    let document = json!({
        "about": "Instruction counts (callgrind Ir) of the reference solutions, checked by `cargo lab callgrind`; \
                  recorded with `cargo lab callgrind <lab> --record`. Applied only with the same rustc and SIMD level.",
        "rustc": String::from_utf8_lossy(&rustc.stdout).trim(),
        "simd_level": level_under_valgrind().as_str(),
        "margin_percent": MARGIN_PERCENT,
        "instructions": counts,
    });
    std::fs::write(reference_path(workspace, lab.name()), serde_json::to_string_pretty(&document)? + "\n")?;
    Ok(document["instructions"].as_object().map_or(0, |m| m.len()))
}

/// Where gungraun writes the summaries of `bench`.
fn summary_root(workspace: &Path, bench: &str) -> PathBuf {
    paths::target_dir(workspace).join("gungraun/perflab").join(bench)
}

/// Fails unless the committed counts name every reference solution of `lab` (at some size): a
/// reference rung without counts would otherwise run with no regression limit at all.
fn check_every_reference_has_counts(workspace: &Path, lab: &dyn Lab) -> anyhow::Result<()> {
    let path = reference_path(workspace, lab.name());
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let ids: Vec<&String> = doc["instructions"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
    let missing: Vec<&str> = lab
        .variants()
        .iter()
        .filter(|v| v.role == Role::Reference)
        .filter(|v| !ids.iter().any(|id| id.starts_with(&format!("{}_", v.name.replace('-', "_")))))
        .map(|v| v.name)
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} has no instruction counts for the reference solution(s) {}: add them to benches/iai_{}.rs and \
             record them with `cargo lab callgrind {} --record`",
            path.display(),
            missing.join(", "),
            lab.name(),
            lab.name()
        );
    }
    Ok(())
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
    fn every_lab_has_counts_for_every_reference_solution() {
        let workspace = paths::workspace().unwrap();
        for lab in perflab_labs::all() {
            check_every_reference_has_counts(&workspace, lab).unwrap();
        }
    }
}

//! `cargo lab profile <lab> <python variant>`: a Python rung or the learner's Python file under
//! py-spy (a sampling profiler that reads the interpreter's stacks from outside, without changing
//! the code): a flamegraph, and the time per line of the file, the "profile it" step of the
//! interview practised on the learner's own code.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use perflab_labs::{Case, Lab, OutOfProcess};

use crate::anchors::{self, Unavailable};
use crate::profile;

/// py-spy's samples per second: a few hundred keep its cost small and give thousands of samples.
const RATE: u32 = 250;

/// The runner py-spy starts: the anchors' driver classes, one file, calls until time is up.
const RUNNER: &str = r#"
import json, os, signal, sys
import numpy as np
sys.path.insert(0, os.path.dirname(__file__))
import anchor
spec = json.load(open(sys.argv[1]))
variant = anchor.FILES[spec["lab"]](spec["threads"], spec["file"])
variant.setup(np, {n: np.load(f"{spec['dir']}/{n}.npy") for n in spec["inputs"]}, spec["params"])
# Stop after the sampling time, even inside a call that would take hours (the slow loop on a
# large input): the handler runs between two Python bytecodes.
signal.signal(signal.SIGALRM, lambda *_: os._exit(0))
signal.setitimer(signal.ITIMER_REAL, spec["seconds"])
while True:
    variant.call()
"#;

/// Profiles the Python file `file` of `lab` on `case` for `seconds`; writes the flamegraph to `out`.
pub fn run(
    lab: &dyn Lab,
    file: &'static OutOfProcess,
    case: &dyn Case,
    threads: usize,
    seconds: f64,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let python = anchors::find_working_python(None).map_err(anyhow::Error::msg)?;
    let py_spy = python.with_file_name("py-spy");
    if !py_spy.exists() {
        bail!("py-spy is not installed beside {}; {}", python.display(), anchors::ENABLE);
    }
    let dir = tempfile::tempdir().context("a temporary folder")?;
    let python_file = file.file().expect("a Python file");
    let path = anchors::python_file(python_file, dir.path()).map_err(|Unavailable(why)| anyhow::anyhow!(why))?;
    let script = write_runner(lab, &path, case, threads, seconds, dir.path())?;
    let raw = dir.path().join("stacks.txt");
    let status = Command::new(&py_spy)
        .args(["record", "--format", "raw", "--rate", &RATE.to_string(), "--output"])
        .arg(&raw)
        .arg("--")
        .arg(&python)
        .arg(&script)
        .arg(dir.path().join("spec.json"))
        .env("OMP_NUM_THREADS", threads.to_string())
        .env("OPENBLAS_NUM_THREADS", threads.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("running {}", py_spy.display()))?;
    let stacks = std::fs::read_to_string(&raw).unwrap_or_default();
    if stacks.trim().is_empty() {
        bail!(
            "py-spy recorded nothing ({status}); on Linux it needs ptrace rights over its child, which containers sometimes withhold"
        );
    }
    write_flamegraph(&stacks, out, &format!("{} {} {}", lab.name(), file.name, case.label()))?;
    let name = path.file_name().expect("a name").to_string_lossy();
    println!("flamegraph: {} (Python frames, from py-spy)", out.display());
    print!("{}", per_line(&stacks, &name, &std::fs::read_to_string(&path).unwrap_or_default()));
    Ok(ExitCode::SUCCESS)
}

/// Writes the inputs (as the anchors do), the driver, the runner and its spec into `dir`, for the
/// Python file at `path`; returns the runner's path.
fn write_runner(
    lab: &dyn Lab,
    path: &Path,
    case: &dyn Case,
    threads: usize,
    seconds: f64,
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    let (mut spec, _) = anchors::write_inputs(case, dir).map_err(anyhow::Error::msg)?;
    spec["lab"] = lab.name().into();
    spec["file"] = path.to_string_lossy().into();
    spec["threads"] = threads.into();
    spec["seconds"] = seconds.into();
    std::fs::write(dir.join("spec.json"), spec.to_string())?;
    std::fs::write(dir.join("anchor.py"), anchors::SCRIPT)?;
    let runner = dir.join("profile_runner.py");
    std::fs::write(&runner, RUNNER)?;
    Ok(runner)
}

/// Renders py-spy's collapsed stacks (`frame;frame;... count`) as an SVG.
fn write_flamegraph(stacks: &str, out: &Path, title: &str) -> anyhow::Result<()> {
    profile::ensure_writable(out)?;
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    options.count_name = "samples".into();
    let writer = std::io::BufWriter::new(std::fs::File::create(out)?);
    inferno::flamegraph::from_lines(&mut options, stacks.lines(), writer).context("drawing the flamegraph")?;
    Ok(())
}

/// Samples per line of the file called `name` (each stack counted at its innermost frame in that
/// file, so a numpy call's time lands on the line that made it), the hottest first.
pub fn per_line(stacks: &str, name: &str, source: &str) -> String {
    let mut lines: std::collections::BTreeMap<usize, u64> = Default::default();
    let (mut total, mut in_file) = (0u64, 0u64);
    for stack in stacks.lines() {
        let Some((frames, count)) = stack.rsplit_once(' ') else { continue };
        let Ok(count) = count.parse::<u64>() else { continue };
        total += count;
        let line = frames.split(';').rev().find_map(|frame| {
            let location = frame.rsplit_once(" (")?.1.strip_suffix(')')?;
            let (file, line) = location.rsplit_once(':')?;
            (Path::new(file).file_name()?.to_string_lossy() == name).then(|| line.parse::<usize>().ok()).flatten()
        });
        if let Some(line) = line {
            *lines.entry(line).or_default() += count;
            in_file += count;
        }
    }
    let mut out = format!(
        "time by line of {name} ({total} samples, {in_file} in its lines; numpy's time is the line's that called it):\n"
    );
    let mut hottest: Vec<(usize, u64)> = lines.into_iter().collect();
    hottest.sort_by_key(|&(line, count)| (std::cmp::Reverse(count), line));
    let text: Vec<&str> = source.lines().collect();
    for (line, count) in hottest.into_iter().take(10) {
        let code = text.get(line.wrapping_sub(1)).map_or("", |l| l.trim());
        out += &format!("  {:5.1}%  line {line:>3}: {code}\n", 100.0 * count as f64 / total.max(1) as f64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_land_on_the_innermost_line_of_the_file() {
        let stacks = "<module> (runner.py:12);call (anchor.py:300);assign (loops.py:20) 30\n\
                      <module> (runner.py:12);call (anchor.py:300);assign (loops.py:21);zip (x.py:1) 70\n\
                      <module> (runner.py:9) 5\n";
        let source = format!("{}first\nsecond\n", "\n".repeat(19));
        let text = per_line(stacks, "loops.py", &source);
        assert!(text.contains("105 samples, 100 in its lines"), "{text}");
        let first = text.lines().nth(1).unwrap();
        assert!(first.contains("66.7%") && first.contains("line  21: second"), "{text}");
    }
}

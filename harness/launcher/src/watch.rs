//! `cargo lab watch <lab> <exercise> [check options]`: builds the harness and runs
//! `cargo lab check` with the same arguments, again each time a source file under `labs/` is saved
//! and whenever Enter is pressed (file events do not arrive on every file system: WSL2's Windows
//! drives and some network mounts stay silent).
//!
//! It lives in the launcher, not in the harness, because the harness is built from the learner's
//! code: while that does not compile, the compiler's errors are this round's result, and the watch
//! goes on waiting for the next save.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use anyhow::Context;
use notify::{RecursiveMode, Watcher};

/// Why the check runs again.
#[derive(Debug)]
enum Trigger {
    Saved,
    Enter,
    Quit,
}

/// What one round came to.
enum Round {
    /// The labs did not compile (cargo has printed the errors).
    DoesNotCompile,
    /// The harness ran the check: passed or not, the learner's code was judged.
    Checked,
    /// The harness refused the command line itself (an unknown exercise, a bad option): exit 2.
    Refused,
}

/// Saves often come as a burst of events (write, rename, metadata): wait this long for quiet.
const SETTLE: Duration = Duration::from_millis(300);

/// The exit code with which the harness refuses a command line (see its `main`).
const REFUSED: u8 = 2;

pub fn watch(check_args: &[OsString]) -> anyhow::Result<ExitCode> {
    let labs = workspace()?.join("labs");
    let (tx, rx) = mpsc::channel();
    // Set by a saved file that is built into the harness; a learner's Python file is read at
    // each run instead, so saving it re-runs the check without a build.
    let rebuild = Arc::new(AtomicBool::new(true));
    let watcher = watch_sources(&labs, tx.clone(), Arc::clone(&rebuild));
    announce(&labs, watcher.as_ref().err())?;
    read_keys(tx);
    let mut judged_before = false;
    let mut enter = false;
    loop {
        let build = rebuild.swap(false, Ordering::SeqCst) || enter;
        match round(check_args, build)? {
            // Saving cannot fix a wrong exercise name: stop, as `cargo lab check` would.
            Round::Refused if !judged_before => return Ok(ExitCode::from(REFUSED)),
            Round::Refused | Round::Checked => judged_before = true,
            Round::DoesNotCompile => {}
        }
        match next_trigger(&rx) {
            None | Some(Trigger::Quit) => break,
            Some(trigger) => enter = matches!(trigger, Trigger::Enter),
        }
    }
    drop(watcher);
    Ok(ExitCode::SUCCESS)
}

/// The workspace around the current folder: the nearest ancestor whose `Cargo.toml` declares
/// `[workspace]`.
fn workspace() -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir().context("reading the current folder")?;
    let is_root = |dir: &Path| std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"));
    let root = here.ancestors().find(|dir| is_root(dir));
    root.map(Path::to_path_buf)
        .context("cargo lab watch runs inside the perflab workspace (no Cargo.toml with [workspace] above here)")
}

/// Says what is watched and how to stop, or fails when nothing could ever start a round.
fn announce(labs: &Path, events_failed: Option<&anyhow::Error>) -> anyhow::Result<()> {
    const STOP: &str = "type q and Enter (or Ctrl-C) to stop";
    let keys = std::io::stdin().is_terminal();
    match events_failed {
        None => {
            println!(
                "watching {}: saving a .rs, .toml or .py file re-runs the check, so does Enter; {STOP}",
                labs.display()
            )
        }
        Some(error) if keys => {
            println!("file events are not available here ({error:#}): press Enter to re-run the check; {STOP}")
        }
        Some(error) => {
            anyhow::bail!("file events are not available here ({error:#}), and no terminal to press Enter in")
        }
    }
    Ok(())
}

/// Builds the harness (when `build`), then checks. The compiler's errors and the check's report go
/// straight to the terminal; this only adds what to do next.
fn round(check_args: &[OsString], build: bool) -> anyhow::Result<Round> {
    let shown: Vec<_> = check_args.iter().map(|a| a.to_string_lossy()).collect();
    println!("\n─── cargo lab check {} ───", shown.join(" "));
    if build && !crate::build_harness()?.success() {
        println!("(it does not compile: the compiler's errors are above; fix them and save again)");
        return Ok(Round::DoesNotCompile);
    }
    let args: Vec<OsString> = std::iter::once("check".into()).chain(check_args.iter().cloned()).collect();
    let status = crate::harness_command(&args)?.status().context("running the perflab harness")?;
    match status.code() {
        Some(0) => Ok(Round::Checked),
        Some(code) if code == i32::from(REFUSED) => Ok(Round::Refused),
        _ => {
            println!("(the check did not pass: fix it and save again)");
            Ok(Round::Checked)
        }
    }
}

/// Watches `labs/` recursively and reports saved Rust sources and manifests (an exercise uses
/// the lab's other files, and a save of any of them changes what is built). Editors often save by
/// writing a new file and renaming it over the old one: creations count as saves.
fn watch_sources(
    labs: &Path,
    tx: Sender<Trigger>,
    rebuild: Arc<AtomicBool>,
) -> anyhow::Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let changed = event.kind.is_modify() || event.kind.is_create() || event.kind.is_remove();
        if changed && event.paths.iter().any(|p| is_source(p)) {
            if event.paths.iter().any(|p| is_source(p) && is_built(p)) {
                rebuild.store(true, Ordering::SeqCst);
            }
            let _ = tx.send(Trigger::Saved);
        }
    })?;
    watcher.watch(labs, RecursiveMode::Recursive).with_context(|| format!("watching {}", labs.display()))?;
    Ok(watcher)
}

/// A file whose change changes what a check runs (an editor's swap or backup file does not).
fn is_source(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "rs" || ext == "toml" || ext == "py")
}

/// Whether a source is built into the harness: all but a learner's Python file under
/// `exercises/`, which the harness reads at each run (the Python rungs are embedded).
fn is_built(path: &Path) -> bool {
    let learners_python = path.extension().is_some_and(|ext| ext == "py")
        && path.parent().and_then(Path::file_name).is_some_and(|dir| dir == "exercises");
    !learners_python
}

/// Enter (an empty line, or any line) re-runs the check; `q` stops. Standard input closing
/// (not a terminal) leaves the file events alone in charge.
fn read_keys(tx: Sender<Trigger>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let trigger = if matches!(line.trim(), "q" | "quit") { Trigger::Quit } else { Trigger::Enter };
            if tx.send(trigger).is_err() {
                break;
            }
        }
    });
}

/// The next reason to run, with a burst of save events folded into one. None: nothing can send.
fn next_trigger(rx: &Receiver<Trigger>) -> Option<Trigger> {
    let trigger = rx.recv().ok()?;
    if matches!(trigger, Trigger::Saved) {
        while let Ok(more) = rx.recv_timeout(SETTLE) {
            if matches!(more, Trigger::Quit) {
                return Some(Trigger::Quit);
            }
        }
    }
    Some(trigger)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_save_events_runs_the_check_once_and_q_stops() {
        let (tx, rx) = mpsc::channel();
        for _ in 0..5 {
            tx.send(Trigger::Saved).unwrap();
        }
        tx.send(Trigger::Enter).unwrap();
        assert!(matches!(next_trigger(&rx), Some(Trigger::Saved)));
        assert!(rx.try_recv().is_err(), "the whole burst (and what came within the settling time) is folded in");
        tx.send(Trigger::Saved).unwrap();
        tx.send(Trigger::Quit).unwrap();
        assert!(matches!(next_trigger(&rx), Some(Trigger::Quit)), "q during a burst still stops");
        drop(tx);
        assert!(next_trigger(&rx).is_none());
    }

    #[test]
    fn sources_are_rust_and_python_files_and_manifests_not_editor_files() {
        assert!(is_source(Path::new("labs/knn/exercises/simd.rs")));
        assert!(is_source(Path::new("labs/kmeans/exercises/numpy.py")));
        assert!(!is_built(Path::new("labs/kmeans/exercises/numpy.py")), "read at each run: no build");
        assert!(is_built(Path::new("labs/kmeans/python/chunked.py")), "embedded in the harness");
        assert!(is_built(Path::new("labs/kmeans/exercises/simd.rs")));
        assert!(is_source(Path::new("labs/knn/exercises/exercises.toml")));
        for other in
            ["labs/knn/exercises/.simd.rs.swp", "labs/knn/exercises/simd.rs~", "labs/knn/README.md", "labs/knn/4913"]
        {
            assert!(!is_source(Path::new(other)), "{other}");
        }
    }
}

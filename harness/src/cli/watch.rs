//! `cargo lab watch <lab> <exercise>`: re-run `cargo lab check` each time the exercise's file is
//! saved, and whenever Enter is pressed (file events do not arrive on every file system: WSL2's
//! Windows drives and some network mounts stay silent).
//!
//! The check runs through cargo (`cargo run --release ... check`), not in this process: the
//! learner's code is compiled into the binary, so every save needs a rebuild first.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use anyhow::Context;
use notify::{RecursiveMode, Watcher};

use super::CheckArgs;
use crate::exercises::{self, Exercise};

/// Why the check runs again.
enum Trigger {
    Saved,
    Enter,
    Quit,
}

/// Saves often come as a burst of events (write, rename, metadata): wait this long for quiet.
const SETTLE: Duration = Duration::from_millis(300);

pub fn watch(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let (workspace, all) = exercises::load_all()?;
    let exercise = exercises::select_one(&all, &args.exercise)?;
    let (tx, rx) = mpsc::channel();
    let watcher = watch_file(&workspace.join(&exercise.file), tx.clone());
    let keys = std::io::stdin().is_terminal();
    let stop = if keys { "q and Enter stops" } else { "Ctrl-C stops" };
    match &watcher {
        Ok(_) if keys => {
            println!("watching {}: saving it re-runs the check, so does Enter; {stop}", exercise.file.display())
        }
        Ok(_) => println!("watching {}: saving it re-runs the check; {stop}", exercise.file.display()),
        Err(error) if keys => {
            println!("file events are not available here ({error:#}): press Enter to re-run the check; {stop}")
        }
        Err(error) => {
            anyhow::bail!("file events are not available here ({error:#}), and no terminal to press Enter in")
        }
    }
    read_keys(tx);
    let check = check_command(&workspace, &exercise, args);
    run_check(&exercise, check())?;
    while let Some(trigger) = next_trigger(&rx) {
        match trigger {
            Trigger::Quit => break,
            Trigger::Saved | Trigger::Enter => run_check(&exercise, check())?,
        }
    }
    drop(watcher);
    Ok(ExitCode::SUCCESS)
}

/// Watches the file's folder (editors often save by writing a new file and renaming it over the
/// old one, which a watch on the file itself would lose) and reports changes to the file.
fn watch_file(file: &Path, tx: Sender<Trigger>) -> anyhow::Result<notify::RecommendedWatcher> {
    let name = file.file_name().context("an exercise file")?.to_owned();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let ours = event.paths.iter().any(|p| p.file_name() == Some(&name));
        if ours && (event.kind.is_modify() || event.kind.is_create()) {
            let _ = tx.send(Trigger::Saved);
        }
    })?;
    let dir = file.parent().context("the exercise's folder")?;
    watcher.watch(dir, RecursiveMode::NonRecursive).with_context(|| format!("watching {}", dir.display()))?;
    Ok(watcher)
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

/// The command that rebuilds and checks, as `cargo lab check <lab> <exercise> [options]` does
/// (with this binary's features, so `cargo lab-openblas watch` keeps OpenBLAS).
fn check_command<'a>(workspace: &'a Path, exercise: &'a Exercise, args: &'a CheckArgs) -> impl Fn() -> Command + 'a {
    move || {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command.current_dir(workspace).args(["run", "--release", "-p", "perflab-harness", "--bin", "perflab"]);
        if cfg!(feature = "openblas") {
            command.args(["--features", "openblas"]);
        }
        command.args(["--", "check", exercise.lab.name(), exercise.name]);
        command.args(["--seed", &args.seed.to_string(), "--seconds", &args.seconds.to_string()]);
        command.args(["--deadline", &args.deadline.to_string()]);
        if args.no_time {
            command.arg("--no-time");
        }
        if let Some(size) = &args.size {
            command.args(["--size", size]);
        }
        if let Some(threads) = args.threads {
            command.args(["--threads", &threads.to_string()]);
        }
        command
    }
}

/// Runs one check and says what to do next when it did not pass.
fn run_check(exercise: &Exercise, mut command: Command) -> anyhow::Result<()> {
    println!("\n─── cargo lab check {} ───", exercise.id());
    let status = command.status().context("running cargo")?;
    if !status.success() {
        println!("(the check did not pass: fix it and save again)");
    }
    Ok(())
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
}

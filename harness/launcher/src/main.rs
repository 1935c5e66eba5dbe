//! `cargo lab`: builds the `perflab` harness, then runs it with the same arguments.
//!
//! The harness has every lab compiled in, the learner's exercises included, so it cannot start
//! while an exercise does not compile. This launcher depends on none of that: it asks cargo to
//! build the harness (the compiler's errors, if any, go straight to the terminal), then replaces
//! itself with it. `cargo lab watch` stays here, so that it starts, shows the errors and waits for
//! the next save whatever state the exercise is in.

mod watch;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::Context;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let outcome = match args.split_first() {
        Some((command, rest)) if command == "watch" && !asks_for_help(rest) => watch::watch(rest),
        _ => build_and_run(&args),
    };
    outcome.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::from(2)
    })
}

/// `cargo lab watch --help` is the harness's to answer (its help describes every command).
fn asks_for_help(args: &[OsString]) -> bool {
    args.iter().any(|a| a == "-h" || a == "--help")
}

/// Commands that never run the labs' code. While an exercise does not compile, the harness built
/// last can still answer them: `reset` is how a learner gets back to a file that compiles.
const WITHOUT_THE_LABS: [&str; 3] = ["reset", "hint", "list"];

/// Builds the harness and runs it with `args`; its exit code is ours. A build that fails exits
/// with cargo's code (the compiler has already said why), except for a command that does not need
/// the labs, which the last harness built answers.
fn build_and_run(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let built = build_harness()?;
    if built.success() {
        return run_harness(harness_command(args)?);
    }
    let failed = ExitCode::from(built.code().unwrap_or(101).clamp(1, 255) as u8);
    let Some(command) = args.first().and_then(|c| c.to_str()).filter(|c| WITHOUT_THE_LABS.contains(c)) else {
        return Ok(failed);
    };
    if harness_path()?.exists() {
        eprintln!(
            "note: the labs do not compile (the compiler's errors are above); `{command}` does not run them, \
             so the perflab built last answers it"
        );
        return run_harness(harness_command(args)?);
    }
    eprintln!(
        "note: the labs do not compile and no perflab has been built yet to answer `{command}`; the shipped \
         scaffold of each exercise is labs/<lab>/exercises/shipped/<file>.txt: copy it over your file"
    );
    Ok(failed)
}

/// `cargo build --release -p perflab-harness` (with OpenBLAS when this launcher was built with
/// it), from the current folder. Not quiet: the first build takes minutes and its progress shows.
fn build_harness() -> anyhow::Result<std::process::ExitStatus> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--release", "-p", "perflab-harness", "--bin", "perflab"]);
    if cfg!(feature = "openblas") {
        build.args(["--features", "perflab-harness/openblas"]);
    }
    build.status().context("running cargo to build the harness")
}

/// The harness with `args`. It is built next to this launcher: the same profile and target folder.
fn harness_command(args: &[OsString]) -> anyhow::Result<Command> {
    let mut command = Command::new(harness_path()?);
    command.args(args);
    Ok(command)
}

fn harness_path() -> anyhow::Result<PathBuf> {
    let launcher = std::env::current_exe().context("finding the launcher's own folder")?;
    Ok(launcher.with_file_name(format!("perflab{}", std::env::consts::EXE_SUFFIX)))
}

/// Replaces this process with the harness (signals, exit code and terminal go to it directly).
#[cfg(unix)]
fn run_harness(mut command: Command) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    Err(err).context("starting the perflab harness")
}

#[cfg(not(unix))]
fn run_harness(mut command: Command) -> anyhow::Result<ExitCode> {
    let status = command.status().context("starting the perflab harness")?;
    Ok(ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8))
}

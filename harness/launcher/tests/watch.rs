//! The launcher against a stand-in for cargo whose builds always fail, as they do while a
//! learner's exercise does not compile: `watch` must start, show the compiler's errors, and build
//! again on the next save of a source file (and only then).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const COMPILER_ERROR: &str = "error[E0425]: cannot find value `oops` in this scope";

/// A workspace with a `labs/` folder, and a `cargo` that logs each call and fails every build.
fn failing_workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    std::fs::create_dir_all(dir.path().join("labs/matmul/exercises")).unwrap();
    std::fs::write(dir.path().join("labs/matmul/exercises/simd.rs"), "fn main() { oops }\n").unwrap();
    let cargo = dir.path().join("fake-cargo");
    let log = dir.path().join("calls");
    let script = format!("#!/bin/sh\necho \"$@\" >> '{}'\necho '{COMPILER_ERROR}' >&2\nexit 101\n", log.display());
    std::fs::write(&cargo, script).unwrap();
    make_executable(&cargo);
    (dir, cargo)
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn launcher(workspace: &Path, cargo: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_perflab-launcher"));
    command.current_dir(workspace).env("CARGO", cargo);
    command
}

fn builds(workspace: &Path) -> usize {
    std::fs::read_to_string(workspace.join("calls"))
        .map_or(0, |log| log.lines().filter(|l| l.starts_with("build")).count())
}

/// Waits until `done` holds, or kills the launcher and fails after 30 s (never hangs the suite).
fn wait_for(child: &mut Child, what: &str, mut done: impl FnMut(&mut Child) -> bool) {
    let start = Instant::now();
    while !done(child) {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the launcher did not {what} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn watch_starts_while_the_labs_do_not_compile_and_builds_again_on_the_next_save() {
    let (dir, cargo) = failing_workspace();
    let workspace = dir.path();
    let mut child = launcher(workspace, &cargo)
        .args(["watch", "matmul", "your-simd"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&mut child, "build on start", |_| builds(workspace) == 1);

    std::fs::write(workspace.join("labs/matmul/notes.md"), "not a source file\n").unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(builds(workspace), 1, "a file that is not Rust or a manifest does not start a build");

    std::fs::write(workspace.join("labs/matmul/exercises/simd.rs"), "fn main() { still_oops }\n").unwrap();
    wait_for(&mut child, "build again after a save", |_| builds(workspace) == 2);

    child.stdin.take().unwrap().write_all(b"q\n").unwrap();
    wait_for(&mut child, "stop on q", |child| child.try_wait().unwrap().is_some());
    let status = child.wait().unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "q ends the watch normally: {status}\n{out}\n{err}");
    assert_eq!(out.matches("it does not compile").count(), 2, "{out}");
    assert_eq!(err.matches(COMPILER_ERROR).count(), 2, "the compiler's errors are shown each time: {err}");
    assert!(out.contains("q and Enter"), "it says how to stop: {out}");
}

#[test]
fn a_build_that_fails_ends_a_plain_command_with_cargos_code() {
    let (dir, cargo) = failing_workspace();
    let output = launcher(dir.path(), &cargo).args(["bench", "matmul"]).output().unwrap();
    assert_eq!(output.status.code(), Some(101));
    assert!(String::from_utf8_lossy(&output.stderr).contains(COMPILER_ERROR));
    assert_eq!(builds(dir.path()), 1);
}

#[test]
fn reset_is_answered_by_the_last_built_harness_while_the_labs_do_not_compile() {
    let (dir, cargo) = failing_workspace();
    let output = launcher(dir.path(), &cargo).args(["reset", "matmul", "your-simd"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(COMPILER_ERROR), "{stderr}");
    let harness = Path::new(env!("CARGO_BIN_EXE_perflab-launcher")).with_file_name("perflab");
    if harness.exists() {
        // The harness ran (in a workspace of its own it has its own answer), not cargo's 101.
        assert!(stderr.contains("so the perflab built last answers it"), "{stderr}");
        assert_ne!(output.status.code(), Some(101), "{stderr}");
    } else {
        assert!(stderr.contains("labs/<lab>/exercises/shipped/"), "{stderr}");
        assert_eq!(output.status.code(), Some(101));
    }
    assert_eq!(builds(dir.path()), 1);
}

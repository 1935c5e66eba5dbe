//! Running a learner's code where its failure cannot take the harness with it.
//!
//! `cargo lab check` and `cargo lab status` run in a child process (the same binary, started
//! again) watched by its parent. The child reports each step it starts (which exercise, SIMD
//! level, threads and size) with the time that step may take, by appending a line to a file the
//! parent named (the *beacon*). The parent polls: a step that overruns its deadline (a kernel
//! that loops forever) is stopped and named; a child killed by a signal (a kernel that wrote out
//! of bounds) is reported with the signal and the step it was in.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// The environment variable that names the beacon file (set by the parent for the child).
pub const BEACON_VAR: &str = "PERFLAB_BEACON";
/// The environment variable for the deadline of one correctness step, in seconds.
pub const DEADLINE_VAR: &str = "PERFLAB_STEP_DEADLINE";
/// The default deadline of one correctness step: a naive kernel on the checker's largest size
/// takes well under a second, so a minute means "it will never finish", even on a busy machine.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// How often the parent looks at the child.
const POLL: Duration = Duration::from_millis(50);

/// Whether this process is a watched child (so it must not start a child of its own).
pub fn is_watched() -> bool {
    std::env::var_os(BEACON_VAR).is_some()
}

/// The deadline of one correctness step, as the parent set it (or the default).
pub fn step_deadline() -> Duration {
    std::env::var(DEADLINE_VAR)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_DEADLINE, Duration::from_secs_f64)
}

/// Child side: a step starts, which must end within `allowed`. Nothing happens outside a
/// watched child. A line per step: `<seconds allowed>\t<what>`.
pub fn step(what: &str, allowed: Duration) {
    let Some(path) = std::env::var_os(BEACON_VAR) else { return };
    let line = format!("{:.3}\t{}\n", allowed.as_secs_f64(), what.replace('\n', " "));
    // Best effort: a beacon that cannot be written only costs the parent its description.
    if let Ok(mut file) = std::fs::OpenOptions::new().append(true).create(true).open(path) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// What stopped a watched child before it could finish on its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Stopped {
    /// A step ran past its deadline; the child was killed.
    Deadline { step: String, allowed: Duration },
    /// The child was killed by a signal (a crash: out-of-bounds write, abort, ...).
    Signal { signal: i32, step: Option<String> },
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stopped::Deadline { step, allowed } => write!(
                f,
                "{step}: did not finish within {:.0} s, so it was stopped. A loop that never ends? \
                 (the deadline of one step is --deadline)",
                allowed.as_secs_f64()
            ),
            Stopped::Signal { signal, step } => {
                let during = step.as_deref().map_or_else(|| "before its first step".to_string(), |s| format!("in {s}"));
                write!(
                    f,
                    "the check crashed {during}: signal {signal} ({}). A write past the end of a buffer, \
                     an index out of bounds in unsafe code, or a stack overflow? The harness itself is fine: \
                     fix the kernel and check again",
                    signal_name(*signal)
                )
            }
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        4 => "SIGILL, an instruction this CPU lacks",
        6 => "SIGABRT, aborted: the allocator found its memory corrupted, or a stack overflow",
        7 => "SIGBUS, a bad memory access",
        8 => "SIGFPE, an arithmetic fault",
        9 => "SIGKILL, killed: out of memory?",
        11 => "SIGSEGV, a bad memory access",
        _ => "a signal",
    }
}

/// Parent side: runs `command` with a beacon and `deadline` for each correctness step, and waits.
/// Ok: the child's own exit status; Err: what stopped it.
pub fn watch(mut command: Command, deadline: Duration) -> std::io::Result<Result<ExitStatus, Stopped>> {
    let beacon = Beacon::new()?;
    command.env(BEACON_VAR, &beacon.path).env(DEADLINE_VAR, format!("{}", deadline.as_secs_f64()));
    let mut child = command.spawn()?;
    let mut current: Option<(String, Duration, Instant)> = None;
    loop {
        if let Some(status) = child.try_wait()? {
            let last = beacon.last_step().map(|(what, _)| what);
            return Ok(match signal_of(&status) {
                Some(signal) => Err(Stopped::Signal { signal, step: last }),
                None => Ok(status),
            });
        }
        if beacon.grew()
            && let Some((what, allowed)) = beacon.last_step()
        {
            current = Some((what, allowed, Instant::now()));
        }
        if let Some((what, allowed, since)) = &current
            && since.elapsed() > *allowed
        {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Err(Stopped::Deadline { step: what.clone(), allowed: *allowed }));
        }
        std::thread::sleep(POLL);
    }
}

/// The beacon file: a temporary file the child appends step lines to.
struct Beacon {
    path: PathBuf,
    _dir: tempfile::TempDir,
    seen: std::cell::Cell<u64>,
}

impl Beacon {
    fn new() -> std::io::Result<Beacon> {
        let dir = tempfile::Builder::new().prefix("perflab-beacon").tempdir()?;
        Ok(Beacon { path: dir.path().join("steps"), _dir: dir, seen: std::cell::Cell::new(0) })
    }

    /// Whether a line was added since the last call (a new step, even one described as before).
    fn grew(&self) -> bool {
        let len = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        len != self.seen.replace(len)
    }

    /// The step the child started last, and its deadline.
    fn last_step(&self) -> Option<(String, Duration)> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let line = text.lines().last()?;
        let (seconds, what) = line.split_once('\t')?;
        Some((what.to_string(), Duration::from_secs_f64(seconds.parse().ok()?)))
    }
}

#[cfg(unix)]
fn signal_of(status: &ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_: &ExitStatus) -> Option<i32> {
    None
}

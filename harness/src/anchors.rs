//! Python anchors: the libraries a learner would otherwise reach for (numpy, scikit-learn, faiss),
//! timed in the same interleaved rounds as perflab's own variants.
//!
//! Each anchor is its own Python process (`harness/python/anchor.py`, embedded in this binary),
//! driven over a line protocol: the inputs are written once as `.npy` files and loaded by `setup`
//! (not timed), `validate` runs once and writes the output back for the lab's oracle, `sample N`
//! runs N calls and replies with the seconds Python measured around the calls alone (so the
//! process round-trip never counts). Every reply has a deadline: a crashed, hung or garbled
//! anchor fails like a wrong variant, with a clear line, never a hung harness.
//!
//! Python is optional: without one (or without the packages) the anchors are listed as
//! unavailable with the one command that enables them.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ndarray::{Array2, ArrayView2};
use perflab_labs::{Case, OutOfProcess, Output, PythonFile, Runner};

use crate::measure::{External, Rejection, Stats};
use crate::paths;

/// The anchor process's source, embedded so that the binary works from any directory.
pub const SCRIPT: &str = include_str!("../python/anchor.py");

/// The one command that enables the anchors, run at the workspace root.
pub const ENABLE: &str = "python3 -m venv .venv && .venv/bin/pip install -r harness/python/requirements.txt";

/// How long Python may take to import its libraries and say it is ready (faiss and scikit-learn
/// take seconds on a cold disk).
const STARTUP: Duration = Duration::from_secs(120);
/// How long loading the inputs, or one validating call, may take.
const SETUP: Duration = Duration::from_secs(300);

/// The Python that runs the anchors: `--python`, else `PERFLAB_PYTHON`, else `.venv/bin/python` at
/// the workspace root. Err: why there is none, and how to get one.
pub fn find_python(explicit: Option<&Path>) -> Result<PathBuf, String> {
    let candidate = explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("PERFLAB_PYTHON").filter(|p| !p.is_empty()).map(PathBuf::from))
        .or_else(|| paths::workspace().map(|w| w.join(".venv/bin/python")).filter(|p| p.exists()));
    match candidate {
        Some(python) if python.exists() => Ok(python),
        Some(python) => Err(format!("{} does not exist; to enable the Python anchors: {ENABLE}", python.display())),
        None => Err(format!(
            "no Python found (looked for $PERFLAB_PYTHON and .venv/bin/python at the workspace root; quick, bench \
             and sweep also take --python PATH); to enable: {ENABLE}"
        )),
    }
}

/// How long a Python may take to import numpy and say so, in [`find_working_python`].
const PROBE: Duration = Duration::from_secs(30);

/// [`find_python`], and that it is a Python that imports numpy: one short run of it, so that a
/// wrong path (`/bin/true`), an interpreter without the packages or one that hangs is said once,
/// before any exercise or anchor is blamed for it.
pub fn find_working_python(explicit: Option<&Path>) -> Result<PathBuf, String> {
    probe_python(explicit, PROBE)
}

/// [`find_working_python`] with the time the program has to answer.
fn probe_python(explicit: Option<&Path>, within: Duration) -> Result<PathBuf, String> {
    let python = find_python(explicit)?;
    let mut child = Command::new(&python)
        .args(["-c", "import numpy, sys; print('perflab-python', sys.version_info[0], numpy.__version__)"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}; to enable the Python anchors: {ENABLE}", python.display()))?;
    // The same readers as an anchor's: both pipes drained as the program writes, so one that
    // writes a lot never blocks on a full pipe and passes for a hang.
    let lines = lines_of(child.stdout.take().expect("piped"));
    let (stderr_tail, stderr_reader) = tail_of(child.stderr.take().expect("piped"));
    let deadline = std::time::Instant::now() + within;
    let (mut said, mut answered) = (None, false);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            // Lines that keep coming do not hold the probe past its deadline.
            Ok(_) | Err(RecvTimeoutError::Timeout) if left.is_zero() => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} did not import numpy within {within:?}: is it a Python?", python.display()));
            }
            Ok(line) if line.starts_with("perflab-python 3 ") => answered = true,
            Ok(line) => said = Some(line),
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    // Its output ended: the right line and a clean exit make it the Python.
    let status = exit_status_soon(&mut child);
    if answered && status.as_ref().is_ok_and(|s| s.success()) {
        return Ok(python);
    }
    let status = status.map_or_else(str::to_string, |s| s.to_string());
    let err = drained_tail(&stderr_tail, &stderr_reader);
    let said = err.lines().last().map(str::to_string).or(said).unwrap_or_else(|| "nothing".into());
    // One line of a program's own words, not kilobytes of them.
    let said = match said.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &said[..cut]),
        None => said,
    };
    Err(format!(
        "{} is not a Python 3 with numpy (it exited with {status} and said: {said}); to enable: {ENABLE}",
        python.display()
    ))
}

/// One running anchor process.
pub struct Anchor {
    name: &'static str,
    /// A lab's Python file (which takes any number of rows), not a library anchor (whose buffers
    /// are sized for the whole input).
    is_file: bool,
    /// How long one validating call may take (a learner's loop that never ends is stopped).
    call_deadline: Duration,
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    /// Library versions, BLAS, threads: what the anchor said when it was ready.
    pub info: serde_json::Value,
    /// Inputs, output and the script live here; removed when the anchor is dropped.
    dir: tempfile::TempDir,
    /// The last few KiB Python wrote to stderr (a traceback), for the error of a crash.
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    /// The thread that drains stderr: finished once the pipe closes.
    stderr_reader: std::thread::JoinHandle<()>,
    /// Per sample: the harness's wall time around the request less Python's time of the calls,
    /// i.e. the process round-trip that the timing leaves out.
    round_trips: Vec<f64>,
    /// Per sample: Python's own time of the calls.
    sampled: Vec<f64>,
    /// Whether a call went unanswered past its deadline, so the process was stopped.
    stopped_at_deadline: bool,
}

/// Why an anchor cannot run here (no Python, a missing package): a row marked unavailable.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl Anchor {
    /// Starts the anchor `anchor` of `lab` with `threads` threads, and loads `case`'s inputs.
    /// `Err(Unavailable)` when Python or a package is missing; `Ok(Err(..))` when the anchor
    /// started but failed (it then fails validation in the report).
    pub fn start(
        python: &Path,
        lab: &str,
        anchor: &OutOfProcess,
        threads: usize,
        case: &dyn Case,
    ) -> Result<Result<Anchor, String>, Unavailable> {
        let file = match anchor.runner {
            Runner::PythonAnchor => None,
            Runner::PythonFile(file) => Some(file),
        };
        Anchor::start_with(python, lab, anchor.name, file, threads, case, STARTUP, None)
    }

    /// As [`Anchor::start`], with the library's own OpenBLAS told to load its `core` kernel
    /// (`PERFLAB_LIBRARY_CORETYPE`, which `anchor.py` hands to that library's import alone).
    pub fn start_forced(
        python: &Path,
        lab: &str,
        anchor: &OutOfProcess,
        threads: usize,
        case: &dyn Case,
        core: &str,
    ) -> Result<Result<Anchor, String>, Unavailable> {
        Anchor::start_with(python, lab, anchor.name, None, threads, case, STARTUP, Some(core))
    }

    // One private constructor behind the three public ways to start an anchor: its parameters are
    // what each of them varies.
    #[allow(clippy::too_many_arguments)]
    fn start_with(
        python: &Path,
        lab: &str,
        name: &'static str,
        file: Option<PythonFile>,
        threads: usize,
        case: &dyn Case,
        startup: Duration,
        forced_core: Option<&str>,
    ) -> Result<Result<Anchor, String>, Unavailable> {
        // A fresh private folder per anchor process, removed with it (or on any early return).
        let dir = tempfile::Builder::new()
            .prefix(&format!("perflab-{lab}-{name}-"))
            .tempdir()
            .map_err(|e| Unavailable(format!("cannot create a temporary folder: {e}")))?;
        let script = dir.path().join("anchor.py");
        std::fs::write(&script, SCRIPT).map_err(|e| Unavailable(format!("cannot write {}: {e}", script.display())))?;
        let threads_text = threads.to_string();
        let mut command = Command::new(python);
        command.arg(&script).args([lab, name, &threads_text]);
        if let Some(file) = file {
            command.arg(python_file(file, dir.path())?);
        }
        // Every thread pool the libraries may bring, limited before they are imported; and the
        // OpenBLAS overrides some machines set for older builds, which slow a current numpy.
        for variable in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"] {
            command.env(variable, &threads_text);
        }
        command.env_remove("OPENBLAS_CORETYPE").env_remove("OPENBLAS_L2_SIZE");
        if let Some(core) = forced_core {
            command.env("PERFLAB_LIBRARY_CORETYPE", core);
        }
        // After a call, OpenBLAS's worker threads spin for about 2^28 cycles (a tenth of a second)
        // before they sleep, and OpenMP's do the same: on the cores that the next variant in the
        // rotation needs. Measured here on 2 threads: `best` right after numpy lost half its speed.
        // 2^20 cycles (about 0.4 ms) keeps them awake between the calls of one sample but lets them
        // sleep right after it (2^4, sleeping at once, cost numpy 2x at n = 256 in wake-ups).
        command.env("OPENBLAS_THREAD_TIMEOUT", "20").env("OMP_WAIT_POLICY", "PASSIVE");
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = spawn(&mut command).map_err(|e| {
            Unavailable(format!("cannot run {}: {e}; to enable the Python anchors: {ENABLE}", python.display()))
        })?;
        let stdin = child.stdin.take().expect("piped");
        let replies = lines_of(child.stdout.take().expect("piped"));
        let (stderr_tail, stderr_reader) = tail_of(child.stderr.take().expect("piped"));
        let mut anchor = Anchor {
            name,
            is_file: file.is_some(),
            call_deadline: SETUP,
            child,
            stdin,
            replies,
            info: serde_json::Value::Null,
            dir,
            stderr_tail,
            stderr_reader,
            round_trips: Vec::new(),
            sampled: Vec::new(),
            stopped_at_deadline: false,
        };
        match anchor.receive(startup) {
            Ok(line) if line.starts_with("ready ") => match serde_json::from_str(&line["ready ".len()..]) {
                Ok(info) => anchor.info = info,
                Err(e) => return Ok(Err(format!("{name}: its ready line is not JSON ({e}): {line}"))),
            },
            Ok(line) if line.starts_with("error ") => return Ok(Err(format!("{name}: {}", &line["error ".len()..]))),
            Ok(line) if line.starts_with("unavailable ") => {
                let why = &line["unavailable ".len()..];
                return Err(Unavailable(format!("{why} in {}; to enable: {ENABLE}", python.display())));
            }
            Ok(line) => return Ok(Err(format!("{name}: unexpected first line from Python: '{line}'"))),
            Err(error) => return Ok(Err(error)),
        }
        Ok(anchor.load(case).map(|()| anchor))
    }

    /// Writes the case's inputs as `.npy` and has Python load them (again, for another case).
    pub fn load(&mut self, case: &dyn Case) -> Result<(), String> {
        let (spec, files) = write_inputs(case, self.dir.path())?;
        self.expect_ok(&format!("setup {spec}"), SETUP)?;
        // Loaded: the copies on disk (tens of MiB at large sizes) are no longer needed.
        for file in files {
            let _ = std::fs::remove_file(file);
        }
        Ok(())
    }

    /// How long one validating call may take from now on.
    pub fn set_call_deadline(&mut self, deadline: Duration) {
        self.call_deadline = deadline;
    }

    /// Whether the process still runs (it is stopped after a call that did not answer in time).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Whether a call went unanswered past its deadline (and the process was stopped for it), as
    /// against a process that answered wrongly, crashed or ended.
    pub fn stopped_at_deadline(&self) -> bool {
        self.stopped_at_deadline
    }

    /// Sends one command and waits for its reply line.
    fn request(&mut self, line: &str, deadline: Duration) -> Result<String, String> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("{}: the Python process is gone ({e})", self.name))?;
        let reply = self.receive(deadline)?;
        match reply.strip_prefix("error ") {
            Some(error) => Err(format!("{}: Python reported {error}", self.name)),
            None => Ok(reply),
        }
    }

    fn expect_ok(&mut self, line: &str, deadline: Duration) -> Result<(), String> {
        match self.request(line, deadline)? {
            reply if reply == "ok" => Ok(()),
            reply => Err(format!("{}: expected 'ok', got '{reply}'", self.name)),
        }
    }

    fn receive(&mut self, deadline: Duration) -> Result<String, String> {
        match self.replies.recv_timeout(deadline) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.stopped_at_deadline = true;
                Err(format!(
                    "{}: no reply from Python within {deadline:?}; the process was stopped{}",
                    self.name,
                    self.stderr()
                ))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = exit_status_soon(&mut self.child).map_or_else(str::to_string, |s| s.to_string());
                Err(format!("{}: the Python process ended ({status}){}", self.name, self.stderr()))
            }
        }
    }

    /// The end of what Python wrote to stderr, as a suffix for an error message.
    fn stderr(&self) -> String {
        let text = drained_tail(&self.stderr_tail, &self.stderr_reader);
        if text.is_empty() { String::new() } else { format!("; its last words on stderr:\n{text}") }
    }

    /// What the anchor reported when ready, plus the median process round-trip per sample (left
    /// out of the timing) and the median sample, both in milliseconds, once it has been sampled.
    pub fn library_info(&self) -> serde_json::Value {
        let mut info = self.info.clone();
        // In ms with two decimals; None before the first sample.
        let median =
            |values: &[f64]| (!values.is_empty()).then(|| (Stats::of(values.to_vec()).median * 1e5).round() / 1e2);
        if let (Some(object), Some(trip), Some(sample)) =
            (info.as_object_mut(), median(&self.round_trips), median(&self.sampled))
        {
            object.insert("round_trip_ms".into(), trip.into());
            object.insert("sample_ms".into(), sample.into());
        }
        info
    }
}

impl External for Anchor {
    fn sliceable(&self) -> bool {
        self.is_file
    }

    fn limit(&mut self, rows: usize) -> Result<(), String> {
        self.expect_ok(&format!("rows {rows}"), SETUP)
    }

    fn validate(&mut self, case: &dyn Case, rows: usize) -> Result<String, Rejection> {
        let folder = self.dir.path().join("out");
        // An anchor that writes nothing must not pass on an old file.
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder)
            .map_err(|e| Rejection::Broken(format!("cannot create {}: {e}", folder.display())))?;
        let deadline = self.call_deadline;
        let reply = self.request(&format!("validate {}", folder.display()), deadline).map_err(Rejection::Broken)?;
        let Some(names) = reply.strip_prefix("ok ") else {
            return Err(Rejection::Broken(format!("{}: expected 'ok <outputs>', got '{reply}'", self.name)));
        };
        let outputs = names
            .split(',')
            .filter(|n| !n.is_empty())
            .map(|name| read_output(&folder, name))
            .collect::<Result<Vec<Output>, String>>()
            .map_err(|e| Rejection::Broken(format!("{}: {e}", self.name)))?;
        case.check_output(rows, &outputs).map_err(Rejection::Wrong)
    }

    fn sample(&mut self, calls: usize, deadline: Duration) -> Result<f64, String> {
        let start = std::time::Instant::now();
        let reply = self.request(&format!("sample {calls}"), deadline)?;
        let wall = start.elapsed().as_secs_f64();
        match reply.strip_prefix("seconds ").and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(seconds) if seconds.is_finite() && seconds >= 0.0 && seconds <= wall => {
                self.round_trips.push(wall - seconds);
                self.sampled.push(seconds);
                Ok(seconds)
            }
            Some(seconds) if seconds.is_finite() && seconds > wall => {
                Err(format!("{}: Python reported {seconds} s for a sample that took {wall} s from here", self.name))
            }
            _ => Err(format!("{}: expected 'seconds <number>', got '{reply}'", self.name)),
        }
    }

    fn memory(&mut self, deadline: Duration) -> Option<PythonMemory> {
        let reply = self.request("memory", deadline).ok()?;
        // `-` where numpy's buffers could not be counted: None for those two.
        let mut numbers = reply.strip_prefix("memory ")?.split_whitespace().map(|n| n.parse::<u64>().ok());
        Some(PythonMemory {
            peak_bytes: numbers.next()??,
            blocks_kept: numbers.next()??,
            numpy_buffers: numbers.next().flatten(),
            numpy_bytes: numbers.next().flatten(),
        })
    }
}

/// One call's memory in Python, as tracemalloc (which also sees numpy's buffers) measured it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PythonMemory {
    /// The most bytes allocated at once during the call, above what was allocated at its start.
    pub peak_bytes: u64,
    /// Memory blocks still allocated after the call (what it kept, or leaked).
    pub blocks_kept: u64,
    /// numpy array buffers the call allocated, and their bytes, counted by a data allocator
    /// installed for that call (NEP 49); None where numpy did not allow it. Python's own objects
    /// (a float in a loop) are not counted: this is what the temporaries cost.
    pub numpy_buffers: Option<u64>,
    pub numpy_bytes: Option<u64>,
}

/// Writes the case's inputs as `<dir>/<name>.npy`; returns the driver's `setup` spec (`dir`,
/// `inputs`, `sliced`: the inputs a row limit slices, `params`) and the files written.
pub fn write_inputs(case: &dyn Case, dir: &Path) -> Result<(serde_json::Value, Vec<PathBuf>), String> {
    let (mut names, mut sliced, mut files) = (Vec::new(), Vec::new(), Vec::new());
    for input in case.inputs() {
        let view = ArrayView2::from_shape(input.shape, input.data).map_err(|e| e.to_string())?;
        let path = dir.join(format!("{}.npy", input.name));
        ndarray_npy::write_npy(&path, &view).map_err(|e| format!("writing {}: {e}", path.display()))?;
        names.push(input.name);
        if input.sliced {
            sliced.push(input.name);
        }
        files.push(path);
    }
    let params: serde_json::Map<String, serde_json::Value> =
        case.params().into_iter().map(|(k, v)| (k.to_string(), v.into())).collect();
    Ok((serde_json::json!({ "dir": dir, "inputs": names, "sliced": sliced, "params": params }), files))
}

/// Reads `<folder>/<name>.npy`, a 2-D float64 array the driver wrote.
fn read_output(folder: &Path, name: &str) -> Result<Output, String> {
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(format!("'{name}' is not an output name"));
    }
    let path = folder.join(format!("{name}.npy"));
    let array: Array2<f64> =
        ndarray_npy::read_npy(&path).map_err(|e| format!("its output {} is not a 2-D .npy: {e}", path.display()))?;
    let shape = [array.nrows(), array.ncols()];
    Ok(Output { name: name.to_string(), shape, data: array.as_standard_layout().iter().copied().collect() })
}

/// The path of a Python file for the driver: the embedded text of a ladder rung written into
/// `dir` (under the file's own name, which tracebacks and profiles show), or the learner's file
/// in the workspace.
pub fn python_file(file: PythonFile, dir: &Path) -> Result<PathBuf, Unavailable> {
    let name = Path::new(file.path).file_name().expect("a file name");
    match file.embedded {
        Some(text) => {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| Unavailable(format!("cannot write {}: {e}", path.display())))?;
            Ok(path)
        }
        None => {
            let workspace = paths::workspace().ok_or_else(|| {
                Unavailable(format!("{} is read from the perflab workspace: run inside it", file.path))
            })?;
            let path = workspace.join(file.path);
            match path.is_file() {
                true => Ok(path),
                false => Err(Unavailable(format!("{} is missing; `cargo lab reset` restores it", path.display()))),
            }
        }
    }
}

impl Drop for Anchor {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit").and_then(|()| self.stdin.flush());
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // `dir` removes itself when dropped.
    }
}

/// The lines a child writes, delivered through a channel so that every read can have a deadline.
/// Bytes that are not UTF-8 are replaced, not fatal: garbage is a failure to report, never a hang.
/// A line longer than [`LONGEST_LINE`] is delivered cut there (the rest read and dropped), so
/// a program that writes without ever ending a line cannot fill the memory before its deadline.
fn lines_of(stdout: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        // One byte past the longest: a line of exactly LONGEST_LINE is whole, not cut.
        while matches!((&mut reader).take(LONGEST_LINE + 1).read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let cut = !line.ends_with(b"\n") && line.len() as u64 > LONGEST_LINE;
            if cut {
                line.truncate(LONGEST_LINE as usize);
                // The rest of the line, read and dropped (at the end of the input, the next read
                // finds nothing and the loop ends).
                let _ = reader.skip_until(b'\n');
            }
            let text = String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']).to_string();
            line.clear();
            if send.send(if cut { text + LINE_CUT } else { text }).is_err() {
                break;
            }
        }
    });
    receive
}

/// The longest line [`lines_of`] keeps: far beyond any reply of the anchors (a JSON line of
/// library versions is the longest, under a KiB).
const LONGEST_LINE: u64 = 1 << 20;
/// What ends a line that [`lines_of`] cut.
const LINE_CUT: &str = " [... cut at 1 MiB]";

/// Drains a child's stderr to its end (so the child never blocks on a full pipe), keeping the
/// last few KiB.
fn tail_of(stderr: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    const KEEP: usize = 4096;
    let tail = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&tail);
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut chunk = [0u8; 1024];
        while let Ok(n) = reader.read(&mut chunk) {
            if n == 0 {
                break;
            }
            let mut tail = kept.lock().unwrap_or_else(|e| e.into_inner());
            tail.extend_from_slice(&chunk[..n]);
            let excess = tail.len().saturating_sub(KEEP);
            tail.drain(..excess);
        }
    });
    (tail, reader)
}

/// The exit status of a child whose stdout has closed, so that it has exited or is about to.
/// Gives it a second, then stops it (a program that closed its output and went on running).
fn exit_status_soon(child: &mut Child) -> Result<std::process::ExitStatus, &'static str> {
    for _ in 0..100 {
        if let Ok(Some(exit)) = child.try_wait() {
            return Ok(exit);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err("its output closed; stopped")
}

/// What [`tail_of`] kept, trimmed. After an exit, waits (at most a second) until the pipe is
/// drained, so a traceback written just before the exit is never lost to a race with the reader.
fn drained_tail(tail: &Mutex<Vec<u8>>, reader: &std::thread::JoinHandle<()>) -> String {
    for _ in 0..100 {
        if reader.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let tail = tail.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&tail).trim().to_string()
}

/// Spawns `command`, retrying briefly on ETXTBSY: a script written just before may still be open
/// for writing in a child another thread is forking at that moment.
fn spawn(command: &mut Command) -> std::io::Result<Child> {
    const TEXT_FILE_BUSY: i32 = 26;
    let mut attempt = 0;
    loop {
        match command.spawn() {
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && attempt < 20 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use perflab_labs::Lab;
    use perflab_labs::matmul::Matmul;

    #[test]
    fn a_line_past_the_longest_is_delivered_cut_and_the_next_line_whole() {
        let long = LONGEST_LINE as usize * 3 + 5;
        let mut output = vec![b'x'; long];
        output.extend_from_slice(b"\nok\n");
        output.extend(std::iter::repeat_n(b'z', LONGEST_LINE as usize)); // exactly the longest: whole
        output.push(b'\n');
        output.extend(std::iter::repeat_n(b'y', LONGEST_LINE as usize + 1)); // cut, and no newline
        let lines: Vec<String> = lines_of(std::io::Cursor::new(output)).iter().collect();
        assert_eq!(lines.len(), 4, "{:?}", lines.iter().map(String::len).collect::<Vec<_>>());
        assert_eq!(lines[0], format!("{}{LINE_CUT}", "x".repeat(LONGEST_LINE as usize)));
        assert_eq!(lines[1], "ok");
        assert_eq!(lines[2], "z".repeat(LONGEST_LINE as usize));
        assert_eq!(lines[3], format!("{}{LINE_CUT}", "y".repeat(LONGEST_LINE as usize)));
    }

    /// A stand-in for Python: a shell script that answers as told, in a folder removed when the
    /// returned guard drops.
    fn fake_python(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("fake-python-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        (dir, path)
    }

    fn start(python: &Path, startup: Duration) -> Result<Result<Anchor, String>, Unavailable> {
        let case = Matmul.prepare("8", 1).unwrap();
        Anchor::start_with(python, "matmul", "numpy", None, 1, &*case, startup, None)
    }

    #[test]
    fn a_missing_python_is_unavailable_with_the_command_that_enables_it() {
        let error = find_python(Some(Path::new("/no/such/python"))).unwrap_err();
        assert!(error.contains("/no/such/python does not exist") && error.contains(ENABLE), "{error}");
        let Err(Unavailable(why)) = start(Path::new("/no/such/python"), STARTUP) else { panic!("started") };
        assert!(why.contains("cannot run /no/such/python") && why.contains(ENABLE), "{why}");
    }

    #[test]
    fn a_program_that_is_not_a_python_with_numpy_is_said_so_before_anything_starts() {
        let cases = [
            ("true", "exit 0", "exited with exit status: 0 and said: nothing"),
            (
                "no-numpy",
                "echo \"ModuleNotFoundError: No module named 'numpy'\" >&2; exit 1",
                "No module named 'numpy'",
            ),
        ];
        for (name, body, said) in cases {
            let (_dir, python) = fake_python(name, body);
            let error = find_working_python(Some(&python)).unwrap_err();
            assert!(error.contains("is not a Python 3 with numpy") && error.contains(said), "{name}: {error}");
            assert!(error.contains(ENABLE), "{error}");
        }
        let (_dir, python) = fake_python("python", "echo 'perflab-python 3 2.4.6'");
        assert_eq!(find_working_python(Some(&python)), Ok(python));
        // The right line is not enough: the program must also exit cleanly.
        let (_dir, python) = fake_python("then-fails", "echo 'perflab-python 3 2.4.6'; exit 4");
        let error = find_working_python(Some(&python)).unwrap_err();
        assert!(error.contains("exited with exit status: 4"), "{error}");
    }

    #[test]
    fn a_program_that_never_stops_writing_is_stopped_at_the_deadline() {
        let (_dir, python) = fake_python("endless", "while true; do echo more; done");
        let started = std::time::Instant::now();
        let error = probe_python(Some(&python), Duration::from_secs(1)).unwrap_err();
        assert!(error.contains("did not import numpy within 1s"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    }

    #[test]
    fn a_program_that_writes_more_than_a_pipe_holds_is_not_taken_for_a_hang() {
        // 256 KiB on each pipe, four times what a pipe holds before the writer blocks.
        let body = "head -c 262144 /dev/zero | tr '\\0' x; echo; head -c 262144 /dev/zero | tr '\\0' y >&2; \
                    echo >&2; echo 'last words' >&2; exit 3";
        let (_dir, python) = fake_python("chatty", body);
        let started = std::time::Instant::now();
        let error = find_working_python(Some(&python)).unwrap_err();
        assert!(error.contains("exited with exit status: 3 and said: last words"), "{error}");
        assert!(started.elapsed() < PROBE / 2, "took {:?}", started.elapsed());
        // A last line of 256 KiB is cut to a readable length.
        let (_dir, python) = fake_python("one-long-line", "head -c 262144 /dev/zero | tr '\\0' z >&2; exit 1");
        let error = find_working_python(Some(&python)).unwrap_err();
        assert!(error.contains("said: zzz") && error.len() < 600, "{} bytes", error.len());
    }

    #[test]
    fn a_missing_package_is_unavailable() {
        let (_python_dir, python) = fake_python("missing", "echo \"unavailable No module named 'numpy'\"");
        let Err(Unavailable(why)) = start(&python, STARTUP) else { panic!("started") };
        assert!(why.contains("No module named 'numpy'") && why.contains(ENABLE), "{why}");
    }

    #[test]
    fn garbage_a_crash_and_a_hang_are_failures_not_hangs() {
        let (_garbage_dir, garbage) = fake_python("garbage", "echo 'Segmentation fault (core dumped)'");
        let error = start(&garbage, STARTUP).unwrap().err().unwrap();
        assert!(error.contains("unexpected first line"), "{error}");

        let (_crash_dir, crash) = fake_python("crash", "echo 'Traceback: ImportError in numpy' >&2; exit 3");
        let error = start(&crash, STARTUP).unwrap().err().unwrap();
        assert!(error.contains("the Python process ended") && error.contains("Traceback: ImportError"), "{error}");

        let (_not_text_dir, not_text) = fake_python("binary", "printf '\\377\\376 ready\\n'; exec 1>&-; sleep 30");
        let started = std::time::Instant::now();
        let error = start(&not_text, STARTUP).unwrap().err().unwrap();
        assert!(error.contains("unexpected first line"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));

        let (_hang_dir, hang) = fake_python("hang", "sleep 30");
        let started = std::time::Instant::now();
        let error = start(&hang, Duration::from_millis(300)).unwrap().err().unwrap();
        assert!(error.contains("no reply from Python within"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_reply_that_is_not_a_number_fails_the_sample() {
        // Ready, then 'ok' to setup, then nonsense to sample.
        let (_python_dir, python) =
            fake_python("nonsense", "echo 'ready {}'; read l; echo ok; read l; echo 'seconds soon'; read l");
        let mut anchor = start(&python, STARTUP).unwrap().unwrap();
        let error = anchor.sample(3, Duration::from_secs(5)).unwrap_err();
        assert!(error.contains("expected 'seconds <number>', got 'seconds soon'"), "{error}");
    }
}

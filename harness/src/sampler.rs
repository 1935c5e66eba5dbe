//! Where the time goes line by line: a sampler of leaf instruction pointers, for the per-line
//! breakdown that `cargo lab profile` prints after the flamegraph.
//!
//! Why not pprof's samples: pprof-rs 0.15 keys a sample by each frame's *function start*
//! (`UnresolvedFrames` compares and hashes `symbol_address()`, not the instruction pointer), so
//! every sample inside one function is merged into the first one taken there, and the inlined
//! calls and the line it shows for the whole function are those of that one instruction. Its
//! functions are right; its lines are not. This module keeps every sample's own address.
//!
//! How: `setitimer(ITIMER_PROF)` has the kernel send SIGPROF each time the process has used
//! another millisecond of CPU time (this VM's tick caps that near 250 a second), to whichever
//! thread is running. The handler reads the interrupted instruction pointer from the signal's
//! `ucontext` and stores it, with the thread's id, in a static buffer allocated before any
//! sampling (atomics only: no allocation and no lock, so it is async-signal-safe). Afterwards each
//! distinct address is resolved once through the line tables (`backtrace`; release builds keep
//! them, inlined calls included: `debug = "line-tables-only"`), and the counts are summed by line.
//!
//! Limits: only the leaf is recorded (its callers are known only as far as they were inlined into
//! the function it is in), and the address is where the thread resumes, so a sample can land one
//! instruction after a slow one. pprof uses the same signal and timer: the two never sample at
//! once (the caller runs one after the other; [`start`] refuses while another of its own runs).

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::profile::short_name;

/// Samples kept per sampling; more are counted as lost. At 250 samples per second of CPU time
/// this is over eight minutes of one busy core (2 MiB of static memory, untouched until used).
const CAPACITY: usize = 1 << 17;

/// One sample: where a thread was interrupted, and which thread (its kernel id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub ip: usize,
    pub thread: usize,
}

/// What a finished sampling holds.
#[derive(Debug, Default)]
pub struct Samples {
    pub samples: Vec<Sample>,
    /// Signals that found the buffer full (or were still being written when it was read).
    pub lost: usize,
}

pub use imp::{Sampling, start};

#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    use std::ffi::{c_int, c_void};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use super::{CAPACITY, Sample, Samples};

    static ACTIVE: AtomicBool = AtomicBool::new(false);
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static IPS: [AtomicUsize; CAPACITY] = [const { AtomicUsize::new(0) }; CAPACITY];
    static THREADS: [AtomicUsize; CAPACITY] = [const { AtomicUsize::new(0) }; CAPACITY];

    /// Asked interval of CPU time between samples; the kernel's tick makes it about 4 ms here.
    const INTERVAL_US: libc::suseconds_t = 1000;

    /// The SIGPROF handler: two atomic stores and a `gettid`, all async-signal-safe.
    extern "C" fn on_sigprof(_signal: c_int, _info: *mut libc::siginfo_t, context: *mut c_void) {
        if context.is_null() {
            return;
        }
        let context = context.cast::<libc::ucontext_t>();
        // SAFETY: an SA_SIGINFO handler's third argument is the interrupted thread's ucontext_t,
        // valid for the duration of the handler; it was checked for null above.
        #[cfg(target_arch = "x86_64")]
        let ip = unsafe { (*context).uc_mcontext.gregs[libc::REG_RIP as usize] as usize };
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        let ip = unsafe { (*context).uc_mcontext.pc as usize };
        // SAFETY: gettid takes no arguments, cannot fail, and is a plain system call (signal-safe).
        let thread = unsafe { libc::syscall(libc::SYS_gettid) } as usize;
        let slot = NEXT.fetch_add(1, Ordering::Relaxed);
        if slot < CAPACITY {
            THREADS[slot].store(thread, Ordering::Relaxed);
            // Release: whoever reads the address non-zero also sees the thread stored before it.
            IPS[slot].store(ip, Ordering::Release);
        }
    }

    /// A sampling in progress. [`Sampling::stop`] (or dropping it) disarms the timer and puts
    /// back the SIGPROF handler and the timer that were there before.
    pub struct Sampling {
        previous_action: libc::sigaction,
        previous_timer: libc::itimerval,
        running: bool,
    }

    fn timer(interval_us: libc::suseconds_t) -> libc::itimerval {
        let interval = libc::timeval { tv_sec: 0, tv_usec: interval_us };
        libc::itimerval { it_interval: interval, it_value: interval }
    }

    /// Starts sampling every thread of the process. Fails if a sampling of this module is already
    /// running, if another SIGPROF handler or profiling timer is in place (pprof still running),
    /// or if the handler or the timer cannot be installed.
    pub fn start() -> Result<Sampling, String> {
        if ACTIVE.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return Err("a line sampling is already running in this process".into());
        }
        // Slots an earlier sampling left (one dropped without `stop`) must not pass for new ones.
        for slot in &IPS {
            slot.store(0, Ordering::Relaxed);
        }
        NEXT.store(0, Ordering::Release);
        // SAFETY: all-zero bytes are a valid `sigaction` (no handler, empty mask, no flags); every
        // field that matters is set below.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) = on_sigprof;
        action.sa_sigaction = handler as libc::sighandler_t;
        // SA_RESTART, as pprof: a system call the signal interrupts is resumed, not failed.
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        // SAFETY: as above.
        let mut previous_action: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: the handler is async-signal-safe (atomics and gettid only); `action` and
        // `previous_action` are valid for the call; sigemptyset only writes the mask it is given.
        let installed = unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGPROF, &action, &mut previous_action)
        };
        if installed != 0 {
            ACTIVE.store(false, Ordering::Release);
            return Err(format!("installing the SIGPROF handler: {}", std::io::Error::last_os_error()));
        }
        let mut previous_timer = timer(0);
        // SAFETY: a valid `itimerval` to write into.
        unsafe { libc::getitimer(libc::ITIMER_PROF, &mut previous_timer) };
        let other_handler = ![libc::SIG_DFL, libc::SIG_IGN].contains(&previous_action.sa_sigaction);
        let other_timer = previous_timer.it_value.tv_sec != 0 || previous_timer.it_value.tv_usec != 0;
        if other_handler || other_timer {
            // SAFETY: puts back the action read above; our timer was never armed.
            unsafe { libc::sigaction(libc::SIGPROF, &previous_action, std::ptr::null_mut()) };
            ACTIVE.store(false, Ordering::Release);
            return Err("another profiler (SIGPROF handler or timer) is running in this process".into());
        }
        // SAFETY: a valid `itimerval`; the old value was read above.
        let armed = unsafe { libc::setitimer(libc::ITIMER_PROF, &timer(INTERVAL_US), std::ptr::null_mut()) };
        if armed != 0 {
            let error = std::io::Error::last_os_error();
            // SAFETY: puts back the action read above; no timer is armed, so no signal is due.
            unsafe { libc::sigaction(libc::SIGPROF, &previous_action, std::ptr::null_mut()) };
            ACTIVE.store(false, Ordering::Release);
            return Err(format!("arming the profiling timer: {error}"));
        }
        Ok(Sampling { previous_action, previous_timer, running: true })
    }

    impl Sampling {
        /// Stops sampling, restores what was there before, and returns the samples taken.
        pub fn stop(mut self) -> Samples {
            self.restore();
            let taken = NEXT.load(Ordering::Acquire);
            let mut samples = Vec::with_capacity(taken.min(CAPACITY));
            for slot in 0..taken.min(CAPACITY) {
                let ip = IPS[slot].swap(0, Ordering::Acquire);
                let thread = THREADS[slot].swap(0, Ordering::Relaxed);
                if ip != 0 {
                    samples.push(Sample { ip, thread });
                }
            }
            ACTIVE.store(false, Ordering::Release);
            Samples { lost: taken - samples.len(), samples }
        }

        fn restore(&mut self) {
            if !std::mem::take(&mut self.running) {
                return;
            }
            // SAFETY: a valid `itimerval`; disarming needs no old value back.
            unsafe { libc::setitimer(libc::ITIMER_PROF, &timer(0), std::ptr::null_mut()) };
            // A signal already sent lands within a tick: let it reach this handler, not the
            // previous action (the default action for SIGPROF ends the process).
            std::thread::sleep(Duration::from_millis(20));
            // And should one come later still, have it ignored rather than end the process: where
            // the default action was in place, SIG_IGN goes back instead (as pprof-rs does).
            let mut previous = self.previous_action;
            if previous.sa_sigaction == libc::SIG_DFL {
                previous.sa_sigaction = libc::SIG_IGN;
            }
            // SAFETY: both were read by `start` from the kernel (the action with SIG_IGN in place of
            // SIG_DFL), so they are valid to put back.
            unsafe {
                libc::sigaction(libc::SIGPROF, &previous, std::ptr::null_mut());
                libc::setitimer(libc::ITIMER_PROF, &self.previous_timer, std::ptr::null_mut());
            }
        }
    }

    impl Drop for Sampling {
        fn drop(&mut self) {
            if self.running {
                self.restore();
                ACTIVE.store(false, Ordering::Release);
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
mod imp {
    use super::Samples;

    /// Not available on this target: the handler reads the instruction pointer from Linux's
    /// x86-64 or aarch64 `ucontext_t` only.
    pub struct Sampling;

    pub fn start() -> Result<Sampling, String> {
        Err("the line sampler is available on x86-64 and aarch64 Linux only".into())
    }

    impl Sampling {
        pub fn stop(self) -> Samples {
            Samples::default()
        }
    }
}

/// One function of a resolved address: its name, and the line in it (for the innermost frame,
/// the line of the instruction; for the others, the line of the call that was inlined).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// The file is in this workspace (not std's, a crate's or a system library's).
    pub ours: bool,
}

/// What one address resolves to: its frames, innermost inlined call first, the real
/// (not inlined) function last; none when no symbol covers the address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub frames: Vec<Frame>,
}

impl Resolved {
    /// The real function: the one the address's code was compiled into.
    pub fn function(&self) -> Option<&str> {
        self.frames.last().map(|f| f.function.as_str())
    }
}

/// Resolves each distinct address once, and counts how many samples each one holds.
pub fn resolve(samples: &[Sample]) -> Vec<(Resolved, u64)> {
    let mut counts: HashMap<usize, u64> = HashMap::new();
    for sample in samples {
        *counts.entry(sample.ip).or_default() += 1;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf);
    counts.into_iter().map(|(ip, count)| (resolve_one(ip, workspace.as_deref()), count)).collect()
}

fn resolve_one(ip: usize, workspace: Option<&Path>) -> Resolved {
    let mut frames = Vec::new();
    // `backtrace::resolve` takes a return address and looks up the byte before it (the call). A
    // leaf address is the interrupted instruction itself, so give it the byte after.
    backtrace::resolve((ip + 1) as *mut std::ffi::c_void, |symbol| {
        let function = symbol.name().map_or_else(|| "?".to_string(), |name| short_name(&name.to_string()));
        let (file, ours) = match symbol.filename() {
            Some(path) => {
                let (file, ours) = short_path(path, workspace);
                (Some(file), ours)
            }
            None => (None, false),
        };
        frames.push(Frame { function, file, line: symbol.lineno(), ours });
    });
    Resolved { frames }
}

/// A path as a reader of this workspace wants it, and whether it is in the workspace: relative
/// to the workspace (cargo may have recorded it so already); for the standard library and
/// crates.io crates, from the library's or crate's own folder; anything else as it was.
pub fn short_path(path: &Path, workspace: Option<&Path>) -> (String, bool) {
    let path = normalise(path);
    if let Some(relative) = workspace.and_then(|w| path.strip_prefix(w).ok()) {
        return (relative.display().to_string(), true);
    }
    // Relative: cargo's own (relative to the workspace) or a system library's (glibc's sysdeps/...).
    let ours = path.is_relative() && workspace.is_some_and(|w| w.join(&path).is_file());
    (theirs(&path.display().to_string()), ours)
}

fn theirs(text: &str) -> String {
    // /rustc/<commit>/library/core/src/ptr/mod.rs → core/src/ptr/mod.rs (stdarch: core_arch/...)
    if let Some((_, library)) = text.split_once("/library/").filter(|(rustc, _)| rustc.starts_with("/rustc/")) {
        return library.strip_prefix("stdarch/crates/").unwrap_or(library).to_string();
    }
    // ~/.cargo/registry/src/<index>/rayon-core-1.13.0/src/... → rayon-core-1.13.0/src/...
    if let Some((_, crate_path)) = text.split_once("/registry/src/")
        && let Some((_, inside)) = crate_path.split_once('/')
    {
        return inside.to_string();
    }
    text.to_string()
}

/// `a/b/../c/./d` → `a/c/d`, without asking the file system (the sources need not be here).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// One line of the breakdown: the instruction's line, and the functions it was inlined through.
#[derive(Clone, Debug, PartialEq)]
pub struct LineShare {
    /// `file:line` of the innermost frame.
    pub location: String,
    /// Function names, innermost first (the last is the real function), as `shown_chain` shows
    /// them.
    pub chain: Vec<String>,
    pub samples: u64,
    pub share: f64,
}

/// Samples by source line: the hottest lines, then what the rest adds up to.
#[derive(Clone, Debug, PartialEq)]
pub struct Lines {
    pub total: u64,
    /// The hottest lines, hottest first.
    pub top: Vec<LineShare>,
    /// Lines with line tables left out of `top`: how many, and their share together.
    pub other_lines: usize,
    pub other_share: f64,
    /// Samples in code without line tables (or without any symbol).
    pub unresolved_share: f64,
}

/// Sums samples by (file, line, inlined chain), hottest first, the `top` hottest kept; addresses
/// without line tables go to one bucket of their own.
pub fn by_line(resolved: &[(Resolved, u64)], top: usize) -> Lines {
    let total: u64 = resolved.iter().map(|(_, n)| n).sum();
    let share = |n: u64| n as f64 / total.max(1) as f64;
    let mut lines: HashMap<(String, Vec<String>), u64> = HashMap::new();
    let mut unresolved = 0;
    for (record, count) in resolved {
        match record.frames.first() {
            Some(Frame { file: Some(file), line: Some(line), .. }) => {
                *lines.entry((format!("{file}:{line}"), shown_chain(&record.frames))).or_default() += count;
            }
            _ => unresolved += count,
        }
    }
    let mut lines: Vec<LineShare> = lines
        .into_iter()
        .map(|((location, chain), samples)| LineShare { location, chain, samples, share: share(samples) })
        .collect();
    // Ties in a fixed order, so the same samples always print the same way.
    lines.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.location.cmp(&b.location)));
    let rest = lines.split_off(top.min(lines.len()));
    Lines {
        total,
        top: lines,
        other_lines: rest.len(),
        other_share: share(rest.iter().map(|l| l.samples).sum()),
        unresolved_share: share(unresolved),
    }
}

/// The functions a line was inlined through, as printed: the innermost (the line's own), then
/// those in this workspace's files, then the real function; a run of others (std's iterator and
/// pointer plumbing) becomes one `…`.
fn shown_chain(frames: &[Frame]) -> Vec<String> {
    let mut shown: Vec<String> = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        if i == 0 || i + 1 == frames.len() || frame.ours {
            shown.push(frame.function.clone());
        } else if shown.last().is_none_or(|f| f != "…") {
            shown.push("…".into());
        }
    }
    shown
}

/// Samples by real function (the one the code was compiled into), hottest first, the `top` kept.
pub fn by_function(resolved: &[(Resolved, u64)], top: usize) -> Vec<(String, f64)> {
    let total: u64 = resolved.iter().map(|(_, n)| n).sum();
    let mut functions: HashMap<&str, u64> = HashMap::new();
    for (record, count) in resolved {
        *functions.entry(record.function().unwrap_or("(no symbol)")).or_default() += count;
    }
    let mut functions: Vec<(&str, u64)> = functions.into_iter().collect();
    functions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    functions.truncate(top);
    functions.into_iter().map(|(name, n)| (name.to_string(), n as f64 / total.max(1) as f64)).collect()
}

impl fmt::Display for Lines {
    /// The breakdown as `cargo lab profile` prints it, one line per row, indented by four.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // Long paths (system libraries') overflow the column rather than push every row right.
        let width = self.top.iter().map(|l| l.location.len()).max().unwrap_or(0).min(40);
        for line in &self.top {
            let chain = line.chain.join(" ← ");
            writeln!(f, "    {:>5.1}%  {:<width$}  {chain}", 100.0 * line.share, line.location)?;
        }
        if self.other_lines > 0 {
            let lines = if self.other_lines == 1 { "line" } else { "lines" };
            writeln!(f, "    {:>5.1}%  on {} other {lines}", 100.0 * self.other_share, self.other_lines)?;
        }
        if self.unresolved_share > 0.0 {
            writeln!(
                f,
                "    {:>5.1}%  in code without line tables (libraries, std without debug info)",
                100.0 * self.unresolved_share
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame in this workspace's code.
    fn at(function: &str, file: &str, line: u32) -> Frame {
        Frame { function: function.into(), file: Some(file.into()), line: Some(line), ours: true }
    }

    /// A frame in std's (or another crate's) code.
    fn std(function: &str, file: &str, line: u32) -> Frame {
        Frame { ours: false, ..at(function, file, line) }
    }

    fn record(frames: Vec<Frame>) -> Resolved {
        Resolved { frames }
    }

    #[test]
    fn lines_are_summed_sorted_cut_and_the_unresolved_kept_apart() {
        let (tile, kernel) = (at("tile", "labs/s.rs", 57), at("kernel", "labs/s.rs", 9));
        let fma = vec![std("_mm256_fmadd_ps", "core_arch/src/x86/fma.rs", 99), at("mul_add", "labs/x86.rs", 40)];
        let fma = [fma, vec![tile.clone(), kernel.clone()]].concat();
        let load = vec![
            std("copy_nonoverlapping", "core/src/ptr/mod.rs", 547),
            std("read_unaligned", "core/src/ptr/mod.rs", 1000),
            std("_mm256_loadu_ps", "core_arch/src/x86/avx.rs", 1500),
            at("load", "labs/x86.rs", 20),
            at("tile", "labs/s.rs", 55),
            kernel.clone(),
        ];
        let mut other_fma = fma.clone();
        other_fma[2].line = Some(58); // the same line, reached from another line of tile: one row
        let resolved = vec![
            (record(fma), 30),
            (record(other_fma), 30),
            (record(load), 25),
            (record(vec![at("kernel", "labs/s.rs", 70)]), 5),
            (record(vec![at("kernel", "labs/s.rs", 71)]), 5),
            (record(vec![Frame { function: "memcpy".into(), file: None, line: None, ours: false }]), 4),
            (record(vec![]), 1),
        ];
        let lines = by_line(&resolved, 3);
        assert_eq!(lines.total, 100);
        let rows: Vec<(&str, u64)> = lines.top.iter().map(|l| (l.location.as_str(), l.samples)).collect();
        assert_eq!(rows, [("core_arch/src/x86/fma.rs:99", 60), ("core/src/ptr/mod.rs:547", 25), ("labs/s.rs:70", 5)]);
        assert_eq!(lines.top[0].chain, ["_mm256_fmadd_ps", "mul_add", "tile", "kernel"]);
        // std's plumbing between the instruction's own function and this workspace's is elided.
        assert_eq!(lines.top[1].chain, ["copy_nonoverlapping", "…", "load", "tile", "kernel"]);
        assert!((lines.top[0].share - 0.60).abs() < 1e-12);
        assert_eq!(lines.other_lines, 1);
        assert!((lines.other_share - 0.05).abs() < 1e-12);
        assert!((lines.unresolved_share - 0.05).abs() < 1e-12);
        let text = lines.to_string();
        assert!(
            text.contains(" 60.0%  core_arch/src/x86/fma.rs:99  _mm256_fmadd_ps ← mul_add ← tile ← kernel"),
            "{text}"
        );
        assert!(text.contains("  5.0%  on 1 other line\n") && text.contains("without line tables"), "{text}");

        let functions = by_function(&resolved, 2);
        assert_eq!(functions.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), ["kernel", "memcpy"]);
        assert!((functions[0].1 - 0.95).abs() < 1e-12);
    }

    #[test]
    fn paths_are_shortened_for_the_workspace_std_and_crates() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let ws = Some(here);
        let short = |path: &str| short_path(Path::new(path), ws);
        let ours = |file: &str| (file.to_string(), true);
        let theirs = |file: &str| (file.to_string(), false);
        assert_eq!(short(&format!("{}/labs/matmul/../gemm/kernel.rs", here.display())), ours("labs/gemm/kernel.rs"));
        assert_eq!(short("harness/src/sampler.rs"), ours("harness/src/sampler.rs"));
        // glibc's line tables name its files relative to its own build folder
        assert_eq!(short("sysdeps/x86_64/multiarch/memmove.S"), theirs("sysdeps/x86_64/multiarch/memmove.S"));
        let std = "/rustc/0123456789abcdef/library/core/src/../../stdarch/crates/core_arch/src/x86/fma.rs";
        assert_eq!(short(std), theirs("core_arch/src/x86/fma.rs"));
        assert_eq!(short("/rustc/0123/library/core/src/ptr/mod.rs"), theirs("core/src/ptr/mod.rs"));
        let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rayon-core-1.13.0/src/job.rs";
        assert_eq!(short(registry), theirs("rayon-core-1.13.0/src/job.rs"));
        assert_eq!(short("/usr/src/other.c"), theirs("/usr/src/other.c"));
    }

    /// The CPU time this thread has used (what ITIMER_PROF counts, unlike the wall clock).
    #[cfg(target_os = "linux")]
    fn thread_cpu_time() -> std::time::Duration {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `now` is a valid timespec to write into; this clock exists on every Linux.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    const BUSY_LOOP_FIRST_LINE: u32 = line!();
    /// Spins on arithmetic until this thread has used `cpu` of CPU time (however busy the
    /// machine, the samples come per CPU time used), or 10 s have passed, checking the clock only
    /// every 2^20 steps, so almost every sample of the thread running it lands on these lines.
    #[cfg(target_os = "linux")]
    #[inline(never)]
    fn busy_loop(cpu: std::time::Duration) -> u64 {
        let (start, wall) = (thread_cpu_time(), std::time::Instant::now());
        let mut x = 1u64;
        while thread_cpu_time() - start < cpu && wall.elapsed().as_secs() < 10 {
            for i in 0..1u64 << 20 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
            }
        }
        x
    }
    const BUSY_LOOP_LINES: std::ops::Range<u32> = BUSY_LOOP_FIRST_LINE..line!();

    #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
    // Without optimisation the loop's own std calls (ranges, black_box) are not inlined into it.
    #[cfg_attr(debug_assertions, ignore)]
    #[test]
    fn a_busy_loop_is_found_at_its_own_lines() {
        let sampling = start().unwrap();
        // SAFETY: gettid takes no arguments and cannot fail.
        let thread = unsafe { libc::syscall(libc::SYS_gettid) } as usize;
        std::hint::black_box(busy_loop(std::time::Duration::from_millis(500)));
        let taken = sampling.stop();
        // Other tests run in this process at the same time: keep this thread's samples.
        let mine: Vec<Sample> = taken.samples.iter().copied().filter(|s| s.thread == thread).collect();
        assert!(mine.len() >= 20, "{} samples of this thread in 0.5 s of its CPU time", mine.len());
        let resolved = resolve(&mine);
        let functions = by_function(&resolved, 1);
        assert!(functions[0].0.ends_with("busy_loop") && functions[0].1 > 0.8, "{functions:?}");
        // The hottest line is the loop's, or std's code inlined into it (black_box, the
        // wrapping arithmetic): either way its chain ends in busy_loop.
        let lines = by_line(&resolved, 3);
        assert!(lines.top[0].chain.last().unwrap().ends_with("busy_loop"), "{lines}");
        // And busy_loop's own frame (the line in it that the inlined code came from) lies
        // between its first and last line for almost every sample.
        let inside: u64 = resolved
            .iter()
            .filter(|(r, _)| {
                r.frames.last().is_some_and(|f| {
                    f.file.as_deref().is_some_and(|file| file.ends_with("harness/src/sampler.rs"))
                        && f.line.is_some_and(|line| BUSY_LOOP_LINES.contains(&line))
                })
            })
            .map(|(_, n)| n)
            .sum();
        assert!(
            inside as f64 > 0.8 * mine.len() as f64,
            "{inside} of {} samples in {BUSY_LOOP_LINES:?}:\n{lines}",
            mine.len()
        );
        assert!(start().is_ok_and(|again| again.stop().lost == 0), "a second sampling can start");
    }
}

//! Sampling profiles (pprof) rendered as flamegraph SVGs under `flamegraphs/`: functions only
//! (see `real_functions`; where the time goes line by line is [`crate::sampler`]'s).
//!
//! pprof interrupts the process with a timer signal and records the stack. This kernel's timer
//! resolution caps the rate near 250 samples per second whatever is asked for, so a useful
//! profile takes a few seconds: thousands of samples, not dozens.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use pprof::{ProfilerGuard, ProfilerGuardBuilder};

use crate::paths;

/// Samples asked per second (the kernel delivers about 250 on this kind of VM).
const FREQUENCY_HZ: i32 = 999;

/// Where flamegraphs land: `flamegraphs/` in the current directory's workspace, or under
/// `PERFLAB_OUT` (see [`paths::out_dir`]).
pub fn flamegraph_dir() -> PathBuf {
    paths::out_dir().join("flamegraphs")
}

/// Creates `path`'s folder and checks the file can be written, before any sampling is done.
pub fn ensure_writable(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// `flamegraphs/<lab>/<variant>-<size>-threads-<n>.svg`
pub fn flamegraph_path(lab: &str, variant: &str, size: &str, threads: usize) -> PathBuf {
    flamegraph_dir().join(lab).join(format!("{variant}-{size}-threads-{threads}.svg"))
}

/// Starts sampling every thread of the process.
pub fn start() -> anyhow::Result<ProfilerGuard<'static>> {
    ProfilerGuardBuilder::default()
        .frequency(FREQUENCY_HZ)
        // Frames inside these libraries are not the kernel's; unwinding through them can crash.
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .context("starting the sampling profiler")
}

/// What a finished profile holds.
#[derive(Debug)]
pub struct Profile {
    pub path: PathBuf,
    pub samples: u64,
    pub seconds: f64,
    /// The functions most samples were in (innermost frame), with their share of samples.
    pub hottest: Vec<(String, f64)>,
}

/// Stops sampling and writes the flamegraph SVG to `path`: functions only (see `real_functions`).
pub fn finish(guard: ProfilerGuard<'static>, path: &Path, seconds: f64) -> anyhow::Result<Profile> {
    let report = guard.report().frames_post_processor(real_functions).build().context("symbolising the profile")?;
    drop(guard); // the timer stops and SIGPROF is ignored again: another sampler may start
    ensure_writable(path)?;
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    report.flamegraph(file).context("writing the flamegraph")?;

    let samples: isize = report.data.values().sum();
    let mut by_leaf: HashMap<String, isize> = HashMap::new();
    for (frames, count) in &report.data {
        // After `real_functions`, each frame holds one symbol: the real function.
        let leaf = frames.frames.first().and_then(|inlined| inlined.last()).map_or("?".into(), |s| s.name());
        *by_leaf.entry(short_name(&leaf)).or_default() += count;
    }
    let mut hottest: Vec<(String, f64)> =
        by_leaf.into_iter().map(|(name, n)| (name, n as f64 / samples.max(1) as f64)).collect();
    hottest.sort_by(|a, b| b.1.total_cmp(&a.1));
    hottest.truncate(5);
    Ok(Profile { path: path.to_path_buf(), samples: samples.max(0) as u64, seconds, hottest })
}

/// Keeps, of each frame, only the real (outermost, not inlined) function, and drops the functions
/// inlined into it.
///
/// Why: pprof-rs 0.15 merges samples by each frame's function start (`UnresolvedFrames` compares
/// and hashes `symbol_address()`, not the instruction pointer), so all the samples inside one
/// function keep the addresses of the first one taken there, and the inlined calls resolved from
/// them are those of that one instruction: a kernel of FMAs could show all its time under
/// `_mm256_loadu_ps`. Which function a sample was in is right; which inlined call or line is not
/// (the per-line breakdown comes from [`crate::sampler`], which keeps every address).
fn real_functions(frames: &mut pprof::Frames) {
    for symbols in &mut frames.frames {
        // Innermost inlined call first, the real function last.
        if let Some(real) = symbols.pop() {
            symbols.clear();
            symbols.push(real);
        }
    }
}

/// `pack_a<perflab_labs::...::Avx2>` → `pack_a`; `a::b::c::d` → `b::c::d`;
/// `<a::Operands as b::WithSimd>::run` → `a::Operands::run`
pub(crate) fn short_name(name: &str) -> String {
    // Drop a legacy-mangling hash suffix (`::h` and 16 hex digits), and nothing else.
    let name = match name.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => path,
        _ => name,
    };
    // A method named through its type (`<T>::f`, `<T as Trait>::f`): name it by the type.
    let name = match (name.strip_prefix('<'), closing_bracket(name)) {
        (Some(_), Some(close)) => {
            let inner = &name[1..close];
            format!("{}{}", inner.split_once(" as ").map_or(inner, |(ty, _)| ty), &name[close + 1..])
        }
        _ => name.to_string(),
    };
    // Then every generic argument list goes, however nested.
    let mut plain = String::new();
    let mut depth = 0usize;
    let mut previous = ' ';
    for c in name.chars() {
        let arrow = previous == '-'; // the `>` of `->` closes nothing
        previous = c;
        match c {
            '<' => depth += 1,
            '>' if depth > 0 && !arrow => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let parts: Vec<&str> = plain.split("::").collect();
    parts[parts.len().saturating_sub(3)..].join("::")
}

/// Where the `<` that opens `name` is closed.
fn closing_bracket(name: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut previous = ' ';
    for (i, c) in name.char_indices() {
        let arrow = previous == '-'; // the `>` of `->` in `fn() -> u32` closes nothing
        previous = c;
        match c {
            '<' => depth += 1,
            '>' if !arrow => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Calls `call` repeatedly for at least `duration` under the profiler; returns the calls made.
pub fn run_for(duration: Duration, mut call: impl FnMut()) -> u64 {
    let start = Instant::now();
    let mut calls = 0;
    while calls == 0 || start.elapsed() < duration {
        call();
        calls += 1;
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::short_name;

    fn symbol(name: &str) -> pprof::Symbol {
        pprof::Symbol { name: Some(name.as_bytes().to_vec()), addr: None, lineno: Some(1), filename: None }
    }

    #[test]
    fn the_flamegraph_keeps_only_each_frames_real_function() {
        let mut frames = pprof::Frames {
            // Innermost first: one frame with two inlined calls in `kernel`, then its caller.
            frames: vec![vec![symbol("_mm256_loadu_ps"), symbol("load"), symbol("kernel")], vec![symbol("main")]],
            thread_name: "main".into(),
            thread_id: 1,
            sample_timestamp: std::time::SystemTime::UNIX_EPOCH,
        };
        super::real_functions(&mut frames);
        let names: Vec<Vec<String>> = frames.frames.iter().map(|f| f.iter().map(|s| s.name()).collect()).collect();
        assert_eq!(names, [vec!["kernel".to_string()], vec!["main".to_string()]]);
    }

    #[test]
    fn names_lose_generics_paths_and_hashes_but_nothing_else() {
        assert_eq!(short_name("pack_a<perflab_labs::gemm::kernel::Avx2>"), "pack_a");
        assert_eq!(short_name("a::b::c::d"), "b::c::d");
        assert_eq!(short_name("core::hint::black_box"), "core::hint::black_box");
        assert_eq!(short_name("std::hash::random::h0123456789abcdef"), "std::hash::random");
        assert_eq!(short_name("<std::sys::pal::unix::time::Timespec>::now"), "time::Timespec::now");
        assert_eq!(
            short_name("<perflab_labs::matmul::Operands as perflab_labs::simd::WithSimd>::run"),
            "matmul::Operands::run"
        );
        assert_eq!(short_name("<alloc::vec::Vec<T, A> as core::ops::Drop>::drop"), "vec::Vec::drop");
        assert_eq!(short_name("tile<core::core_arch::x86::__m512, 6>"), "tile");
        assert_eq!(short_name("<a::Task<fn() -> u32> as b::Job>::execute"), "a::Task::execute");
    }
}

//! The machine's limits beyond one run's FMA probe: its memory bandwidth (a STREAM-triad probe)
//! and its cache hierarchy (from the OS), kept per machine fingerprint under the target folder so
//! that a run reads them instead of measuring again. `cargo lab machine` prints them, and
//! `cargo lab machine --remeasure` measures again.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use perflab_labs::caches::{self, Cache};
use perflab_labs::{cpu, simd};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::paths;

/// The version of the limits file's layout.
pub const LIMITS_SCHEMA: u32 = 1;
/// Each triad array spans at least this many times the last-level cache, so that every pass
/// streams from memory (and at least 64 MiB where the OS names no cache).
const ARRAY_OVER_LLC: u64 = 4;
const MIN_ARRAY_BYTES: u64 = 64 << 20;
/// Triad passes per thread count: the best one is kept (load can only slow a pass).
const PASSES: usize = 12;
/// How long the FMA probe of `cargo lab machine` runs.
const PEAK_PROBE: Duration = Duration::from_millis(300);

/// Which machine a set of limits, a baseline or a reference file belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// `amd-epyc-f25m17-avx512f-2c`: vendor and model name, family and model numbers, the CPU's
    /// widest SIMD level, and its physical cores.
    pub id: String,
    pub cpu: String,
    pub vendor: String,
    pub family: Option<u32>,
    pub model: Option<u32>,
    pub simd_level: String,
    pub cores: usize,
}

impl Fingerprint {
    /// This machine's.
    pub fn here() -> Fingerprint {
        let identity = cpu::identity();
        let name = cpu::model_name();
        let simd_level = simd::detected().to_string();
        let cores = cpu::physical_cores().unwrap_or_else(rayon::current_num_threads);
        let generation = match (identity.family, identity.model) {
            (Some(family), Some(model)) => format!("-f{family}m{model}"),
            _ => String::new(),
        };
        let id = format!("{}{generation}-{simd_level}-{cores}c", slug(&identity.vendor, &name));
        Fingerprint {
            id,
            cpu: name,
            vendor: identity.vendor,
            family: identity.family,
            model: identity.model,
            simd_level,
            cores,
        }
    }
}

/// `intel-xeon-platinum-8488c` from `Intel(R) Xeon(R) Platinum 8488C CPU @ 2.40GHz`.
fn slug(vendor: &str, name: &str) -> String {
    let before_clock = name.split('@').next().unwrap_or(name);
    let lower = before_clock.to_lowercase().replace("(r)", "").replace("(tm)", "");
    let words: Vec<String> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && *w != "cpu" && *w != "processor")
        .map(str::to_string)
        .collect();
    let mut parts: Vec<String> = Vec::new();
    if words.first().map(String::as_str) != Some(vendor) {
        parts.push(vendor.to_string());
    }
    parts.extend(words.into_iter().take_while(|w| w != "with"));
    parts.join("-")
}

/// Sustained memory bandwidth, GB/s (10⁹ bytes), from the triad `a = b + s·c` over arrays far
/// larger than the last-level cache, counting 3 × 8 bytes per element as STREAM does (two reads and
/// one write; the write-allocate read is not counted).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bandwidth {
    pub one_thread_gbs: f64,
    pub all_threads_gbs: f64,
    /// The threads of the second figure.
    pub threads: usize,
    /// Bytes of each of the three arrays.
    pub array_bytes: u64,
    /// Passes per figure; the best is kept.
    pub passes: usize,
}

/// What this machine can do at most, and when that was measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Limits {
    pub schema: u32,
    pub fingerprint: Fingerprint,
    /// One core's f32 FMA peak, GFLOP/s: the probe of `cargo lab machine`, or a later run's best
    /// round probe where that read more (see [`Limits::raise_cached_peak`]).
    pub core_peak_gflops: f64,
    /// Where a later run's probe raised `core_peak_gflops`: what the first probe read, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_raised: Option<PeakRaised>,
    pub bandwidth: Bandwidth,
    /// The caches, first level first; empty where unknown (see `caches_unknown`).
    pub caches: Vec<Cache>,
    /// Why the caches are unknown (an OS perflab cannot read them on).
    pub caches_unknown: Option<String>,
    /// RFC 3339, UTC.
    pub measured_at: String,
}

/// A core peak raised by a run's probes above what `cargo lab machine` first read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeakRaised {
    /// What the probe that measured the limits read, GFLOP/s.
    pub first_probe_gflops: f64,
    /// When the peak was last raised, RFC 3339, UTC.
    pub at: String,
}

impl Limits {
    /// Measures this machine's limits now (nothing else should run): the all-threads bandwidth on
    /// every logical core, whatever `pool` a run asked for (a `--threads 1` run may be the first
    /// on a machine, and what it measures is kept for every later run); `pool` only where a pool
    /// of every core cannot be started.
    pub fn measure(pool: &rayon::ThreadPool) -> Limits {
        let every_core = every_core_pool(pool);
        let pool = every_core.as_ref().unwrap_or(pool);
        let fingerprint = Fingerprint::here();
        let (caches, caches_unknown) = match caches::hierarchy() {
            Ok(list) => (list, None),
            Err(why) => (Vec::new(), Some(why)),
        };
        let llc = caches.iter().filter(|c| c.kind != "Instruction").map(|c| c.size_bytes).max().unwrap_or(0);
        let array_bytes = (llc * ARRAY_OVER_LLC).max(MIN_ARRAY_BYTES);
        let core_peak_gflops = pool.install(|| cpu::fma_peak_gflops(simd::detected(), PEAK_PROBE));
        let bandwidth = triad(pool, array_bytes);
        let measured_at = now();
        Limits {
            schema: LIMITS_SCHEMA,
            fingerprint,
            core_peak_gflops,
            peak_raised: None,
            bandwidth,
            caches,
            caches_unknown,
            measured_at,
        }
    }

    /// The cached limits of this machine, or measured now and cached. `remeasure` measures
    /// whatever the cache holds.
    pub fn load_or_measure(pool: &rayon::ThreadPool, remeasure: bool) -> Limits {
        let path = cache_path(&Fingerprint::here().id);
        if !remeasure && let Some(limits) = path.as_ref().and_then(|p| read(p).ok()) {
            return limits;
        }
        let limits = Limits::measure(pool);
        if let Some(path) = path {
            // A cache that cannot be written is measured again next time: nothing worse.
            let _ = write(&path, &limits);
        }
        limits
    }

    /// This machine's cached limits, if a run has measured them.
    pub fn cached() -> Option<Limits> {
        read(&cache_path(&Fingerprint::here().id)?).ok()
    }

    /// Keeps `probe` (one core's GFLOP/s) as the peak where it is higher than the one kept, saying
    /// so in `peak_raised`; whether it did. Another process can only lower a probe, never raise
    /// it, so the highest reading is the one least disturbed by load.
    pub fn raise_peak(&mut self, probe: f64) -> bool {
        if !(probe.is_finite() && probe > self.core_peak_gflops) {
            return false;
        }
        let first_probe_gflops = self.peak_raised.as_ref().map_or(self.core_peak_gflops, |r| r.first_probe_gflops);
        self.core_peak_gflops = probe;
        self.peak_raised = Some(PeakRaised { first_probe_gflops, at: now() });
        true
    }

    /// Raises the cached peak of this machine to `probe` where that is higher: every run calls it
    /// with its rounds' best probe, so a first probe taken while something held the core does not
    /// stay the machine balance and the figure `compare` and the nearest-machine choice read. The
    /// peak so kept is the highest of every run's probes (20 ms each in the rounds, as the runs'
    /// own tables use) until `cargo lab machine --remeasure`. Reads the cache afresh, under a lock
    /// (another run may be raising it too); None where there is no cache or the peak was already
    /// as high.
    pub fn raise_cached_peak(probe: f64) -> Option<Limits> {
        raise_peak_in(&cache_path(&Fingerprint::here().id)?, probe)
    }

    /// FLOP per byte at which one core's FMA peak and one thread's bandwidth meet: a kernel doing
    /// fewer FLOP per byte it must move is bound by memory, not by arithmetic.
    pub fn balance(&self, parallel: bool) -> f64 {
        let cores = if parallel { self.fingerprint.cores.max(1) as f64 } else { 1.0 };
        let bandwidth = if parallel { self.bandwidth.all_threads_gbs } else { self.bandwidth.one_thread_gbs };
        self.core_peak_gflops * cores / bandwidth
    }

    /// The lines `cargo lab machine` prints.
    pub fn describe(&self) -> Vec<String> {
        let f = &self.fingerprint;
        let mut lines = vec![
            format!("machine {}", f.id),
            format!(
                "  CPU: {} ({}, family {}, model {}), widest SIMD {}, {} core{}",
                f.cpu,
                f.vendor,
                f.family.map_or("?".into(), |n| n.to_string()),
                f.model.map_or("?".into(), |n| n.to_string()),
                f.simd_level,
                f.cores,
                if f.cores == 1 { "" } else { "s" }
            ),
            format!("  f32 FMA peak: {:.1} GFLOP/s per core{}", self.core_peak_gflops, self.describe_raise()),
            format!(
                "  memory bandwidth (triad, 3 arrays of {}): {:.1} GB/s on 1 thread, {:.1} GB/s on {} threads",
                caches::bytes(self.bandwidth.array_bytes),
                self.bandwidth.one_thread_gbs,
                self.bandwidth.all_threads_gbs,
                self.bandwidth.threads
            ),
            format!(
                "  balance: {:.1} FLOP per byte on one core, {:.1} on all (below it, a kernel is bound by memory)",
                self.balance(false),
                self.balance(true)
            ),
        ];
        match &self.caches_unknown {
            Some(why) => lines.push(format!("  caches: {why}")),
            None => lines.extend(self.caches.iter().map(|c| format!("  {}", c.describe()))),
        }
        lines.push(format!("  measured {}", self.measured_at));
        lines
    }

    fn describe_raise(&self) -> String {
        self.peak_raised.as_ref().map_or(String::new(), |r| {
            format!(
                " (a run's probe, {}; the first probe read {:.1}: something held the core then)",
                r.at, r.first_probe_gflops
            )
        })
    }
}

/// [`Limits::raise_cached_peak`] on the limits file at `path`.
fn raise_peak_in(path: &PathBuf, probe: f64) -> Option<Limits> {
    // Held until the end: two runs finishing together would otherwise both read the old peak, and
    // the lower one could be written last.
    let lock = std::fs::File::create(path.with_extension("lock")).ok()?;
    lock.lock().ok()?;
    let mut limits = read(path).ok()?;
    if !limits.raise_peak(probe) {
        return None;
    }
    // As in `load_or_measure`: a cache that cannot be written only costs the raise.
    let _ = write(path, &limits);
    Some(limits)
}

/// Now, RFC 3339, UTC.
fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// `<target>/perflab/machine-<fingerprint>.json`, in the workspace this is run from.
pub fn cache_path(fingerprint: &str) -> Option<PathBuf> {
    let workspace = paths::workspace()?;
    Some(paths::target_dir(&workspace).join("perflab").join(format!("machine-{fingerprint}.json")))
}

fn read(path: &PathBuf) -> anyhow::Result<Limits> {
    let text = std::fs::read_to_string(path)?;
    let limits: Limits = serde_json::from_str(&text)?;
    anyhow::ensure!(limits.schema == LIMITS_SCHEMA, "an older layout");
    Ok(limits)
}

/// Writes through a temporary file and a rename: two runs never leave half a file.
fn write(path: &PathBuf, limits: &Limits) -> anyhow::Result<()> {
    let dir = path.parent().context("no folder")?;
    std::fs::create_dir_all(dir)?;
    let file = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&file, limits)?;
    file.persist(path)?;
    Ok(())
}

/// A pool of every logical core where `pool` has fewer threads (None where it has them all, or
/// where one cannot be started).
fn every_core_pool(pool: &rayon::ThreadPool) -> Option<rayon::ThreadPool> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (pool.current_num_threads() < cores).then(|| rayon::ThreadPoolBuilder::new().num_threads(cores).build().ok())?
}

/// The best triad bandwidth on one thread and on every thread of `pool`.
fn triad(pool: &rayon::ThreadPool, array_bytes: u64) -> Bandwidth {
    let len = (array_bytes / 8) as usize;
    let threads = pool.current_num_threads();
    pool.install(|| {
        // Written in parallel first: each page lands where the thread that streams it runs.
        let mut a = vec![0.0f64; len];
        let (mut b, mut c) = (vec![0.0f64; len], vec![0.0f64; len]);
        b.par_iter_mut().for_each(|x| *x = 1.0);
        c.par_iter_mut().for_each(|x| *x = 2.0);
        let chunk = len.div_ceil(threads);
        let parallel = |a: &mut [f64]| {
            a.par_chunks_mut(chunk)
                .zip(b.par_chunks(chunk))
                .zip(c.par_chunks(chunk))
                .for_each(|((a, b), c)| triad_pass(a, b, c));
        };
        let bytes = 3.0 * 8.0 * len as f64;
        let all_threads_gbs = best_rate(bytes, || parallel(&mut a));
        let one_thread_gbs = best_rate(bytes, || triad_pass(&mut a, &b, &c));
        std::hint::black_box(&a);
        Bandwidth { one_thread_gbs, all_threads_gbs, threads, array_bytes: len as u64 * 8, passes: PASSES }
    })
}

/// `a[i] = b[i] + 3·c[i]`.
fn triad_pass(a: &mut [f64], b: &[f64], c: &[f64]) {
    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
        *a = b + 3.0 * c;
    }
}

/// The best of `PASSES` runs of `pass` (after one warm-up), in GB/s for `bytes` moved.
fn best_rate(bytes: f64, mut pass: impl FnMut()) -> f64 {
    pass();
    (0..PASSES)
        .map(|_| {
            let start = Instant::now();
            pass();
            bytes / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_names_vendor_model_generation_simd_and_cores() {
        assert_eq!(slug("intel", "Intel(R) Xeon(R) Platinum 8488C CPU @ 2.40GHz"), "intel-xeon-platinum-8488c");
        assert_eq!(slug("amd", "AMD EPYC"), "amd-epyc");
        assert_eq!(slug("amd", "AMD EPYC 9R14 96-Core Processor"), "amd-epyc-9r14-96-core");
        assert_eq!(slug("aarch64", "aarch64"), "aarch64");
        let here = Fingerprint::here();
        assert!(here.id.ends_with(&format!("-{}-{}c", here.simd_level, here.cores)), "{}", here.id);
        assert!(here.id.starts_with(&here.vendor), "{}", here.id);
    }

    #[test]
    fn limits_measured_from_a_one_thread_run_still_use_every_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let all = rayon::ThreadPoolBuilder::new().num_threads(cores).build().unwrap();
        match every_core_pool(&one) {
            Some(pool) => assert_eq!(pool.current_num_threads(), cores),
            None => assert_eq!(cores, 1, "a one-thread pool on {cores} cores must not measure the all-threads figure"),
        }
        assert!(every_core_pool(&all).is_none());
    }

    #[test]
    fn the_triad_probe_moves_bytes_at_a_plausible_rate_and_balance_follows() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        // Small arrays: this checks the arithmetic, not the machine.
        let bandwidth = triad(&pool, 8 << 20);
        assert!(bandwidth.one_thread_gbs > 0.1 && bandwidth.one_thread_gbs < 10_000.0, "{bandwidth:?}");
        assert_eq!((bandwidth.threads, bandwidth.array_bytes, bandwidth.passes), (2, 8 << 20, PASSES));
        let limits = Limits {
            schema: LIMITS_SCHEMA,
            fingerprint: Fingerprint { cores: 2, ..Fingerprint::here() },
            core_peak_gflops: 100.0,
            peak_raised: None,
            bandwidth: Bandwidth { one_thread_gbs: 20.0, all_threads_gbs: 25.0, ..bandwidth },
            caches: Vec::new(),
            caches_unknown: Some("unknown: test".into()),
            measured_at: String::new(),
        };
        assert_eq!((limits.balance(false), limits.balance(true)), (5.0, 8.0));
        assert!(limits.describe().iter().any(|l| l == "  caches: unknown: test"));
    }

    #[test]
    fn a_higher_probe_raises_the_peak_and_keeps_the_first_reading() {
        let bandwidth =
            Bandwidth { one_thread_gbs: 20.0, all_threads_gbs: 25.0, threads: 2, array_bytes: 1, passes: 1 };
        let mut limits = Limits {
            schema: LIMITS_SCHEMA,
            fingerprint: Fingerprint { cores: 2, ..Fingerprint::here() },
            core_peak_gflops: 86.1,
            peak_raised: None,
            bandwidth,
            caches: Vec::new(),
            caches_unknown: None,
            measured_at: String::new(),
        };
        assert!(!limits.raise_peak(80.0), "a lower probe is load, not the machine");
        assert!(!limits.raise_peak(f64::NAN));
        assert_eq!((limits.core_peak_gflops, limits.peak_raised.is_none()), (86.1, true));
        assert!(limits.raise_peak(98.9));
        assert!(limits.raise_peak(102.4));
        assert_eq!(limits.core_peak_gflops, 102.4);
        assert_eq!(limits.peak_raised.as_ref().map(|r| r.first_probe_gflops), Some(86.1));
        assert_eq!(limits.balance(false), 102.4 / 20.0);
        assert!(limits.describe()[2].contains("the first probe read 86.1"), "{:?}", limits.describe());
        // An older file (no `peak_raised`) still reads, and a raised one round-trips.
        let text = serde_json::to_string(&limits).unwrap();
        let back: Limits = serde_json::from_str(&text).unwrap();
        assert_eq!(back.peak_raised, limits.peak_raised);
        let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
        old.as_object_mut().unwrap().remove("peak_raised");
        assert!(serde_json::from_value::<Limits>(old).unwrap().peak_raised.is_none());
    }

    #[test]
    fn a_cached_peak_is_raised_in_its_file_and_never_lowered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("machine-test.json");
        assert!(raise_peak_in(&path, 99.0).is_none(), "no file: nothing to raise");
        let bandwidth =
            Bandwidth { one_thread_gbs: 20.0, all_threads_gbs: 25.0, threads: 2, array_bytes: 1, passes: 1 };
        let limits = Limits {
            schema: LIMITS_SCHEMA,
            fingerprint: Fingerprint::here(),
            core_peak_gflops: 86.1,
            peak_raised: None,
            bandwidth,
            caches: Vec::new(),
            caches_unknown: None,
            measured_at: "2026-12-07T08:00:00Z".into(),
        };
        write(&path, &limits).unwrap();
        assert!(raise_peak_in(&path, 80.0).is_none());
        assert_eq!(read(&path).unwrap().core_peak_gflops, 86.1);
        let raised = raise_peak_in(&path, 102.5).expect("a higher probe raises it");
        let kept = read(&path).unwrap();
        assert_eq!((raised.core_peak_gflops, kept.core_peak_gflops), (102.5, 102.5));
        assert_eq!(kept.peak_raised.map(|r| r.first_probe_gflops), Some(86.1));
        assert_eq!((kept.measured_at.as_str(), kept.bandwidth.one_thread_gbs), ("2026-12-07T08:00:00Z", 20.0));
    }
}

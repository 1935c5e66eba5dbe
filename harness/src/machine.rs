//! The machine a report was measured on, and its FMA peak.

use std::time::Duration;

use perflab_labs::cpu;
use perflab_labs::gemm::blocking::{self, Blocking};
use perflab_labs::simd::{self, SimdLevel};
use serde::Serialize;

use crate::limits::Limits;

/// How long the start-up probe runs on every thread.
const FIRST_PROBE: Duration = Duration::from_millis(150);
/// How long each probe inside the timing rounds runs on every thread.
const ROUND_PROBE: Duration = Duration::from_millis(20);
/// How long each round's probe of every thread at once runs: short, since a fast case runs a
/// hundred rounds or more, and a held core shows in a few milliseconds as well as in twenty.
const TOGETHER_PROBE: Duration = Duration::from_millis(5);
/// The untimed run of every thread before it, so that each has a core of its own when it starts.
const TOGETHER_WAKE_UP: Duration = Duration::from_millis(2);

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cpu: String,
    /// The level the SIMD kernels run at: the CPU's widest, or a narrower one from `PERFLAB_SIMD`.
    pub simd_level: String,
    /// The CPU's widest level: the peak is probed at it whatever the kernels run at (a library
    /// such as numpy picks its own level, and the peak is the machine's, not a setting's).
    pub cpu_simd_level: String,
    pub threads: usize,
    /// The physical cores those threads can occupy: `threads`, or fewer where the OS says the
    /// machine has fewer cores (SMT siblings share one core's FMA units).
    pub cores: usize,
    /// One core's f32 FMA peak in GFLOP/s: the best of every probe so far, each run on one thread
    /// while the others wait (see [`Machine::probe_peak`]).
    pub core_peak_gflops: f64,
    /// The peak of all the threads: `cores` × the core's peak. Not a probe of every thread at
    /// once: on a shared VM a neighbour can hold a core for a moment, and such a sum swung from
    /// 102 to 204 GFLOP/s on two cores (issue 10), while one core's best probe is steady; and
    /// with SMT every thread of a simultaneous probe gets half a core.
    pub fma_peak_gflops: f64,
    /// How many times the peak was probed.
    pub peak_probes: usize,
    /// Memory bandwidth and caches, from the machine's limits file (see `limits.rs`); None where
    /// the run did not read them (a unit test).
    pub limits: Option<Limits>,
    /// The GEMM's cache blocks at `simd_level`, each with its source and reason
    /// (`gemm/blocking.rs`): every flagship's micro-kernel runs with them. None in unit tests.
    pub gemm_blocks: Option<Blocking>,
    /// The probe of each kept round of the current measurement, GFLOP/s (see
    /// `measure::measure`): how fast one core ran, round by round.
    #[serde(skip)]
    pub round_probes: Vec<f64>,
    /// On two cores or more, each kept round's [`Machine::probe_cores_together`]: whether the
    /// cores were free while the round ran.
    #[serde(skip)]
    pub round_together: Vec<f64>,
}

impl Machine {
    /// Describes this machine and probes one core's FMA peak on a thread of `pool`.
    pub fn probe(pool: &rayon::ThreadPool) -> Machine {
        let level: SimdLevel = simd::simd_level();
        let mut machine = Machine {
            cpu: cpu::model_name(),
            simd_level: level.to_string(),
            cpu_simd_level: simd::detected().to_string(),
            threads: pool.current_num_threads(),
            cores: pool.current_num_threads().min(cpu::physical_cores().unwrap_or(usize::MAX)),
            core_peak_gflops: 0.0,
            fma_peak_gflops: 0.0,
            peak_probes: 0,
            limits: None,
            gemm_blocks: Some(blocking::blocking(level).clone()),
            round_probes: Vec::new(),
            round_together: Vec::new(),
        };
        pool.install(|| machine.probe_peak_for(FIRST_PROBE));
        machine
    }

    /// Probes one core's peak again, on the calling thread (a worker of the current pool, while
    /// the others wait), keeping the best probe. Load on the machine can only lower a probe (a
    /// busy core runs fewer FMAs), never raise it: the best of many short probes spread over a
    /// run is the figure least disturbed by load.
    pub fn probe_peak(&mut self) -> f64 {
        self.probe_peak_for(ROUND_PROBE)
    }

    /// Probes for `duration`; returns this probe's GFLOP/s.
    fn probe_peak_for(&mut self, duration: Duration) -> f64 {
        let alone = cpu::fma_peak_gflops(simd::detected(), duration);
        self.core_peak_gflops = self.core_peak_gflops.max(alone);
        self.fma_peak_gflops = self.core_peak_gflops * self.cores as f64;
        self.peak_probes += 1;
        alone
    }

    /// Runs the FMA probe on every thread of the current pool at once (a worker of it calls this)
    /// and returns their summed rate over `cores` × one core's best probe: about 1 when every core
    /// is free, about 1/2 when another VM or process holds one of two. Not a peak (see
    /// `fma_peak_gflops` for why not): a check, each round, that a run's parallel figures were
    /// timed on free cores.
    pub fn probe_cores_together(&self) -> f64 {
        let level = simd::detected();
        // Untimed first: a worker that was asleep may wake on the core of the thread that woke it,
        // and the two then share it until the OS moves one; without this, about one round in
        // twenty read 0.5 on an idle machine.
        rayon::broadcast(|_| cpu::fma_peak_gflops(level, TOGETHER_WAKE_UP));
        let rates = rayon::broadcast(|_| cpu::fma_peak_gflops(level, TOGETHER_PROBE));
        rates.iter().sum::<f64>() / (self.cores as f64 * self.core_peak_gflops)
    }

    /// Reads this machine's limits (bandwidth, caches), measuring them once if no run has.
    pub fn with_limits(mut self, pool: &rayon::ThreadPool) -> Machine {
        self.limits = Some(Limits::load_or_measure(pool, false));
        self
    }

    /// Raises the machine's cached peak (`cargo lab machine`'s, which the machine balance,
    /// `compare` and `record-reference` read) to this run's best probe where that is higher.
    pub fn keep_peak(&mut self) {
        if let Some(raised) = Limits::raise_cached_peak(self.core_peak_gflops) {
            self.limits = Some(raised);
        }
    }

    /// The peak of the cores a variant can use: one core for a serial variant, every thread of
    /// the pool for a parallel one.
    pub fn peak_for(&self, parallel: bool) -> f64 {
        if parallel { self.fma_peak_gflops } else { self.core_peak_gflops }
    }

    pub fn describe(&self) -> String {
        let simd = if self.simd_level == self.cpu_simd_level {
            self.simd_level.clone()
        } else {
            format!(
                "{} (set by PERFLAB_SIMD; the CPU has {}, and its peak is probed at that)",
                self.simd_level, self.cpu_simd_level
            )
        };
        format!(
            "CPU: {} | SIMD: {simd} | threads: {} | f32 FMA peak at start-up: {:.0} GFLOP/s per core, {:.0} on {} core{} \
             (probed again every round: each table divides by the best probe so far)",
            self.cpu,
            self.threads,
            self.core_peak_gflops,
            self.fma_peak_gflops,
            self.cores,
            if self.cores == 1 { "" } else { "s" }
        ) + &self.describe_limits()
            + &self.describe_blocks()
    }

    /// `\nGEMM blocks (avx512f): kc 640, nc 1152, mc 5724 (tuned) | why: `cargo lab machine``.
    fn describe_blocks(&self) -> String {
        let Some(blocks) = &self.gemm_blocks else { return String::new() };
        let s = blocks.sizes;
        format!(
            "\nGEMM cache blocks ({}, {} × {} tile): kc {}, nc {}, mc {} ({}; why: `cargo lab machine`)",
            blocks.level,
            blocks.mr,
            blocks.nr,
            s.kc,
            s.nc,
            s.mc,
            blocks.sources().join(", ")
        )
    }

    /// `\nmemory: 24.1 GB/s on 1 thread, 30.2 on 2 | caches: L1d 32 KiB, L2 1 MiB, L3 32 MiB`.
    fn describe_limits(&self) -> String {
        let Some(limits) = &self.limits else { return String::new() };
        let b = &limits.bandwidth;
        let caches = if limits.caches.is_empty() {
            "unknown".to_string()
        } else {
            let data = limits.caches.iter().filter(|c| c.holds_data());
            data.map(|c| format!("L{} {}", c.level, perflab_labs::caches::bytes(c.size_bytes)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "\nmemory bandwidth: {:.1} GB/s on 1 thread, {:.1} on {} | caches: {caches} (machine {}, measured {}: \
             `cargo lab machine`)",
            b.one_thread_gbs, b.all_threads_gbs, b.threads, limits.fingerprint.id, limits.measured_at
        )
    }
}

/// Memory the OS says it can give without swapping (`MemAvailable`), in bytes.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// An error with the figures when `bytes` (for `what`) will not fit in available memory.
pub fn ensure_memory(bytes: u64, what: &str) -> Result<(), String> {
    const GIB: f64 = (1u64 << 30) as f64;
    match available_memory() {
        Some(available) if bytes > available / 10 * 9 => Err(format!(
            "{what} needs {:.1} GiB of memory for its inputs and output; {:.1} GiB are available",
            bytes as f64 / GIB,
            available as f64 / GIB
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_beyond_this_machines_memory_are_refused_with_the_figures() {
        let err = ensure_memory(u64::MAX / 2, "matmul 1000000").unwrap_err();
        assert!(err.starts_with("matmul 1000000 needs") && err.contains("GiB are available"), "{err}");
        ensure_memory(1 << 20, "small").unwrap();
    }

    #[test]
    fn the_peak_keeps_one_cores_best_probe_and_counts_cores_not_threads() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut machine = Machine::probe(&pool);
        assert!(machine.core_peak_gflops > 0.0);
        assert!(machine.cores >= 1 && machine.cores <= 2);
        machine.core_peak_gflops = 1e9; // as if an earlier probe had seen an enormous peak
        machine.cores = 1; // as on one core with two SMT threads
        pool.install(|| machine.probe_peak());
        assert_eq!((machine.core_peak_gflops, machine.fma_peak_gflops, machine.peak_probes), (1e9, 1e9, 2));
        assert_eq!((machine.peak_for(false), machine.peak_for(true)), (1e9, 1e9), "two threads of one core");
    }

    #[test]
    fn a_level_narrower_than_the_cpus_is_named_and_the_peak_stays_the_cpus() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let mut machine = Machine::probe(&pool);
        assert_eq!(machine.cpu_simd_level, simd::detected().to_string());
        assert!(machine.describe().contains(&format!("SIMD: {} |", machine.simd_level)), "{}", machine.describe());
        machine.simd_level = "scalar".into(); // as under PERFLAB_SIMD=scalar
        machine.cpu_simd_level = "avx512f".into();
        let text = machine.describe();
        assert!(
            text.contains("SIMD: scalar (set by PERFLAB_SIMD; the CPU has avx512f, and its peak is probed at that)"),
            "{text}"
        );
    }
}

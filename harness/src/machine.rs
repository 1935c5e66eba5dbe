//! The machine a report was measured on.

use std::time::Duration;

use perflab_labs::cpu::{self, SimdLevel};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub simd_level: String,
    pub threads: usize,
    /// Measured f32 FMA peak with `threads` cores busy, in GFLOP/s (see [`cpu::fma_peak_gflops`]).
    pub fma_peak_gflops: f64,
}

impl Machine {
    /// Describes this machine; measures the FMA peak on every thread of `pool` at once.
    pub fn probe(pool: &rayon::ThreadPool) -> Machine {
        let level: SimdLevel = cpu::simd_level();
        let per_thread = pool.broadcast(|_| cpu::fma_peak_gflops(level, Duration::from_millis(150)));
        Machine {
            cpu: cpu::model_name(),
            simd_level: level.to_string(),
            threads: pool.current_num_threads(),
            fma_peak_gflops: per_thread.iter().sum(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "CPU: {} | SIMD: {} | threads: {} | measured f32 FMA peak: {:.0} GFLOP/s",
            self.cpu, self.simd_level, self.threads, self.fma_peak_gflops
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

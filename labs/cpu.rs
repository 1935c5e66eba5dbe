//! What the CPU offers, detected at run time, and how fast it can multiply-add.
//!
//! Everything here dispatches at run time: a default build (no `-C target-cpu`) runs the widest
//! kernels the CPU has, keeps working on CPUs without AVX2, and keeps working under valgrind,
//! which cannot execute AVX-512 and hides it from CPUID.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::simd::{F32Vec, Scalar8};

/// The instruction-set level a SIMD kernel runs at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Portable Rust, no intrinsics: what every CPU (and aarch64) runs.
    Scalar,
    /// 256-bit AVX2 with fused multiply-add.
    Avx2Fma,
    /// 512-bit AVX-512F (with FMA).
    Avx512,
}

impl SimdLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Avx2Fma => "avx2+fma",
            SimdLevel::Avx512 => "avx512f",
        }
    }

    /// Every level this CPU can run, narrowest first (tests run each one).
    pub fn available() -> Vec<SimdLevel> {
        [SimdLevel::Scalar, SimdLevel::Avx2Fma, SimdLevel::Avx512]
            .into_iter()
            .filter(|level| *level <= detected())
            .collect()
    }

    fn parse(name: &str) -> Option<SimdLevel> {
        match name {
            "scalar" => Some(SimdLevel::Scalar),
            "avx2" | "avx2+fma" => Some(SimdLevel::Avx2Fma),
            "avx512" | "avx512f" => Some(SimdLevel::Avx512),
            _ => None,
        }
    }
}

impl fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The widest level the hardware supports.
pub fn detected() -> SimdLevel {
    #[cfg(target_arch = "x86_64")]
    {
        // Each level implies the ones below it, so AVX-512 counts only with AVX2 and FMA too
        // (a virtual machine may expose odd combinations).
        let avx2_fma = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        if avx2_fma && is_x86_feature_detected!("avx512f") {
            return SimdLevel::Avx512;
        }
        if avx2_fma {
            return SimdLevel::Avx2Fma;
        }
    }
    SimdLevel::Scalar
}

/// The level the SIMD kernels use: the detected one, or a narrower one asked for with
/// `PERFLAB_SIMD=scalar|avx2|avx512` (a wider one than the CPU has is ignored).
pub fn simd_level() -> SimdLevel {
    static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let hardware = detected();
        let Ok(asked) = std::env::var("PERFLAB_SIMD") else { return hardware };
        match SimdLevel::parse(&asked) {
            Some(level) if level <= hardware => level,
            Some(level) => {
                eprintln!("note: PERFLAB_SIMD={asked} asks for {level}, which this CPU lacks: using {hardware}");
                hardware
            }
            None => {
                eprintln!("note: PERFLAB_SIMD={asked} is not one of scalar, avx2, avx512: using {hardware}");
                hardware
            }
        }
    })
}

/// The CPU's model name, as the OS reports it.
pub fn model_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// Independent accumulator chains in the peak probe: enough to cover the FMA latency (4 cycles)
/// times the number of FMA pipes (2) on current x86 cores, with room to spare.
const PROBE_CHAINS: usize = 12;

/// Measures one core's f32 multiply-add peak in GFLOP/s at the given SIMD level, by running
/// `PROBE_CHAINS` independent FMA chains for about `duration`.
///
/// # Panics
/// If the CPU lacks `level`.
pub fn fma_peak_gflops(level: SimdLevel, duration: Duration) -> f64 {
    assert!(level <= detected(), "this CPU cannot run {level} code");
    match level {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe { probe_avx512(duration) },
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2Fma => unsafe { probe_avx2(duration) },
        _ => probe::<Scalar8>(duration),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn probe_avx512(duration: Duration) -> f64 {
    probe::<std::arch::x86_64::__m512>(duration)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn probe_avx2(duration: Duration) -> f64 {
    probe::<std::arch::x86_64::__m256>(duration)
}

#[inline(always)]
fn probe<V: F32Vec>(duration: Duration) -> f64 {
    const ROUNDS: usize = 1 << 16;
    let start = Instant::now();
    let mut fmas = 0usize;
    // SAFETY: V's intrinsics are available: the callers above enable them.
    let sum = unsafe {
        let mut acc = [V::splat(0.0); PROBE_CHAINS];
        let (x, y) = (V::splat(0.999_999), V::splat(1e-7));
        while start.elapsed() < duration {
            for _ in 0..ROUNDS {
                for a in &mut acc {
                    *a = a.mul_add(x, y);
                }
            }
            fmas += ROUNDS * PROBE_CHAINS;
        }
        let mut out = [0.0f32; 16];
        acc.iter().fold(V::splat(0.0), |s, a| s.mul_add(V::splat(1.0), *a)).store(out.as_mut_ptr());
        out[0]
    };
    std::hint::black_box(sum);
    (fmas * V::LANES * 2) as f64 / start.elapsed().as_secs_f64() / 1e9
}

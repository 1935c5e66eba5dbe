//! Which instruction set runs, decided in one place.
//!
//! Everything dispatches at run time: a default build (no `-C target-cpu`) runs the widest
//! kernels the CPU has, keeps working on CPUs without AVX2, and keeps working under valgrind,
//! which cannot execute AVX-512 and hides it from CPUID.
//!
//! Two kinds of code are dispatched here, in the spirit of matrixmultiply's `GemmSelect`:
//! - code generic over the vector type ([`WithSimd`]: the simd rung, the FMA-peak probe,
//!   epilogues), run through a `#[target_feature]` entry point per level ([`dispatch`]);
//! - GEMM-shaped code generic over the micro-kernel ([`WithMicroKernel`]: every flagship), which
//!   gets the kernel type of the level ([`dispatch_micro_kernel`]); each kernel's `run` is itself
//!   the `#[target_feature]` entry point.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use super::{F32Vec, Scalar8};
use crate::gemm::kernel::{self as micro, MicroKernel};

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

    /// Every level, narrowest first.
    pub const ALL: [SimdLevel; 3] = [SimdLevel::Scalar, SimdLevel::Avx2Fma, SimdLevel::Avx512];

    /// Every level this CPU can run, narrowest first (tests run each one).
    pub fn available() -> Vec<SimdLevel> {
        SimdLevel::ALL.into_iter().filter(|level| *level <= detected()).collect()
    }

    /// `scalar`, `avx2` (or `avx2+fma`), `avx512` (or `avx512f`).
    pub fn parse(name: &str) -> Option<SimdLevel> {
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

/// A level forced for the whole process by [`force_level`]: 0 when none, else the level's index + 1.
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Makes [`simd_level`] return `level` (None: what it returns normally), for every thread. The
/// exercise checker (`cargo lab check`) runs a learner's kernel at each level the CPU has this way,
/// since the kernel asks `simd_level()` itself. Returns the level forced before.
///
/// # Panics
/// If the CPU lacks `level`.
pub fn force_level(level: Option<SimdLevel>) -> Option<SimdLevel> {
    let code = match level {
        None => 0,
        Some(level) => {
            assert!(level <= detected(), "this CPU cannot run {level} code");
            level as u8 + 1
        }
    };
    decode(FORCED.swap(code, Ordering::SeqCst))
}

fn decode(code: u8) -> Option<SimdLevel> {
    SimdLevel::ALL.get(usize::from(code).checked_sub(1)?).copied()
}

/// The level the SIMD kernels use: the detected one, or a narrower one asked for with
/// `PERFLAB_SIMD=scalar|avx2|avx512` (a wider one than the CPU has is ignored), or the one the
/// checker forced ([`force_level`]).
pub fn simd_level() -> SimdLevel {
    if let Some(level) = decode(FORCED.load(Ordering::Relaxed)) {
        return level;
    }
    configured_level()
}

fn configured_level() -> SimdLevel {
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

/// A computation written once over the vector type.
pub trait WithSimd {
    type Output;
    /// Runs the computation with `V` as the vector type. Implementations are `#[inline(always)]`,
    /// so that they compile inside the entry point of `V`'s instruction set.
    ///
    /// # Safety
    /// `V`'s instruction set is enabled: only [`dispatch`] calls this.
    unsafe fn run<V: F32Vec>(self) -> Self::Output;
}

/// Runs `task` at `level`.
///
/// # Panics
/// If the CPU lacks `level`.
pub fn dispatch<T: WithSimd>(level: SimdLevel, task: T) -> T::Output {
    assert!(level <= detected(), "this CPU cannot run {level} code");
    match level {
        // SAFETY: the CPU has the level (asserted above).
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe { run_avx512(task) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2Fma => unsafe { run_avx2(task) },
        // SAFETY: Scalar8 needs no instruction set beyond the target's baseline.
        _ => unsafe { task.run::<Scalar8>() },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512<T: WithSimd>(task: T) -> T::Output {
    // SAFETY: this function is compiled with AVX-512F and only called where the CPU has it.
    unsafe { task.run::<std::arch::x86_64::__m512>() }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<T: WithSimd>(task: T) -> T::Output {
    // SAFETY: this function is compiled with AVX2 and FMA and only called where the CPU has them.
    unsafe { task.run::<std::arch::x86_64::__m256>() }
}

/// A GEMM-shaped computation written once over the micro-kernel.
pub trait WithMicroKernel {
    type Output;
    /// Runs the computation with `K` as the micro-kernel (whose `run` has its own entry point).
    ///
    /// # Safety
    /// The CPU has `K::LEVEL`: only [`dispatch_micro_kernel`] calls this.
    unsafe fn run<K: MicroKernel>(self) -> Self::Output;
}

/// Runs `task` with the micro-kernel of `level`.
///
/// # Panics
/// If the CPU lacks `level`.
pub fn dispatch_micro_kernel<T: WithMicroKernel>(level: SimdLevel, task: T) -> T::Output {
    assert!(level <= detected(), "this CPU cannot run {level} code");
    // SAFETY (every arm): the CPU has the level (asserted above), which is the kernel's LEVEL.
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        SimdLevel::Avx512 => unsafe { task.run::<micro::Avx512>() },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        SimdLevel::Avx2Fma => unsafe { task.run::<micro::Avx2>() },
        // SAFETY: the portable kernel needs nothing beyond the target's baseline.
        _ => unsafe { task.run::<micro::Portable>() },
    }
}

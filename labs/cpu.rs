//! What the CPU is called, and how fast it can multiply-add: the peak the reports compare with.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::simd::{self, F32Vec, SimdLevel, WithSimd};

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

/// Who made the CPU and which generation it is, as the OS reports it: on a VM the model name may
/// be only "AMD EPYC", and the family and model numbers are what tell Zen 3 (family 25, model 1)
/// from Zen 4 (family 25, model 17).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `amd`, `intel`, or the architecture (`aarch64`) where the OS names no vendor.
    pub vendor: String,
    pub family: Option<u32>,
    pub model: Option<u32>,
}

/// This CPU's [`Identity`] (Linux `/proc/cpuinfo`; the architecture alone elsewhere).
pub fn identity() -> Identity {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        info.lines()
            .find(|line| line.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|line| line.split(':').nth(1))
            .map(|value| value.trim().to_string())
    };
    let vendor = match field("vendor_id").as_deref() {
        Some("AuthenticAMD") => "amd".to_string(),
        Some("GenuineIntel") => "intel".to_string(),
        Some(other) => other.to_lowercase(),
        None => std::env::consts::ARCH.to_string(),
    };
    let number = |key: &str| field(key).and_then(|v| v.parse().ok());
    Identity { vendor, family: number("cpu family"), model: number("model") }
}

/// Whether this CPU's cores add on pipes of their own beside their FMA pipes, so that a
/// subtraction next to each multiply-add takes no multiply-add slot: AMD's Zen cores (family 23
/// and later: two FADD pipes beside two FMA pipes). Intel's cores since Skylake issue additions to
/// the same two ports as their FMAs. Read once.
pub fn adds_beside_fmas() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| {
        let id = identity();
        id.vendor == "amd" && id.family.is_some_and(|family| family >= 23)
    })
}

/// Physical cores, where the OS says (Linux: one per distinct set of SMT siblings in sysfs). Two
/// hardware threads of one core share its FMA units, so a peak counts cores, not threads.
pub fn physical_cores() -> Option<usize> {
    let mut cores = std::collections::HashSet::new();
    for entry in std::fs::read_dir("/sys/devices/system/cpu").ok()?.flatten() {
        let name = entry.file_name();
        let is_cpu = name
            .to_str()
            .and_then(|n| n.strip_prefix("cpu"))
            .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()));
        if let Some(siblings) =
            is_cpu.then(|| std::fs::read_to_string(entry.path().join("topology/thread_siblings_list")).ok()).flatten()
        {
            cores.insert(siblings.trim().to_string());
        }
    }
    (!cores.is_empty()).then_some(cores.len())
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
    simd::dispatch(level, Probe { duration })
}

struct Probe {
    duration: Duration,
}

impl WithSimd for Probe {
    type Output = f64;

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) -> f64 {
        const ROUNDS: usize = 1 << 14;
        let start = Instant::now();
        let mut fmas = 0usize;
        // SAFETY: `dispatch` enabled V's instruction set; `out` holds 16 floats, the widest vector.
        let sum = unsafe {
            let mut acc = [V::splat(0.0); PROBE_CHAINS];
            let (x, y) = (V::splat(0.999_999), V::splat(1e-7));
            while start.elapsed() < self.duration {
                for _ in 0..ROUNDS {
                    for a in &mut acc {
                        *a = a.mul_add(x, y);
                    }
                }
                fmas += ROUNDS * PROBE_CHAINS;
            }
            let mut out = [0.0f32; 16];
            acc.iter().fold(V::splat(0.0), |s, a| s.add(*a)).store(out.as_mut_ptr());
            out[0]
        };
        std::hint::black_box(sum);
        (fmas * V::LANES * 2) as f64 / start.elapsed().as_secs_f64() / 1e9
    }
}

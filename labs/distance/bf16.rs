//! The k-NN flagship's filter in bfloat16: its inner products at twice the f32 rate, and the
//! answer still exact.
//!
//! bf16 is f32 with the low 16 bits of the significand dropped: the same exponent range, 8
//! significant bits instead of 24. AVX-512 BF16's `vdpbf16ps` multiplies two pairs of bf16 values
//! in each 32-bit lane and adds both products into the lane's f32 accumulator: 32 multiply-adds
//! per 512-bit instruction where `vfmadd231ps` does 16, issued at the same rate on Zen 4 (the
//! k-NN README has the probe's figures). Not every core does: the flagship uses these products
//! only where [`rate_over_f32`] finds them fast enough to pay for the wider bound.
//!
//! The flagship's filter only decides which points are worth an exact distance: a point is
//! skipped when a *lower bound* of its distance exceeds the query's current k-th distance. The
//! bf16 products are further from the truth (about 2⁻⁷ relative, where f32's are about d·2⁻²⁴),
//! so the lower bound moves down by that much more ([`super::exact::epsilon_for`]): a few more
//! points are re-ranked, and the re-ranking computes each one's distance again in f32 with the
//! direct form. The answer is bit for bit the f32 flagship's; only the filter got cheaper.
//!
//! Packing: each slot of a sliver (f32-sized) holds coordinates 2p (low 16 bits) and 2p + 1
//! (high), which is the pairing `vdpbf16ps` multiplies; an odd d pads the last pair with zero.

#[cfg(target_arch = "x86_64")]
use crate::gemm::kernel::{self, MicroKernel, Operands, TileSink};
#[cfg(target_arch = "x86_64")]
use crate::simd::SimdLevel;

/// `x` rounded to the nearest bf16 (ties to even), as its 16 bits. `x` is finite and below
/// f32::MAX by more than half a bf16 step (the inputs' row-norm limit sees to it): the carry
/// of the rounding may move into the exponent, never past it.
#[inline(always)]
pub fn bf16_bits(x: f32) -> u32 {
    let bits = x.to_bits();
    // Adding 0x7fff plus the lowest kept bit, then truncating, rounds to nearest with ties to
    // the even neighbour.
    (bits + 0x7fff + ((bits >> 16) & 1)) >> 16
}

/// The slot holding `low` and `high` as bf16, low in the low half: stored in an f32 slice as
/// bits (never used as an f32 value).
#[inline(always)]
pub fn pair(low: f32, high: f32) -> f32 {
    f32::from_bits(bf16_bits(low) | bf16_bits(high) << 16)
}

/// Turns a packed sliver of d rows of `nr` f32 values (row p holds coordinate p of each point)
/// into ⌈d/2⌉ rows of `nr` pairs, in place: pair row p from f32 rows 2p and 2p + 1 (zeros for
/// the row past an odd d). Row p is written after rows 2p and 2p + 1 are read, and every row
/// below 2p was read before, so nothing is overwritten before its turn.
pub fn pair_rows(sliver: &mut [f32], d: usize, nr: usize) {
    let mut row = [0.0f32; 64];
    assert!(nr <= row.len() && sliver.len() >= d * nr);
    let row = &mut row[..nr];
    for p in 0..d.div_ceil(2) {
        let low = &sliver[2 * p * nr..][..nr];
        if 2 * p + 1 < d {
            let high = &sliver[(2 * p + 1) * nr..][..nr];
            for ((out, &l), &h) in row.iter_mut().zip(low).zip(high) {
                *out = pair(l, h);
            }
        } else {
            for (out, &l) in row.iter_mut().zip(low) {
                *out = pair(l, 0.0);
            }
        }
        sliver[p * nr..][..nr].copy_from_slice(row);
    }
}

/// Whether this CPU runs AVX-512 BF16 (and AVX-512F, which the kernel's tile also needs).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::simd::detected() == SimdLevel::Avx512 && is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Independent `vdpbf16ps` chains in the rate probe: more than its latency times its pipes on any
/// AVX-512 BF16 core we know of (Zen 4: two pipes; the f32 probe's 12 chains would just do).
#[cfg(target_arch = "x86_64")]
const PROBE_CHAINS: usize = 16;

/// One core's multiply-add rate in bf16 pairs, in GFLOP/s counted as the f32 peak counts them (two
/// flops per multiply-add), by `PROBE_CHAINS` independent `vdpbf16ps` chains for about `duration`.
/// `None` where the CPU lacks AVX-512 BF16.
pub fn dot_peak_gflops(duration: std::time::Duration) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: the CPU has AVX-512F and BF16 (checked just above).
        return Some(unsafe { probe(duration) });
    }
    let _ = duration;
    None
}

/// # Safety
/// The CPU has AVX-512F and AVX-512 BF16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn probe(duration: std::time::Duration) -> f64 {
    use std::arch::x86_64::*;
    const ROUNDS: usize = 1 << 12;
    let start = std::time::Instant::now();
    let mut instructions = 0usize;
    let mut acc = [_mm512_setzero_ps(); PROBE_CHAINS];
    // Pairs of small values, so that the chains never overflow.
    let x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3), _mm512_set1_ps(1e-3));
    while start.elapsed() < duration {
        for _ in 0..ROUNDS {
            for a in &mut acc {
                *a = _mm512_dpbf16_ps(*a, x, x);
            }
        }
        instructions += ROUNDS * PROBE_CHAINS;
    }
    let sum = acc.iter().fold(_mm512_setzero_ps(), |s, a| _mm512_add_ps(s, *a));
    std::hint::black_box(_mm512_reduce_add_ps(sum));
    // 16 lanes, two multiply-adds each, two flops per multiply-add.
    (instructions * 16 * 2 * 2) as f64 / start.elapsed().as_secs_f64() / 1e9
}

/// How many times faster this core multiply-adds in bf16 pairs than in f32 (both probed on the
/// calling thread, in turns, best of three each, so that a busy moment lowers both alike);
/// `None` where the CPU lacks AVX-512 BF16. Probed once per process (about 25 ms).
pub fn rate_over_f32() -> Option<f64> {
    static RATIO: std::sync::OnceLock<Option<f64>> = std::sync::OnceLock::new();
    *RATIO.get_or_init(|| {
        let turn = std::time::Duration::from_millis(4);
        let (mut bf16, mut f32) = (0.0f64, 0.0f64);
        for _ in 0..3 {
            bf16 = bf16.max(dot_peak_gflops(turn)?);
            f32 = f32.max(crate::cpu::fma_peak_gflops(crate::simd::SimdLevel::Avx512, turn));
        }
        Some(bf16 / f32)
    })
}

/// AVX-512 BF16: the AVX-512 kernel's 12 × 32 tile (24 zmm accumulators), each step of the
/// depth a pair of coordinates. Only for the distance sweep (`tiles.rs`): its slivers come from
/// `pack.rs` with [`Operands::Bf16Pairs`].
#[cfg(target_arch = "x86_64")]
pub struct Avx512Bf16;

#[cfg(target_arch = "x86_64")]
impl MicroKernel for Avx512Bf16 {
    const LEVEL: SimdLevel = SimdLevel::Avx512;
    const OPERANDS: Operands = Operands::Bf16Pairs;
    const MR: usize = kernel::AVX512_MR;
    const NR: usize = kernel::AVX512_NR;

    unsafe fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
        assert!(ldc >= Self::NR && c.len() >= (Self::MR - 1) * ldc + Self::NR, "C tile out of bounds");
        // SAFETY: the caller's contract (the CPU has AVX-512F; `run_into` checks BF16 itself).
        unsafe { Self::run_into(kc, a, b, None, Self::MR, ToC { c, ldc, overwrite }) };
    }

    unsafe fn run_into<S: TileSink>(kc: usize, a: &[f32], b: &[f32], init: Option<&[f32]>, rows: usize, sink: S) {
        assert!(available(), "this CPU has no AVX-512 BF16");
        let init = kernel::init_pointer::<Self>(kc, a, b, init);
        const THIRD: usize = kernel::AVX512_MR / 3;
        // SAFETY: bounds checked by `init_pointer`; the CPU has AVX-512F and BF16 (asserted above).
        unsafe {
            if rows <= THIRD {
                tile_into::<S, THIRD>(kc, a.as_ptr(), b.as_ptr(), init, sink)
            } else {
                tile_into::<S, { kernel::AVX512_MR }>(kc, a.as_ptr(), b.as_ptr(), init, sink)
            }
        }
    }
}

/// A sink that writes the tile into C, rows `ldc` apart, as the f32 kernels' `run` does: over
/// C's old values, or added to them.
#[cfg(target_arch = "x86_64")]
struct ToC<'c> {
    c: &'c mut [f32],
    ldc: usize,
    overwrite: bool,
}

#[cfg(target_arch = "x86_64")]
impl TileSink for ToC<'_> {
    #[inline(always)]
    unsafe fn registers<V: crate::simd::F32Vec, const MR: usize, const NV: usize>(self, acc: &[[V; NV]; MR]) {
        let ToC { c, ldc, overwrite } = self;
        assert!(c.len() >= (MR - 1) * ldc + NV * V::LANES);
        for (r, acc_r) in acc.iter().enumerate() {
            for (v, acc_rv) in acc_r.iter().enumerate() {
                // SAFETY: V is enabled (the sink's contract); the vector is inside C's tile.
                unsafe {
                    let dst = c.as_mut_ptr().add(r * ldc + v * V::LANES);
                    let out = if overwrite { *acc_rv } else { V::load(dst).add(*acc_rv) };
                    out.store(dst);
                }
            }
        }
    }

    unsafe fn memory(self, tile: &[f32], nr: usize) {
        let ToC { c, ldc, overwrite } = self;
        for (row, c_row) in tile.chunks_exact(nr).zip(c.chunks_mut(ldc)) {
            for (out, &value) in c_row.iter_mut().zip(row) {
                *out = if overwrite { value } else { *out + value };
            }
        }
    }
}

/// The first ROWS rows of the tile (A holds MR slots per step), plus `init`'s unless null, to
/// `sink`.
///
/// # Safety
/// The CPU has AVX-512F and AVX-512 BF16; `a` holds MR·kc slots, `b` NR·kc, `init` (unless
/// null) MR·NR floats.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn tile_into<S: TileSink, const ROWS: usize>(
    kc: usize,
    mut a: *const f32,
    mut b: *const f32,
    init: *const f32,
    sink: S,
) {
    use std::arch::x86_64::*;
    const LDA: usize = kernel::AVX512_MR;
    // SAFETY: every pointer stays inside the slivers and `init` (our contract).
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 2]; ROWS];
        // Unrolled and prefetched as the f32 kernel's loop (steps of pairs here).
        for _ in 0..kc / kernel::UNROLL {
            _mm_prefetch::<_MM_HINT_T0>(a.wrapping_add(kernel::PREFETCH_AHEAD * LDA).cast());
            for _ in 0..kernel::UNROLL {
                step::<ROWS>(&mut acc, a, b);
                a = a.add(LDA);
                b = b.add(kernel::AVX512_NR);
            }
        }
        for _ in 0..kc % kernel::UNROLL {
            step::<ROWS>(&mut acc, a, b);
            a = a.add(LDA);
            b = b.add(kernel::AVX512_NR);
        }
        if !init.is_null() {
            for (r, acc_r) in acc.iter_mut().enumerate() {
                for (v, acc_rv) in acc_r.iter_mut().enumerate() {
                    *acc_rv = _mm512_add_ps(_mm512_loadu_ps(init.add(r * kernel::AVX512_NR + v * 16)), *acc_rv);
                }
            }
        }
        sink.registers::<__m512, ROWS, 2>(&acc);
    }
}

/// One step of the depth: `acc[r][v] += a[r] · b[v]` over one pair of coordinates, per lane.
///
/// # Safety
/// The CPU has AVX-512F and AVX-512 BF16; `a` holds ROWS slots, `b` 32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
#[inline]
unsafe fn step<const ROWS: usize>(acc: &mut [[std::arch::x86_64::__m512; 2]; ROWS], mut a: *const f32, b: *const f32) {
    use std::arch::x86_64::*;
    // SAFETY: the reads stay inside the slivers (our contract); a bf16 vector is 64 bytes of any
    // bits, as the f32 and integer ones are, so the transmutes only rename the type.
    unsafe {
        let b_row: [__m512bh; 2] = std::mem::transmute([_mm512_loadu_ps(b), _mm512_loadu_ps(b.add(16))]);
        for acc_r in acc.iter_mut() {
            let a_r: __m512bh = std::mem::transmute(_mm512_set1_epi32(a.cast::<i32>().read()));
            acc_r[0] = _mm512_dpbf16_ps(acc_r[0], a_r, b_row[0]);
            acc_r[1] = _mm512_dpbf16_ps(acc_r[1], a_r, b_row[1]);
            a = a.add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_to_bf16_is_to_nearest_with_ties_to_even() {
        let step = 2f32.powi(-7); // one bf16 step above 1
        assert_eq!(bf16_bits(1.0), 0x3f80);
        assert_eq!(bf16_bits(-1.5), 0xbfc0);
        assert_eq!(bf16_bits(1.0 + step / 2.0), 0x3f80, "a tie goes down to the even 1.0");
        assert_eq!(bf16_bits(1.0 + 1.5 * step), 0x3f82, "a tie goes up to the even 1 + 2 steps");
        assert_eq!(bf16_bits(1.0 + step / 2.0 + f32::EPSILON), 0x3f81, "just past a tie goes up");
        assert_eq!(bf16_bits(2.0 - f32::EPSILON), 0x4000, "the carry moves into the exponent");
        assert_eq!(bf16_bits(0.0), 0);
        // Every rounding is the nearest bf16, and within 2⁻⁸ relative of a normal value.
        for i in 0..100_000u32 {
            // Spread over every binade and both signs, short of the largest (the inputs' limit).
            let x = f32::from_bits(i.wrapping_mul(2_654_435_761));
            if !x.is_finite() || x.abs() > 1e38 {
                continue;
            }
            let rounded = f32::from_bits(bf16_bits(x) << 16);
            let below = f32::from_bits(x.to_bits() & 0xffff_0000);
            let above = f32::from_bits((x.to_bits() & 0xffff_0000) + 0x1_0000);
            let error = (rounded as f64 - x as f64).abs();
            assert!(error <= (below as f64 - x as f64).abs().min((above as f64 - x as f64).abs()), "{x}");
            // Relative only in the normal range: a subnormal has fewer significant bits (the
            // kernel reads those as zero anyway; `exact::epsilon_for` covers it).
            assert!(x.abs() < f32::MIN_POSITIVE || error <= (x as f64).abs() / 256.0, "{x}");
        }
    }

    #[test]
    fn paired_rows_hold_coordinates_2p_and_2p_plus_1_of_each_point() {
        for d in [1, 2, 5, 8] {
            let nr = 4;
            let value = |p: usize, j: usize| (p * 10 + j) as f32 + 0.25;
            let mut sliver: Vec<f32> = (0..d * nr).map(|i| value(i / nr, i % nr)).collect();
            pair_rows(&mut sliver, d, nr);
            for p in 0..d.div_ceil(2) {
                for j in 0..nr {
                    let high = if 2 * p + 1 < d { value(2 * p + 1, j) } else { 0.0 };
                    assert_eq!(
                        sliver[p * nr + j].to_bits(),
                        pair(value(2 * p, j), high).to_bits(),
                        "d {d}, ({p}, {j})"
                    );
                }
            }
        }
    }
}

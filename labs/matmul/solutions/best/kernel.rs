//! The micro-kernel: one MR × NR tile of C from an A sliver and a B sliver, in registers.
//!
//! Per step of the depth: NR/LANES vector loads of B, MR broadcasts of A, MR·NR/LANES fused
//! multiply-adds into MR·NR/LANES accumulators that never leave the registers. To keep both FMA
//! pipes busy despite a 4-cycle latency a core needs at least 8 independent accumulators; the
//! tiles below have 12 (AVX2) and 24 (AVX-512), and leave registers for B and the broadcast.

use crate::simd::{F32Vec, Scalar8};

/// The largest MR × NR of any kernel (scratch space for edge tiles).
pub(super) const MAX_TILE: usize = 12 * 32;

/// A micro-kernel and the block sizes that feed it.
pub(super) trait MicroKernel {
    /// Rows of the register tile.
    const MR: usize;
    /// Columns of the register tile.
    const NR: usize;
    /// Depth per packed block: a B sliver (KC × NR) must stay in L1 across a whole A block.
    const KC: usize;
    /// Rows per A block: the packed A block (MC × KC) must stay in L2.
    const MC: usize;
    /// Columns per B panel: the packed panel (KC × NC) stays in L3, shared by all cores.
    const NC: usize;

    /// `C[0..MR, 0..NR] (=|+=) A_sliver · B_sliver` over depth `kc`; rows of C are `ldc` apart.
    /// Only reachable after `matmul_at` checked that the CPU has this kernel's instructions.
    fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool);
}

/// Checks the slices cover what the kernel will touch, so `run` stays memory-safe.
#[inline(always)]
fn assert_tile_fits<K: MicroKernel>(kc: usize, a: &[f32], b: &[f32], c: &[f32], ldc: usize) {
    assert!(a.len() >= K::MR * kc && b.len() >= K::NR * kc, "packed slivers too short");
    assert!(ldc >= K::NR && c.len() >= (K::MR - 1) * ldc + K::NR, "C tile out of bounds");
}

/// The kernel body, generic over the vector type: `NV` vectors of B per row of the tile.
///
/// # Safety
/// V's instruction set is enabled, `a` holds MR·kc floats, `b` NV·LANES·kc, and `c` covers the tile.
#[inline(always)]
unsafe fn tile<V: F32Vec, const MR: usize, const NV: usize>(
    kc: usize,
    mut a: *const f32,
    mut b: *const f32,
    c: *mut f32,
    ldc: usize,
    overwrite: bool,
) {
    unsafe {
        // C's tile is touched only after the depth loop: ask for its lines now, so that the
        // misses overlap the arithmetic instead of stalling at the end.
        for r in 0..MR {
            prefetch(c.add(r * ldc));
            prefetch(c.add(r * ldc + NV * V::LANES - 1));
        }
        let mut acc = [[V::splat(0.0); NV]; MR];
        // Four depth steps per trip: fewer loop branches, and more independent work in view
        // of the out-of-order scheduler.
        for _ in 0..kc / UNROLL {
            // wrapping_add: near the end of the block this points past the buffer, which a
            // prefetch may (it never faults), but an in-bounds pointer offset may not.
            prefetch(a.wrapping_add(PREFETCH_AHEAD * MR));
            for _ in 0..UNROLL {
                depth_step::<V, MR, NV>(&mut acc, a, b);
                a = a.add(MR);
                b = b.add(NV * V::LANES);
            }
        }
        for _ in 0..kc % UNROLL {
            depth_step::<V, MR, NV>(&mut acc, a, b);
            a = a.add(MR);
            b = b.add(NV * V::LANES);
        }
        for (r, acc_r) in acc.iter().enumerate() {
            for (v, acc_rv) in acc_r.iter().enumerate() {
                let dst = c.add(r * ldc + v * V::LANES);
                let out = if overwrite { *acc_rv } else { V::load(dst).add(*acc_rv) };
                out.store(dst);
            }
        }
    }
}

/// Depth steps per trip of the unrolled loop.
const UNROLL: usize = 4;
/// How many depth steps ahead the A sliver is prefetched (it streams from L2).
const PREFETCH_AHEAD: usize = 16;

/// One step of the depth: `acc[r][v] += a[r] * b[v]` for the whole tile.
#[inline(always)]
unsafe fn depth_step<V: F32Vec, const MR: usize, const NV: usize>(
    acc: &mut [[V; NV]; MR],
    a: *const f32,
    b: *const f32,
) {
    unsafe {
        let mut b_row = [V::splat(0.0); NV];
        for (v, b_v) in b_row.iter_mut().enumerate() {
            *b_v = V::load(b.add(v * V::LANES));
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let a_r = V::splat(*a.add(r));
            for (acc_rv, b_v) in acc_r.iter_mut().zip(b_row) {
                *acc_rv = a_r.mul_add(b_v, *acc_rv);
            }
        }
    }
}

/// A hint to pull the cache line holding `ptr` into L1 (a no-op where there is no such hint).
#[inline(always)]
fn prefetch(ptr: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address; SSE is baseline on x86-64.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(ptr.cast())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

/// AVX-512: a 12 × 32 tile (24 zmm accumulators). KC = 192 keeps the B sliver at 24 KiB, inside
/// a 32 KiB L1 with room for the A sliver stream; MC = 144 makes the A block 108 KiB of L2.
#[cfg(target_arch = "x86_64")]
pub(super) struct Avx512;

#[cfg(target_arch = "x86_64")]
impl MicroKernel for Avx512 {
    const MR: usize = 12;
    const NR: usize = 32;
    const KC: usize = 192;
    const MC: usize = 144;
    const NC: usize = 4096;

    fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
        assert_tile_fits::<Self>(kc, a, b, c, ldc);
        // SAFETY: bounds checked above; the CPU feature was checked by `matmul_at`.
        unsafe { avx512_tile(kc, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), ldc, overwrite) }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512_tile(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, overwrite: bool) {
    unsafe { tile::<std::arch::x86_64::__m512, 12, 2>(kc, a, b, c, ldc, overwrite) }
}

/// AVX2 + FMA: a 6 × 16 tile (12 ymm accumulators, 2 for B, 1 broadcast: 15 of 16 registers).
/// KC = 384 keeps the B sliver at 24 KiB, inside a 32 KiB L1, and halves the C updates of
/// KC = 256; MC = 96 makes the A block 144 KiB of L2. (Swept on Zen 4: KC 192-512 × MC 48-288
/// all land within a few percent; this pair was never worse.)
#[cfg(target_arch = "x86_64")]
pub(super) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl MicroKernel for Avx2 {
    const MR: usize = 6;
    const NR: usize = 16;
    const KC: usize = 384;
    const MC: usize = 96;
    const NC: usize = 4096;

    fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
        assert_tile_fits::<Self>(kc, a, b, c, ldc);
        // SAFETY: bounds checked above; the CPU feature was checked by `matmul_at`.
        unsafe { avx2_tile(kc, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), ldc, overwrite) }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_tile(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, overwrite: bool) {
    unsafe { tile::<std::arch::x86_64::__m256, 6, 2>(kc, a, b, c, ldc, overwrite) }
}

/// Portable fallback: a 4 × 16 tile of plain arrays; same loop nest, no intrinsics.
pub(super) struct Portable;

impl MicroKernel for Portable {
    const MR: usize = 4;
    const NR: usize = 16;
    const KC: usize = 256;
    const MC: usize = 128;
    const NC: usize = 4096;

    fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
        assert_tile_fits::<Self>(kc, a, b, c, ldc);
        // SAFETY: bounds checked above; Scalar8 needs no CPU feature.
        unsafe { tile::<Scalar8, 4, 2>(kc, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), ldc, overwrite) }
    }
}

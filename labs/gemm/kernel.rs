//! The micro-kernels: one MR × NR tile of C from a packed A sliver and a packed B sliver, in
//! registers. The cache block sizes around them are chosen at run time (`blocking.rs`).
//!
//! Per step of the depth: NR/LANES vector loads of B, MR broadcasts of A, MR·NR/LANES fused
//! multiply-adds into MR·NR/LANES accumulators that never leave the registers. To keep both FMA
//! pipes busy despite a 4-cycle latency a core needs at least 8 independent accumulators; the
//! tiles below have 12 (AVX2) and 24 (AVX-512), and leave registers for B and the broadcast.

use crate::simd::{F32Vec, Scalar8, SimdLevel};

/// AVX-512: a 12 × 32 tile (24 zmm accumulators, 2 for B, 1 broadcast: 27 of 32 registers).
pub const AVX512_MR: usize = 12;
pub const AVX512_NR: usize = 32;
/// AVX2 + FMA: a 6 × 16 tile (12 ymm accumulators, 2 for B, 1 broadcast: 15 of 16 registers).
pub const AVX2_MR: usize = 6;
pub const AVX2_NR: usize = 16;
/// Portable: a 4 × 16 tile of plain arrays (two SSE registers per 8 lanes on a default build).
pub const PORTABLE_MR: usize = 4;
pub const PORTABLE_NR: usize = 16;

/// The largest MR × NR of any kernel (scratch space for edge tiles).
pub const MAX_TILE: usize = max(max(AVX512_MR * AVX512_NR, AVX2_MR * AVX2_NR), PORTABLE_MR * PORTABLE_NR);

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// What one f32-sized slot of a packed sliver holds, and so what a kernel multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operands {
    /// One f32 value per slot: d coordinates take d slots (every GEMM kernel).
    F32,
    /// Two bfloat16 values per slot, coordinates 2p (low half) and 2p + 1: d coordinates take
    /// ⌈d/2⌉ slots (the k-NN flagship's filter, `distance/bf16.rs`).
    Bf16Pairs,
}

impl Operands {
    /// Slots (depth steps of the kernel) that `d` coordinates take.
    pub const fn slots(self, d: usize) -> usize {
        match self {
            Operands::F32 => d,
            Operands::Bf16Pairs => d.div_ceil(2),
        }
    }
}

/// A micro-kernel: its instruction set and its register tile.
pub trait MicroKernel {
    /// The instruction set `run` needs.
    const LEVEL: SimdLevel;
    /// What the packed slivers hold (the depth `kc` counts slots).
    const OPERANDS: Operands = Operands::F32;
    /// Rows of the register tile.
    const MR: usize;
    /// Columns of the register tile.
    const NR: usize;

    /// `C[0..MR, 0..NR] (=|+=) A_sliver · B_sliver` over depth `kc`, rows of C `ldc` apart:
    /// `a` holds the packed A sliver (`kc` columns of MR values), `b` the packed B sliver (`kc`
    /// rows of NR values). With `overwrite` C's old values are never read.
    ///
    /// # Safety
    /// The CPU has [`Self::LEVEL`] (see [`crate::simd::dispatch_micro_kernel`]).
    ///
    /// # Panics
    /// If the slices do not cover the slivers and the tile.
    unsafe fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool);

    /// `A_sliver · B_sliver` over depth `kc`, plus `init` (an MR × NR tile, rows NR apart) when
    /// given, handed to `sink` instead of stored: the distance flagships' epilogues read their
    /// tiles from the registers. Only the first `rows` rows (≤ MR) need be right: a kernel may
    /// hand over a shorter tile when the rest are padding (k = 256 centroids leave 4 of 12 in
    /// the last sliver). The default, for a kernel without a register path (a learner's), goes
    /// through a tile in memory.
    ///
    /// # Safety
    /// The CPU has [`Self::LEVEL`].
    ///
    /// # Panics
    /// If the slices do not cover the slivers, or `init` the tile.
    unsafe fn run_into<S: TileSink>(kc: usize, a: &[f32], b: &[f32], init: Option<&[f32]>, rows: usize, sink: S) {
        let _ = rows;
        let mut tile = TileBuffer([0.0; MAX_TILE]);
        let tile = &mut tile.0[..Self::MR * Self::NR];
        if let Some(init) = init {
            tile.copy_from_slice(&init[..Self::MR * Self::NR]);
        }
        // SAFETY: the caller's contract; `tile` holds MR rows of NR floats.
        unsafe {
            Self::run(kc, a, b, tile, Self::NR, init.is_none());
            sink.memory(tile, Self::NR);
        }
    }
}

/// What takes a finished tile from [`MicroKernel::run_into`].
pub trait TileSink {
    /// The tile in registers: `acc[r][v]` holds row r, columns `v·LANES..(v + 1)·LANES` (MR
    /// rows, or fewer: see `run_into`).
    ///
    /// # Safety
    /// V's instruction set is enabled.
    unsafe fn registers<V: F32Vec, const MR: usize, const NV: usize>(self, acc: &[[V; NV]; MR]);

    /// The tile in memory, row r at `tile[r * nr..][..nr]` (a kernel without a register path).
    ///
    /// # Safety
    /// The instruction set of the kernel's level is enabled.
    unsafe fn memory(self, tile: &[f32], nr: usize);
}

/// A tile's products on a cache-line boundary: full-width stores and loads never straddle two
/// lines.
#[repr(align(64))]
pub struct TileBuffer(pub [f32; MAX_TILE]);

/// Checks the slices cover what the kernel will touch, so `run` stays memory-safe, and refuses
/// at compile time a tile larger than the loop nest's edge scratch (`MAX_TILE` floats). Every
/// micro-kernel's `run` calls it first (the learner's in `matmul/exercises/best.rs` too).
#[inline(always)]
pub(crate) fn assert_tile_fits<K: MicroKernel>(kc: usize, a: &[f32], b: &[f32], c: &[f32], ldc: usize) {
    const { assert!(K::MR * K::NR <= MAX_TILE, "an MR × NR tile must fit in MAX_TILE floats") };
    assert_slivers_fit::<K>(kc, a, b);
    assert!(ldc >= K::NR && c.len() >= (K::MR - 1) * ldc + K::NR, "C tile out of bounds");
}

/// The packed slivers hold `kc` depth steps: MR values of A and NR of B each.
#[inline(always)]
fn assert_slivers_fit<K: MicroKernel>(kc: usize, a: &[f32], b: &[f32]) {
    assert!(a.len() >= K::MR * kc && b.len() >= K::NR * kc, "packed slivers too short");
}

/// AVX-512: 24 accumulators of 16 lanes.
#[cfg(target_arch = "x86_64")]
pub struct Avx512;

#[cfg(target_arch = "x86_64")]
impl MicroKernel for Avx512 {
    const LEVEL: SimdLevel = SimdLevel::Avx512;
    const MR: usize = AVX512_MR;
    const NR: usize = AVX512_NR;

    unsafe fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
        assert_tile_fits::<Self>(kc, a, b, c, ldc);
        // SAFETY: bounds checked above; the caller guarantees the CPU has AVX-512F.
        unsafe { avx512_tile(kc, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), ldc, overwrite) }
    }

    unsafe fn run_into<S: TileSink>(kc: usize, a: &[f32], b: &[f32], init: Option<&[f32]>, rows: usize, sink: S) {
        let init = init_pointer::<Self>(kc, a, b, init);
        const THIRD: usize = AVX512_MR / 3;
        // SAFETY: bounds checked by `init_pointer`; the caller guarantees the CPU has AVX-512F.
        unsafe {
            if rows <= THIRD {
                avx512_into::<S, THIRD>(kc, a.as_ptr(), b.as_ptr(), init, sink)
            } else {
                avx512_into::<S, AVX512_MR>(kc, a.as_ptr(), b.as_ptr(), init, sink)
            }
        }
    }
}

/// The first ROWS rows of the tile, to `sink`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512_into<S: TileSink, const ROWS: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    init: *const f32,
    sink: S,
) {
    use std::arch::x86_64::__m512;
    const NV: usize = AVX512_NR / <__m512 as F32Vec>::LANES;
    // SAFETY: compiled for AVX-512F; the caller checked the bounds.
    unsafe { sink.registers(&tile_registers::<__m512, ROWS, NV, AVX512_MR>(kc, a, b, init)) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512_tile(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, overwrite: bool) {
    use std::arch::x86_64::__m512;
    // SAFETY: compiled for AVX-512F; the caller checked the bounds.
    unsafe { tile::<__m512, AVX512_MR, { AVX512_NR / <__m512 as F32Vec>::LANES }>(kc, a, b, c, ldc, overwrite) }
}

/// AVX2 + FMA: 12 accumulators of 8 lanes.
#[cfg(target_arch = "x86_64")]
pub struct Avx2;

#[cfg(target_arch = "x86_64")]
impl MicroKernel for Avx2 {
    const LEVEL: SimdLevel = SimdLevel::Avx2Fma;
    const MR: usize = AVX2_MR;
    const NR: usize = AVX2_NR;

    unsafe fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
        assert_tile_fits::<Self>(kc, a, b, c, ldc);
        // SAFETY: bounds checked above; the caller guarantees the CPU has AVX2 and FMA.
        unsafe { avx2_tile(kc, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), ldc, overwrite) }
    }

    unsafe fn run_into<S: TileSink>(kc: usize, a: &[f32], b: &[f32], init: Option<&[f32]>, rows: usize, sink: S) {
        let init = init_pointer::<Self>(kc, a, b, init);
        const THIRD: usize = AVX2_MR / 3;
        // SAFETY: bounds checked by `init_pointer`; the caller guarantees the CPU has AVX2 and FMA.
        unsafe {
            if rows <= THIRD {
                avx2_into::<S, THIRD>(kc, a.as_ptr(), b.as_ptr(), init, sink)
            } else {
                avx2_into::<S, AVX2_MR>(kc, a.as_ptr(), b.as_ptr(), init, sink)
            }
        }
    }
}

/// The first ROWS rows of the tile, to `sink`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_into<S: TileSink, const ROWS: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    init: *const f32,
    sink: S,
) {
    use std::arch::x86_64::__m256;
    const NV: usize = AVX2_NR / <__m256 as F32Vec>::LANES;
    // SAFETY: compiled for AVX2 and FMA; the caller checked the bounds.
    unsafe { sink.registers(&tile_registers::<__m256, ROWS, NV, AVX2_MR>(kc, a, b, init)) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_tile(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, overwrite: bool) {
    use std::arch::x86_64::__m256;
    // SAFETY: compiled for AVX2 and FMA; the caller checked the bounds.
    unsafe { tile::<__m256, AVX2_MR, { AVX2_NR / <__m256 as F32Vec>::LANES }>(kc, a, b, c, ldc, overwrite) }
}

/// Portable fallback: same loop nest, no intrinsics.
pub struct Portable;

impl MicroKernel for Portable {
    const LEVEL: SimdLevel = SimdLevel::Scalar;
    const MR: usize = PORTABLE_MR;
    const NR: usize = PORTABLE_NR;

    unsafe fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
        assert_tile_fits::<Self>(kc, a, b, c, ldc);
        // SAFETY: bounds checked above; Scalar8 needs no CPU feature.
        unsafe {
            tile::<Scalar8, PORTABLE_MR, { PORTABLE_NR / <Scalar8 as F32Vec>::LANES }>(
                kc,
                a.as_ptr(),
                b.as_ptr(),
                c.as_mut_ptr(),
                ldc,
                overwrite,
            )
        }
    }

    unsafe fn run_into<S: TileSink>(kc: usize, a: &[f32], b: &[f32], init: Option<&[f32]>, _rows: usize, sink: S) {
        const NV: usize = PORTABLE_NR / <Scalar8 as F32Vec>::LANES;
        let init = init_pointer::<Self>(kc, a, b, init);
        let (a, b) = (a.as_ptr(), b.as_ptr());
        // SAFETY: bounds checked by `init_pointer`; Scalar8 needs no CPU feature.
        unsafe { sink.registers(&tile_registers::<Scalar8, PORTABLE_MR, NV, PORTABLE_MR>(kc, a, b, init)) }
    }
}

/// Checks the slivers and `init` (an MR × NR tile) for [`MicroKernel::run_into`]; `init` as a
/// pointer, null for none.
#[inline(always)]
pub(crate) fn init_pointer<K: MicroKernel>(kc: usize, a: &[f32], b: &[f32], init: Option<&[f32]>) -> *const f32 {
    assert_slivers_fit::<K>(kc, a, b);
    match init {
        Some(init) => {
            assert!(init.len() >= K::MR * K::NR, "initial tile too short");
            init.as_ptr()
        }
        None => std::ptr::null(),
    }
}

/// Depth steps per trip of the unrolled loop.
pub(crate) const UNROLL: usize = 4;
/// How many depth steps ahead the A sliver is prefetched (a deep one outgrows L1). Prefetching
/// the B slivers as well measured 1% slower on Zen 4: the hardware prefetcher follows them.
pub(crate) const PREFETCH_AHEAD: usize = 16;

/// The kernel body, generic over the vector type: `NV` vectors of B per row of the tile.
///
/// # Safety
/// V's instruction set is enabled, `a` holds MR·kc floats, `b` NV·LANES·kc, and `c` covers the tile.
#[inline(always)]
unsafe fn tile<V: F32Vec, const MR: usize, const NV: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    overwrite: bool,
) {
    // SAFETY: every pointer stays inside the slivers and the tile (the caller's contract).
    unsafe {
        // C's tile is touched only after the depth loop: ask for its lines now, so that the
        // misses overlap the arithmetic instead of stalling at the end.
        for r in 0..MR {
            prefetch(c.add(r * ldc));
            prefetch(c.add(r * ldc + NV * V::LANES - 1));
        }
        let acc = accumulate::<V, MR, NV, MR>(kc, a, b);
        for (r, acc_r) in acc.iter().enumerate() {
            for (v, acc_rv) in acc_r.iter().enumerate() {
                let dst = c.add(r * ldc + v * V::LANES);
                let out = if overwrite { *acc_rv } else { V::load(dst).add(*acc_rv) };
                out.store(dst);
            }
        }
    }
}

/// The first ROWS rows of the tile in registers (the A sliver holds LDA ≥ ROWS values per depth
/// step), plus the first ROWS rows of the tile at `init` (rows NR apart) unless it is null,
/// added at the end as [`tile`] adds C's old values.
///
/// # Safety
/// V's instruction set is enabled, `a` holds LDA·kc floats, `b` NV·LANES·kc, and `init`, unless
/// null, ROWS·NV·LANES.
#[inline(always)]
unsafe fn tile_registers<V: F32Vec, const ROWS: usize, const NV: usize, const LDA: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    init: *const f32,
) -> [[V; NV]; ROWS] {
    // SAFETY: the caller's contract.
    unsafe {
        let mut acc = accumulate::<V, ROWS, NV, LDA>(kc, a, b);
        if !init.is_null() {
            for (r, acc_r) in acc.iter_mut().enumerate() {
                for (v, acc_rv) in acc_r.iter_mut().enumerate() {
                    *acc_rv = V::load(init.add((r * NV + v) * V::LANES)).add(*acc_rv);
                }
            }
        }
        acc
    }
}

/// `A_sliver · B_sliver` over depth `kc`, in MR × NV vector accumulators: the first MR of the
/// LDA values per depth step of A.
///
/// # Safety
/// V's instruction set is enabled, `a` holds LDA·kc floats and `b` NV·LANES·kc.
#[inline(always)]
unsafe fn accumulate<V: F32Vec, const MR: usize, const NV: usize, const LDA: usize>(
    kc: usize,
    mut a: *const f32,
    mut b: *const f32,
) -> [[V; NV]; MR] {
    // SAFETY: every pointer stays inside the slivers (the caller's contract).
    unsafe {
        let mut acc = [[V::splat(0.0); NV]; MR];
        // Four depth steps per trip: fewer loop branches, and more independent work in view
        // of the out-of-order scheduler.
        for _ in 0..kc / UNROLL {
            // wrapping_add: near the end of the block this points past the buffer, which a
            // prefetch may (it never faults), but an in-bounds pointer offset may not.
            prefetch(a.wrapping_add(PREFETCH_AHEAD * LDA));
            for _ in 0..UNROLL {
                depth_step::<V, MR, NV>(&mut acc, a, b);
                a = a.add(LDA);
                b = b.add(NV * V::LANES);
            }
        }
        for _ in 0..kc % UNROLL {
            depth_step::<V, MR, NV>(&mut acc, a, b);
            a = a.add(LDA);
            b = b.add(NV * V::LANES);
        }
        acc
    }
}

/// One step of the depth: `acc[r][v] += a[r] * b[v]` for the whole tile.
///
/// # Safety
/// V's instruction set is enabled; `a` holds MR floats and `b` NV·LANES.
#[inline(always)]
unsafe fn depth_step<V: F32Vec, const MR: usize, const NV: usize>(
    acc: &mut [[V; NV]; MR],
    a: *const f32,
    b: *const f32,
) {
    // SAFETY: the caller's contract.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{self, WithMicroKernel};

    /// Runs the level's kernel on random slivers into a C tile with a wider row stride, then
    /// compares every element with an f64 product (bound γ_kc·Σ|a||b|) and checks that nothing
    /// outside the tile was written.
    struct KernelMatchesOracle {
        kc: usize,
        overwrite: bool,
    }

    impl WithMicroKernel for KernelMatchesOracle {
        type Output = Result<(), String>;

        unsafe fn run<K: MicroKernel>(self) -> Result<(), String> {
            let (kc, ldc) = (self.kc, K::NR + 3);
            let value = |i: usize| ((i * 7919 % 1000) as f32 - 500.0) / 250.0;
            let a: Vec<f32> = (0..K::MR * kc).map(value).collect();
            let b: Vec<f32> = (0..K::NR * kc).map(|i| value(i + 17)).collect();
            let old: Vec<f32> = (0..K::MR * ldc).map(|i| value(i + 5)).collect();
            let mut c = if self.overwrite { vec![f32::NAN; K::MR * ldc] } else { old.clone() };
            // SAFETY: called by `dispatch_micro_kernel`, so the CPU has K::LEVEL.
            unsafe { K::run(kc, &a, &b, &mut c, ldc, self.overwrite) };
            let u = f32::EPSILON as f64 / 2.0;
            let terms = kc as f64 + 1.0; // the products, and the old value of C
            let gamma = terms * u / (1.0 - terms * u);
            for r in 0..K::MR {
                for j in 0..ldc {
                    let got = c[r * ldc + j];
                    if j >= K::NR {
                        let untouched =
                            got.to_bits() == (if self.overwrite { f32::NAN } else { old[r * ldc + j] }).to_bits();
                        if !untouched {
                            return Err(format!("{r},{j} is outside the tile but was written"));
                        }
                        continue;
                    }
                    let base = if self.overwrite { 0.0 } else { old[r * ldc + j] as f64 };
                    let (mut sum, mut abs) = (base, base.abs());
                    for p in 0..kc {
                        let product = a[p * K::MR + r] as f64 * b[p * K::NR + j] as f64;
                        sum += product;
                        abs += product.abs();
                    }
                    let within = (got as f64 - sum).abs() <= gamma * abs; // false for NaN
                    if !within {
                        return Err(format!("tile[{r}, {j}] = {got}, expected {sum} (kc = {kc})"));
                    }
                }
            }
            Ok(())
        }
    }

    /// The portable kernel without its register path: `run_into`'s default, through memory.
    struct ThroughMemory;

    impl MicroKernel for ThroughMemory {
        const LEVEL: SimdLevel = SimdLevel::Scalar;
        const MR: usize = PORTABLE_MR;
        const NR: usize = PORTABLE_NR;

        unsafe fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
            // SAFETY: forwarded.
            unsafe { Portable::run(kc, a, b, c, ldc, overwrite) }
        }
    }

    /// Collects a tile from either path, row by row.
    struct Collect<'t>(&'t mut Vec<f32>);

    impl TileSink for Collect<'_> {
        unsafe fn registers<V: F32Vec, const MR: usize, const NV: usize>(self, acc: &[[V; NV]; MR]) {
            let mut row = vec![0.0; NV * V::LANES];
            for acc_r in acc {
                for (v, acc_rv) in acc_r.iter().enumerate() {
                    // SAFETY: V is enabled (our contract); `row` holds NV·LANES floats.
                    unsafe { acc_rv.store(row.as_mut_ptr().add(v * V::LANES)) };
                }
                self.0.extend_from_slice(&row);
            }
        }

        unsafe fn memory(self, tile: &[f32], nr: usize) {
            self.0.extend(tile.chunks(nr).flat_map(|row| row.iter().copied()));
        }
    }

    /// `run_into` from the registers (every kernel the CPU has) and through memory (the default)
    /// gives the tile `run` stores, with and without an initial tile.
    #[test]
    fn both_paths_of_run_into_give_the_stored_tile() {
        struct Compare {
            kc: usize,
        }
        impl WithMicroKernel for Compare {
            type Output = ();
            unsafe fn run<K: MicroKernel>(self) {
                let kc = self.kc;
                let value = |i: usize| ((i * 7919 % 1000) as f32 - 500.0) / 250.0;
                let a: Vec<f32> = (0..K::MR * kc).map(value).collect();
                let b: Vec<f32> = (0..K::NR * kc).map(|i| value(i + 17)).collect();
                let init: Vec<f32> = (0..K::MR * K::NR).map(|i| value(i + 5)).collect();
                for (with_init, rows) in [false, true].into_iter().flat_map(|i| [1, K::MR / 3, K::MR].map(|r| (i, r))) {
                    let mut stored = init.clone();
                    let mut from_registers = Vec::new();
                    let init = with_init.then_some(&init[..]);
                    // SAFETY: called by `dispatch_micro_kernel`, so the CPU has K::LEVEL.
                    unsafe {
                        K::run(kc, &a, &b, &mut stored, K::NR, !with_init);
                        K::run_into(kc, &a, &b, init, rows, Collect(&mut from_registers));
                    }
                    // At least the rows asked for, and those right.
                    let (level, got) = (K::LEVEL, from_registers.len() / K::NR);
                    assert!(got >= rows && got <= K::MR, "{level}: {got} rows for {rows}");
                    assert_eq!(
                        from_registers[..rows * K::NR],
                        stored[..rows * K::NR],
                        "{level}, kc {kc}, init {with_init}"
                    );
                    if K::LEVEL == SimdLevel::Scalar {
                        let mut through_memory = Vec::new();
                        // SAFETY: the portable kernel needs nothing.
                        unsafe { ThroughMemory::run_into(kc, &a, &b, init, K::MR, Collect(&mut through_memory)) };
                        assert_eq!(through_memory, stored, "through memory, kc {kc}, init {with_init}");
                    }
                }
            }
        }
        for level in simd::SimdLevel::available() {
            for kc in [1, 5, 64] {
                simd::dispatch_micro_kernel(level, Compare { kc });
            }
        }
    }

    #[test]
    fn every_micro_kernel_the_cpu_has_computes_its_tile_and_nothing_else() {
        for level in simd::SimdLevel::available() {
            for kc in [1, 3, 4, 17, 384, 401] {
                for overwrite in [true, false] {
                    let result = simd::dispatch_micro_kernel(level, KernelMatchesOracle { kc, overwrite });
                    assert_eq!(result, Ok(()), "{level}, kc = {kc}, overwrite = {overwrite}");
                }
            }
        }
    }
}

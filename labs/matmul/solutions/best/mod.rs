//! Rung 5, the flagship: everything combined, in the shape BLIS made standard.
//!
//! Five loops around a micro-kernel, each blocking for one level of the memory hierarchy:
//!
//! ```text
//! split the rows of C into one band per thread     // ← rayon: bands share nothing, no barriers
//! for ic in the band's rows, mc at a time          // A panel (mc × kc) lives in L3
//!   for pc in the depth, kc at a time
//!     pack A[ic.., pc..] into MR-tall slivers      // gemm/pack.rs
//!     for jc in columns of C, nc at a time         // B block (kc × nc) lives in L2
//!       pack B[pc.., jc..] into NR-wide slivers
//!       for ir in the panel, MR at a time          // A sliver (MR × kc) lives in L1
//!         for jr in the block, NR at a time        // B slivers stream from L2
//!           micro-kernel: C[MR × NR] += A sliver · B sliver   // gemm/kernel.rs; in registers
//! ```
//!
//! The block sizes kc, nc and mc are worked out at run time from the caches the OS reports
//! (`gemm/blocking.rs`: BLIS's analytical model, unless `cargo lab tune matmul` kept better ones
//! for this CPU or a `PERFLAB_GEMM_*` variable overrides them); `cargo lab machine` prints them
//! with the reason for each. This is BLIS's loop nest applied to Cᵀ = Bᵀ·Aᵀ: our kernel is
//! vectorised along a row of C where BLIS's runs down a column.
//!
//! Packing copies each block once into the exact order the micro-kernel reads it, so its loads
//! are unit-stride, aligned, and never cross a page or alias in the cache, and the edges are
//! zero-padded so the kernel never needs a remainder case. The packing buffers come from pools
//! shared by every thread (`gemm::buffers::BufferPool`), so a warm call allocates nothing
//! whichever worker runs which band.
//!
//! Parallelism: each thread multiplies its own band of rows of A by all of B. Every thread packs
//! B for itself, k·n copies against (m / threads)·k·n multiply-adds, a relative cost of
//! threads / m (0.1% for m = 2048 on 2 threads), in exchange for no synchronisation at all
//! inside the multiply.

use rayon::prelude::*;

use crate::gemm::blocking::{self, BlockSizes};
use crate::gemm::buffers::BufferPool;
use crate::gemm::kernel::{MAX_TILE, MicroKernel};
use crate::gemm::{Block, MatRef, pack};
use crate::matmul::{Operands, Shape};
use crate::simd::{self, SimdLevel, WithMicroKernel};

/// C = A·B with the widest SIMD level available, on the current rayon pool.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    matmul_at(simd::simd_level(), shape, a, b, c);
}

/// C = A·B at an explicit SIMD level (tests run every level the CPU has).
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit `shape`.
pub fn matmul_at(level: SimdLevel, shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    shape.assert_fits(a, b, c);
    if shape.k == 0 {
        c.fill(0.0); // an empty sum: the loop nest below would never touch C
        return;
    }
    simd::dispatch_micro_kernel(level, Operands { shape, a, b, c });
}

/// C = A·B at `level` with explicit block sizes (`cargo lab tune` tries them; tests force small
/// ones so that small matrices cross every block edge).
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit `shape`.
pub fn matmul_blocked(level: SimdLevel, sizes: BlockSizes, shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    shape.assert_fits(a, b, c);
    if shape.k == 0 {
        c.fill(0.0);
        return;
    }
    simd::dispatch_micro_kernel(level, Blocked { operands: Operands { shape, a, b, c }, sizes });
}

impl WithMicroKernel for Operands<'_> {
    type Output = ();

    unsafe fn run<K: MicroKernel>(self) {
        let sizes = blocking::sizes(K::LEVEL);
        // SAFETY: forwarded: the CPU has K::LEVEL (this trait's contract), which is all that
        // `gemm` and the kernel calls below it need.
        unsafe { gemm::<K>(self.shape, self.a, self.b, self.c, sizes) }
    }
}

/// Operands with the block sizes to run them with.
struct Blocked<'a> {
    operands: Operands<'a>,
    sizes: BlockSizes,
}

impl WithMicroKernel for Blocked<'_> {
    type Output = ();

    unsafe fn run<K: MicroKernel>(self) {
        let Operands { shape, a, b, c } = self.operands;
        // SAFETY: as for `Operands`.
        unsafe { gemm::<K>(shape, a, b, c, self.sizes) }
    }
}

/// Splits C into one band of rows per thread and runs the serial loop nest on each band: the
/// bands share nothing but the read-only A and B, so the threads never wait for each other.
///
/// # Safety
/// The CPU has `K::LEVEL` (so do the functions below, which call the kernel).
unsafe fn gemm<K: MicroKernel>(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32], sizes: BlockSizes) {
    let Shape { m, k, n } = shape;
    if m == 0 || n == 0 {
        return;
    }
    let sizes = sizes.rounded(K::MR, K::NR);
    let threads = if shape.flops() < PARALLEL_MIN_FLOPS { 1 } else { rayon::current_num_threads() };
    let band_rows = rows_per_band::<K>(m, threads);
    if band_rows >= m {
        // SAFETY: our caller's contract.
        return unsafe { gemm_serial::<K>(shape, a, b, c, sizes) };
    }
    c.par_chunks_mut(band_rows * n).enumerate().for_each(|(band, c_band)| {
        let rows = c_band.len() / n;
        let a_band = &a[band * band_rows * k..][..rows * k];
        // SAFETY: our caller's contract.
        unsafe { gemm_serial::<K>(Shape { m: rows, k, n }, a_band, b, c_band, sizes) };
    });
}

/// Below this much work (a 128³ multiply) a single thread finishes before a second one would
/// have woken up (tens of microseconds on a busy machine), so small problems stay serial.
pub(crate) const PARALLEL_MIN_FLOPS: f64 = 2.0 * 128.0 * 128.0 * 128.0;

/// Rows per band: the MR-row slivers shared out evenly, one band per thread (m = 2048 with AVX2's
/// 6-row slivers on 2 threads: 342 slivers, 171 per band, so 1026 + 1022 rows).
fn rows_per_band<K: MicroKernel>(m: usize, threads: usize) -> usize {
    m.div_ceil(K::MR).div_ceil(threads.max(1)) * K::MR
}

/// Packed panels of A (mc × kc, kept in L3), one per running band.
static A_PANELS: BufferPool = BufferPool::new();
/// Packed blocks of B (kc × nc, kept in L2), one per running band.
static B_BLOCKS: BufferPool = BufferPool::new();

/// The five-loop nest on one thread.
///
/// # Safety
/// The CPU has `K::LEVEL`.
unsafe fn gemm_serial<K: MicroKernel>(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32], sizes: BlockSizes) {
    let Shape { m, k, n } = shape;
    let (a, b) = (MatRef::row_major(a, m, k), MatRef::row_major(b, k, n));
    for ic in (0..m).step_by(sizes.mc) {
        let mc = sizes.mc.min(m - ic);
        for pc in (0..k).step_by(sizes.kc) {
            let kc = sizes.kc.min(k - pc);
            let panel = Block { ic, mc, pc, kc, jc: 0, nc: n };
            A_PANELS.with_slice(kc * mc.next_multiple_of(K::MR), |a_panel| {
                pack::pack_a(a, &panel, K::MR, a_panel);
                for jc in (0..n).step_by(sizes.nc) {
                    let block = Block { jc, nc: sizes.nc.min(n - jc), ..panel };
                    B_BLOCKS.with_slice(kc * block.nc.next_multiple_of(K::NR), |b_block| {
                        pack::pack_b(b, &block, K::NR, b_block);
                        // SAFETY: our caller's contract.
                        unsafe { macro_kernel::<K>(&block, a_panel, b_block, &mut c[ic * n..], n) };
                    });
                }
            });
        }
    }
}

/// The two innermost loops: every MR × NR tile of this block of C, one A sliver at a time
/// against every B sliver of the block.
///
/// # Safety
/// The CPU has `K::LEVEL`.
unsafe fn macro_kernel<K: MicroKernel>(
    block: &Block,
    a_panel: &[f32],
    b_block: &[f32],
    c_rows: &mut [f32],
    ldc: usize,
) {
    let Block { mc, pc, kc, jc, nc, .. } = *block;
    // The first depth block writes C; later ones add to it (C starts as junk, not zeros).
    let overwrite = pc == 0;
    for ir in (0..mc).step_by(K::MR) {
        let a_sliver = &a_panel[ir * kc..(ir + K::MR) * kc];
        let rows = K::MR.min(mc - ir);
        for jr in (0..nc).step_by(K::NR) {
            let b_sliver = &b_block[jr * kc..(jr + K::NR) * kc];
            let cols = K::NR.min(nc - jr);
            let c_tile = &mut c_rows[ir * ldc + jc + jr..];
            if rows == K::MR && cols == K::NR {
                // SAFETY: our caller's contract: the CPU has K::LEVEL.
                unsafe { K::run(kc, a_sliver, b_sliver, c_tile, ldc, overwrite) };
            } else {
                // SAFETY: as above.
                unsafe { edge_tile::<K>(kc, a_sliver, b_sliver, c_tile, ldc, rows, cols, overwrite) };
            }
        }
    }
}

/// A partial tile at the bottom or right edge: the kernel writes a full tile into a scratch
/// buffer (the packed operands are zero-padded, so the extra lanes are harmless), and only
/// the `rows × cols` that exist are copied to C.
///
/// # Safety
/// The CPU has `K::LEVEL`.
#[allow(clippy::too_many_arguments)]
unsafe fn edge_tile<K: MicroKernel>(
    kc: usize,
    a_sliver: &[f32],
    b_sliver: &[f32],
    c_tile: &mut [f32],
    ldc: usize,
    rows: usize,
    cols: usize,
    overwrite: bool,
) {
    let mut scratch = [0.0f32; MAX_TILE];
    // SAFETY: our caller's contract: the CPU has K::LEVEL.
    unsafe { K::run(kc, a_sliver, b_sliver, &mut scratch, K::NR, true) };
    for r in 0..rows {
        let src = &scratch[r * K::NR..r * K::NR + cols];
        let dst = &mut c_tile[r * ldc..r * ldc + cols];
        if overwrite {
            dst.copy_from_slice(src);
        } else {
            dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
        }
    }
}

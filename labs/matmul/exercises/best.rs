//! Exercise: the flagship's micro-kernel. Reference: `crate::gemm::kernel` (the micro-kernels
//! `best` runs; peek only when stuck). The loop nest is given; you write the micro-kernel.
//!
//! Goal: a register-blocked FMA micro-kernel, dispatched at run time, that makes the given loop
//! nest as fast as `best`. Everything around the kernel is the flagship's own code, so the
//! difference between `your-best` and `best` is your micro-kernel and nothing else.
//!
//! What is given (`matmul` and `matmul_at` below, which run the flagship's loop nest from
//! `solutions/best/mod.rs` with your kernel type `K`):
//!
//! ```text
//! split the rows of C into one band per thread (rayon)
//! for ic in the band's rows, mc at a time
//!   for pc in the depth, kc at a time
//!     pack A[ic.., pc..] into K::MR-tall slivers          // gemm/pack.rs
//!     for jc in columns of C, nc at a time
//!       pack B[pc.., jc..] into K::NR-wide slivers        // gemm/pack.rs
//!       for each K::MR × K::NR tile of this block of C
//!         K::run(kc, a_sliver, b_sliver, c_tile, ldc, overwrite)   // ← yours
//! ```
//!
//! The cache blocks kc, nc and mc are the flagship's, worked out for this machine
//! (`gemm/blocking.rs`; `cargo lab machine` prints them).
//!
//! Packing zero-pads the slivers at the edges, and a partial tile at the bottom or right edge of
//! C is computed into a full-size scratch tile and only its existing part copied out: `run`
//! always computes one full MR × NR tile and never needs a remainder case.
//!
//! What is yours: the types implementing `crate::gemm::kernel::MicroKernel` (read its contract
//! there) and `with_your_kernel`, which picks one for the SIMD level. In `run`:
//! `a[p * MR + r]` is row r of the tile at depth p, `b[p * NR + j]` is column j at depth p, and
//! element (r, j) of the tile is `c[r * ldc + j]`. With `overwrite` (the first depth block) C
//! holds junk: write it without reading it; otherwise add your sum to what is there.
//! (The trait's other method, `run_into`, hands the tile to the k-NN and k-means epilogues from
//! the registers; its default, through memory, is all your kernel needs: the GEMM calls `run`.)
//!
//! Why the tile is MR × NR = 6 × 16 to start with: the tile is the accumulators. Each depth step
//! loads one row of the B sliver (NR values, a whole number of vectors) and MR values of A, and
//! does MR · NR multiply-adds, so a larger tile does more arithmetic per load; the whole tile must
//! stay in registers for the whole depth loop, beside the row of B and a broadcast of A; and it
//! needs enough independent accumulators that the FMA units never wait on their own results.
//! 6 × 16 fills AVX2's registers that way, 12 × 32 AVX-512's (the hints have the arithmetic). The packing follows your constants: the nest packs with `K::MR` and
//! `K::NR`, so each level's kernel may have its own tile shape.
//!
//! TODO 1. The portable kernel. `YourPortable::run` is the plain triple loop: one element of C at
//!         a time, a dot product over the depth. Each addition waits for the one before it, and
//!         C is written one float at a time. Keep the whole tile in a local array of MR × NR
//!         sums instead, loop over the depth outermost (one row of B, one column of A per step:
//!         an outer product added to the tile), and write C once at the end. Now every sum is
//!         independent and each row of the tile is contiguous, which the compiler vectorises.
//!         This stays your fallback for CPUs without AVX2 (and aarch64).
//!         Check: `cargo lab check matmul your-best`
//! TODO 2. An AVX2 + FMA kernel: a type `YourAvx2` (gated `#[cfg(target_arch = "x86_64")]`) with
//!         `LEVEL = SimdLevel::Avx2Fma` and the same tile and block sizes. Its `run` calls
//!         `assert_tile_fits` and then a `#[target_feature(enable = "avx2,fma")] unsafe fn` written with
//!         `std::arch::x86_64` intrinsics: the tile as an array of `__m256` accumulators (MR rows
//!         of NR / 8 vectors), per depth step NR / 8 loads of B, one broadcast of A per row and a
//!         fused multiply-add per accumulator; at the end a store per accumulator (load, add and
//!         store when not `overwrite`). Then pick it in `with_your_kernel` when `level` is
//!         `Avx2Fma` (a `match`): the assert at its top is what makes calling `run::<YourAvx2>`
//!         sound, and `level` comes from `crate::simd::simd_level()`, so `PERFLAB_SIMD=scalar`
//!         still runs your portable kernel. Why `#[target_feature]` rather than
//!         `-C target-cpu=native`: the binary keeps running on CPUs without AVX2 (and under
//!         valgrind), and the checker can test every level on one machine.
//!         Check: `cargo lab check matmul your-best`
//! TODO 3. An AVX-512 kernel: `YourAvx512` with `LEVEL = SimdLevel::Avx512`, `__m512`
//!         accumulators (16 lanes) and `#[target_feature(enable = "avx512f")]`, picked when `level`
//!         is `Avx512`. Twice the lanes and twice the registers: work out its tile from the
//!         reasoning above (`assert_tile_fits` refuses, at compile time, one too large for the edge
//!         scratch). On CPUs with two 512-bit FMA units it can double the FMAs per cycle (the ceiling,
//!         not a measurement); Zen 4 splits AVX-512 into 256-bit halves, yet there a plain AVX-512
//!         kernel measured 0.98-1.00x best against about 0.88x for a plain AVX2 one (the goal's
//!         comment in exercises.toml): measure yours. Without
//!         AVX-512 on your CPU, skip this step (the checker then times AVX2 against `best`'s AVX2).
//!         Check: `cargo lab check matmul your-best`
//! TODO 4. The last percent. Your kernel now does the same arithmetic as `best`'s; the rest is
//!         feeding it. The depth loop's counter, branch and pointer updates compete with the FMAs
//!         for issue slots (unroll the depth loop a few steps); the B slivers stream from L2 (ask
//!         for them a few steps ahead: `_mm_prefetch`); C's tile is touched only after the depth
//!         loop (ask for its lines before it starts, so the misses overlap the arithmetic). Measure
//!         after each: keep only what helps. The block sizes are the flagship's
//!         (`gemm/blocking.rs` explains them; `cargo lab tune matmul` searches around them), and
//!         moving them matters far less than the kernel.
//!         Check: `cargo lab check matmul your-best`
//!
//! Stuck? `cargo lab hint matmul your-best` reveals one hint at a time.
//!
//! Raw pointers inside `unsafe` keep bounds checks out of the hot loop: `assert_tile_fits` checks the
//! lengths once, at the top of `run`. Every `unsafe` block needs a `// SAFETY:` comment that says
//! why it is sound: clippy checks it (`undocumented_unsafe_blocks`).

use crate::gemm::kernel::{AVX2_MR, AVX2_NR, MicroKernel, assert_tile_fits};
use crate::matmul::{Operands, Shape};
use crate::simd::{self, SimdLevel, WithMicroKernel};

// ---- Given: the flagship's loop nest, run with your micro-kernel. ----

/// C = A·B at the SIMD level `crate::simd::simd_level()` says (the checker sets it to each level
/// the CPU has in turn), on the current rayon pool.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    matmul_at(simd::simd_level(), shape, a, b, c);
}

/// C = A·B with your micro-kernel for `level`.
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit `shape`.
pub fn matmul_at(level: SimdLevel, shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    shape.assert_fits(a, b, c);
    if shape.k == 0 {
        c.fill(0.0); // an empty sum: the loop nest would never touch C
        return;
    }
    // `Operands` runs the flagship's loop nest (`solutions/best/mod.rs`) with whichever kernel
    // type `K` it is given: here, the one you pick for `level`.
    with_your_kernel(level, Operands { shape, a, b, c });
}

// ---- Yours: the micro-kernels, and which one runs at each level. ----

/// Runs `task` (the loop nest) with your micro-kernel for `level`.
///
/// # Panics
/// If the CPU lacks `level`.
pub(crate) fn with_your_kernel<T: WithMicroKernel>(level: SimdLevel, task: T) -> T::Output {
    assert!(level <= simd::detected(), "this CPU cannot run {level} code");
    // TODO 2 and 3: a `match` on `level`, one arm per kernel. Until then every level runs this one.
    // SAFETY: YourPortable::LEVEL is Scalar: it needs nothing beyond the target's baseline.
    unsafe { task.run::<YourPortable>() }
}

/// The tile of the portable kernel (and, to start with, of every kernel): the flagship's AVX2 tile.
const MR: usize = AVX2_MR;
const NR: usize = AVX2_NR;

/// The portable kernel: plain Rust, any CPU.
pub struct YourPortable;

impl MicroKernel for YourPortable {
    const LEVEL: SimdLevel = SimdLevel::Scalar;
    const MR: usize = MR;
    const NR: usize = NR;

    unsafe fn run(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize, overwrite: bool) {
        assert_tile_fits::<Self>(kc, a, b, c, ldc);
        // TODO 1: the depth loop outermost, the tile summed in a local array.
        for r in 0..MR {
            for j in 0..NR {
                let mut sum = 0.0;
                for p in 0..kc {
                    sum += a[p * MR + r] * b[p * NR + j];
                }
                let c_rj = &mut c[r * ldc + j];
                *c_rj = if overwrite { sum } else { *c_rj + sum };
            }
        }
    }
}

//! Rung 3: explicit SIMD with a register-blocked FMA kernel.
//!
//! The compiler's auto-vectorised i-k-j loop loads and stores a vector of C for every single
//! multiply-add, and a default x86-64 build may only use 128-bit SSE2 without FMA. Here a tile
//! of C (`R` rows × 2 vectors) lives in registers for the whole depth loop: per step of `p` we
//! load two vectors of B, broadcast one element of A per row, and issue `2·R` fused
//! multiply-adds, with no load or store of C at all. C is written once, at the end.
//!
//! The kernel is written once, generic over the vector type ([`F32Vec`]); [`simd::dispatch`]
//! runs it inside an entry point compiled with `#[target_feature]` for AVX-512 (16 lanes) or
//! AVX2+FMA (8 lanes), picked at run time, and portable code covers every other CPU (and aarch64).
//!
//! Loop order: column strips of B outside, bands of rows of A inside, so that one strip of B
//! (k × 2 vectors: 64 KiB for k = 1024 with AVX2) stays in L2 while every band of A passes by.
//! What this rung still lacks (see `best`) is packing and blocking of the depth.

use crate::matmul::{Operands, Shape};
use crate::simd::{self, F32Vec, SimdLevel, WithSimd};

/// Rows of C per register tile at V's width. The tile needs `2·ROWS` accumulators plus two
/// registers of B and one broadcast of A: AVX2 has 16 registers (2·6 + 3 = 15), AVX-512 has 32
/// (2·12 + 3 = 27; 14 rows would fit). Which count is fastest depends on the size: on one Zen 4
/// core (`cargo lab bench matmul --variant simd --threads 1`) 12 rows ran at 105.6 / 89-90.5 /
/// 51.4 GFLOP/s at n = 512 / 1024 / 2048, 8 rows at 102.8 / 96.7-98.2 / 47.5 (at n = 1024 the rows
/// of A are 4 KiB apart, so they share cache sets, and fewer collide), 10 rows at 100.8 / 92-96.5 /
/// 49.1, and 14 rows at about 0.82x of 12 at n = 1024 (a learner's run). 12 wins two of three.
/// The portable fallback gets 4 rows.
const fn tile_rows(registers: usize) -> usize {
    let rows = (registers - 3) / 2;
    if rows > 12 {
        12
    } else if rows < 4 {
        4
    } else {
        rows
    }
}

/// C = A·B with the widest SIMD level available (see [`simd::simd_level`]).
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    matmul_at(simd::simd_level(), shape, a, b, c);
}

/// C = A·B at an explicit SIMD level (tests run every level the CPU has).
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit `shape`.
pub fn matmul_at(level: SimdLevel, shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    shape.assert_fits(a, b, c);
    simd::dispatch(level, Operands { shape, a, b, c });
}

impl WithSimd for Operands<'_> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        let Operands { shape, a, b, c } = self;
        // SAFETY: `dispatch` enabled V's instruction set; `matmul_at` checked the lengths.
        unsafe {
            match tile_rows(V::REGISTERS) {
                12 => register_blocked::<V, 12>(shape, a, b, c),
                6 => register_blocked::<V, 6>(shape, a, b, c),
                _ => register_blocked::<V, 4>(shape, a, b, c),
            }
        }
    }
}

/// The loop nest around the register tile. `MAX_ROWS` rows per band; the last band may be shorter.
///
/// # Safety
/// V's instruction set is enabled and the buffers fit `shape`.
#[inline(always)]
unsafe fn register_blocked<V: F32Vec, const MAX_ROWS: usize>(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let Shape { m, n, .. } = shape;
    let strip = 2 * V::LANES;
    let vector_cols = n - n % strip;
    for j in (0..vector_cols).step_by(strip) {
        for i in (0..m).step_by(MAX_ROWS) {
            // SAFETY: rows i..i+rows and columns j..j+strip are inside the matrices.
            unsafe {
                match (m - i).min(MAX_ROWS) {
                    12 => tile::<V, 12>(shape, a, b, c, i, j),
                    11 => tile::<V, 11>(shape, a, b, c, i, j),
                    10 => tile::<V, 10>(shape, a, b, c, i, j),
                    9 => tile::<V, 9>(shape, a, b, c, i, j),
                    8 => tile::<V, 8>(shape, a, b, c, i, j),
                    7 => tile::<V, 7>(shape, a, b, c, i, j),
                    6 => tile::<V, 6>(shape, a, b, c, i, j),
                    5 => tile::<V, 5>(shape, a, b, c, i, j),
                    4 => tile::<V, 4>(shape, a, b, c, i, j),
                    3 => tile::<V, 3>(shape, a, b, c, i, j),
                    2 => tile::<V, 2>(shape, a, b, c, i, j),
                    _ => tile::<V, 1>(shape, a, b, c, i, j),
                }
            }
        }
    }
    leftover_columns(shape, a, b, c, vector_cols);
}

/// C[i..i+R, j..j+2·LANES] = A[i..i+R, :] · B[:, j..j+2·LANES], accumulated in 2·R registers.
///
/// # Safety
/// V's instruction set is enabled; the tile lies inside C and the buffers fit `shape`.
#[inline(always)]
unsafe fn tile<V: F32Vec, const R: usize>(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32], i: usize, j: usize) {
    let Shape { k, n, .. } = shape;
    // SAFETY: the caller's contract: every row and column touched is inside A, B and C.
    unsafe {
        let mut acc = [[V::splat(0.0); 2]; R];
        for p in 0..k {
            // Row p of B, columns j..j + 2·LANES (computed from the index each step, so the
            // pointer never steps past the end of B).
            let b_row = b.as_ptr().add(p * n + j);
            let b0 = V::load(b_row);
            let b1 = V::load(b_row.add(V::LANES));
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let a_rp = V::splat(*a.as_ptr().add((i + r) * k + p));
                acc_r[0] = a_rp.mul_add(b0, acc_r[0]);
                acc_r[1] = a_rp.mul_add(b1, acc_r[1]);
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            let c_row = c.as_mut_ptr().add((i + r) * n + j);
            acc_r[0].store(c_row);
            acc_r[1].store(c_row.add(V::LANES));
        }
    }
}

/// The columns right of the last full strip (fewer than 2·LANES), in plain i-k-j order.
fn leftover_columns(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32], first_col: usize) {
    let Shape { m, k, n } = shape;
    if first_col == n {
        return;
    }
    for i in 0..m {
        let c_row = &mut c[i * n + first_col..(i + 1) * n];
        c_row.fill(0.0);
        for p in 0..k {
            let a_ip = a[i * k + p];
            for (c_ij, &b_pj) in c_row.iter_mut().zip(&b[p * n + first_col..(p + 1) * n]) {
                *c_ij += a_ip * b_pj;
            }
        }
    }
}

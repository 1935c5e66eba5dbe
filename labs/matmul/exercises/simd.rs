//! Exercise: explicit SIMD, a register-blocked FMA kernel. Reference: `../solutions/simd.rs`.
//!
//! Goal: keep a small tile of C in vector registers for the whole depth loop, so each step does
//! only loads of A and B and fused multiply-adds. Check: `cargo test --release -p perflab-labs
//! --test matmul`, then `cargo lab bench matmul --variant your-simd --variant simd`.
//!
//! TODO 1. Write the kernel once, generic over `V: F32Vec` (see `crate::simd`): a function
//!         `tile::<V, R>(shape, a, b, c, i, j)` computing `C[i..i+R, j..j+2·LANES]`.
//!         Keep `acc: [[V; 2]; R]`; for each p load two vectors of row p of B
//!         (`V::load`), broadcast `A[i+r, p]` (`V::splat`), and `mul_add` into `acc[r]`.
//!         Store acc to C at the end. Mark it `#[inline(always)]`.
//! TODO 2. Loop over it: column strips of 2·LANES outside, bands of R rows inside. Rows left at
//!         the bottom: call `tile` with a smaller R (a `match` on the remaining rows). Columns
//!         left at the right: a plain scalar i-k-j loop is fine.
//! TODO 3. Dispatch at run time. On x86-64, write thin entry points with
//!         `#[target_feature(enable = "avx2,fma")]` (V = `std::arch::x86_64::__m256`, R = 6) and
//!         `#[target_feature(enable = "avx512f")]` (V = `__m512`, R = 12), and choose with
//!         `crate::cpu::simd_level()`. Everything else (and aarch64) uses `crate::simd::Scalar8`.
//!         Guard the x86 parts with `#[cfg(target_arch = "x86_64")]` so the crate still
//!         compiles on Apple silicon.
//! TODO 4. Why R = 6 for AVX2? Count registers: 2·R accumulators + 2 of B + 1 broadcast ≤ 16.
//!         Try R = 4 and R = 8 and measure: one is short of accumulators, the other spills.
//!
//! Hints: raw pointers (`a.as_ptr().add(..)`) inside `unsafe` keep bounds checks out of the hot
//! loop, so check lengths once at the top (`shape.assert_fits(a, b, c)`). Never compile with
//! `-C target-cpu=native` to "make it work": runtime dispatch is the point (and keeps valgrind,
//! which has no AVX-512, able to run it).

use crate::matmul::{Shape, naive};

/// C = A·B. Replace the body with your SIMD version.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    naive::matmul(shape, a, b, c);
}

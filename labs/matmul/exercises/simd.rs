//! Exercise: explicit SIMD, a register-blocked FMA kernel. Reference: `../solutions/simd.rs`
//! (peek only when stuck).
//!
//! Stuck? `cargo lab hint matmul your-simd` reveals one hint at a time.
//!
//! Goal: keep a small tile of C in vector registers for the whole depth loop, so each step does
//! only loads of A and B and fused multiply-adds. `cargo lab status` shows the goal `cargo lab
//! check` measures (`exercises.toml` beside this file holds every hint too, so ask for them one at
//! a time instead of opening it); `cargo lab bench matmul --variant your-simd --variant simd
//! --threads 1` shows yours beside the reference.
//!
//! TODO 1. Write the kernel once, generic over `V: F32Vec` (see `crate::simd`): a function
//!         `tile::<V, R>(shape, a, b, c, i, j)` computing `C[i..i+R, j..j+2·LANES]`.
//!         Keep `acc: [[V; 2]; R]`; for each p load two vectors of row p of B
//!         (`V::load`), broadcast `A[i+r, p]` (`V::splat`), and `mul_add` into `acc[r]`.
//!         Store acc to C at the end. Mark it `#[inline(always)]`.
//!         Check: call it with `V = crate::simd::Scalar8` (portable: no dispatch needed yet) and a
//!         fixed R on the full R-row bands and 2·LANES-column strips, leave every other row and
//!         column to a scalar i-k-j loop, then `cargo lab check matmul your-simd`
//! TODO 2. Loop over it: column strips of 2·LANES outside, bands of R rows inside. Rows left at
//!         the bottom: call `tile` with a smaller R (a `match` on the remaining rows). Columns
//!         left at the right: a plain scalar i-k-j loop is fine.
//!         Check: `cargo lab check matmul your-simd` (its edge shapes are one off every tile size)
//! TODO 3. Dispatch at run time. Put your arguments in a struct, implement
//!         `crate::simd::WithSimd` for it (its `run::<V>` calls your loop nest; mark it
//!         `#[inline(always)]`), and call `crate::simd::dispatch(crate::simd::simd_level(), it)`.
//!         `dispatch` runs it inside an entry point compiled for the CPU's widest level:
//!         V = `__m512` (AVX-512), `__m256` (AVX2+FMA) or `crate::simd::Scalar8` (portable, and
//!         aarch64). Choose R from `V::REGISTERS` (a `match` on it picks the const generic): how
//!         many accumulators can one depth step keep in registers, beside what else it holds?
//!         Check: `cargo lab check matmul your-simd` (it runs every SIMD level the CPU has)
//! TODO 4. Is your R the best one? Try one smaller and one larger and compare with
//!         `cargo lab bench matmul --variant your-simd --variant simd --threads 1`: what do you
//!         see, and why? Run it at each level your CPU has, too (`PERFLAB_SIMD=avx2` runs the
//!         AVX2 kernel on an AVX-512 CPU): the register count differs, and so may the answer.
//!         Reading the generated assembly tells you whether the compiler kept everything in
//!         registers. Your kernel is inlined into `dispatch`'s entry point (`run_avx512`, of which
//!         there are many), so find it by its source line: `cargo lab profile matmul your-simd
//!         --threads 1` names the hot lines, then `objdump -d -l --no-show-raw-insn
//!         target/release/perflab > /tmp/perflab.s` and search it for `exercises/simd.rs:<line>`.
//!         Spills show as loads and stores of vector registers at `[rsp+...]` inside the loop.
//!         Check: `cargo lab check matmul your-simd`
//!
//! Rules: raw pointers (`a.as_ptr().add(..)`) inside `unsafe` keep bounds checks out of the hot
//! loop, so check lengths once at the top (`shape.assert_fits(a, b, c)`). Never compile with
//! `-C target-cpu=native` to "make it work": runtime dispatch is the point (and keeps valgrind,
//! which has no AVX-512, able to run it). Every `unsafe` block needs a `// SAFETY:` comment that
//! says why it is sound: clippy checks it (`undocumented_unsafe_blocks`).

use crate::matmul::{Shape, naive};

/// C = A·B. Replace the body with your SIMD version.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    naive::matmul(shape, a, b, c);
}

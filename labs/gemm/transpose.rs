//! Row-major rows into packed columns, with a centre subtracted: how k-NN's and k-means'
//! flagships pack points as the micro-kernel's vector operand (`out[p·ld + j] = row_j[p] − c[p]`).
//!
//! Done one value at a time, every store lands in another cache line (the column stride is a
//! sliver's width): at n = 10⁶, d = 32 that copy was 8% of the k-means flagship. With AVX-512,
//! 16 × 16 blocks are transposed in registers instead: 16 row loads, 64 shuffles in four rounds
//! (pairs of values, pairs of pairs, 128-bit lanes twice), 16 contiguous stores; with AVX2, 8 × 8
//! blocks the same way in three rounds (the last moves 128-bit halves). The edges (d or the count
//! not a multiple of the block) and the portable level take the scalar copy.

use crate::simd::SimdLevel;

/// Writes the whole panel: `out[p * ld_out + j] = rows[(first + j) * d + p] − centre[p]` for the
/// `points` (j below their count), and zeros in the columns past them up to `ld_out`: the square
/// blocks in registers, the rest one value at a time.
///
/// Not inlined into its callers: compiled for an AVX-512 caller, this strided copy ran at half
/// the speed (see the k-NN lab README's flagship notes).
///
/// # Panics
/// If a slice is too short for that, or the CPU lacks `level`.
#[inline(never)]
pub fn transpose_centred(
    level: SimdLevel,
    rows: &[f32],
    d: usize,
    points: std::ops::Range<usize>,
    centre: &[f32],
    out: &mut [f32],
    ld_out: usize,
) {
    let count = points.len();
    let (blocked, blocked_coordinates) = transpose_blocks_centred(level, rows, d, points.clone(), centre, out, ld_out);
    // The blocks' points lack only their last coordinates (none where d is a multiple of the
    // block); the points past the blocks are copied whole.
    let first_unblocked = if blocked_coordinates == d { blocked } else { 0 };
    for (j, i) in points.enumerate().skip(first_unblocked) {
        let row = &rows[i * d..][..d];
        for p in if j < blocked { blocked_coordinates } else { 0 }..d {
            out[p * ld_out + j] = row[p] - centre[p];
        }
    }
    for packed_row in out[..d * ld_out].chunks_exact_mut(ld_out) {
        packed_row[count..].fill(0.0);
    }
}

/// Writes `out[p * ld_out + j] = rows[(first + j) * d + p] − centre[p]` for the whole 16 × 16
/// blocks at `level` (8 × 8 with AVX2; none at the portable level), and returns how far they
/// reach: (points, coordinates). [`transpose_centred`] copies the rest (points beyond the first,
/// every coordinate; the others, coordinates beyond the second).
///
/// # Panics
/// If a slice is too short for that, or the CPU lacks `level`.
fn transpose_blocks_centred(
    level: SimdLevel,
    rows: &[f32],
    d: usize,
    points: std::ops::Range<usize>,
    centre: &[f32],
    out: &mut [f32],
    ld_out: usize,
) -> (usize, usize) {
    let count = points.len();
    assert!(points.end * d <= rows.len() && centre.len() >= d && count <= ld_out);
    assert!(d == 0 || (d - 1) * ld_out + count <= out.len());
    let Some((block, transpose)) = block_transpose(level) else { return (0, 0) };
    let (blocked_points, blocked_coordinates) = (count / block * block, d / block * block);
    for j in (0..blocked_points).step_by(block) {
        for p in (0..blocked_coordinates).step_by(block) {
            // SAFETY: the CPU has the level's instructions (`block_transpose` asserts it); rows
            // first + j .. first + j + block hold coordinates p .. p + block (points.end·d ≤ len,
            // p + block ≤ d), the centre holds p + block ≤ d values, and out holds rows
            // p .. p + block at columns j .. j + block ((d − 1)·ld_out + count ≤ len,
            // j + block ≤ count).
            unsafe {
                transpose(
                    rows.as_ptr().add((points.start + j) * d + p),
                    d,
                    centre.as_ptr().add(p),
                    out.as_mut_ptr().add(p * ld_out + j),
                    ld_out,
                );
            }
        }
    }
    (blocked_points, blocked_coordinates)
}

/// One block's transpose: (input, ld_in, centre, output, ld_out), as in `x86::transpose16_centred`.
type BlockTranspose = unsafe fn(*const f32, usize, *const f32, *mut f32, usize);

/// The block side and transpose at `level`; None where there is none (the portable level).
///
/// # Panics
/// If the CPU lacks `level`.
fn block_transpose(level: SimdLevel) -> Option<(usize, BlockTranspose)> {
    #[cfg(target_arch = "x86_64")]
    {
        let has = |feature_detected: bool| assert!(feature_detected, "this CPU lacks {level}");
        match level {
            SimdLevel::Avx512 => {
                has(std::arch::is_x86_feature_detected!("avx512f"));
                Some((16, x86::transpose16_centred))
            }
            SimdLevel::Avx2Fma => {
                has(std::arch::is_x86_feature_detected!("avx2"));
                Some((8, x86::transpose8_centred))
            }
            _ => None,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = level;
        None
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// One 16 × 16 block: 16 rows of 16 values at stride `ld_in`, centred, written as 16 columns
    /// at stride `ld_out`.
    ///
    /// # Safety
    /// AVX-512F is available; `input` reads 16 rows of 16 floats at stride `ld_in`, `centre` 16
    /// floats, `output` writes 16 rows of 16 floats at stride `ld_out`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn transpose16_centred(
        input: *const f32,
        ld_in: usize,
        centre: *const f32,
        output: *mut f32,
        ld_out: usize,
    ) {
        // SAFETY: the caller's contract covers every load and store; the rest is registers.
        unsafe {
            let c = _mm512_loadu_ps(centre);
            let mut r = [_mm512_setzero_ps(); 16];
            for (i, row) in r.iter_mut().enumerate() {
                *row = _mm512_sub_ps(_mm512_loadu_ps(input.add(i * ld_in)), c);
            }
            // Round 1, within each 128-bit lane: t[2i] = (a₂ᵢ[0], a₂ᵢ₊₁[0], a₂ᵢ[1], a₂ᵢ₊₁[1]) …
            let mut t = [_mm512_setzero_ps(); 16];
            for i in 0..8 {
                t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            // Round 2: r[4i + m], lane L = column 4L + m of rows 4i .. 4i + 4.
            for i in 0..4 {
                r[4 * i] = _mm512_shuffle_ps::<0x44>(t[4 * i], t[4 * i + 2]);
                r[4 * i + 1] = _mm512_shuffle_ps::<0xEE>(t[4 * i], t[4 * i + 2]);
                r[4 * i + 2] = _mm512_shuffle_ps::<0x44>(t[4 * i + 1], t[4 * i + 3]);
                r[4 * i + 3] = _mm512_shuffle_ps::<0xEE>(t[4 * i + 1], t[4 * i + 3]);
            }
            // Rounds 3 and 4 move whole 128-bit lanes: afterwards r[p] is column p.
            for i in 0..2 {
                for m in 0..4 {
                    t[8 * i + m] = _mm512_shuffle_f32x4::<0x88>(r[8 * i + m], r[8 * i + 4 + m]);
                    t[8 * i + 4 + m] = _mm512_shuffle_f32x4::<0xDD>(r[8 * i + m], r[8 * i + 4 + m]);
                }
            }
            for j in 0..8 {
                r[j] = _mm512_shuffle_f32x4::<0x88>(t[j], t[8 + j]);
                r[8 + j] = _mm512_shuffle_f32x4::<0xDD>(t[j], t[8 + j]);
            }
            for (p, column) in r.iter().enumerate() {
                _mm512_storeu_ps(output.add(p * ld_out), *column);
            }
        }
    }

    /// One 8 × 8 block: 8 rows of 8 values at stride `ld_in`, centred, written as 8 columns at
    /// stride `ld_out`.
    ///
    /// # Safety
    /// AVX2 is available; `input` reads 8 rows of 8 floats at stride `ld_in`, `centre` 8 floats,
    /// `output` writes 8 rows of 8 floats at stride `ld_out`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn transpose8_centred(
        input: *const f32,
        ld_in: usize,
        centre: *const f32,
        output: *mut f32,
        ld_out: usize,
    ) {
        // SAFETY: the caller's contract covers every load and store; the rest is registers.
        unsafe {
            let c = _mm256_loadu_ps(centre);
            let mut r = [_mm256_setzero_ps(); 8];
            for (i, row) in r.iter_mut().enumerate() {
                *row = _mm256_sub_ps(_mm256_loadu_ps(input.add(i * ld_in)), c);
            }
            // Round 1, within each 128-bit half: t[2i] = (a₂ᵢ[0], a₂ᵢ₊₁[0], a₂ᵢ[1], a₂ᵢ₊₁[1]) …
            let mut t = [_mm256_setzero_ps(); 8];
            for i in 0..4 {
                t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            // Round 2: r[4i + m], half H = column 4H + m of rows 4i .. 4i + 4.
            for i in 0..2 {
                r[4 * i] = _mm256_shuffle_ps::<0x44>(t[4 * i], t[4 * i + 2]);
                r[4 * i + 1] = _mm256_shuffle_ps::<0xEE>(t[4 * i], t[4 * i + 2]);
                r[4 * i + 2] = _mm256_shuffle_ps::<0x44>(t[4 * i + 1], t[4 * i + 3]);
                r[4 * i + 3] = _mm256_shuffle_ps::<0xEE>(t[4 * i + 1], t[4 * i + 3]);
            }
            // Round 3 joins the halves of rows 0..4 and 4..8: column m from the low halves,
            // column 4 + m from the high ones.
            for m in 0..4 {
                let (low, high) = (r[m], r[4 + m]);
                _mm256_storeu_ps(output.add(m * ld_out), _mm256_permute2f128_ps::<0x20>(low, high));
                _mm256_storeu_ps(output.add((4 + m) * ld_out), _mm256_permute2f128_ps::<0x31>(low, high));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_transposes_and_pads_like_the_scalar_copy_on_awkward_shapes() {
        // Exact blocks of either width, points blocked with no whole block of coordinates (16, 3),
        // and edges on both sides.
        for (count, d) in [(32, 32), (16, 16), (8, 8), (16, 3), (31, 33), (17, 48), (5, 3), (32, 100), (0, 7)] {
            let first = 3;
            let rows: Vec<f32> = (0..(first + count) * d).map(|x| x as f32 * 0.5 - 7.0).collect();
            let centre: Vec<f32> = (0..d).map(|p| p as f32 * 0.25).collect();
            let ld_out = 32;
            let expected: Vec<f32> = (0..d * ld_out)
                .map(|at| {
                    let (p, j) = (at / ld_out, at % ld_out);
                    if j < count { rows[(first + j) * d + p] - centre[p] } else { 0.0 }
                })
                .collect();
            for level in SimdLevel::available() {
                // Junk first: every value must be written.
                let mut out = vec![-1.0; d * ld_out];
                transpose_centred(level, &rows, d, first..first + count, &centre, &mut out, ld_out);
                assert_eq!(out, expected, "count {count}, d {d} at {level}");
            }
        }
    }
}

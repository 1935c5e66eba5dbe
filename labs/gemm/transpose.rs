//! Row-major rows into packed columns, with a centre subtracted: how k-NN's and k-means'
//! flagships pack points as the micro-kernel's vector operand (`out[p·ld + j] = row_j[p] − c[p]`).
//!
//! Done one value at a time, every store lands in another cache line (the column stride is a
//! sliver's width): at n = 10⁶, d = 32 that copy was 8% of the k-means flagship. With AVX-512,
//! 16 × 16 blocks are transposed in registers instead: 16 row loads, 64 shuffles in four rounds
//! (pairs of values, pairs of pairs, 128-bit lanes twice), 16 contiguous stores. The edges
//! (d or the count not a multiple of 16) and the other levels take the scalar copy.

use crate::simd::SimdLevel;

/// Writes `out[p * ld_out + j] = rows[(first + j) * d + p] − centre[p]` for the whole 16 × 16
/// blocks at `level` (AVX-512 only), and returns how far they reach: (points, coordinates). The
/// caller copies the rest (points beyond the first, every coordinate; the others, coordinates
/// beyond the second), with its sliver width known at compile time.
///
/// # Panics
/// If a slice is too short for that, or `level` is AVX-512 on a CPU without it.
pub fn transpose_blocks_centred(
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
    #[cfg(target_arch = "x86_64")]
    if level == SimdLevel::Avx512 {
        assert!(std::arch::is_x86_feature_detected!("avx512f"), "this CPU lacks {level}");
        let (blocked_points, blocked_coordinates) = (count / 16 * 16, d / 16 * 16);
        for j in (0..blocked_points).step_by(16) {
            for p in (0..blocked_coordinates).step_by(16) {
                // SAFETY: the CPU has AVX-512F (asserted); rows first + j .. first + j + 16 hold
                // coordinates p .. p + 16 (points.end·d ≤ len, p + 16 ≤ d), the centre holds
                // p + 16 ≤ d values, and out holds rows p .. p + 16 at columns j .. j + 16
                // ((d − 1)·ld_out + count ≤ len, j + 16 ≤ count).
                unsafe {
                    x86::transpose16_centred(
                        rows.as_ptr().add((points.start + j) * d + p),
                        d,
                        centre.as_ptr().add(p),
                        out.as_mut_ptr().add(p * ld_out + j),
                        ld_out,
                    );
                }
            }
        }
        return (blocked_points, blocked_coordinates);
    }
    let _ = (level, rows, centre, out); // the other levels block nothing
    (0, 0)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_transposes_like_the_scalar_copy_on_awkward_shapes() {
        for (count, d) in [(32, 32), (16, 16), (31, 33), (17, 48), (5, 3), (32, 100), (0, 7)] {
            let first = 3;
            let rows: Vec<f32> = (0..(first + count) * d).map(|x| x as f32 * 0.5 - 7.0).collect();
            let centre: Vec<f32> = (0..d).map(|p| p as f32 * 0.25).collect();
            let ld_out = 32;
            let expected: Vec<f32> = (0..d * ld_out)
                .map(|at| {
                    let (p, j) = (at / ld_out, at % ld_out);
                    if j < count { rows[(first + j) * d + p] - centre[p] } else { -1.0 }
                })
                .collect();
            for level in SimdLevel::available() {
                let mut out = vec![-1.0; d * ld_out];
                let (points, coordinates) =
                    transpose_blocks_centred(level, &rows, d, first..first + count, &centre, &mut out, ld_out);
                for j in 0..count {
                    for p in if j < points { coordinates } else { 0 }..d {
                        out[p * ld_out + j] = rows[(first + j) * d + p] - centre[p];
                    }
                }
                assert_eq!(out, expected, "count {count}, d {d} at {level}");
            }
        }
    }
}

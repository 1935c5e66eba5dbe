//! What keeps the expanded form exact: centring, an error bound, and re-ranking.
//!
//! The blocked rungs and the flagships of k-NN and k-means compute ‖q − x‖² as
//! ‖q‖² + ‖x‖² − 2·q·x, so that the expensive part is a matrix product. That form cancels: its rounding error is about u·(‖q‖² + ‖x‖²), independent of
//! the distance. With every coordinate shifted by 256 (d = 64), ‖q‖² ≈ 4·10⁶ and the error
//! bound is larger than the distances themselves: the ranking is noise. Three steps fix it:
//!
//! 1. **Centre.** Distances do not change when both sets move by the same vector, so subtract a
//!    centre c (the mean of a sample of training points) from every point and query before the
//!    product. Norms become those of the spread, not of the offset.
//! 2. **Bound.** For the centred, rounded inputs the expanded form's error is at most
//!    `ε·(‖q'‖² + ‖x'‖²)` with ε = (4d + 40)·u (u = 2⁻²⁴), so `expanded − ε·(‖q'‖² + ‖x'‖²)` is a
//!    lower bound of the true distance. The derivation: the inner product and each norm are
//!    d-term sums (error γ_d each, Higham §3.1), which with 2|q'·x'| ≤ ‖q'‖² + ‖x'‖² gives
//!    2·γ_d·(‖q'‖² + ‖x'‖²); centring moves each coordinate by at most u·|value|, the final
//!    additions, the filter's own arithmetic and the exact form's rounding (whose result is
//!    what the threshold holds) add a few u more each; 4d + 40 covers them with room.
//! 3. **Re-rank.** A point whose lower bound exceeds the current k-th distance cannot enter the
//!    top k, and is skipped; any other point gets its distance computed again with the direct
//!    form Σ(q − x)² on the original data, and that accurate value is what is ranked and
//!    returned. Only points near the top k pay for it (about k·ln(n/k) per query once the heap
//!    is full).
//!
//! The answer is then the direct form's answer, at the expanded form's speed. Without step 1 it
//! is still exact, but on far-from-origin data the bound lets almost every point through to
//! step 3 (the lab README measures each combination).

use super::bound::UNIT_ROUNDOFF;
use crate::gemm::kernel::Operands;

/// Rows averaged for the centre: any centre is correct (the bound holds for every centre), a
/// near one only makes the bound tighter, and a sample keeps it O(d).
const CENTRE_SAMPLE: usize = 1024;

/// The bound's ε for d coordinates: expanded − ε·(‖q'‖² + ‖x'‖²) never exceeds the true distance.
pub fn epsilon(d: usize) -> f64 {
    (4 * d + 40) as f64 * UNIT_ROUNDOFF
}

/// The factor (1 − ε) the centred norms are scaled by, so that the filter needs no more
/// arithmetic per pair than the expanded form itself: `keep when (1−ε)‖x'‖² − 2·q'·x' ≤ t` with
/// t from [`query_threshold`].
pub fn norm_scale(d: usize) -> f32 {
    (1.0 - epsilon(d)) as f32
}

/// bfloat16's unit roundoff: 8 significant bits, so rounding to nearest is off by at most 2⁻⁸
/// relative (f32's 24 give 2⁻²⁴).
pub const BF16_UNIT_ROUNDOFF: f64 = 1.0 / 256.0;

/// The bound's ε when the inner products come from `operands` (norms always in f32).
///
/// With bf16 operands (`distance/bf16.rs`) each centred coordinate is rounded once more, by at
/// most u_b = 2⁻⁸, so each product q̂ᵢx̂ᵢ is off by (2u_b + u_b²)|q'ᵢx'ᵢ|; the products of two
/// bf16 values are exact in f32 and their sum adds γ_d (taken with 2⁻²³, any faithful rounding
/// of the accumulator); and with Σ|q'ᵢx'ᵢ| ≤ (‖q'‖² + ‖x'‖²)/2 the term 2·q̂·x̂ adds
/// (2u_b + u_b² + γ_d·(1 + u_b)²)·(‖q'‖² + ‖x'‖²) to the f32 bound. Two more u: an input below
/// f32's normal range that the instruction reads as zero (|v| < 2⁻¹²⁶, so its product is at most
/// u·(v² + x²) plus the absolute part, by AM-GM), and the rounding of the absolute part
/// ([`absolute_slack`]) taken off a norm. About 2⁻⁷: 0.8% of ‖q'‖² + ‖x'‖², where f32's is 0.002%.
pub fn epsilon_for(d: usize, operands: Operands) -> f64 {
    match operands {
        Operands::F32 => epsilon(d),
        Operands::Bf16Pairs => {
            let ub = BF16_UNIT_ROUNDOFF;
            let du = d as f64 * 2.0 * UNIT_ROUNDOFF;
            let gamma = du / (1.0 - du);
            epsilon(d) + 2.0 * ub + ub * ub + gamma * (1.0 + ub).powi(2) + 4.0 * UNIT_ROUNDOFF
        }
    }
}

/// [`norm_scale`] for inner products from `operands`.
pub fn norm_scale_for(d: usize, operands: Operands) -> f32 {
    (1.0 - epsilon_for(d, operands)) as f32
}

/// What the filter must allow beyond ε·(‖q'‖² + ‖x'‖²): underflow. AVX-512 BF16 flushes to zero
/// every product and sum below f32's normal range (2⁻¹²⁶): counted as separate flushes, 2d per
/// inner product, each carried through at most d later roundings (a factor 1 + γ_d < 2), which
/// doubled in −2·q̂·x̂ stays below 8d·2⁻¹²⁶; plus the absolute part of the AM-GM step in
/// [`epsilon_for`] (2⁻²²⁸ per coordinate of 2·q̂·x̂). f32 inner products keep subnormals:
/// nothing to add. Taken off the queries' scaled norms, so that t grows by it.
pub fn absolute_slack(d: usize, operands: Operands) -> f32 {
    match operands {
        Operands::F32 => 0.0,
        Operands::Bf16Pairs => ((8 * d + 8) as f64 * f64::from(f32::MIN_POSITIVE)) as f32,
    }
}

/// The per-query side of the filter: `t = threshold − (1−ε)‖q'‖²`, rounded up (computed in
/// f64, so that the rounding can only let a point through, never skip one). +∞ stays +∞.
#[inline(always)]
pub fn query_threshold(threshold: f32, scaled_query_norm: f32) -> f32 {
    ((threshold as f64 - scaled_query_norm as f64) as f32).next_up()
}

/// The mean of up to [`CENTRE_SAMPLE`] of the rows of `d` values in `rows`, spread over them,
/// accumulated in f64 (all of them when there are no more).
pub fn centre(rows: &[f32], d: usize, centre: &mut [f32]) {
    let n = rows.len() / d;
    let step = n.div_ceil(CENTRE_SAMPLE).max(1);
    let mut sum = [0.0f64; 64];
    for chunk in 0..d.div_ceil(64) {
        let columns = chunk * 64..(chunk * 64 + 64).min(d);
        let sum = &mut sum[..columns.len()];
        sum.fill(0.0);
        let mut count = 0;
        for i in (0..n).step_by(step) {
            for (s, &x) in sum.iter_mut().zip(&rows[i * d..][columns.clone()]) {
                *s += x as f64;
            }
            count += 1;
        }
        for (c, s) in centre[columns].iter_mut().zip(sum.iter()) {
            *c = (*s / count as f64) as f32;
        }
    }
}

/// ‖row − centre‖², scaled by (1 − ε): one side of the filter, for a point or a query.
pub fn scaled_centred_norm(row: &[f32], centre: &[f32], scale: f32) -> f32 {
    let norm: f32 = row.iter().zip(centre).map(|(x, c)| (x - c) * (x - c)).sum();
    norm * scale
}

/// `out = rows − centre`, row by row, and each row's squared norm × `scale` (1 − ε, for the filter).
pub fn centre_rows(rows: &[f32], centre: &[f32], out: &mut [f32], norms: &mut [f32], d: usize, scale: f32) {
    for ((row, out), norm) in rows.chunks_exact(d).zip(out.chunks_exact_mut(d)).zip(norms) {
        for ((o, &x), &c) in out.iter_mut().zip(row).zip(centre) {
            *o = x - c;
        }
        *norm = scaled_centred_norm(row, centre, scale);
    }
}

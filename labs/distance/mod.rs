//! Squared L2 distances, shared by the labs whose inputs are rows of points (k-NN, k-means,
//! Lloyd), beside [`crate::gemm`] and [`crate::simd`]: the direct form, scalar and SIMD; its
//! error bound ([`bound`]); what keeps the expanded form exact ([`exact`]: centring, a lower
//! bound, re-ranking); and the packing of rows for the GEMM micro-kernel ([`pack`]).
//!
//! No lab borrows another lab's solutions: what two labs share lives here.

pub mod bf16;
pub mod bound;
pub mod exact;
pub mod pack;
pub mod tiles;

use crate::simd::F32Vec;

/// The squared distance ‖a − b‖², summed in order: the textbook direct form.
#[inline]
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// ‖q − x‖² for each of `P` points, SIMD over the coordinates: the direct form, accurate to
/// γ_{d+3} relative (see [`bound`]). The k-NN lab's `simd` rung, and the exact re-ranking kernel
/// of every flagship.
///
/// # Safety
/// V's instruction set is enabled. Every slice has the query's length (checked).
#[inline(always)]
pub unsafe fn distances<V: F32Vec, const P: usize>(query: &[f32], points: [&[f32]; P]) -> [f32; P] {
    // Plain loops, no closures: a closure inside `#[target_feature]` code is compiled as a
    // function of its own, called per element, with the accumulators spilled to memory.
    let d = query.len();
    for point in points {
        assert_eq!(point.len(), d, "every point has the query's length");
    }
    let lanes = V::LANES;
    let body = d - d % lanes;
    let mut out = [0.0f32; P];
    // SAFETY: every load reads `lanes` floats at an offset below `body` ≤ d (lengths checked above).
    unsafe {
        let q = query.as_ptr();
        let mut acc = [V::splat(0.0); P];
        let mut c = 0;
        while c < body {
            let qv = V::load(q.add(c));
            for j in 0..P {
                let diff = qv.sub(V::load(points[j].as_ptr().add(c)));
                acc[j] = diff.mul_add(diff, acc[j]);
            }
            c += lanes;
        }
        for j in 0..P {
            let mut tail = 0.0;
            for c in body..d {
                let diff = query[c] - points[j][c];
                tail += diff * diff;
            }
            out[j] = acc[j].sum() + tail;
        }
    }
    out
}

/// q·x with eight independent partial sums, which the compiler keeps in vector registers
/// (a single running sum would be a chain of dependent additions, and could not be vectorised
/// without reordering them, which the compiler may not do for floats).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 8];
    let (a_body, b_body) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_body.remainder().iter().zip(b_body.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_body.zip(b_body) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

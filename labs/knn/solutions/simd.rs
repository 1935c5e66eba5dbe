//! Rung 2: an explicit SIMD distance kernel, and a threshold test before the heap.
//!
//! `squared_distance` in `select` is a scalar loop with one running sum: every iteration waits
//! for the previous addition (a 3-4 cycle dependency chain), and a default x86-64 build is not
//! allowed the AVX instructions that would do 8 or 16 coordinates at once. Here the kernel is
//! written once over [`F32Vec`] and dispatched at run time to AVX-512, AVX2+FMA or portable code:
//! per step, one load of the query and of each point, a subtract and a fused multiply-add into
//! that point's accumulator, and one horizontal sum per point at the end. The kernel itself is
//! [`crate::distance::distances`] (k-means and every flagship's re-ranking use it too): read it
//! there.
//!
//! Four points share each load of the query (one pass over q for four distances: four
//! independent accumulator chains, and a quarter of the query loads), and the threshold test
//! `distance ≤ k-th best so far` is written out in the hot loop: almost every point fails it, so
//! the heap code stays out of the loop's way (it is not even inlined). `TopK::push` makes the same
//! test first, so the explicit test saves a call, not a sift: a learner's run measured no
//! difference with and without it at n = 20000, d = 64.

use std::ops::Range;

use crate::distance::distances;
use crate::knn::topk::{TopK, vote};
use crate::knn::{Answer, Inputs};
use crate::simd::{self, F32Vec, SimdLevel, WithSimd};

/// Points whose distances are computed together, sharing the loads of the query.
const POINTS_PER_STEP: usize = 4;

pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    knn_at(simd::simd_level(), inputs, answer);
}

/// The simd rung at an explicit SIMD level (tests run every level the CPU has).
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit the shape.
pub fn knn_at(level: SimdLevel, inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    simd::dispatch(level, Search { inputs, answer });
}

struct Search<'i, 'a, 'b> {
    inputs: &'i Inputs<'a>,
    answer: &'i mut Answer<'b>,
}

impl WithSimd for Search<'_, '_, '_> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        let Search { inputs, answer } = self;
        let k = inputs.shape.k;
        for q in 0..inputs.shape.m {
            let (indices, distances, class) = answer.query_mut(q, k);
            let mut top = TopK::new(distances, indices);
            // SAFETY: `dispatch` enabled V's instruction set.
            unsafe { scan::<V>(inputs, inputs.query(q), 0..inputs.shape.n, &mut top) };
            top.into_sorted();
            *class = vote(inputs.labels, indices);
        }
    }
}

/// Offers the training points `points` to `top` at an explicit SIMD level: the building block
/// of the `parallel` rung, which splits queries or points across threads.
///
/// # Panics
/// If the CPU lacks `level`, or `points` reaches past the training set.
pub fn scan_at(level: SimdLevel, inputs: &Inputs, query: &[f32], points: Range<usize>, top: &mut TopK) {
    assert!(points.end <= inputs.shape.n && query.len() == inputs.shape.d, "points and query fit the inputs");
    simd::dispatch(level, Scan { inputs, query, points, top });
}

struct Scan<'i, 'a, 't> {
    inputs: &'i Inputs<'a>,
    query: &'i [f32],
    points: Range<usize>,
    top: &'i mut TopK<'t>,
}

impl WithSimd for Scan<'_, '_, '_> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        // SAFETY: `dispatch` enabled V's instruction set.
        unsafe { scan::<V>(self.inputs, self.query, self.points, self.top) }
    }
}

/// Offers the training points `points` to `top`, four distances at a time.
///
/// # Safety
/// V's instruction set is enabled.
#[inline(always)]
unsafe fn scan<V: F32Vec>(inputs: &Inputs, query: &[f32], points: Range<usize>, top: &mut TopK) {
    let n = points.end;
    let mut i = points.start;
    while i + POINTS_PER_STEP <= n {
        let points = [inputs.point(i), inputs.point(i + 1), inputs.point(i + 2), inputs.point(i + 3)];
        // SAFETY: V is enabled (our contract); every row has d floats.
        let distances = unsafe { distances::<V, POINTS_PER_STEP>(query, points) };
        for (j, &distance) in distances.iter().enumerate() {
            if distance <= top.threshold() {
                top.push(distance, (i + j) as u32);
            }
        }
        i += POINTS_PER_STEP;
    }
    for i in i..n {
        // SAFETY: as above.
        let [distance] = unsafe { distances::<V, 1>(query, [inputs.point(i)]) };
        top.push(distance, i as u32);
    }
}

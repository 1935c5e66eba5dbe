//! Rung 4: rayon. Queries are independent: split them across cores. With fewer queries than
//! cores that leaves cores idle, so then the training set is split instead: every thread finds
//! each query's k best in its slice, and the slices' lists are merged.
//!
//! The merge keeps the k best by (distance, index) over all slices, which is the same set
//! whatever the slices are, and each distance is computed by the same code whichever thread
//! computes it: the answer never depends on the thread count (a test checks it, bit for bit).
//! Each query's work is the `simd` rung's scan.

use std::ops::Range;

use rayon::prelude::*;

use crate::gemm::buffers::Pool;
use crate::knn::solutions::simd::scan_at;
use crate::knn::topk::{NO_POINT, TopK, vote};
use crate::knn::{Answer, Inputs};
use crate::simd::{self, SimdLevel};

/// Split the queries when every thread gets at least this many; otherwise split the points.
const QUERIES_PER_THREAD: usize = 4;
/// Each slice of the training set has at least this many points: below that, the merge and the
/// task overhead outweigh the parallel scan.
const MIN_SLICE: usize = 4096;
/// Queries merged per task at least: one query's merge is a few hundred nanoseconds.
const MERGES_PER_TASK: usize = 64;

pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    if inputs.shape.m == 0 {
        return; // no queries, no answer slots (and no lists to split points into)
    }
    let level = simd::simd_level();
    let slices = slices(inputs.shape.n);
    if inputs.shape.m >= QUERIES_PER_THREAD * rayon::current_num_threads() || slices == 1 {
        over_queries(level, inputs, answer);
    } else {
        over_points(level, inputs, answer, slices);
    }
}

/// Slices of the training set to split `n` points into: one per thread, each of at least
/// [`MIN_SLICE`] points (also the flagship's direct path).
pub(crate) fn slices(n: usize) -> usize {
    (n / MIN_SLICE).clamp(1, rayon::current_num_threads())
}

/// One task per query: rayon's work stealing balances them.
fn over_queries(level: SimdLevel, inputs: &Inputs, answer: &mut Answer) {
    let k = inputs.shape.k;
    let slots =
        answer.indices.par_chunks_mut(k).zip(answer.distances.par_chunks_mut(k)).zip(answer.classes.par_iter_mut());
    slots.enumerate().for_each(|(q, ((indices, distances), class))| {
        let mut top = TopK::new(distances, indices);
        scan_at(level, inputs, inputs.query(q), 0..inputs.shape.n, &mut top);
        top.into_sorted();
        *class = vote(inputs.labels, indices);
    });
}

/// The slices' partial lists (distances, indices), reused from call to call.
static PARTIAL: Pool<(Vec<f32>, Vec<u32>)> = Pool::new();

/// One task per slice of the training set, every query in each; then a merge per query.
fn over_points(level: SimdLevel, inputs: &Inputs, answer: &mut Answer, slices: usize) {
    let (n, m, k) = (inputs.shape.n, inputs.shape.m, inputs.shape.k);
    let run = |partial: &mut (Vec<f32>, Vec<u32>)| {
        let (distances, indices) = partial;
        if distances.len() < slices * m * k {
            distances.resize(slices * m * k, 0.0);
            indices.resize(slices * m * k, 0);
        }
        let parts = distances.par_chunks_mut(m * k).zip(indices.par_chunks_mut(m * k)).take(slices);
        parts.enumerate().for_each(|(slice, (distances, indices))| {
            let points = slice * n / slices..(slice + 1) * n / slices;
            for q in 0..m {
                let mut top = TopK::new(&mut distances[q * k..][..k], &mut indices[q * k..][..k]);
                scan_at(level, inputs, inputs.query(q), points.clone(), &mut top);
            }
        });
        merge(inputs, 0..m, &distances[..slices * m * k], &indices[..slices * m * k], answer);
    };
    PARTIAL.with(run);
}

/// The k best of each of the queries `queries` over all slices' lists (laid out slice by slice,
/// `queries.len()` · k each), into their answers, one task per query as in [`over_queries`].
pub(crate) fn merge(inputs: &Inputs, queries: Range<usize>, distances: &[f32], indices: &[u32], answer: &mut Answer) {
    let k = inputs.shape.k;
    let len = queries.len() * k;
    let slices = distances.len() / len;
    let slots = answer.indices[queries.start * k..queries.end * k]
        .par_chunks_mut(k)
        .zip(answer.distances[queries.start * k..queries.end * k].par_chunks_mut(k))
        .zip(answer.classes[queries].par_iter_mut());
    slots.enumerate().with_min_len(MERGES_PER_TASK).for_each(|(q, ((out_indices, out_distances), class))| {
        let mut top = TopK::new(out_distances, out_indices);
        for slice in 0..slices {
            let at = slice * len + q * k;
            for (&distance, &index) in distances[at..][..k].iter().zip(&indices[at..][..k]) {
                if index != NO_POINT {
                    top.push(distance, index);
                }
            }
        }
        top.into_sorted();
        *class = vote(inputs.labels, out_indices);
    });
}

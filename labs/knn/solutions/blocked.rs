//! Rung 3: tiles, and the expanded form ‖q − x‖² = ‖q‖² + ‖x‖² − 2·q·x.
//!
//! The direct form costs a subtract and a multiply-add per coordinate and reads the point once
//! per query: for m queries the training set streams from memory m times. The expanded form
//! needs the norms once per call, and then only inner products, which is a matrix product Q·Xᵀ:
//! the same data reuse as matmul's blocked rung. A tile of [`QUERY_TILE`] queries stays in L1
//! while a tile of [`POINT_TILE`] points (64 KiB at d = 64) stays in L2, and every point of the
//! tile is paired with every query of the tile before either is evicted.
//!
//! The expanded form cancels far from the origin; what keeps this rung exact is in
//! `distance::exact`: centre both sets (copies here, made once per call), skip the pairs whose
//! lower bound cannot beat the k-th best, and re-rank the others with the direct form, whose
//! accurate distances are what is returned.

use crate::distance::exact::{self, centre_rows, query_threshold};
use crate::distance::{dot, squared_distance};
use crate::gemm::buffers::{AlignedBuffer, Pool};
use crate::knn::topk::{TopK, vote};
use crate::knn::{Answer, Inputs};

/// Queries per tile: their centred rows (4 KiB at d = 64) stay in L1 across a point tile.
const QUERY_TILE: usize = 16;
/// Points per tile: 64 KiB of centred rows at d = 64, in L2 while all the tile's queries use them.
const POINT_TILE: usize = 256;

/// The centred copies and norms of a call, reused from call to call.
static SCRATCH: Pool<AlignedBuffer> = Pool::new();

pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    knn_with(Fix { centre: true, rerank: true }, inputs, answer);
}

/// Which parts of the fix run (see `distance::exact`): the rung runs both; the lab README's precision
/// table (`cargo run --release -p perflab-labs --example knn_precision`) measures each.
#[derive(Clone, Copy, Debug)]
pub struct Fix {
    /// Subtract the centre from both sets before the products.
    pub centre: bool,
    /// Filter with the error bound and re-rank with the direct form. Without it the expanded
    /// form's value is ranked and returned, clamped at 0 (what faiss and numpy return).
    pub rerank: bool,
}

/// The rung with only the chosen parts of the fix.
pub fn knn_with(fix: Fix, inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    let (n, d, m) = (inputs.shape.n, inputs.shape.d, inputs.shape.m);
    SCRATCH.with(|buffer| {
        let scratch = buffer.slice(d + n * d + n + m * d + m);
        let (centre, rest) = scratch.split_at_mut(d);
        let (points, rest) = rest.split_at_mut(n * d);
        let (point_norms, rest) = rest.split_at_mut(n);
        let (queries, query_norms) = rest.split_at_mut(m * d);
        if fix.centre {
            exact::centre(inputs.train, d, centre);
        } else {
            centre.fill(0.0);
        }
        let scale = if fix.rerank { exact::norm_scale(d) } else { 1.0 };
        centre_rows(inputs.train, centre, points, point_norms, d, scale);
        centre_rows(inputs.queries, centre, queries, query_norms, d, scale);
        let centred = Centred { points, point_norms, queries, query_norms };
        for first in (0..m).step_by(QUERY_TILE) {
            query_tile(fix, inputs, &centred, first..(first + QUERY_TILE).min(m), answer);
        }
    });
}

/// The centred copies and their norms, scaled by (1 − ε) for the filter (see `distance::exact`).
struct Centred<'a> {
    points: &'a [f32],
    point_norms: &'a [f32],
    queries: &'a [f32],
    query_norms: &'a [f32],
}

/// The k nearest of the queries `queries`, tile of points by tile of points.
fn query_tile(fix: Fix, inputs: &Inputs, centred: &Centred, queries: std::ops::Range<usize>, answer: &mut Answer) {
    let (n, d, k) = (inputs.shape.n, inputs.shape.d, inputs.shape.k);
    for q in queries.clone() {
        let (indices, distances, _) = answer.query_mut(q, k);
        TopK::new(distances, indices);
    }
    let mut products = [[0.0f32; POINT_TILE]; QUERY_TILE];
    for first in (0..n).step_by(POINT_TILE) {
        let points = first..(first + POINT_TILE).min(n);
        // The GEMM-shaped part: every query of the tile against every point of the tile.
        for (row, q) in products.iter_mut().zip(queries.clone()) {
            let query = &centred.queries[q * d..][..d];
            for (product, i) in row.iter_mut().zip(points.clone()) {
                *product = dot(query, &centred.points[i * d..][..d]);
            }
        }
        // The epilogue: filter by the lower bound, re-rank the survivors exactly.
        for (row, q) in products.iter().zip(queries.clone()) {
            let (indices, distances, _) = answer.query_mut(q, k);
            let mut top = TopK::resume(distances, indices);
            let query_norm = centred.query_norms[q];
            if !fix.rerank {
                for (&product, i) in row.iter().zip(points.clone()) {
                    top.push((centred.point_norms[i] + query_norm - 2.0 * product).max(0.0), i as u32);
                }
                continue;
            }
            let mut t = query_threshold(top.threshold(), query_norm);
            for (&product, i) in row.iter().zip(points.clone()) {
                if centred.point_norms[i] - 2.0 * product <= t {
                    top.push(squared_distance(inputs.query(q), inputs.point(i)), i as u32);
                    t = query_threshold(top.threshold(), query_norm);
                }
            }
        }
    }
    for q in queries {
        let (indices, distances, class) = answer.query_mut(q, k);
        TopK::resume(distances, indices).into_sorted();
        *class = vote(inputs.labels, indices);
    }
}

//! Rung 2: tiles and the expanded form, which for an argmin is ‖c‖² − 2·x·c: ‖x‖² is the same
//! for every centroid, so it leaves the comparison and comes back only for the distance.
//!
//! A tile of [`POINT_TILE`] points (centred copies: 4 KiB at d = 64, in L1) meets a tile of
//! [`CENTROID_TILE`] centroids (centred once per call: 64 KiB at d = 64, in L2), and every pair's
//! inner product is computed while both are in cache: the data reuse of matmul's blocked rung.
//! Only the tile of points is copied, never the whole set.
//!
//! The expanded form cancels far from the origin; what keeps this rung exact is in
//! `distance::exact`: centre both sets, skip every centroid whose lower bound
//! `(1−ε)‖c'‖² − 2·x'·c'` exceeds the point's side t of the filter (its best distance so far,
//! less its own scaled norm: ‖x‖² out of the per-pair work, as promised), and compute the direct
//! form for the others, whose accurate distance is what is compared and returned.

use std::ops::Range;

use crate::distance::exact::{self, centre_rows, query_threshold};
use crate::distance::{dot, squared_distance};
use crate::gemm::buffers::{AlignedBuffer, Pool};
use crate::kmeans::{Answer, Inputs, inertia_of};

/// Points per tile: their centred rows (4 KiB at d = 64) stay in L1 across a centroid tile.
const POINT_TILE: usize = 16;
/// Centroids per tile: 64 KiB of centred rows at d = 64, in L2 while the tile's points use them.
const CENTROID_TILE: usize = 256;

/// A call's centre, centred centroids and their norms, and one tile of centred points.
static SCRATCH: Pool<AlignedBuffer> = Pool::new();

pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    let (n, d, k) = (inputs.shape.n, inputs.shape.d, inputs.shape.k);
    let scale = exact::norm_scale(d);
    SCRATCH.with(|buffer| {
        let scratch = buffer.slice(d + k * d + k + POINT_TILE * d + POINT_TILE);
        let (centre, rest) = scratch.split_at_mut(d);
        let (centroids, rest) = rest.split_at_mut(k * d);
        let (centroid_norms, rest) = rest.split_at_mut(k);
        let (points, point_norms) = rest.split_at_mut(POINT_TILE * d);
        exact::centre(inputs.centroids, d, centre);
        centre_rows(inputs.centroids, centre, centroids, centroid_norms, d, scale);
        let centred = Centred { centroids, centroid_norms };
        for first in (0..n).step_by(POINT_TILE) {
            let tile = first..(first + POINT_TILE).min(n);
            let rows = &inputs.points[tile.start * d..tile.end * d];
            centre_rows(rows, centre, points, point_norms, d, scale);
            point_tile(inputs, &centred, points, point_norms, tile, answer);
        }
    });
    *answer.inertia = inertia_of(answer.distances);
}

/// The centred centroids and their norms, scaled by (1 − ε) for the filter.
struct Centred<'a> {
    centroids: &'a [f32],
    centroid_norms: &'a [f32],
}

/// The nearest centroid of each point of the tile `tile` (centred rows in `points`), tile of
/// centroids by tile of centroids.
fn point_tile(
    inputs: &Inputs,
    centred: &Centred,
    points: &[f32],
    point_norms: &[f32],
    tile: Range<usize>,
    answer: &mut Answer,
) {
    let (d, k) = (inputs.shape.d, inputs.shape.k);
    let mut best = [(f32::INFINITY, 0u32); POINT_TILE];
    let mut products = [[0.0f32; CENTROID_TILE]; POINT_TILE];
    for first in (0..k).step_by(CENTROID_TILE) {
        let centroids = first..(first + CENTROID_TILE).min(k);
        // The GEMM-shaped part: every point of the tile against every centroid of the tile.
        for (row, point) in products.iter_mut().zip(points.chunks_exact(d)).take(tile.len()) {
            for (product, c) in row.iter_mut().zip(centroids.clone()) {
                *product = dot(point, &centred.centroids[c * d..][..d]);
            }
        }
        // The epilogue: filter by the lower bound, compare the survivors exactly. Centroids come
        // in index order and only a strictly smaller distance replaces the best: ties keep the
        // lower index.
        for (r, i) in tile.clone().enumerate() {
            let (distance, label) = &mut best[r];
            let mut t = query_threshold(*distance, point_norms[r]);
            for (&product, c) in products[r].iter().zip(centroids.clone()) {
                if centred.centroid_norms[c] - 2.0 * product <= t {
                    let exact = squared_distance(inputs.point(i), inputs.centroid(c));
                    if exact < *distance {
                        (*distance, *label) = (exact, c as u32);
                        t = query_threshold(exact, point_norms[r]);
                    }
                }
            }
        }
    }
    for (r, i) in tile.enumerate() {
        (answer.distances[i], answer.labels[i]) = best[r];
    }
}

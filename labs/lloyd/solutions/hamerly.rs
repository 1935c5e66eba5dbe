//! Lloyd with Hamerly's bounds: most points skip their k distances, with the same labels.
//!
//! Plain Lloyd computes all n·k distances every iteration, although after the first few
//! iterations the centroids barely move and almost no label changes. Hamerly (2010) keeps, per
//! point, two numbers that survive from one iteration to the next:
//!
//! - `upper`: at least the distance to its own centroid a;
//! - `lower`: at most the distance to any other centroid.
//!
//! When a centroid moves by δ, no distance changes by more than δ (the triangle inequality), so
//! after an update `upper += δ_a` and `lower −= max δ` keep them true at the cost of O(1) per
//! point. A point whose `upper` stays below `lower` (or below half the gap from a to its nearest
//! other centroid) keeps its label without a single distance. Otherwise one distance tightens
//! `upper`; only if that still fails are its k distances computed (here: gathered in batches and
//! handed to the flagship's assignment, which also returns the runner-up for the new `lower`).
//!
//! ```text
//! iteration 0: assign every point (best), upper = its distance, lower = the runner-up
//! every later iteration:
//!   per point (rayon):  upper += drift[a], lower −= largest drift of another centroid
//!                       skip if upper < max(lower, half_gap[a]), else tighten upper and retry
//!   the points left:    best's assignment in batches → label, upper, lower
//!   update (shared with plain Lloyd), then each centroid's drift and half gap
//! ```
//!
//! **Exactly plain Lloyd's labels.** The bounds are kept on true distances (not squared), and the
//! computed squared distances are within γ = γ_{d+3} of the true ones (`distance::bound`), so the test
//! is `upper·κ < bound` with κ = √((1+γ)/(1−γ)): then the computed distance to a is below every
//! other computed distance, whichever rounding any path of `best` uses, so `best` would return a
//! too. Every conversion to f32 rounds outwards (`next_up` for `upper`, `next_down` for `lower`).
//!
//! Why bounds help only across iterations: within one assignment nothing is known yet; the first
//! iteration pays n·k like plain Lloyd, and the saving grows as the centroids settle.

use rayon::prelude::*;

use crate::assignment::{INERTIA_CHUNK, Shape, best};
use crate::distance::bound::Bound;
use crate::distance::distances;
use crate::gemm::buffers::Pool;
use crate::lloyd::{Answer, Inputs, update};
use crate::simd::{F32Vec, SimdLevel, WithSimd, dispatch, simd_level};

/// Everything carried from one iteration to the next, reused from call to call.
static STATE: Pool<State> = Pool::new();

#[derive(Default)]
struct State {
    /// Per point: at least the true distance to its centroid.
    upper: Vec<f32>,
    /// Per point: at most the true distance to any other centroid.
    lower: Vec<f32>,
    /// Per point: whether its bounds failed this iteration (its k distances are needed).
    stale: Vec<bool>,
    /// The stale points, ascending.
    survivors: Vec<u32>,
    /// The centroids before the update.
    previous: Vec<f32>,
    /// Per centroid: at least how far the last update moved it.
    drift: Vec<f32>,
    /// Per centroid: at most half the distance to its nearest other centroid.
    half_gap: Vec<f32>,
    /// A batch of stale points, gathered, and the assignment's outputs for it.
    gathered: Vec<f32>,
    batch_labels: Vec<u32>,
    batch_distances: Vec<f32>,
    batch_runner_up: Vec<f32>,
}

pub fn lloyd(inputs: &Inputs, answer: &mut Answer) {
    lloyd_at(simd_level(), inputs, answer);
}

/// Hamerly's Lloyd at an explicit SIMD level.
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit the shape.
pub fn lloyd_at(level: SimdLevel, inputs: &Inputs, answer: &mut Answer) {
    inputs.assert_fits(answer);
    let Shape { n, d, k } = inputs.shape;
    let margins = Margins::new(d);
    answer.centroids.copy_from_slice(inputs.initial);
    let mut computed = 0u64;
    STATE.with(|state| {
        state.prepare(n, k, d);
        for t in 0..inputs.iterations {
            if t == 0 {
                state.stale.fill(true);
            } else {
                computed += check_bounds(level, inputs, answer, state, &margins);
            }
            computed += reassign_stale(level, inputs, answer, state, &margins);
            // The drifts are for the next iteration's bounds: none after the last.
            let another = t + 1 < inputs.iterations;
            if another {
                state.previous.copy_from_slice(answer.centroids);
            }
            answer.inertia[t] = update(level, inputs, answer.labels, answer.centroids);
            if another {
                measure_moves(answer.centroids, state, d);
            }
        }
    });
    *answer.distance_computations = computed;
}

/// How far the bounds stay from the computed distances' rounding (see the module's comment).
struct Margins {
    /// The error bound of a computed squared distance: relative γ, plus underflow's absolute part.
    bound: Bound,
    /// κ = √((1+γ)/(1−γ)), a hair larger: skip when `upper·κ + slack < lower`.
    kappa: f64,
    /// 2·√(underflow / (1−γ)): what the underflow term costs in the skip test, in distance units.
    slack: f64,
}

impl Margins {
    fn new(d: usize) -> Margins {
        let bound = Bound::of(d);
        let gamma = bound.relative;
        let kappa = ((1.0 + gamma) / (1.0 - gamma)).sqrt() * (1.0 + 1e-12);
        Margins { bound, kappa, slack: 2.0 * (bound.absolute / (1.0 - gamma)).sqrt() }
    }

    /// An upper bound of the true distance, from a computed squared distance.
    fn upper(&self, computed: f32) -> f32 {
        round_up(((computed as f64 + self.bound.absolute) / (1.0 - self.bound.relative)).sqrt())
    }

    /// A lower bound of the true distance, from a lower bound of computed squared distances.
    fn lower(&self, computed: f32) -> f32 {
        round_down(((computed as f64 - self.bound.absolute).max(0.0) / (1.0 + self.bound.relative)).sqrt())
    }

    /// Whether a point with these bounds certainly keeps its label: even with the rounding of
    /// both computed squared distances (relative γ, plus the absolute underflow), the label's
    /// stays below the other's.
    fn keeps(&self, upper: f32, bound: f32) -> bool {
        (upper as f64) * self.kappa + self.slack < bound as f64
    }
}

/// x as an f32 no smaller than x (x ≥ 0): widened by 2⁻²² (more than the cast's rounding of
/// 2⁻²⁴) plus the smallest subnormal (the rounding's absolute size near zero). Arithmetic rather
/// than `next_up`, so that the bound pass has no branches to mispredict.
fn round_up(x: f64) -> f32 {
    (x * (1.0 + WIDEN) + TINY) as f32
}

/// x as an f32 no larger than x, and not below zero (a distance's lower bound).
fn round_down(x: f64) -> f32 {
    ((x * (1.0 - WIDEN) - TINY) as f32).max(0.0)
}

const WIDEN: f64 = 1.0 / (1 << 22) as f64;
const TINY: f64 = 1.401298464324817e-45; // 2⁻¹⁴⁹, the smallest positive f32

impl State {
    fn prepare(&mut self, n: usize, k: usize, d: usize) {
        for per_point in [&mut self.upper, &mut self.lower] {
            per_point.resize(n, 0.0);
        }
        self.stale.resize(n, true);
        self.survivors.clear();
        self.survivors.reserve(n);
        for per_centroid in [&mut self.drift, &mut self.half_gap] {
            per_centroid.resize(k, 0.0);
        }
        self.previous.resize(k * d, 0.0);
        let batch = batch_points(d);
        self.gathered.resize(batch * d, 0.0);
        self.batch_labels.resize(batch, 0);
        self.batch_distances.resize(batch, 0.0);
        self.batch_runner_up.resize(batch, 0.0);
    }
}

/// Stale points re-assigned per call of the flagship: about 4 MiB of gathered coordinates,
/// a whole number of the flagship's chunks (so each of its tasks stays full).
fn batch_points(d: usize) -> usize {
    ((1 << 20) / d).div_ceil(INERTIA_CHUNK).max(1) * INERTIA_CHUNK
}

/// Moves every point's bounds by the last update's drifts and marks the points whose bounds
/// fail even after tightening `upper` with one distance. Returns the distances computed.
fn check_bounds(level: SimdLevel, inputs: &Inputs, answer: &Answer, state: &mut State, margins: &Margins) -> u64 {
    let moves = Moves::of(&state.drift, &state.half_gap);
    let d = inputs.shape.d;
    let points = inputs.points.par_chunks(INERTIA_CHUNK * d);
    let per_point = answer.labels.par_chunks(INERTIA_CHUNK).zip(state.upper.par_chunks_mut(INERTIA_CHUNK));
    let per_point =
        per_point.zip(state.lower.par_chunks_mut(INERTIA_CHUNK)).zip(state.stale.par_chunks_mut(INERTIA_CHUNK));
    let centroids: &[f32] = answer.centroids;
    points
        .zip(per_point)
        .map(|(points, (((labels, upper), lower), stale))| {
            let chunk = Bounds { points, d, centroids, labels, upper, lower, stale, moves: &moves, margins };
            dispatch(level, chunk)
        })
        .sum()
}

/// The last update's movement, as each point's bounds need it.
struct Moves<'a> {
    drift: &'a [f32],
    half_gap: &'a [f32],
    /// The centroid that moved most, how far, and how far the second most moved one did.
    farthest: usize,
    largest: f32,
    second: f32,
}

impl<'a> Moves<'a> {
    fn of(drift: &'a [f32], half_gap: &'a [f32]) -> Moves<'a> {
        let (mut farthest, mut largest, mut second) = (0, 0.0f32, 0.0f32);
        for (c, &moved) in drift.iter().enumerate() {
            if moved > largest {
                (farthest, largest, second) = (c, moved, largest);
            } else {
                second = second.max(moved);
            }
        }
        Moves { drift, half_gap, farthest, largest, second }
    }

    /// The most any centroid other than `label` moved.
    fn others(&self, label: usize) -> f32 {
        if label == self.farthest { self.second } else { self.largest }
    }
}

/// One chunk of points' bound check, at the SIMD level of its one tightening distance.
struct Bounds<'a> {
    points: &'a [f32],
    d: usize,
    centroids: &'a [f32],
    labels: &'a [u32],
    upper: &'a mut [f32],
    lower: &'a mut [f32],
    stale: &'a mut [bool],
    moves: &'a Moves<'a>,
    margins: &'a Margins,
}

impl WithSimd for Bounds<'_> {
    type Output = u64;

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) -> u64 {
        let Bounds { points, d, centroids, labels, upper, lower, stale, moves, margins } = self;
        // First every point's bounds, with no memory access beyond the per-point arrays; the
        // points to tighten are listed, so that their distances (a point each, scattered over
        // memory) run in a loop of independent loads the CPU can overlap.
        const { assert!(INERTIA_CHUNK <= 1 << 16) };
        assert!(labels.len() <= INERTIA_CHUNK);
        let mut tighten = [0u16; INERTIA_CHUNK];
        let mut count = 0;
        for j in 0..labels.len() {
            let a = labels[j] as usize;
            upper[j] = round_up(upper[j] as f64 + moves.drift[a] as f64);
            lower[j] = round_down(lower[j] as f64 - moves.others(a) as f64);
            let keeps = margins.keeps(upper[j], lower[j].max(moves.half_gap[a]));
            stale[j] = !keeps;
            tighten[count] = j as u16;
            count += usize::from(!keeps);
        }
        for &j in &tighten[..count] {
            let (j, a) = (j as usize, labels[j as usize] as usize);
            // SAFETY: `dispatch` enabled V; both rows hold d floats.
            let [distance] = unsafe { distances::<V, 1>(&points[j * d..][..d], [&centroids[a * d..][..d]]) };
            upper[j] = margins.upper(distance);
            stale[j] = !margins.keeps(upper[j], lower[j].max(moves.half_gap[a]));
        }
        count as u64
    }
}

/// Re-assigns the stale points with the flagship, in batches (gathered unless contiguous), and
/// sets their bounds from its distance and runner-up. Returns the distances computed (k each).
fn reassign_stale(level: SimdLevel, inputs: &Inputs, answer: &mut Answer, state: &mut State, margins: &Margins) -> u64 {
    let Shape { d, k, .. } = inputs.shape;
    let State { upper, lower, stale, survivors, gathered, batch_labels, batch_distances, batch_runner_up, .. } = state;
    survivors.clear();
    survivors.extend(stale.iter().enumerate().filter(|(_, stale)| **stale).map(|(i, _)| i as u32));
    for batch in survivors.chunks(batch_points(d)) {
        let (first, last, len) = (batch[0] as usize, batch[batch.len() - 1] as usize, batch.len());
        let points: &[f32] = if last - first + 1 == len {
            &inputs.points[first * d..(last + 1) * d]
        } else {
            for (row, &i) in gathered.chunks_exact_mut(d).zip(batch) {
                row.copy_from_slice(&inputs.points[i as usize * d..][..d]);
            }
            &gathered[..len * d]
        };
        let batch_inputs =
            crate::assignment::Inputs { shape: Shape { n: len, d, k }, points, centroids: answer.centroids };
        let mut inertia = 0.0;
        let mut batch_answer = crate::assignment::Answer {
            labels: &mut batch_labels[..len],
            distances: &mut batch_distances[..len],
            inertia: &mut inertia,
        };
        best::assign_with_runner_up(level, &batch_inputs, &mut batch_answer, &mut batch_runner_up[..len]);
        for (j, &i) in batch.iter().enumerate() {
            let i = i as usize;
            answer.labels[i] = batch_labels[j];
            upper[i] = margins.upper(batch_distances[j]);
            lower[i] = margins.lower(batch_runner_up[j]);
        }
    }
    (survivors.len() * k) as u64
}

/// After an update: how far each centroid moved (from `state.previous`), and half the distance
/// from each to its nearest other centroid, both in f64 and rounded outwards.
fn measure_moves(centroids: &[f32], state: &mut State, d: usize) {
    let previous = &state.previous;
    state.drift.par_iter_mut().enumerate().for_each(|(c, drift)| {
        *drift = round_up(squared_gap(&centroids[c * d..][..d], &previous[c * d..][..d]).sqrt());
    });
    state.half_gap.par_iter_mut().enumerate().for_each(|(c, half_gap)| {
        let own = &centroids[c * d..][..d];
        let nearest = centroids
            .chunks_exact(d)
            .enumerate()
            .filter(|&(other, _)| other != c)
            .map(|(_, other)| squared_gap(own, other))
            .fold(f64::INFINITY, f64::min);
        *half_gap = round_down(0.5 * nearest.sqrt());
    });
}

/// ‖a − b‖² in f64 (exact differences of f32 values, then a sum accurate to ~d·2⁻⁵³).
fn squared_gap(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        /// Bounds taken from computed distances (each within γ of the truth, either way) keep a
        /// label only where no other rounding of the same true distances could reverse the order.
        #[test]
        fn a_kept_label_survives_any_rounding_of_the_distances(
            d in 1usize..512, distance in 1e-6f64..1e6, gap in 0.0f64..1e-4, a_err in -1.0f64..1.0, b_err in -1.0f64..1.0,
        ) {
            let margins = Margins::new(d);
            let gamma = margins.bound.relative;
            // True squared distances to the label and to the runner-up, and one rounding of each.
            let (label, runner_up) = (distance, distance * (1.0 + gap));
            let computed = |truth: f64, err: f64| (truth * (1.0 + err * gamma)) as f32;
            let (upper, lower) = (margins.upper(computed(label, a_err)), margins.lower(computed(runner_up, b_err)));
            prop_assert!(upper as f64 >= label.sqrt() && lower as f64 <= runner_up.sqrt());
            if margins.keeps(upper, lower) {
                // The worst rounding: the label's distance up, the runner-up's down.
                prop_assert!(label * (1.0 + gamma) < runner_up * (1.0 - gamma));
            }
        }
    }

    #[test]
    fn rounding_goes_outwards_even_near_zero_and_at_infinity() {
        for x in [0.0, 1e-45, 3e-39, 1.0 / 3.0, 1e30, f64::INFINITY] {
            assert!(round_up(x) as f64 >= x && round_down(x) as f64 <= x, "{x}");
        }
        assert_eq!(round_down(-5.0), 0.0);
    }
}

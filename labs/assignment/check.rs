//! The oracle: an f64 search, and what "correct" means when distances are rounded.
//!
//! A returned distance is the direct form in f32, within `γ_{d+3}·D` of the true distance D (the
//! k-NN lab's `check` explains the bound). An assignment is accepted when every label is a valid
//! centroid, every returned distance is within the bound of the true distance to its label, each
//! checked point's label is the nearest centroid or ties with it within the bounds, and the
//! inertia is within the summed bounds of the sum of the true distances. The nearest-centroid
//! test needs all k distances of a point: it runs on every point of small inputs and on a sample
//! (the first and last points, and some between) of large ones; the others run on every point.

use rayon::prelude::*;

use super::Inputs;
use crate::distance::bound::{Bound, true_distance};
use crate::lab::Output;

/// Up to this many point × centroid × coordinate operations, every point's label is checked.
const EXACT_LIMIT: f64 = 5e7;
/// Points sampled at each end, and between them, when sampling.
const SAMPLED_AT_ENDS: usize = 16;
const SAMPLED_BETWEEN: usize = 1024;

/// One assignment, as a variant or an anchor returned it.
pub struct Returned<'a> {
    pub labels: &'a [u32],
    pub distances: &'a [f32],
    /// None for an answer that has none (an anchor's search).
    pub inertia: Option<f64>,
}

/// Ok: how the assignment was checked; Err: the first wrong point (or the inertia), explained.
pub fn check(inputs: &Inputs, returned: &Returned) -> Result<String, String> {
    let shape = inputs.shape;
    let bound = Bound::of(shape.d);
    let true_distances: Vec<f64> = (0..shape.n)
        .into_par_iter()
        .map(|i| {
            let label = returned.labels[i] as usize;
            if label < shape.k { true_distance(inputs.point(i), inputs.centroid(label)) } else { f64::NAN }
        })
        .collect();
    let rows = returned.labels.iter().zip(returned.distances).zip(&true_distances);
    for (i, ((&label, &got), &exact)) in rows.enumerate() {
        if label as usize >= shape.k {
            return Err(format!("point {i}: label {label} is not a centroid (k = {})", shape.k));
        }
        let within = (got as f64 - exact).abs() <= bound.at(exact); // false for NaN
        if !within {
            return Err(format!(
                "point {i}: distance {got:e} to its centroid {label}, but the true distance is {exact:e} (bound ±{:.1e})",
                bound.at(exact)
            ));
        }
    }
    let sampled = points_to_search(inputs);
    let wrong = sampled.par_iter().find_first(|&&i| nearest_is_wrong(inputs, returned.labels[i], i, bound).is_some());
    if let Some(&i) = wrong {
        return Err(nearest_is_wrong(inputs, returned.labels[i], i, bound).unwrap_or_default());
    }
    if let Some(inertia) = returned.inertia {
        let total: f64 = true_distances.iter().sum();
        let allowed =
            bound.relative * total + shape.n as f64 * bound.absolute + (shape.n as f64 + 1.0) * f64::EPSILON * total;
        let within = (inertia - total).abs() <= allowed; // false for NaN
        if !within {
            return Err(format!(
                "inertia {inertia:e}, but the true distances of the returned labels sum to {total:e} (bound ±{allowed:.1e})"
            ));
        }
    }
    Ok(if sampled.len() == shape.n {
        format!("all {} labels against an f64 oracle", shape.n)
    } else {
        format!("{} labels searched in full against an f64 oracle; distances of all {}", sampled.len(), shape.n)
    })
}

/// Checks outputs computed outside this process: `labels` (n × 1, or a library anchor's `out`)
/// and, when given, `inertia` (1 × 1, as returned: a sum in f32 keeps its f32 error). Distances
/// are the direct form's, computed here, so only the labels and the inertia are the variant's.
pub fn check_output(inputs: &Inputs, outputs: &[Output]) -> Result<String, String> {
    let super::Shape { n, k, .. } = inputs.shape;
    let name = if outputs.iter().any(|o| o.name == "labels") { "labels" } else { "out" };
    let given = Output::find(outputs, name)?;
    if given.shape != [n, 1] {
        let axis = if given.shape[0] == k { ": one per centroid, as an argmin over the wrong axis gives" } else { "" };
        return Err(format!("{name} has shape {:?}, expected one label per point, [{n}, 1]{axis}", given.shape));
    }
    let labels = given.indices(k, "centroids")?;
    let inertia = match outputs.iter().any(|o| o.name == "inertia") {
        true => Some(Output::expect(outputs, "inertia", [1, 1])?.data[0]),
        false => None,
    };
    let distances: Vec<f32> = labels
        .iter()
        .enumerate()
        .map(|(i, &c)| crate::distance::squared_distance(inputs.point(i), inputs.centroid(c as usize)))
        .collect();
    check(inputs, &Returned { labels: &labels, distances: &distances, inertia })
}

/// The points whose label is checked against all k centroids, ascending.
fn points_to_search(inputs: &Inputs) -> Vec<usize> {
    let n = inputs.shape.n;
    if inputs.shape.flops() / 2.0 <= EXACT_LIMIT || n <= 2 * SAMPLED_AT_ENDS + SAMPLED_BETWEEN {
        return (0..n).collect();
    }
    let mut points: Vec<usize> = (0..SAMPLED_AT_ENDS).chain(n - SAMPLED_AT_ENDS..n).collect();
    points.extend((1..=SAMPLED_BETWEEN).map(|j| j * n / (SAMPLED_BETWEEN + 1)));
    points.sort_unstable();
    points.dedup();
    points
}

/// Why `label` is not (within the bounds) point i's nearest centroid, or None if it is.
fn nearest_is_wrong(inputs: &Inputs, label: u32, i: usize, bound: Bound) -> Option<String> {
    let point = inputs.point(i);
    let (mut nearest, mut nearest_distance) = (0, f64::INFINITY);
    for c in 0..inputs.shape.k {
        let distance = true_distance(point, inputs.centroid(c));
        if distance < nearest_distance {
            (nearest, nearest_distance) = (c, distance);
        }
    }
    let given = true_distance(point, inputs.centroid(label as usize));
    let tie = given - bound.at(given) <= nearest_distance + bound.at(nearest_distance);
    (!tie).then(|| {
        format!(
            "point {i}: label {label} at true distance {given:e}, but centroid {nearest} is nearer at {nearest_distance:e} \
             (more than the error bound ±{:.1e} apart)",
            bound.at(given)
        )
    })
}

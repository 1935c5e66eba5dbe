//! What "correct" means for a Lloyd run, checked without replaying it in f64 (a replay drifts
//! away at the first near-tie, which either label may take):
//!
//! 1. the last labels are a correct assignment to the centroids they were computed against
//!    (C_{T−1}, from a run of T − 1 iterations), by the assignment's oracle, with the last inertia;
//! 2. each final centroid is the mean of the points with its label, in f64, within its rounding
//!    bound; a centroid with no point is exactly its previous value;
//! 3. the inertia never grows from one iteration to the next, beyond the distances' rounding
//!    (Lloyd's defining property: an update cannot raise it, nor can a re-assignment);
//! 4. for every variant but plain Lloyd: labels, centroids and inertia are plain Lloyd's, bit for bit.

use super::Inputs;
use crate::assignment::check::{Returned as Assignment, check as check_assignment};
use crate::distance::bound::Bound;
use crate::distance::squared_distance;

/// One Lloyd run, as a variant returned it.
pub struct Returned<'a> {
    pub centroids: &'a [f32],
    pub labels: &'a [u32],
    pub inertia: &'a [f64],
}

/// Checks 1 to 3; `previous` holds the centroids of iteration T − 1 (the initial ones if T = 1).
pub fn check(inputs: &Inputs, previous: &[f32], returned: &Returned) -> Result<String, String> {
    let shape = inputs.shape;
    let t = inputs.iterations;
    let labels_valid = returned.labels.iter().all(|&c| (c as usize) < shape.k);
    let last = inputs.assignment(previous);
    let distances: Vec<f32> = if labels_valid {
        (0..shape.n).map(|i| squared_distance(last.point(i), last.centroid(returned.labels[i] as usize))).collect()
    } else {
        vec![0.0; shape.n]
    };
    let assigned =
        Assignment { labels: returned.labels, distances: &distances, inertia: returned.inertia.last().copied() };
    let how = check_assignment(&last, &assigned).map_err(|e| format!("iteration {} (the last): {e}", t - 1))?;
    check_means(inputs, previous, returned)?;
    check_inertia_falls(shape.n, shape.d, returned.inertia)?;
    Ok(format!("last iteration: {how}; centroids against f64 means; inertia falls over {t} iterations"))
}

/// Check 2: every centroid is its points' mean within rounding, or unchanged if it has none.
fn check_means(inputs: &Inputs, previous: &[f32], returned: &Returned) -> Result<(), String> {
    let (n, d, k) = (inputs.shape.n, inputs.shape.d, inputs.shape.k);
    let (mut sums, mut magnitudes, mut counts) = (vec![0.0f64; k * d], vec![0.0f64; k * d], vec![0usize; k]);
    for i in 0..n {
        let c = returned.labels[i] as usize;
        counts[c] += 1;
        for (p, &x) in inputs.points[i * d..][..d].iter().enumerate() {
            sums[c * d + p] += x as f64;
            magnitudes[c * d + p] += (x as f64).abs();
        }
    }
    for c in 0..k {
        for p in 0..d {
            let got = returned.centroids[c * d + p];
            let at = format!("centroid {c}, coordinate {p}");
            if counts[c] == 0 {
                if !got.is_finite() {
                    return Err(format!(
                        "{at}: no point has label {c}, and it holds {got}: a centroid with no point must keep its \
                         place (a mean over zero points divides by zero)"
                    ));
                }
                if got.to_bits() != previous[c * d + p].to_bits() {
                    return Err(format!(
                        "{at}: no point has label {c}, so it must keep {}, got {got}",
                        previous[c * d + p]
                    ));
                }
                continue;
            }
            let count = counts[c] as f64;
            let mean = sums[c * d + p] / count;
            // The f32 rounding of the mean, plus two f64 sums' errors (the variant's and ours).
            let bound =
                f32::EPSILON as f64 / 2.0 * mean.abs() + 2.0 * count * f64::EPSILON * magnitudes[c * d + p] / count;
            if ((got as f64 - mean).abs() > bound) || !got.is_finite() {
                return Err(format!(
                    "{at}: {got}, but the mean of its {} points is {mean} (bound ±{bound:.1e})",
                    counts[c]
                ));
            }
        }
    }
    Ok(())
}

/// Check 3: inertia[t] ≤ inertia[t − 1], beyond the rounding of two sums of computed distances.
fn check_inertia_falls(n: usize, d: usize, inertia: &[f64]) -> Result<(), String> {
    let bound = Bound::of(d);
    let (slack, underflow) = (4.0 * bound.relative, 4.0 * n as f64 * bound.absolute);
    if let Some(t) = inertia.iter().position(|x| !x.is_finite()) {
        return Err(format!("inertia of iteration {t} is {}", inertia[t]));
    }
    for t in 1..inertia.len() {
        if inertia[t] > inertia[t - 1] * (1.0 + slack) + underflow {
            return Err(format!(
                "inertia rose from {:e} (iteration {}) to {:e} (iteration {t}): an update or an assignment went wrong",
                inertia[t - 1],
                t - 1,
                inertia[t]
            ));
        }
    }
    Ok(())
}

/// Check 4: the first difference from plain Lloyd's result, if any.
pub fn same_as_plain(plain: &Returned, returned: &Returned) -> Result<(), String> {
    if let Some(i) = (0..plain.labels.len()).find(|&i| plain.labels[i] != returned.labels[i]) {
        return Err(format!(
            "point {i}: label {} in the last iteration, but plain Lloyd's is {} (bounds must never change a label)",
            returned.labels[i], plain.labels[i]
        ));
    }
    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    if let Some(at) = bits(plain.centroids).iter().zip(bits(returned.centroids)).position(|(a, b)| *a != b) {
        return Err(format!(
            "centroid value {at}: {}, but plain Lloyd's is {} (the same labels must give the same bits)",
            returned.centroids[at], plain.centroids[at]
        ));
    }
    if let Some(t) = (0..plain.inertia.len()).find(|&t| plain.inertia[t].to_bits() != returned.inertia[t].to_bits()) {
        return Err(format!(
            "inertia of iteration {t}: {:e}, but plain Lloyd's is {:e} (a label differed in that iteration)",
            returned.inertia[t], plain.inertia[t]
        ));
    }
    Ok(())
}

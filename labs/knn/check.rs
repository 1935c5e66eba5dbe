//! The oracle: an f64 direct-form search, and what "correct" means when distances are rounded.
//!
//! A returned squared distance is an f32 sum of d squares of rounded differences. In any
//! summation order, with or without FMA, its error is at most `γ_{d+3} · D` (Higham, *Accuracy
//! and Stability of Numerical Algorithms*, §3.1: every term is non-negative, so the relative
//! bound of a dot product holds for the whole sum), where D is the true distance and
//! `γ_j = j·u / (1 − j·u)`, u = 2⁻²⁴. Two points whose true distances differ by less than their
//! bounds may come out in either order, so the oracle accepts an answer when, for every query:
//!
//! 1. its k indices are valid and distinct;
//! 2. each returned distance is within the bound of that point's true distance;
//! 3. the list is ascending within the bounds, exact ties in index order;
//! 4. it holds every point closer than the true k-th distance by more than the bounds;
//! 5. the predicted class is the vote of the returned neighbours.
//!
//! Checks 1, 2, 3 and 5 cost O(k·d) per query and run on every query. Check 4 needs all n true
//! distances of a query: it runs on every query of small searches, and on a sample (the first and
//! last queries, where slicing bugs live, and some between) of large ones.

use std::collections::HashMap;
use std::fmt::Write;

use rayon::prelude::*;

use super::Inputs;
use super::topk::vote;
use crate::distance::bound::{Bound, relative_bound, true_distance};
use crate::lab::Output;

/// Up to this many query × point × coordinate operations, check 4 runs on every query.
const EXACT_LIMIT: f64 = 5e7;
/// Queries sampled at each end, and between them, when sampling.
const SAMPLED_AT_ENDS: usize = 8;
const SAMPLED_BETWEEN: usize = 48;

/// What the oracle knows of one query: its true k nearest (index, distance), nearest first.
#[derive(Clone, Debug)]
struct Truth {
    nearest: Vec<(u32, f64)>,
}

impl Truth {
    fn of(inputs: &Inputs, q: usize) -> Truth {
        let query = inputs.query(q);
        let mut all: Vec<(u32, f64)> =
            (0..inputs.shape.n).map(|i| (i as u32, true_distance(query, inputs.point(i)))).collect();
        let k = inputs.shape.k;
        let by_distance = |a: &(u32, f64), b: &(u32, f64)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
        all.select_nth_unstable_by(k - 1, by_distance);
        all.truncate(k);
        all.sort_by(by_distance);
        Truth { nearest: all }
    }

    /// The true k-th distance.
    fn kth(&self) -> f64 {
        self.nearest.last().map_or(0.0, |p| p.1)
    }
}

/// The oracle of one input: true neighbours computed on demand and kept (every variant is
/// checked against the same queries).
#[derive(Debug, Default)]
pub struct Oracle {
    truths: HashMap<usize, Truth>,
}

/// One answer, as a variant or an anchor returned it.
pub struct Returned<'a> {
    pub indices: &'a [u32],
    pub distances: &'a [f32],
    /// None for anchors, which search but do not classify.
    pub classes: Option<&'a [u32]>,
}

impl Oracle {
    /// Checks `returned` for the queries of `inputs` (the first `inputs.shape.m` of the case).
    /// Ok: how it was checked; Err: the first query that is wrong, with expected and returned
    /// neighbours.
    pub fn check(&mut self, inputs: &Inputs, returned: &Returned) -> Result<String, String> {
        let shape = inputs.shape;
        let complete = self.queries_to_complete(inputs);
        let missing: Vec<usize> = complete.iter().copied().filter(|q| !self.truths.contains_key(q)).collect();
        let computed: Vec<(usize, Truth)> = missing.into_par_iter().map(|q| (q, Truth::of(inputs, q))).collect();
        self.truths.extend(computed);
        let bound = Bound::of(shape.d);
        let mut sampled = complete.iter().peekable();
        for q in 0..shape.m {
            let with_truth = sampled.next_if_eq(&&q).is_some();
            let truth = with_truth.then(|| &self.truths[&q]);
            if let Err(problem) = check_query(inputs, returned, q, truth, bound) {
                let truth = truth.cloned().unwrap_or_else(|| Truth::of(inputs, q));
                return Err(explain(inputs, returned, q, &truth, &problem));
            }
        }
        let how = if complete.len() == shape.m {
            format!("all {} queries against an f64 oracle", shape.m)
        } else {
            format!(
                "{} queries in full against an f64 oracle; order, distances and votes of all {}",
                complete.len(),
                shape.m
            )
        };
        Ok(how)
    }

    /// The queries whose whole neighbour list is checked (check 4), ascending.
    fn queries_to_complete(&self, inputs: &Inputs) -> Vec<usize> {
        let Inputs { shape, .. } = *inputs;
        let m = shape.m;
        if shape.flops() / 2.0 <= EXACT_LIMIT || m <= 2 * SAMPLED_AT_ENDS + SAMPLED_BETWEEN {
            return (0..m).collect();
        }
        let mut queries: Vec<usize> = (0..SAMPLED_AT_ENDS).chain(m - SAMPLED_AT_ENDS..m).collect();
        queries.extend((1..=SAMPLED_BETWEEN).map(|i| i * m / (SAMPLED_BETWEEN + 1)));
        queries.sort_unstable();
        queries.dedup();
        queries
    }

    /// Checks outputs computed outside this process: `ids` and `distances` (m × k each: a Python
    /// rung's), or one `out` of m × 2k values (a library anchor's: the k indices of each query, as
    /// f32, exact below 2²⁴, then its k distances).
    pub fn check_outputs(&mut self, inputs: &Inputs, outputs: &[Output]) -> Result<String, String> {
        let super::Shape { n, m, k, .. } = inputs.shape;
        if !outputs.iter().any(|o| o.name == "ids") {
            let out = Output::find(outputs, "out")?;
            return self.check_output(inputs, &out.shape, &out.to_f32());
        }
        let indices = Output::expect(outputs, "ids", [m, k])?.indices(n, "training points")?;
        let distances = Output::expect(outputs, "distances", [m, k])?.to_f32();
        self.check(inputs, &Returned { indices: &indices, distances: &distances, classes: None })
    }

    /// Checks an output computed outside this process: m × 2k values, the k indices of each query
    /// (as f32, exact below 2²⁴) then its k distances.
    pub fn check_output(&mut self, inputs: &Inputs, shape: &[usize], output: &[f32]) -> Result<String, String> {
        let super::Shape { n, m, k, .. } = inputs.shape;
        if shape != [m, 2 * k] || output.len() != m * 2 * k {
            return Err(format!("the output has shape {shape:?}, expected [{m}, {}] (indices, then distances)", 2 * k));
        }
        let mut indices = Vec::with_capacity(m * k);
        let mut distances = Vec::with_capacity(m * k);
        for row in output.chunks_exact(2 * k) {
            for &index in &row[..k] {
                if index.fract() != 0.0 || index < 0.0 || index >= n as f32 || n >= 1 << 24 {
                    return Err(format!("{index} is not the index of one of the {n} training points"));
                }
                indices.push(index as u32);
            }
            distances.extend_from_slice(&row[k..]);
        }
        self.check(inputs, &Returned { indices: &indices, distances: &distances, classes: None })
    }
}

/// Checks 1 to 5 for query q (check 4 only with its truth).
fn check_query(
    inputs: &Inputs,
    returned: &Returned,
    q: usize,
    truth: Option<&Truth>,
    bound: Bound,
) -> Result<(), String> {
    let Bound { relative, absolute } = bound;
    let (n, k) = (inputs.shape.n, inputs.shape.k);
    let indices = &returned.indices[q * k..][..k];
    let distances = &returned.distances[q * k..][..k];
    let mut seen = indices.to_vec();
    seen.sort_unstable();
    if let Some(&bad) = indices.iter().find(|&&i| i as usize >= n) {
        return Err(format!("index {bad} is not a training point (n = {n})"));
    }
    if let Some(pair) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("point {} is returned twice", pair[0]));
    }
    let query = inputs.query(q);
    let true_distances: Vec<f64> = indices.iter().map(|&i| true_distance(query, inputs.point(i as usize))).collect();
    for (slot, ((&i, &got), &exact)) in indices.iter().zip(distances).zip(&true_distances).enumerate() {
        let within = (got as f64 - exact).abs() <= bound.at(exact); // false for NaN
        if !within {
            return Err(format!(
                "neighbour {slot} (point {i}): distance {got:e}, true {exact:e}, bound ±{:.1e}",
                bound.at(exact)
            ));
        }
    }
    for slot in 1..k {
        let (before, after) = (true_distances[slot - 1], true_distances[slot]);
        let out_of_order = before > after * (1.0 + relative) + before * relative + 2.0 * absolute;
        let tie_out_of_order = before == after && indices[slot - 1] > indices[slot];
        if out_of_order || tie_out_of_order {
            return Err(format!(
                "neighbours {} and {slot} are out of order (points {} and {}, true distances {before:e} and {after:e})",
                slot - 1,
                indices[slot - 1],
                indices[slot]
            ));
        }
    }
    if let Some(truth) = truth {
        let kth = truth.kth();
        for &(point, distance) in &truth.nearest {
            let clearly_closer = distance * (1.0 + relative) + absolute < kth * (1.0 - relative) - absolute;
            if clearly_closer && seen.binary_search(&point).is_err() {
                return Err(format!(
                    "point {point} (true distance {distance:e}) is missing: it is closer than the true \
                     k-th distance {kth:e} by more than the error bound"
                ));
            }
        }
    }
    if let Some(classes) = returned.classes {
        let expected = vote(inputs.labels, indices);
        if classes[q] != expected {
            return Err(format!("predicted class {}, but the returned neighbours vote {expected}", classes[q]));
        }
    }
    Ok(())
}

/// The failure, with the expected and returned neighbours side by side.
fn explain(inputs: &Inputs, returned: &Returned, q: usize, truth: &Truth, problem: &str) -> String {
    const SHOWN: usize = 12;
    let k = inputs.shape.k;
    let mut text = format!(
        "query {q}: {problem}\n  {:>4}  {:>24}  {:>24}\n",
        "rank", "expected (point: distance)", "returned (point: distance)"
    );
    for slot in 0..k.min(SHOWN) {
        let (ei, ed) = truth.nearest[slot];
        let (ri, rd) = (returned.indices[q * k + slot], returned.distances[q * k + slot]);
        let mark = if ei == ri { ' ' } else { '*' };
        let _ =
            writeln!(text, "{mark} {slot:>4}  {:>24}  {:>24}", format!("{ei}: {ed:.6e}"), format!("{ri}: {rd:.6e}"));
    }
    if k > SHOWN {
        let _ = writeln!(text, "  ... {} more", k - SHOWN);
    }
    let _ = write!(text, "  (* differs; error bound ±{:.1e} × the distance)", relative_bound(inputs.shape.d));
    text
}

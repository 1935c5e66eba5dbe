//! Rung 0, the interview answer: for each query, every distance into a fresh list of
//! (distance, index), a full sort, the first k, a vote.
//!
//! Correct, and O(m·(n·d + n log n)) time with an n-element allocation per query: the sort does
//! n log n comparisons to order points nobody asked about, and the list costs 8·n bytes of memory
//! traffic before a single distance is ranked. Every later rung removes one of these costs.

use super::topk::vote;
use super::{Answer, Inputs};
use crate::distance::squared_distance;

pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    let k = inputs.shape.k;
    for q in 0..inputs.shape.m {
        let query = inputs.query(q);
        let mut all: Vec<(f32, u32)> =
            (0..inputs.shape.n).map(|i| (squared_distance(query, inputs.point(i)), i as u32)).collect();
        // Sorting (distance, index) pairs puts ties in index order. `total_cmp` because f32 is
        // not `Ord`; the distances are finite, so it is the usual order.
        all.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (indices, distances, class) = answer.query_mut(q, k);
        for (slot, &(distance, index)) in all[..k].iter().enumerate() {
            indices[slot] = index;
            distances[slot] = distance;
        }
        *class = vote(inputs.labels, indices);
    }
}

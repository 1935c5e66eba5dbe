//! Rung 1: select, do not sort. A bounded max-heap of the k best so far ([`TopK`]) replaces the
//! list of all n distances and its sort.
//!
//! Each candidate costs one comparison with the heap's root (the k-th best so far); only the few
//! that beat it pay O(log k) to enter. For random data the expected number of entries is about
//! k·(1 + ln(n/k)), so selection drops from O(n log n) to O(n) comparisons, and the heap lives in
//! the caller's answer slots: nothing is allocated. What is left is the distance loop itself,
//! O(n·d) per query: the next rungs speed that up.

use crate::distance::squared_distance;
use crate::knn::topk::{TopK, vote};
use crate::knn::{Answer, Inputs};

pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    let k = inputs.shape.k;
    for q in 0..inputs.shape.m {
        let query = inputs.query(q);
        let (indices, distances, class) = answer.query_mut(q, k);
        let mut top = TopK::new(distances, indices);
        for i in 0..inputs.shape.n {
            top.push(squared_distance(query, inputs.point(i)), i as u32);
        }
        top.into_sorted();
        *class = vote(inputs.labels, indices);
    }
}

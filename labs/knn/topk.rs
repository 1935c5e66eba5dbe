//! Keeping the k best candidates, and the vote: the selection half of every rung but `naive`.
//!
//! [`TopK`] is a bounded max-heap over the caller's own slices of length k: its root is the worst
//! of the k kept, so a new candidate is compared with one value (the *threshold*) and, in the
//! rare case it is better, costs O(log k) to insert. Over n candidates that is O(n log k) time
//! and no allocation, against naive's O(n log n) sort of a fresh list per query.
//!
//! Order is by (distance, index): ties go to the lower index, whatever order the candidates come
//! in, so every rung, serial or parallel, keeps exactly the same k.

/// The index the empty slots hold, worse than any real point.
pub const NO_POINT: u32 = u32::MAX;

/// `(d1, i1)` comes before `(d2, i2)`: nearer, or as near with a lower index.
#[inline(always)]
pub fn is_before(d1: f32, i1: u32, d2: f32, i2: u32) -> bool {
    d1 < d2 || (d1 == d2 && i1 < i2)
}

/// The k best (distance, index) pairs pushed so far, as a max-heap in two parallel slices.
/// Slots not yet filled hold (+∞, [`NO_POINT`]), so the heap is always full and its root is the
/// threshold to beat.
#[derive(Debug)]
pub struct TopK<'a> {
    distances: &'a mut [f32],
    indices: &'a mut [u32],
}

impl<'a> TopK<'a> {
    /// An empty selection over `distances` and `indices` (which must have the same length, k ≥ 1).
    pub fn new(distances: &'a mut [f32], indices: &'a mut [u32]) -> TopK<'a> {
        assert!(!distances.is_empty() && distances.len() == indices.len(), "k ≥ 1 slots, as many of each");
        distances.fill(f32::INFINITY);
        indices.fill(NO_POINT);
        TopK { distances, indices }
    }

    /// Continues a selection whose slots already form a heap (made by [`TopK::new`] and pushes).
    pub fn resume(distances: &'a mut [f32], indices: &'a mut [u32]) -> TopK<'a> {
        assert!(!distances.is_empty() && distances.len() == indices.len(), "k ≥ 1 slots, as many of each");
        TopK { distances, indices }
    }

    /// The distance a candidate must not exceed to be kept: the worst of the k (+∞ until k are in).
    #[inline(always)]
    pub fn threshold(&self) -> f32 {
        self.distances[0]
    }

    /// Offers a candidate: kept if it comes before the worst one kept, which it then replaces.
    #[inline(always)]
    pub fn push(&mut self, distance: f32, index: u32) {
        if is_before(distance, index, self.distances[0], self.indices[0]) {
            self.replace_root(distance, index);
        }
    }

    /// Puts a candidate at the root and sifts it down to its place: O(log k).
    #[inline(never)]
    fn replace_root(&mut self, distance: f32, index: u32) {
        let len = self.distances.len();
        let mut hole = 0;
        loop {
            let left = 2 * hole + 1;
            if left >= len {
                break;
            }
            // The worse child moves up if it is worse than the candidate.
            let right = left + 1;
            let child = if right < len
                && is_before(self.distances[left], self.indices[left], self.distances[right], self.indices[right])
            {
                right
            } else {
                left
            };
            if !is_before(distance, index, self.distances[child], self.indices[child]) {
                break;
            }
            self.distances[hole] = self.distances[child];
            self.indices[hole] = self.indices[child];
            hole = child;
        }
        self.distances[hole] = distance;
        self.indices[hole] = index;
    }

    /// Sorts the slots in place, nearest first (heapsort: no allocation). Empty slots, if fewer
    /// than k candidates came, end up last.
    pub fn into_sorted(self) {
        let TopK { distances, indices } = self;
        for end in (1..distances.len()).rev() {
            // The root is the worst of slots 0..=end: it belongs at `end`.
            let (root_distance, root_index) = (distances[0], indices[0]);
            let (last_distance, last_index) = (distances[end], indices[end]);
            distances[end] = root_distance;
            indices[end] = root_index;
            TopK { distances: &mut distances[..end], indices: &mut indices[..end] }
                .replace_root(last_distance, last_index);
        }
    }
}

/// The class most of `neighbours` (nearest first) share; a tie goes to the tied class whose
/// nearest member comes first. O(k²) with no allocation: for the small k of k-NN classification
/// this beats a hash map; each class is counted once, at its nearest member.
pub fn vote(labels: &[u32], neighbours: &[u32]) -> u32 {
    let class_of = |p: u32| labels[p as usize];
    let mut best = (0, class_of(neighbours[0]));
    for (i, &p) in neighbours.iter().enumerate() {
        let class = class_of(p);
        if neighbours[..i].iter().any(|&q| class_of(q) == class) {
            continue; // counted at a nearer member
        }
        let count = neighbours[i..].iter().filter(|&&q| class_of(q) == class).count();
        if count > best.0 {
            best = (count, class);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn keeps_the_k_smallest_in_order_whatever_the_order_of_arrival(
            values in prop::collection::vec(0u8..20, 1..200),
            k in 1usize..12,
        ) {
            let k = k.min(values.len());
            let (mut distances, mut indices) = (vec![0.0; k], vec![0; k]);
            let mut top = TopK::new(&mut distances, &mut indices);
            // Arrive in reverse index order: ties must still go to the lower index.
            for (i, &v) in values.iter().enumerate().rev() {
                top.push(v as f32, i as u32);
            }
            top.into_sorted();
            let mut expected: Vec<(u8, u32)> = values.iter().enumerate().map(|(i, &v)| (v, i as u32)).collect();
            expected.sort();
            let expected: Vec<u32> = expected[..k].iter().map(|&(_, i)| i).collect();
            prop_assert_eq!(indices, expected);
        }
    }

    #[test]
    fn the_threshold_is_infinite_until_k_are_in() {
        let (mut distances, mut indices) = (vec![0.0; 2], vec![0; 2]);
        let mut top = TopK::new(&mut distances, &mut indices);
        top.push(3.0, 0);
        assert_eq!(top.threshold(), f32::INFINITY);
        top.push(1.0, 1);
        assert_eq!(top.threshold(), 3.0);
        top.push(2.0, 2);
        assert_eq!(top.threshold(), 2.0);
    }

    #[test]
    fn the_vote_takes_the_majority_and_breaks_ties_by_the_nearest() {
        let labels = [7, 8, 8, 7, 9];
        assert_eq!(vote(&labels, &[0, 1, 2]), 8, "two of three");
        assert_eq!(vote(&labels, &[1, 0, 3, 2]), 8, "2-2 tie: 8 has the nearest member");
        assert_eq!(vote(&labels, &[0, 1, 2, 3]), 7, "2-2 tie: 7 has the nearest member");
        assert_eq!(vote(&labels, &[4]), 9);
    }
}

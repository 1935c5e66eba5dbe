"""Your k nearest neighbours in Python: the exercise an interview in Python asks for.

This file starts as the slow version (pure-Python loops, the ladder's `py-loops`) and already
passes the checker. Make it fast in numpy, one TODO at a time, and after each one:

    cargo lab check knn your-numpy      correct on every checked size? how fast against py-chunked?
    cargo lab profile knn your-numpy    where does the time go, line by line (py-spy)
    cargo lab hint knn your-numpy       stuck? the next hint

The contract: `knn(x, q, k)` gets the training points x (n x d) and the queries q (m x d),
float32 numpy arrays, and returns `(ids, distances)`, both m x k: each query's k nearest training
points, nearest first (the lower index first among equal distances), and their squared Euclidean
distances. The checker compares both against an f64 oracle, with the error bounds it prints.

TODO 1  One query at a time, all points at once: `((x - q[i]) ** 2).sum(axis=1)` is the n
        distances of query i; `np.argsort(..., kind="stable")[:k]` its k nearest (stable: equal
        distances keep index order). Check: correct, and about 100x faster.
TODO 2  Select, do not sort: `np.argpartition(distances, k - 1)[:k]` finds the k smallest in
        O(n); then order just those k by (distance, index) with `np.lexsort`. Check: faster again.
TODO 3  All queries at once with one matrix multiply: ||q - x||^2 = ||q||^2 - 2 q.x + ||x||^2, and
        ||q||^2 does not change a query's ranking, so rank by ||x||^2 - 2 q.x (an m x n matrix from
        `q @ x.T`); recompute the k winners' distances in the direct form, (q - x)^2, which the
        expanded form is too rough for. Check: another large factor, or a failure on a
        `data=shifted` size (TODO 4).
TODO 4  Centre the data (subtract the training points' mean from x and q before the expanded
        form) and take the queries in chunks of 128, so the m x n scores never exist at once.
        Check: `data=shifted` sizes pass; the peak column of `cargo lab bench knn` falls.
"""

import heapq


def knn(x, q, k):
    """The k nearest training points of each query, nearest first, and their squared distances."""
    ids, distances = [], []
    for row in q:
        query = row.tolist()
        scored = []
        for i, point_row in enumerate(x):
            distance = 0.0
            for a, b in zip(query, point_row.tolist()):
                distance += (a - b) * (a - b)
            scored.append((distance, i))
        nearest = heapq.nsmallest(k, scored)  # ordered by distance, then by index
        ids.append([i for _, i in nearest])
        distances.append([distance for distance, _ in nearest])
    return ids, distances

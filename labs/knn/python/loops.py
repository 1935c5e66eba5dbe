"""k nearest neighbours, rung 1 of the Python ladder: pure-Python loops.

For every query, every training point, every coordinate: one Python operation, then the k
smallest with heapq. n = 10^5 points of d = 64 coordinates is 6.4 * 10^6 operations per query,
about half a second: the harness times it on a slice of the queries, as it does the Rust `naive`.
The arithmetic is Python's float (f64), more precise than the f32 rungs.
"""

import heapq


def knn(x, q, k):
    """The k nearest training points of each query, nearest first (the lower index first among
    equal distances), and their squared distances. x: n x d, q: m x d, float32 numpy arrays."""
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

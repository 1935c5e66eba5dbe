"""k-means assignment, rung 1 of the Python ladder: pure-Python loops.

The interview's "slow implementation": for every point, every centroid, every coordinate, one
Python operation. About 60 ns each, so n = 10^6 points, k = 256 centroids and d = 32 coordinates
(8.2 * 10^9 of them) would take hours: the harness times it on a slice of the points, as it does
the Rust `naive`. The arithmetic is Python's float (f64), more precise than the f32 rungs.
"""


def assign(x, c):
    """Each point's nearest centroid (the lower index on a tie) and the inertia: the sum of the
    points' squared distances to their centroids. x: n x d, c: k x d, both float32 numpy arrays."""
    centroids = c.tolist()  # a list of lists of Python floats
    labels = []
    inertia = 0.0
    for row in x:
        point = row.tolist()
        best, best_distance = 0, float("inf")
        for j, centroid in enumerate(centroids):
            distance = 0.0
            for p, q in zip(point, centroid):
                distance += (p - q) * (p - q)
            if distance < best_distance:  # strict: the first of equal distances stays
                best, best_distance = j, distance
        labels.append(best)
        inertia += best_distance
    return labels, inertia

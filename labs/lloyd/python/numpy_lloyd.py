"""Lloyd's iterations of k-means in numpy: the Python ladder's answer to "given a slow k-means,
profile it and make it fast".

Each iteration is an assignment (the k-means lab's rung 4, `labs/kmeans/python/chunked.py`: the
GEMM per chunk of points, on centred data) and an update (each centroid to the mean of its
points). Where the time goes: the assignment is n * k * d multiply-adds in BLAS, the update n * d
additions. The update's sums are float64: a float32 sum of 10^6 coordinates drifts by more than a
float32 mean can hold, and a centroid that got no point keeps its place (no division by zero).
"""

import numpy as np

CHUNK_BYTES = 2 << 20  # scores per chunk of points: 2 MiB, in L2 or L3 (1-2 MiB L2 measured)


def assign(x, c):
    """Each point's nearest centroid (the lower index on a tie) and the inertia (float64)."""
    centre = c.mean(axis=0, dtype=np.float64).astype(np.float32)
    c_centred = c - centre
    c_scaled = c_centred.T * np.float32(-2)
    c_norms = np.einsum("ij,ij->i", c_centred, c_centred)
    n, k = len(x), len(c)
    rows = max(256, CHUNK_BYTES // (4 * k))
    scores = np.empty((min(rows, n), k), dtype=np.float32)
    labels = np.empty(n, dtype=np.intp)
    inertia = 0.0
    for start in range(0, n, rows):
        chunk = x[start : start + rows]
        block = scores[: len(chunk)]
        np.matmul(chunk - centre, c_scaled, out=block)
        block += c_norms
        chunk_labels = block.argmin(axis=1)
        labels[start : start + len(chunk)] = chunk_labels
        differences = chunk - c[chunk_labels]
        inertia += float(np.einsum("ij,ij->i", differences, differences).sum(dtype=np.float64))
    return labels, inertia


def update(x, labels, c):
    """Each centroid moved to the mean of its points (sums in float64); one with none stays."""
    k, d = c.shape
    counts = np.bincount(labels, minlength=k)
    # One weighted bincount per coordinate sums it per label, in float64. (np.add.at(sums, labels,
    # x) says the same in one line and was the profile's hot spot: 20x slower, see the README.)
    sums = np.stack([np.bincount(labels, weights=x[:, p], minlength=k) for p in range(d)], axis=1)
    moved = c.copy()
    has_points = counts > 0
    moved[has_points] = (sums[has_points] / counts[has_points, None]).astype(np.float32)
    return moved


def lloyd(x, c0, iterations):
    """`iterations` of assignment and update from the centroids c0: returns the final centroids,
    the last labels (against the centroids before the last update) and every iteration's inertia."""
    c = np.array(c0, dtype=np.float32)
    inertias = []
    for _ in range(iterations):
        labels, inertia = assign(x, c)
        inertias.append(inertia)
        c = update(x, labels, c)
    return c, labels, inertias

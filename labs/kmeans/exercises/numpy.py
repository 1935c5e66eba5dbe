"""Your k-means assignment in Python: the exercise an interview in Python asks for.

"Here is a slow k-means assignment. Profile it, find the bottleneck, make it fast, and measure."
This file starts as that slow version (pure-Python loops, the ladder's `py-loops`) and already
passes the checker. Make it fast in numpy, one TODO at a time, and after each one:

    cargo lab check kmeans your-numpy      correct on every checked size? how fast against py-chunked?
    cargo lab profile kmeans your-numpy    where does the time go, line by line (py-spy)
    cargo lab hint kmeans your-numpy       stuck? the next hint

The contract: `assign(x, c)` gets x (n x d) and c (k x d), float32 numpy arrays, and returns
`(labels, inertia)`: each point's nearest centroid by squared Euclidean distance (the lower index
when two are equally near), and the inertia, the sum of each point's squared distance to its
centroid. The checker compares both against an f64 oracle, on small and odd shapes and on data
far from the origin (`data=shifted`), with error bounds it prints when something is off.

TODO 1  One point at a time, all centroids at once: replace the two inner loops by numpy on
        `c - x[i]` (k x d), its squares summed along the coordinates, and `argmin`.
        Check: still correct, and the time falls by about 100x (the loops over k and d run in C);
        the profile's hot line is now the numpy line.
TODO 2  All points at once, without the n x k x d temporary of broadcasting: expand
        ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2; ||x||^2 is the same for every centroid, so the
        argmin needs only ||c||^2 - 2 x.c, an n x k matrix from one matrix multiply (`x @ c.T`).
        Take only the labels from it: the inertia comes from the direct form of the winners,
        (x - c[labels])^2 summed in float64 (the expanded form's values lose digits, and a
        float32 sum of 10^5 values drifts past the checker's bound).
        Check: another large factor, or a failure on a `data=shifted` size (TODO 3 says why).
TODO 3  Centre the data: subtract the centroids' mean from x and c before the expanded form
        (distances do not change when both move). Check: `data=shifted` sizes pass.
TODO 4  Chunks of points: the n x k scores take 1 GiB at n = 10^6, k = 256. Compute them for
        a few thousand points at a time into one buffer (`np.matmul(..., out=)`). Check: the
        peak column of `cargo lab bench kmeans --variant your-numpy` falls; the time too.
"""


def assign(x, c):
    """Each point's nearest centroid (the lower index on a tie) and the inertia."""
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

"""Your k-means in Python: "here is a slow k-means, profile it, find the bottleneck, make it
fast, measure". This file is that slow k-means (Lloyd's iterations in pure-Python loops) and
already passes the checker. Make it fast in numpy, one TODO at a time, and after each one:

    cargo lab check lloyd your-numpy      correct on every checked size? how fast against py-numpy?
    cargo lab profile lloyd your-numpy    where does the time go, line by line (py-spy)
    cargo lab hint lloyd your-numpy       stuck? the next hint

The contract: `lloyd(x, c0, iterations)` gets x (n x d) and c0 (k x d), float32 numpy arrays,
and returns `(centroids, labels, inertias)`: the k x d centroids after `iterations` rounds of
assignment (each point to its nearest centroid, the lower index on a tie) and update (each
centroid to the mean of its points; one with no point stays where it is), the labels of the last
assignment, and each iteration's inertia (the sum of the squared distances of that assignment).
The checker verifies the last labels against the centroids before the last update, every
centroid against the float64 mean of its points, and that the inertia never rises.

TODO 1  Profile first: `cargo lab profile lloyd your-numpy`. Which lines hold the time, the
        assignment's or the update's?
TODO 2  The assignment in numpy, all points at once: your `assign(x, c)` from the k-means
        exercise (`cargo lab check kmeans your-numpy`: the expanded form ||c||^2 - 2 x.c with one
        matrix multiply, on centred data, the inertia from the direct form in float64). Check:
        the time falls by about 10x, and the profile now points at the update's loops.
TODO 3  The update in numpy. `np.bincount(labels, minlength=k)` counts the points per
        centroid, and `np.bincount(labels, weights=x[:, p], minlength=k)` sums coordinate p per
        centroid in float64 (a float32 sum of many coordinates drifts past what the checker
        accepts). `np.add.at(sums, labels, x)` says it in one line but is about 20x slower here:
        profile both and see. Check: the profile's hot line moves back to the assignment.
TODO 4  Centroids with no point keep their place (no division by zero: 0/0 is NaN), and the
        centroids stay float32 between iterations. Check: every checked size passes.
"""

import numpy as np


def lloyd(x, c0, iterations):
    """`iterations` rounds of assignment and update from the centroids c0."""
    n, d = x.shape
    k = len(c0)
    c = np.array(c0, dtype=np.float32)
    inertias = []
    for _ in range(iterations):
        centroids = c.tolist()  # lists of Python floats
        labels, inertia = [], 0.0
        for row in x:  # the assignment: every point against every centroid
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
        inertias.append(inertia)
        sums = [[0.0] * d for _ in range(k)]  # the update: per centroid, its points' sums
        counts = [0] * k
        for row, label in zip(x, labels):
            counts[label] += 1
            for p, value in enumerate(row.tolist()):
                sums[label][p] += value
        for j in range(k):
            if counts[j] > 0:  # a centroid with no point stays where it is
                c[j] = [s / counts[j] for s in sums[j]]  # rounded to float32 on the way in
    return c, labels, inertias

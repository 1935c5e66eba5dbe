"""What the update step of Lloyd costs in three numpy spellings: the figures of the lloyd README's
Python debrief. Run with the anchors' Python, nothing else running:

    .venv/bin/python labs/lloyd/python/update_costs.py [n] [d] [k]

Each spelling sums the float32 points per label into float64 sums (what the checker needs for
the means); the median of 7 timed calls is printed, after one warm-up call.
"""

import sys
import time

import numpy as np


def add_at(x, labels, k):
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x)  # unbuffered scatter-add, casting each float32 element
    return sums


def add_at_float64(x, labels, k):
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x.astype(np.float64))  # the cast once, outside
    return sums


def bincounts(x, labels, k):
    return np.stack([np.bincount(labels, weights=x[:, p], minlength=k) for p in range(x.shape[1])], axis=1)


def median_ms(update, x, labels, k):
    update(x, labels, k)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        update(x, labels, k)
        times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[3]


def main():
    n, d, k = (int(a) for a in (sys.argv[1:] + ["100000", "16", "8"][len(sys.argv) - 1 :])[:3])
    rng = np.random.default_rng(42)
    x = rng.standard_normal((n, d)).astype(np.float32)
    labels = rng.integers(0, k, n)
    reference = bincounts(x, labels, k)
    print(f"update of n={n}, d={d}, k={k}: median of 7 calls")
    for update in (add_at, add_at_float64, bincounts):
        assert np.allclose(update(x, labels, k), reference)
        print(f"  {update.__name__:<15} {median_ms(update, x, labels, k):8.2f} ms")


if __name__ == "__main__":
    main()

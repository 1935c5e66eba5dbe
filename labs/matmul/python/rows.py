"""Matrix multiply, rung 2 of the Python ladder: the i-p-j loop order with a numpy row per step.

C[i, :] += A[i, p] * B[p, :] for each p: the Rust ladder's loop-order lesson (the inner loop runs
along rows, contiguous in memory) in numpy, one vector operation of n floats per (i, p) pair.
m * k numpy calls of about a microsecond each: the per-call overhead is most of the time while n
is small, and even at n = 1024 the result is far from `numpy` (`A @ B`, one BLAS call: the
library row of this lab), which blocks for the caches and uses SIMD and every core.
"""

import numpy as np


def matmul(a, b):
    """C = A B for A (m x k) and B (k x n), float32 numpy arrays."""
    c = np.zeros((a.shape[0], b.shape[1]), dtype=np.float32)
    for i in range(a.shape[0]):
        row = c[i]
        for p in range(a.shape[1]):
            row += a[i, p] * b[p]  # in place: no temporary per step beyond the product
    return c

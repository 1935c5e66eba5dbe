"""Your matrix multiply in Python: what an interviewer means by "make it fast in numpy".

This file starts as three pure-Python loops (the ladder's `py-loops`) and already passes the
checker. Make it fast, one TODO at a time, and after each one:

    cargo lab check matmul your-numpy      correct on every checked size? how fast against numpy?
    cargo lab profile matmul your-numpy    where does the time go, line by line (py-spy)

The contract: `matmul(a, b)` gets A (m x k) and B (k x n), float32 numpy arrays, and returns
C = A B (m x n). The checker compares C against an f64 oracle, element by element, with the
error bound of a float32 dot product of length k.

TODO 1  The i-p-j loop order with a numpy row per step: C[i] += A[i, p] * B[p] walks contiguous
        rows (the Rust ladder's loop-order lesson). Check: correct, and much faster; profile it:
        the time is now numpy's per-call overhead, about a microsecond per row operation.
TODO 2  One call for the whole product: `a @ b` (or `np.matmul(a, b, out=c)` into a buffer you
        keep). Check: the goal; then read labs/matmul/README.md for why that one call is a
        hundred times faster than TODO 1 (blocking, packing, a SIMD micro-kernel, every core).
"""


def matmul(a, b):
    """C = A B for A (m x k) and B (k x n), float32 numpy arrays."""
    columns = b.T.tolist()  # B's columns as lists: the inner loop walks both operands in order
    c = []
    for row in a:
        a_row = row.tolist()
        c.append([sum(x * y for x, y in zip(a_row, column)) for column in columns])
    return c

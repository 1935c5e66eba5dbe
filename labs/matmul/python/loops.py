"""Matrix multiply, rung 1 of the Python ladder: three pure-Python loops.

C[i][j] = sum over p of A[i][p] * B[p][j], one Python operation per multiply-add: about
10^7 a second, so n = 1024 (2 * 10^9 floating-point operations) takes minutes. The harness
times it on a slice of the rows of A, as it does the Rust `naive`. Python's float is f64.
"""


def matmul(a, b):
    """C = A B for A (m x k) and B (k x n), float32 numpy arrays."""
    columns = b.T.tolist()  # B's columns as lists: the inner loop walks both operands in order
    c = []
    for row in a:
        a_row = row.tolist()
        c.append([sum(x * y for x, y in zip(a_row, column)) for column in columns])
    return c

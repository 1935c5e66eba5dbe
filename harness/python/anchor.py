"""One Python variant of a perflab lab, driven by the harness over stdin/stdout: a library
anchor (numpy, scikit-learn, faiss) or a Python file of the lab's (a rung of its Python ladder,
or the learner's own).

Started as `python anchor.py <lab> <name> <threads> [<file>]`, one process per variant (importing
faiss changes how scikit-learn threads, so libraries never share a process). The harness sets
the BLAS and OpenMP thread variables before this starts; the limits are enforced again here with
threadpoolctl. Every reply is one line on stdout:

    ready <json>            after the imports: library versions, BLAS, threads
    unavailable <reason>    a library is missing (then the process exits)
    ok                      after `setup <json>` and `rows <count>`
    ok <names>              after `validate <dir>`: the outputs written there, comma-separated
    seconds <float>         after `sample <calls>`: the time of the calls alone, measured here
    memory <peak> <blocks> <buffers> <bytes>
                            after `memory`: one call's peak bytes above its start and the memory
                            blocks it left allocated, by tracemalloc (which sees numpy's buffers),
                            then the numpy buffers it allocated and their bytes ("-": not counted)
    error <message>         anything that went wrong with a command

Commands: `setup {"dir": ..., "inputs": [...], "sliced": [...], "params": {...}}` loads
`<dir>/<input>.npy` (not timed, like building an index; may be sent again with other inputs),
`rows <count>` limits the inputs named in "sliced" to their first rows (a slow variant runs on a
slice, as the lab's own do), `validate <dir>` runs once and saves each output as
`<dir>/<name>.npy` in float64 (exact for float32 values and for indices), `sample <calls>` runs
the calls and replies with their seconds, `memory` runs one call under tracemalloc, `quit` ends
the process.
"""

import importlib.util
import json
import os
import sys
import time
import tracemalloc

# The protocol gets a private copy of stdout; whatever a library prints goes to stderr instead
# and can never be mistaken for a reply.
PROTOCOL = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def reply(line):
    PROTOCOL.write(line.replace("\n", " ") + "\n")
    PROTOCOL.flush()


class Anchor:
    """Keeps the thread count; the harness limits BLAS and OpenMP, faiss also wants it set."""

    def __init__(self, threads):
        self.threads = threads


class Numpy(Anchor):
    """matmul: numpy.matmul(A, B, out=C) in float32, on numpy's own BLAS."""

    libraries = ["numpy"]

    def setup(self, np, inputs, params):
        self.a, self.b = inputs["a"], inputs["b"]
        self.c = np.empty((params["m"], params["n"]), dtype=np.float32)
        self.np = np

    def call(self):
        self.np.matmul(self.a, self.b, out=self.c)

    def output(self):
        return self.c


def neighbours(np, ids, distances):
    """knn output: the m x k indices as float32, then their m x k squared distances."""
    return np.hstack([ids.astype(np.float32), distances.astype(np.float32)])


class Faiss(Anchor):
    """knn: faiss.IndexFlatL2(d) with add(x) in setup (it only stores x), search(q, k, D=, I=)
    in call on faiss.omp_set_num_threads(threads). faiss picks the path: per-query SIMD while
    m*d < faiss.cvar.distance_compute_blas_threshold (128000 in 1.15), sgemm from there on;
    the sgemm path clamps negative distances at 0 itself."""

    libraries = ["faiss"]

    def setup(self, np, inputs, params):
        faiss = load("faiss")

        faiss.omp_set_num_threads(self.threads)
        self.index = faiss.IndexFlatL2(params["d"])
        self.index.add(inputs["x"])
        self.q, self.k = inputs["q"], params["k"]
        self.distances = np.empty((params["m"], self.k), dtype=np.float32)
        self.ids = np.empty((params["m"], self.k), dtype=np.int64)
        self.np = np

    def call(self):
        self.index.search(self.q, self.k, D=self.distances, I=self.ids)

    def output(self):
        return neighbours(self.np, self.ids, self.distances)


class FaissBlas(Faiss):
    """knn: Faiss with faiss.cvar.distance_compute_blas_threshold = 0, so that the sgemm path
    (m*d < threshold never holds) is taken for any batch size."""

    def setup(self, np, inputs, params):
        faiss = load("faiss")

        faiss.cvar.distance_compute_blas_threshold = 0
        super().setup(np, inputs, params)


class Sklearn(Anchor):
    """knn: sklearn.neighbors.NearestNeighbors(n_neighbors=k, algorithm="brute").fit(x) in setup
    (a brute fit only stores x), kneighbors(q, return_distance=True) in call; its Euclidean
    distances (clamped at 0 inside) are squared in output()."""

    libraries = ["sklearn"]

    def setup(self, np, inputs, params):
        NearestNeighbors = load("sklearn.neighbors").NearestNeighbors

        self.model = NearestNeighbors(n_neighbors=params["k"], algorithm="brute").fit(inputs["x"])
        self.q = inputs["q"]
        self.np = np

    def call(self):
        self.distances, self.ids = self.model.kneighbors(self.q, return_distance=True)

    def output(self):
        return neighbours(self.np, self.ids, self.distances**2)


class KnnNumpy(Anchor):
    """knn: numpy in float32, per call |x|^2 once, then per chunk of 128 queries
    D = |q|^2 + |x|^2 - 2 q x^T (one numpy.matmul into a buffer from setup), clamped at 0,
    numpy.argpartition for the k smallest, numpy.argsort of those k."""

    libraries = ["numpy"]
    chunk = 128

    def setup(self, np, inputs, params):
        self.x, self.q, self.k = inputs["x"], inputs["q"], params["k"]
        self.block = np.empty((min(self.chunk, params["m"]), params["n"]), dtype=np.float32)
        self.distances = np.empty((params["m"], self.k), dtype=np.float32)
        self.ids = np.empty((params["m"], self.k), dtype=np.int64)
        self.np = np

    def call(self):
        np, k = self.np, self.k
        x_norms = np.einsum("ij,ij->i", self.x, self.x)
        for start in range(0, len(self.q), self.chunk):
            q = self.q[start : start + self.chunk]
            block = self.block[: len(q)]
            np.matmul(q * np.float32(-2), self.x.T, out=block)
            block += x_norms
            block += np.einsum("ij,ij->i", q, q)[:, None]
            np.maximum(block, 0, out=block)
            ids = np.argpartition(block, k - 1, axis=1)[:, :k]
            distances = np.take_along_axis(block, ids, axis=1)
            order = np.argsort(distances, axis=1)
            self.ids[start : start + len(q)] = np.take_along_axis(ids, order, axis=1)
            self.distances[start : start + len(q)] = np.take_along_axis(distances, order, axis=1)

    def output(self):
        return neighbours(self.np, self.ids, self.distances)


def labels(np, ids):
    """kmeans output: the n labels (centroid indices) as an n x 1 float32 column."""
    return np.asarray(ids, dtype=np.float32).reshape(-1, 1)


class KmeansFaiss(Anchor):
    """kmeans: faiss.IndexFlatL2(d) with add(c) in setup, which only stores the centroids (and is
    what faiss.Clustering does once per iteration before its search), search(x, 1, D=, I=) in call
    on faiss.omp_set_num_threads(threads). faiss picks the path: per-point SIMD while
    n*d < faiss.cvar.distance_compute_blas_threshold (128000 in 1.15), else its sgemm path with a
    top-1 handler. Never faiss.Clustering/faiss.Kmeans, which subsample the points."""

    libraries = ["faiss"]

    def setup(self, np, inputs, params):
        faiss = load("faiss")

        faiss.omp_set_num_threads(self.threads)
        self.index = faiss.IndexFlatL2(params["d"])
        self.index.add(inputs["c"])
        self.x = inputs["x"]
        self.distances = np.empty((params["n"], 1), dtype=np.float32)
        self.ids = np.empty((params["n"], 1), dtype=np.int64)
        self.np = np

    def call(self):
        self.index.search(self.x, 1, D=self.distances, I=self.ids)

    def output(self):
        return labels(self.np, self.ids)


class KmeansSklearn(Anchor):
    """kmeans: scikit-learn's Lloyd E-step, sklearn.cluster._k_means_lloyd.lloyd_iter_chunked_dense(
    x, sample_weight, c, None, None, labels, center_shift, threads, update_centers=False), the
    call that _kmeans_single_lloyd (KMeans.fit, algorithm="lloyd") and _labels_inertia
    (KMeans.predict) make: an OpenMP prange over chunks of 256 points, per chunk |c|^2 then one
    _gemm (-2 x c^T) and a scalar argmin. Like KMeans.fit, setup holds BLAS at 1 thread for the
    whole run (fit's threadpool_limits(limits=1, user_api="blas")) and makes the buffers fit keeps
    across iterations: sample_weight (ones), labels (int32), center_shift. The kernel needs no
    |x|^2. KMeans.fit also subtracts the mean of x (from x and the centroids) once per fit;
    that is left out here, so that every anchor labels the same x and c."""

    libraries = ["sklearn"]

    def setup(self, np, inputs, params):
        lloyd_iter_chunked_dense = load("sklearn.cluster._k_means_lloyd").lloyd_iter_chunked_dense
        from threadpoolctl import threadpool_limits

        self.blas = threadpool_limits(limits=1, user_api="blas")
        self.kernel = lloyd_iter_chunked_dense
        self.x, self.c = inputs["x"], inputs["c"]
        self.sample_weight = np.ones(params["n"], dtype=np.float32)
        self.labels = np.full(params["n"], -1, dtype=np.int32)
        self.center_shift = np.zeros(params["k"], dtype=np.float32)
        self.np = np

    def call(self):
        self.kernel(
            self.x,
            self.sample_weight,
            self.c,
            None,
            None,
            self.labels,
            self.center_shift,
            self.threads,
            update_centers=False,
        )

    def output(self):
        return labels(self.np, self.labels)


class KmeansNumpy(Anchor):
    """kmeans: numpy in float32, per call |c|^2 and -2c once, then per chunk of points
    numpy.matmul(x, (-2c)^T, out=) into a buffer from setup, += |c|^2, numpy.argmin(axis=1, out=)
    into the labels (|x|^2 is left out: it does not change the argmin). A chunk is as many rows
    as make a 2 MiB buffer, at least 1024 (2048 rows at k=256, 65536 at k=8): measured on 1 and
    2 threads against fixed chunks of 512-65536 rows, it was within a few percent of the best
    at d=32,k=256 and d=16,k=8; 1024-8192 rows were flat at k=256, and at k=8 the larger chunks
    were up to 15% faster (fewer numpy calls)."""

    libraries = ["numpy"]
    block_floats = 1 << 19

    def setup(self, np, inputs, params):
        self.x, self.c = inputs["x"], inputs["c"]
        self.chunk = max(1024, self.block_floats // params["k"])
        self.block = np.empty((min(self.chunk, params["n"]), params["k"]), dtype=np.float32)
        self.ids = np.empty(params["n"], dtype=np.intp)
        self.np = np

    def call(self):
        np = self.np
        c_norms = np.einsum("ij,ij->i", self.c, self.c)
        c_t = (self.c * np.float32(-2)).T
        for start in range(0, len(self.x), self.chunk):
            x = self.x[start : start + self.chunk]
            block = self.block[: len(x)]
            np.matmul(x, c_t, out=block)
            block += c_norms
            np.argmin(block, axis=1, out=self.ids[start : start + len(x)])

    def output(self):
        return labels(self.np, self.ids)


class PythonFile(Anchor):
    """A Python file of the lab's, imported as a module: a rung of the lab's Python ladder or the
    learner's own. Each lab's subclass says which function it calls and what comes back."""

    libraries = []

    def __init__(self, threads, path):
        super().__init__(threads)
        spec = importlib.util.spec_from_file_location("rung", path)
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)
        if not callable(getattr(self.module, self.function, None)):
            raise AttributeError(f"{path} defines no function {self.function}(...)")

    def setup(self, np, inputs, params):
        self.np, self.inputs, self.params = np, inputs, params
        self.result = None


class KmeansFile(PythonFile):
    """kmeans: `assign(x, c)` returns `(labels, inertia)`: each point's nearest centroid (the
    lower index on a tie) and the sum of the points' squared distances to their centroids."""

    function = "assign"

    def call(self):
        self.result = self.module.assign(self.inputs["x"], self.inputs["c"])

    def output(self):
        labels, inertia = self.result
        return {"labels": labels, "inertia": inertia}


class LloydFile(PythonFile):
    """lloyd: `lloyd(x, c0, iterations)` returns `(centroids, labels, inertias)`: the centroids
    after T iterations, the labels of the last assignment and the T inertias. For the check, the
    validating run is preceded by one of T - 1 iterations, whose centroids the last labels were
    computed against."""

    function = "lloyd"

    def call(self):
        self.result = self.module.lloyd(self.inputs["x"], self.inputs["c"], self.params["iters"])

    def output(self):
        centroids, labels, inertias = self.result
        iterations = self.params["iters"]
        if iterations == 1:
            previous = self.inputs["c"]
        else:
            previous = self.module.lloyd(self.inputs["x"], self.inputs["c"], iterations - 1)[0]
        return {"centroids": centroids, "labels": labels, "inertia": inertias, "previous": previous}


class KnnFile(PythonFile):
    """knn: `knn(x, q, k)` returns `(ids, distances)`, both m x k: each query's k nearest
    training points, nearest first (the lower index first among equal distances), and their
    squared distances."""

    function = "knn"

    def call(self):
        self.result = self.module.knn(self.inputs["x"], self.inputs["q"], self.params["k"])

    def output(self):
        ids, distances = self.result
        return {"ids": ids, "distances": distances}


class MatmulFile(PythonFile):
    """matmul: `matmul(a, b)` returns C = A B (m x n)."""

    function = "matmul"

    def call(self):
        self.result = self.module.matmul(self.inputs["a"], self.inputs["b"])

    def output(self):
        return {"c": self.result}


FILES = {"kmeans": KmeansFile, "lloyd": LloydFile, "knn": KnnFile, "matmul": MatmulFile}


def save_outputs(np, outputs, folder):
    """Writes each output as <folder>/<name>.npy, 2-D float64 (a scalar as 1 x 1, a vector as a
    column); returns the names."""
    if not isinstance(outputs, dict):
        outputs = {"out": outputs}
    for name, value in outputs.items():
        array = np.asarray(value)
        if array.ndim < 2:
            array = array.reshape(-1, 1)
        np.save(f"{folder}/{name}.npy", np.ascontiguousarray(array, dtype=np.float64))
    return list(outputs)


def memory_of(call):
    """One call under tracemalloc: its peak bytes above what was allocated at its start, and the
    blocks still allocated after it (what it keeps or leaks); and, where numpy lets a handler be
    installed, how many array buffers it allocated and their bytes (None otherwise)."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        blocks = len(tracemalloc.take_snapshot().traces)
        tracemalloc.reset_peak()
        buffers = counting_numpy_buffers(call)
        _, peak = tracemalloc.get_traced_memory()
        kept = len(tracemalloc.take_snapshot().traces) - blocks
    finally:
        tracemalloc.stop()
    return peak - before, max(kept, 0), buffers


# Handlers stay alive for good: an array made under one is freed through it, maybe much later.
_COUNTING_HANDLERS = []


def counting_numpy_buffers(call):
    """Runs `call` with numpy's data allocator (NEP 49: PyDataMem_SetHandler, slot 304 of numpy's
    C API) replaced by one that counts each buffer and forwards to libc, then restores it.
    Returns (allocations, bytes), or None where that cannot be done (then `call` still runs)."""
    import ctypes

    try:
        from numpy._core import _multiarray_umath as umath

        handler = _counting_handler(ctypes)
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        api = ctypes.cast(get_pointer(umath._ARRAY_API, None), ctypes.POINTER(ctypes.c_void_p))
        set_handler = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object)(api[304])
        previous = set_handler(handler["capsule"])
    except (ImportError, AttributeError, OSError, ValueError):
        call()
        return None
    try:
        call()
    finally:
        set_handler(previous)
    return handler["counted"]["allocations"], handler["counted"]["bytes"]


def _counting_handler(ctypes):
    """A PyDataMem_Handler (numpy's ndarraytypes.h) whose functions count, then call libc."""
    c_void_p, c_size_t = ctypes.c_void_p, ctypes.c_size_t
    libc = ctypes.CDLL(None)
    for name, result, arguments in [
        ("malloc", c_void_p, [c_size_t]),
        ("calloc", c_void_p, [c_size_t, c_size_t]),
        ("realloc", c_void_p, [c_void_p, c_size_t]),
        ("free", None, [c_void_p]),
    ]:
        function = getattr(libc, name)
        function.restype, function.argtypes = result, arguments
    counted = {"allocations": 0, "bytes": 0}

    def malloc(_, size):
        counted["allocations"] += 1
        counted["bytes"] += size
        return libc.malloc(size)

    def calloc(_, count, size):
        counted["allocations"] += 1
        counted["bytes"] += count * size
        return libc.calloc(count, size)

    def realloc(_, pointer, size):
        counted["allocations"] += 1
        counted["bytes"] += size
        return libc.realloc(pointer, size)

    def free(_, pointer, size):
        libc.free(pointer)

    types = (
        ctypes.CFUNCTYPE(c_void_p, c_void_p, c_size_t),
        ctypes.CFUNCTYPE(c_void_p, c_void_p, c_size_t, c_size_t),
        ctypes.CFUNCTYPE(c_void_p, c_void_p, c_void_p, c_size_t),
        ctypes.CFUNCTYPE(None, c_void_p, c_void_p, c_size_t),
    )

    class Allocator(ctypes.Structure):
        _fields_ = [("ctx", c_void_p), *zip(("malloc", "calloc", "realloc", "free"), types)]

    class Handler(ctypes.Structure):
        _fields_ = [("name", ctypes.c_char * 127), ("version", ctypes.c_uint8), ("allocator", Allocator)]

    functions = tuple(kind(f) for kind, f in zip(types, (malloc, calloc, realloc, free)))
    struct = Handler(b"perflab_counting", 1, Allocator(None, *functions))
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype, new_capsule.argtypes = ctypes.py_object, [c_void_p, ctypes.c_char_p, c_void_p]
    capsule = new_capsule(ctypes.addressof(struct), b"mem_handler", None)
    handler = {"capsule": capsule, "counted": counted, "keep": (struct, functions)}
    _COUNTING_HANDLERS.append(handler)
    return handler


ANCHORS = {
    ("matmul", "numpy"): Numpy,
    ("knn", "faiss"): Faiss,
    ("knn", "faiss-blas"): FaissBlas,
    ("knn", "sklearn"): Sklearn,
    ("knn", "numpy"): KnnNumpy,
    ("kmeans", "faiss"): KmeansFaiss,
    ("kmeans", "sklearn"): KmeansSklearn,
    ("kmeans", "numpy"): KmeansNumpy,
}


def load(module):
    """Imports a library's module. PERFLAB_LIBRARY_CORETYPE, when set, is the OpenBLAS kernel that
    the library's own OpenBLAS (faiss bundles one) is told to use as it loads: OPENBLAS_CORETYPE for
    this import only, so numpy's OpenBLAS, loaded before, keeps the kernel it chose."""
    import importlib

    forced = os.environ.get("PERFLAB_LIBRARY_CORETYPE")
    if forced:
        os.environ["OPENBLAS_CORETYPE"] = forced
    try:
        return importlib.import_module(module)
    finally:
        os.environ.pop("OPENBLAS_CORETYPE", None)


def versions(libraries):
    import importlib.metadata

    found = {}
    distributions = {"faiss": "faiss-cpu", "sklearn": "scikit-learn"}
    for name in libraries:
        try:
            found[name] = importlib.metadata.version(distributions.get(name, name))
        except importlib.metadata.PackageNotFoundError:
            found[name] = "unknown"
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        pools = [
            f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, {p.get('num_threads')} threads)"
            for p in blas
        ]
        found["blas"] = "; ".join(pools) or "unknown"
        # Each BLAS's kernel, for the harness to judge against this CPU (harness/src/blas.rs).
        found["blas_kernels"] = [
            {"library": p.get("internal_api"), "version": p.get("version"), "kernel": p.get("architecture")}
            for p in blas
        ]
    except ImportError:
        found["blas"] = "unknown (threadpoolctl missing)"
    return found


def start(lab, name, threads, path):
    """The variant to run: a lab's Python file when a path is given, else a library anchor.
    Returns (variant, libraries) or raises LookupError with the reason it cannot run."""
    if path is not None:
        if lab not in FILES:
            raise LookupError(f"perflab runs no Python files for the lab '{lab}'")
        return FILES[lab](threads, path), FILES[lab].libraries
    anchor_class = ANCHORS.get((lab, name))
    if anchor_class is None:
        raise LookupError(f"perflab has no Python anchor '{name}' for the lab '{lab}'")
    for library in anchor_class.libraries:
        load(library)  # here, where a missing package is reported; with the kernel asked for
    return anchor_class(threads), anchor_class.libraries


def serve(np, variant):
    """Answers the harness's commands until `quit` or the end of stdin."""
    loaded = {}
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        try:
            if command == "setup":
                spec = json.loads(argument)
                loaded = {n: np.load(f"{spec['dir']}/{n}.npy") for n in spec["inputs"]}
                sliced, params = spec.get("sliced", []), spec["params"]
                variant.setup(np, loaded, params)
                reply("ok")
            elif command == "rows":
                rows = int(argument)
                variant.setup(np, {n: a[:rows] if n in sliced else a for n, a in loaded.items()}, params)
                reply("ok")
            elif command == "validate":
                variant.call()
                reply("ok " + ",".join(save_outputs(np, variant.output(), argument)))
            elif command == "sample":
                calls = int(argument)
                start = time.perf_counter()
                for _ in range(calls):
                    variant.call()
                seconds = time.perf_counter() - start
                # Untimed: let the BLAS workers reach their sleep (OPENBLAS_THREAD_TIMEOUT) before
                # the next variant's turn, so they never spin on its cores.
                time.sleep(0.001)
                reply(f"seconds {seconds!r}")
            elif command == "memory":
                peak, blocks, buffers = memory_of(variant.call)
                allocations, allocated = buffers if buffers is not None else ("-", "-")
                reply(f"memory {peak} {blocks} {allocations} {allocated}")
            elif command == "quit":
                return
            else:
                reply(f"error unknown command '{command}'")
        except Exception as failure:  # reported to the harness, which fails the variant
            reply(f"error {type(failure).__name__}: {failure}")


def main():
    if len(sys.argv) not in (4, 5):
        reply("error usage: anchor.py <lab> <name> <threads> [<file>]")
        return 2
    lab, name, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) == 5 else None
    try:
        import numpy as np
        from threadpoolctl import threadpool_limits
    except ImportError as missing:
        reply(f"unavailable {missing}")
        return 0
    limits = threadpool_limits(limits=threads)  # noqa: F841 (kept alive for the whole process)
    try:
        variant, libraries = start(lab, name, threads, path)
    except ImportError as missing:
        reply(f"unavailable {missing}")
        return 0
    except LookupError as why:
        reply(f"unavailable {why.args[0]}")
        return 0
    except Exception as failure:  # the file itself fails to import: a broken variant
        reply(f"error {path}: {type(failure).__name__}: {failure}")
        return 0
    info = versions(["numpy", *libraries])
    info["threads"] = threads
    reply("ready " + json.dumps(info))
    serve(np, variant)
    return 0


if __name__ == "__main__":
    sys.exit(main())

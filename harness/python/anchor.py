"""One Python anchor of a perflab lab, driven by the harness over stdin/stdout.

Started as `python anchor.py <lab> <anchor> <threads>`, one process per anchor (importing faiss
changes how scikit-learn threads, so libraries never share a process). The harness sets the BLAS
and OpenMP thread variables before this starts; the limits are enforced again here with
threadpoolctl. Every reply is one line on stdout:

    ready <json>            after the imports: library versions, BLAS, threads
    unavailable <reason>    a library is missing (then the process exits)
    ok                      after `setup <json>` and `validate <path>`
    seconds <float>         after `sample <calls>`: the time of the calls alone, measured here
    error <message>         anything that went wrong with a command

Commands: `setup {"dir": ..., "inputs": [...], "params": {...}}` loads `<dir>/<input>.npy` (not
timed, like building an index), `validate <path>` runs once and saves the output there as .npy,
`sample <calls>` runs the calls and replies with their seconds, `quit` ends the process.
"""

import json
import os
import sys
import time

# The protocol gets a private copy of stdout; whatever a library prints goes to stderr instead
# and can never be mistaken for a reply.
PROTOCOL = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def reply(line):
    PROTOCOL.write(line.replace("\n", " ") + "\n")
    PROTOCOL.flush()


class Numpy:
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


ANCHORS = {("matmul", "numpy"): Numpy}


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

        pools = [
            f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, {p.get('num_threads')} threads)"
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        ]
        found["blas"] = "; ".join(pools) or "unknown"
    except ImportError:
        found["blas"] = "unknown (threadpoolctl missing)"
    return found


def main():
    if len(sys.argv) != 4:
        reply("error usage: anchor.py <lab> <anchor> <threads>")
        return 2
    lab, name, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    anchor_class = ANCHORS.get((lab, name))
    if anchor_class is None:
        reply(f"unavailable perflab has no Python anchor '{name}' for the lab '{lab}'")
        return 0
    try:
        import numpy as np
        from threadpoolctl import threadpool_limits

        for library in anchor_class.libraries:
            __import__(library)
    except ImportError as missing:
        reply(f"unavailable {missing}")
        return 0
    limits = threadpool_limits(limits=threads)  # noqa: F841 (kept alive for the whole process)
    anchor = anchor_class()
    info = versions(anchor_class.libraries)
    info["threads"] = threads
    reply("ready " + json.dumps(info))
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        try:
            if command == "setup":
                spec = json.loads(argument)
                inputs = {n: np.load(f"{spec['dir']}/{n}.npy") for n in spec["inputs"]}
                anchor.setup(np, inputs, spec["params"])
                reply("ok")
            elif command == "validate":
                anchor.call()
                np.save(argument, np.ascontiguousarray(anchor.output(), dtype=np.float32))
                reply("ok")
            elif command == "sample":
                calls = int(argument)
                start = time.perf_counter()
                for _ in range(calls):
                    anchor.call()
                seconds = time.perf_counter() - start
                # Untimed: let the BLAS workers reach their sleep (OPENBLAS_THREAD_TIMEOUT) before
                # the next variant's turn, so they never spin on its cores.
                time.sleep(0.001)
                reply(f"seconds {seconds!r}")
            elif command == "quit":
                return 0
            else:
                reply(f"error unknown command '{command}'")
        except Exception as failure:  # reported to the harness, which fails the anchor
            reply(f"error {type(failure).__name__}: {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Monte Carlo engine benchmark (prints results; never asserts timings).

1. The compiled kernels' one-off cost: compiling them (a fresh Numba cache) and loading
   them from the cache, each in a new process.
2. 1,000 tasks / 3,000 edges random DAG, 10,000 iterations with criticality
   and sensitivity (the default backend: compiled when numba is installed), versus
   the NumPy path on the same model, and versus a naive per-iteration Python loop over
   networkx (forward pass, backward pass, criticality) measured in the same run.
3. pmcontrols.pert on the same network, when pmcontrols is installed.
4. ``shards=2`` in two threads versus one shard (same result, checked), runs of each in turn.
5. Peak memory for 5,000 tasks x 40,000 iterations (tracemalloc).

Usage: python bench/engine_bench.py [--skip-memory]
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dag import random_dag, three_point

from simulation.backend import numba_available, resolve
from simulation.montecarlo import SimulationModel, simulate, usable_cpus
from simulation.network import Network

TASKS, EDGES, ITERATIONS = 1_000, 3_000, 10_000
NAIVE_ITERATIONS = 30


def build_model(tasks: int, edges: int) -> SimulationModel:
    pred, succ = random_dag(tasks, edges, seed=1)
    net = Network([f"t{i}" for i in range(tasks)], pred, succ)
    low, mode, high = three_point(tasks, seed=2)
    return SimulationModel.build(net, low, mode, high)


def naive_per_iteration(model: SimulationModel, iterations: int) -> float:
    """Seconds per iteration of a plain per-iteration networkx loop."""
    net = model.network
    g = nx.DiGraph()
    g.add_nodes_from(range(net.size))
    g.add_edges_from(zip(net.pred.tolist(), net.succ.tolist(), strict=True))
    dm = model.durations
    low, mode, high = dm.low.tolist(), dm.mode.tolist(), dm.high.tolist()
    rnd = random.Random(0)
    crit = [0] * net.size
    start = time.perf_counter()
    for _ in range(iterations):
        d = {}
        for j in range(net.size):
            a, m, b = low[j], mode[j], high[j]
            alpha, beta = 1 + 4 * (m - a) / (b - a), 1 + 4 * (b - m) / (b - a)
            d[j] = a + (b - a) * rnd.betavariate(alpha, beta)
        order = list(nx.topological_sort(g))
        ef = {}
        for v in order:
            ef[v] = max((ef[u] for u in g.predecessors(v)), default=0.0) + d[v]
        finish = max(ef.values())
        lf = {}
        for v in reversed(order):
            lf[v] = min((lf[s] - d[s] for s in g.successors(v)), default=finish)
            if lf[v] - ef[v] <= 1e-9 * finish:
                crit[v] += 1
    return (time.perf_counter() - start) / iterations


def engine_time(
    model: SimulationModel, iterations: int, repeats: int = 5, *, backend: str | None = None, shards: int = 1
) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        simulate(model, iterations, seed=7, backend=backend, shards=shards)
        best = min(best, time.perf_counter() - start)
    return best


def shard_times(model: SimulationModel, shards: int, repeats: int = 5) -> tuple[float, float]:
    """Best wall time of ``shards`` shards of 4 x ITERATIONS, and the CPU time of that run."""
    best = (float("inf"), 0.0)
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        simulate(model, 4 * ITERATIONS, seed=7, shards=shards)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def interleaved_shard_times(
    model: SimulationModel, shards: int, repeats: int = 7
) -> tuple[tuple[float, float], tuple[float, float]]:
    """:func:`shard_times` of one shard and of ``shards``, one run of each in turn, so that both
    see the same load of a shared machine (run one after the other, a change of load between
    them decides the ratio)."""
    one, many = (float("inf"), 0.0), (float("inf"), 0.0)
    for _ in range(repeats):
        one = min(one, shard_times(model, 1, repeats=1))
        many = min(many, shard_times(model, shards, repeats=1))
    return one, many


def scheduler_note() -> str:
    """Why a second thread may get no second core on a busy Linux machine."""
    try:
        autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return ""
    return (
        "; the kernel shares CPU time per session (sched_autogroup), so while other sessions keep "
        "the CPUs busy a second shard thread gets no more CPU than one"
        if autogroup
        else ""
    )


def kernel_load_seconds(cache_dir: str) -> float:
    """Seconds to import the compiled kernels in a new process with ``cache_dir`` as Numba's cache."""
    code = "import time; t = time.perf_counter(); import simulation.kernels; print(time.perf_counter() - t)"
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def report_compile_time() -> None:
    if not numba_available():
        print("numba: not installed; the engine runs its NumPy path (no compile step)")
        return
    with tempfile.TemporaryDirectory(prefix="planner-numba-") as cache:
        cold = kernel_load_seconds(cache)
        warm = kernel_load_seconds(cache)
    print(
        f"numba kernels, first use in a process: compile {cold:.2f} s with an empty cache, "
        f"load {warm:.2f} s from the on-disk cache (one-off per process; not in the timings below)"
    )


def pmcontrols_time(model: SimulationModel, iterations: int) -> float | None:
    try:
        import pmcontrols  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    net, dm = model.network, model.durations
    preds: list[list[str]] = [[] for _ in range(net.size)]
    for p, s in zip(net.pred.tolist(), net.succ.tolist(), strict=True):
        preds[s].append(net.keys[p])
    activities = [
        {
            "id": net.keys[j],
            "predecessors": preds[j],
            "a": float(dm.low[j]),
            "m": float(dm.mode[j]),
            "b": float(dm.high[j]),
        }
        for j in range(net.size)
    ]
    start = time.perf_counter()
    pmcontrols.pert(activities, n_sim=iterations, seed=0)
    return time.perf_counter() - start


def peak_memory(tasks: int, edges: int, iterations: int) -> tuple[float, float]:
    model = build_model(tasks, edges)
    tracemalloc.start()
    start = time.perf_counter()
    # The NumPy path: tracemalloc sees NumPy's allocations, not those of compiled kernels
    # (whose scratch is the block's float32 durations and two tasks x 128 float64 tiles).
    simulate(model, iterations, seed=3, backend="numpy")
    elapsed = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, elapsed


def main() -> None:
    report_compile_time()
    model = build_model(TASKS, EDGES)
    print(f"network: {TASKS} tasks, {EDGES} edges, {model.network.depth} levels; {os.cpu_count()} CPUs")
    default = resolve()
    simulate(model, 100, seed=1)  # loads the kernels (timed above) before any timing
    engine = engine_time(model, ITERATIONS)
    per_iter = engine / ITERATIONS
    print(
        f"engine ({default} backend): {ITERATIONS} iterations with criticality and sensitivity in {engine:.3f} s "
        f"({per_iter * 1e6:.1f} us/iteration; target < 0.15 s)"
    )
    numpy_engine = engine_time(model, ITERATIONS, repeats=3, backend="numpy")
    print(
        f"numpy path (baseline): {numpy_engine:.3f} s; ratio numpy/{default}: {numpy_engine / engine:.1f}x "
        f"(same numbers: {simulate(model, 2000, seed=7, backend='numpy') == simulate(model, 2000, seed=7)})"
    )
    naive = naive_per_iteration(model, NAIVE_ITERATIONS)
    print(f"naive networkx loop: {naive * 1e3:.2f} ms/iteration (measured over {NAIVE_ITERATIONS} iterations)")
    print(f"ratio naive/engine per iteration: {naive / per_iter:.0f}x (target >= 100x)")
    pmc = pmcontrols_time(model, ITERATIONS)
    if pmc is None:
        print("pmcontrols: not installed (skipped)")
    else:
        print(
            f"pmcontrols.pert (baseline): {ITERATIONS} iterations in {pmc:.3f} s; "
            f"ratio pmcontrols/engine: {pmc / engine:.1f}x (target >= 5x)"
        )
    (one_wall, one_cpu), (two_wall, two_cpu) = interleaved_shard_times(model, 2)
    note = scheduler_note() if two_cpu / two_wall < 1.5 else ""
    same = simulate(model, ITERATIONS, seed=7, shards=2) == simulate(model, ITERATIONS, seed=7)
    print(
        f"shards=2 on {min(2, usable_cpus())} threads: {two_wall:.3f} s (CPU {two_cpu:.3f} s, "
        f"{two_cpu / two_wall:.1f} cores busy); baseline shards=1: {one_wall:.3f} s (CPU {one_cpu:.3f} s); "
        f"ratio 1 shard/2 shards: {one_wall / two_wall:.2f}x (bit-identical to one run: {same}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs{note})"
    )
    if "--skip-memory" not in sys.argv:
        mib, elapsed = peak_memory(5_000, 15_000, 40_000)
        print(
            f"memory: 5000 tasks x 40000 iterations (numpy path): peak {mib:.0f} MiB traced "
            f"(target < 600 MB), {elapsed:.1f} s under tracemalloc"
        )


if __name__ == "__main__":
    main()

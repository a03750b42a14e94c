"""Deterministic CPM benchmark (prints results; never asserts timings).

100,000 tasks and 300,000 edges (random DAG): network validation and
topological levels, then the vectorised forward/backward passes, versus a
plain-Python CPM over networkx measured in the same run.  A deep chain of
100,000 tasks is timed as well (it takes the scalar path).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dag import random_dag

from simulation.cpm import critical_path_method
from simulation.network import Network

TASKS, EDGES = 100_000, 300_000


def engine(keys: list[str], pred: np.ndarray, succ: np.ndarray, d: np.ndarray) -> tuple[float, float, float]:
    start = time.perf_counter()
    net = Network(keys, pred, succ)
    built = time.perf_counter()
    res = critical_path_method(net, d)
    done = time.perf_counter()
    return built - start, done - built, res.duration


def baseline(pred: np.ndarray, succ: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    start = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(range(d.size))
    g.add_edges_from(zip(pred.tolist(), succ.tolist(), strict=True))
    dur = d.tolist()
    order = list(nx.topological_sort(g))
    ef: dict[int, float] = {}
    for v in order:
        ef[v] = max((ef[u] for u in g.predecessors(v)), default=0.0) + dur[v]
    finish = max(ef.values())
    lf: dict[int, float] = {}
    for v in reversed(order):
        lf[v] = min((lf[s] - dur[s] for s in g.successors(v)), default=finish)
    _critical = [v for v in order if lf[v] - ef[v] <= 1e-9 * finish]
    return time.perf_counter() - start, finish


def main() -> None:
    pred, succ = random_dag(TASKS, EDGES, seed=5)
    d = np.random.default_rng(6).uniform(1, 10, TASKS)
    keys = [f"t{i}" for i in range(TASKS)]
    best = (float("inf"), 0.0, 0.0)
    for _ in range(3):
        build, passes, duration = engine(keys, pred, succ, d)
        if build + passes < best[0] + best[1]:
            best = (build, passes, duration)
    build, passes, duration = best
    total = build + passes
    print(
        f"random DAG {TASKS} tasks / {EDGES} edges: network {build:.3f} s + CPM {passes:.3f} s "
        f"= {total:.3f} s (target < 0.5 s)"
    )
    base, base_duration = baseline(pred, succ, d)
    agrees = abs(base_duration - duration) <= 1e-9 * duration
    print(
        f"networkx/plain-Python baseline: {base:.3f} s (same project duration: {agrees}); "
        f"ratio baseline/engine: {base / total:.1f}x"
    )
    chain_build, chain_passes, _ = engine(keys, np.arange(TASKS - 1), np.arange(1, TASKS), d)
    print(f"deep chain of {TASKS} tasks: network {chain_build:.3f} s + CPM {chain_passes:.3f} s")


if __name__ == "__main__":
    main()

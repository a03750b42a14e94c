"""Random DAG generator shared by the benchmark scripts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def random_dag(tasks: int, edges: int, seed: int) -> tuple[IntArray, IntArray]:
    """``edges`` distinct edges ``i -> j`` with ``i < j`` drawn uniformly."""
    rng = np.random.default_rng(seed)
    chosen = np.zeros(0, dtype=np.int64)
    while chosen.size < edges:
        a = rng.integers(0, tasks, 2 * edges)
        b = rng.integers(0, tasks, 2 * edges)
        keep = a != b
        code = np.minimum(a, b)[keep] * tasks + np.maximum(a, b)[keep]
        chosen = np.unique(np.concatenate([chosen, code]))
    chosen = rng.permutation(chosen)[:edges]
    return chosen // tasks, chosen % tasks


def three_point(tasks: int, seed: int) -> tuple[npt.NDArray[np.float64], ...]:
    rng = np.random.default_rng(seed)
    low = rng.uniform(1, 5, tasks)
    mode = low + rng.uniform(0, 3, tasks)
    high = mode + rng.uniform(0, 6, tasks)
    return low, mode, high

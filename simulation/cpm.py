"""Deterministic critical path method (CPM), vectorised by level.

Criticality uses a *relative* tolerance: a task is critical when its total
slack is at most ``rtol * project_duration``, so the test does not depend on
the unit or size of the durations.  The critical path is traced backwards
from the task finishing last; at each step the *driving* predecessors (those
whose finish plus lag equals the task's early start, within tolerance) are
critical, and ties are broken by the earliest early finish, then the lowest
task index, which makes the path deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulation.network import Network
from simulation.passes import backward_pass, forward_pass

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Relative tolerance for "zero" slack and driving links.
CRITICAL_RTOL = 1e-9

_LEVEL_COST_IN_EDGES = 32


@dataclass(frozen=True)
class CpmResult:
    """Times in working days from time 0, indexed like the network's tasks."""

    early_start: FloatArray
    early_finish: FloatArray
    late_start: FloatArray
    late_finish: FloatArray
    total_slack: FloatArray
    critical: BoolArray
    critical_path: IntArray
    duration: float


def tolerance(duration: float | FloatArray) -> float | FloatArray:
    """Absolute slack tolerance for a project of the given duration."""
    return CRITICAL_RTOL * np.abs(duration)


def critical_path_method(network: Network, durations: npt.ArrayLike) -> CpmResult:
    """Forward and backward pass, total slack, critical flags and path."""
    d = np.asarray(durations, dtype=np.float64).reshape(-1)
    if d.shape != (network.size,):
        raise ValueError("one duration per task is required")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("durations must be finite and non-negative")
    if _is_deep(network):
        es, ef, ls, lf, project = _scalar_passes(network, d)
    else:
        es = np.empty_like(d)
        ef = forward_pass(network, d, early_start=es)
        project = float(ef.max()) if d.size else 0.0
        lf = np.empty_like(d)
        ls = backward_pass(network, d, project, late_finish=lf)
    slack = lf - ef
    tol = float(tolerance(project))
    critical = slack <= tol
    path = _trace_path(network, es, ef, critical, project=project, tol=tol)
    return CpmResult(es, ef, ls, lf, slack, critical, path, project)


def _is_deep(network: Network) -> bool:
    """Too many narrow levels for per-level numpy calls to pay off.

    A numpy call costs about as much as handling a few dozen edges in plain
    Python, so long chains are scheduled with a scalar loop instead.
    """
    return network.depth * _LEVEL_COST_IN_EDGES > network.size + network.pred.size


def _scalar_passes(network: Network, d: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float]:
    """Plain-Python forward/backward pass in topological order (deep graphs)."""
    n = network.size
    order: list[int] = network.order.tolist()
    dl: list[float] = d.tolist()
    by_succ = np.argsort(network.succ, kind="stable")
    in_ptr: list[int] = np.searchsorted(network.succ[by_succ], np.arange(n + 1)).tolist()
    in_src: list[int] = network.pred[by_succ].tolist()
    in_lag: list[float] = network.lag[by_succ].tolist()
    es = [0.0] * n
    ef = [0.0] * n
    for v in order:
        start = 0.0
        a, b = in_ptr[v], in_ptr[v + 1]
        for p, g in zip(in_src[a:b], in_lag[a:b], strict=True):
            c = ef[p] + g
            start = max(start, c)
        es[v] = start
        ef[v] = start + dl[v]
    project = max(ef) if n else 0.0
    by_pred = np.argsort(network.pred, kind="stable")
    out_ptr: list[int] = np.searchsorted(network.pred[by_pred], np.arange(n + 1)).tolist()
    out_dst: list[int] = network.succ[by_pred].tolist()
    out_lag: list[float] = network.lag[by_pred].tolist()
    ls = [0.0] * n
    lf = [0.0] * n
    for v in reversed(order):
        finish = project
        a, b = out_ptr[v], out_ptr[v + 1]
        for s, g in zip(out_dst[a:b], out_lag[a:b], strict=True):
            c = ls[s] - g
            finish = min(finish, c)
        lf[v] = finish
        ls[v] = finish - dl[v]
    arrays = [np.asarray(x, dtype=np.float64) for x in (es, ef, ls, lf)]
    return arrays[0], arrays[1], arrays[2], arrays[3], float(project)


def _trace_path(
    network: Network,
    es: FloatArray,
    ef: FloatArray,
    critical: BoolArray,
    *,
    project: float,
    tol: float,
) -> IntArray:
    if es.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Driving edges: predecessor finish + lag reaches the successor's start.
    driving = (ef[network.pred] + network.lag >= es[network.succ] - tol) & critical[network.pred]
    d_pred = network.pred[driving]
    d_succ = network.succ[driving]
    # For each successor keep the preferred driving predecessor.
    order = np.lexsort((d_pred, ef[d_pred], d_succ))
    d_pred, d_succ = d_pred[order], d_succ[order]
    first = np.r_[True, d_succ[1:] != d_succ[:-1]] if d_succ.size else np.zeros(0, dtype=bool)
    chosen = np.full(es.size, -1, dtype=np.int64)
    chosen[d_succ[first]] = d_pred[first]
    ends = np.flatnonzero(ef >= project - tol)
    node = int(ends[0])
    path = [node]
    while chosen[node] >= 0:  # acyclic, so this terminates
        node = int(chosen[node])
        path.append(node)
    return np.asarray(path[::-1], dtype=np.int64)

"""Deterministic critical path method (CPM), vectorised by level.

Criticality uses a *relative* tolerance: a task is critical when its total
slack is at most ``rtol * project_duration``, so the test does not depend on
the unit or size of the durations.  A task whose work is done (``done``) is
never critical: nothing it does can move the finish any more.
:func:`critical_mask` is that rule, the one place both CPM and the Monte
Carlo engine (:mod:`simulation.montecarlo`) decide criticality.

The critical path is traced backwards from the task finishing last; at each
step the *driving* predecessors (those whose finish plus lag equals the
task's early start, within tolerance) have zero slack, and ties are broken
by the earliest early finish, then the lowest task index, which makes the
path deterministic.  Done tasks are traced through (they are instants, so a
chain keeps its timing) but left off the path, which lists remaining work
only; where the trace may choose, it prefers tasks with work left.
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


def critical_mask(slack: FloatArray, tol: float | FloatArray, done: BoolArray | None = None) -> BoolArray:
    """Which tasks are critical: slack at most ``tol``, and work left to do.

    ``slack`` is ``(tasks,)`` or ``(tasks, iterations)``; ``tol`` is a scalar or
    one value per iteration; ``done`` (one flag per task of ``slack``, or None
    when no task is done) marks the tasks with no remaining work, which are
    never critical.
    """
    critical: BoolArray = slack <= tol
    if done is not None:
        left = ~done.reshape(done.shape + (1,) * (slack.ndim - 1))
        np.logical_and(critical, left, out=critical)
    return critical


def done_mask(size: int, done: npt.ArrayLike | None) -> BoolArray | None:
    """Validated ``done`` flags for ``size`` tasks; None when no task is done."""
    if done is None:
        return None
    mask = np.asarray(done, dtype=np.bool_).reshape(-1)
    if mask.shape != (size,):
        raise ValueError("one done flag per task is required")
    return mask if mask.any() else None


def critical_path_method(network: Network, durations: npt.ArrayLike, done: npt.ArrayLike | None = None) -> CpmResult:
    """Forward and backward pass, total slack, critical flags and path.

    ``done`` flags the tasks whose work is complete: never critical, never on the path.
    """
    d = np.asarray(durations, dtype=np.float64).reshape(-1)
    if d.shape != (network.size,):
        raise ValueError("one duration per task is required")
    finished = done_mask(network.size, done)
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
    critical = critical_mask(slack, tol, finished)
    path = _trace_path(network, es, ef, critical, finished, project=project, tol=tol)
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
    done: BoolArray | None,
    *,
    project: float,
    tol: float,
) -> IntArray:
    if es.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Done tasks are instants with zero slack when they drive anything: trace through them.
    traced = critical if done is None else critical | done
    # Driving edges: predecessor finish + lag reaches the successor's start.
    driving = (ef[network.pred] + network.lag >= es[network.succ] - tol) & traced[network.pred]
    d_pred = network.pred[driving]
    d_succ = network.succ[driving]
    # For each successor keep the preferred driving predecessor (one with work left, if any).
    keys = (d_pred, ef[d_pred], d_succ) if done is None else (d_pred, ef[d_pred], done[d_pred], d_succ)
    order = np.lexsort(keys)
    d_pred, d_succ = d_pred[order], d_succ[order]
    first = np.r_[True, d_succ[1:] != d_succ[:-1]] if d_succ.size else np.zeros(0, dtype=bool)
    chosen = np.full(es.size, -1, dtype=np.int64)
    chosen[d_succ[first]] = d_pred[first]
    ends = np.flatnonzero(ef >= project - tol)
    if done is not None:  # the first task finishing last that has work left, if any
        ends = ends[np.argsort(done[ends], kind="stable")]
    node = int(ends[0])
    path = [node]
    while chosen[node] >= 0:  # acyclic, so this terminates
        node = int(chosen[node])
        path.append(node)
    if done is not None:
        path = [v for v in path if not done[v]]
    return np.asarray(path[::-1], dtype=np.int64)

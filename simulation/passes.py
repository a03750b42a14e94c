"""Level-wise forward and backward passes shared by CPM and Monte Carlo.

Arrays have shape ``(n_tasks,)`` (one scenario) or ``(n_tasks, block)`` (one
column per iteration).  Each level is handled with a gather plus a
``ufunc.reduceat`` over the contiguous edge segments of its tasks, so the
Python loop runs once per *level*, not once per task or edge.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from simulation.network import Network

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _column(values: FloatArray, ndim: int) -> FloatArray:
    return values.reshape((-1,) + (1,) * (ndim - 1))


def forward_pass(network: Network, durations: FloatArray, early_start: FloatArray | None = None) -> FloatArray:
    """Early finish times; fills ``early_start`` too when given.

    A task starts at the latest ``finish + lag`` of its predecessors and never
    before time 0.
    """
    ef = np.empty_like(durations)
    nd = durations.ndim
    for lvl in network.plan.forward:
        if lvl.free.size:
            ef[lvl.free] = durations[lvl.free]
            if early_start is not None:
                early_start[lvl.free] = 0.0
        if lvl.nodes.size:
            es = _reduce(ef, lvl.columns, lvl.lags, nd, op=np.maximum, sign=1.0)
            if network.has_negative_lag:
                np.maximum(es, 0.0, out=es)
            if early_start is not None:
                early_start[lvl.nodes] = es
            es += durations[lvl.nodes]
            ef[lvl.nodes] = es
    return ef


def backward_pass(
    network: Network,
    durations: FloatArray,
    finish: FloatArray | float,
    on_level: Callable[[IntArray, FloatArray], None] | None = None,
    late_finish: FloatArray | None = None,
) -> FloatArray:
    """Late start times for a project that must finish by ``finish``.

    ``finish`` is a scalar (1-D) or a ``(block,)`` row (2-D).  ``on_level`` is
    called with each level's tasks and their late finish times, which lets the
    caller count critical tasks without keeping a late-finish matrix.
    """
    ls = np.empty_like(durations)
    nd = durations.ndim
    fin = np.asarray(finish, dtype=np.float64)
    for lvl in network.plan.backward:
        if lvl.free.size:
            lf_free = np.broadcast_to(fin, (lvl.free.size, *durations.shape[1:]))
            ls[lvl.free] = lf_free - durations[lvl.free]
            if late_finish is not None:
                late_finish[lvl.free] = lf_free
            if on_level is not None:
                on_level(lvl.free, np.asarray(lf_free))
        if lvl.nodes.size:
            lf = _reduce(ls, lvl.columns, lvl.lags, nd, op=np.minimum, sign=-1.0)
            np.minimum(lf, fin, out=lf)
            if late_finish is not None:
                late_finish[lvl.nodes] = lf
            if on_level is not None:
                on_level(lvl.nodes, lf)
            lf -= durations[lvl.nodes]
            ls[lvl.nodes] = lf
    return ls


def _reduce(
    values: FloatArray,
    columns: tuple[IntArray, ...],
    lags: tuple[FloatArray | None, ...],
    nd: int,
    *,
    op: np.ufunc,
    sign: float,
) -> FloatArray:
    """``op``-reduce ``values[column] + sign * lag`` over the columns, in place.

    Column ``k`` covers a prefix of the level's nodes, so each step updates a
    contiguous slice of the accumulator.
    """
    acc = values[columns[0]]
    if lags[0] is not None:
        acc += sign * _column(lags[0], nd)
    for col, lag in zip(columns[1:], lags[1:], strict=True):
        cand = values[col]
        if lag is not None:
            cand += sign * _column(lag, nd)
        head = acc[: col.size]
        op(head, cand, out=head)
    return acc

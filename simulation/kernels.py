"""Compiled (Numba) kernels of the Monte Carlo engine; load through :mod:`simulation.backend`.

:func:`schedule` fuses, for a tile of iterations at a time, what the NumPy path does in
separate passes over the whole block: the duration look-up, the risks' delays, the forward
pass, the project finish, the backward pass and the critical counts.  The tile (``TILE``
iterations of every task) stays in the CPU's cache, the inner loops run over iterations (SIMD),
and no task x block matrix is ever written to memory.

Same numbers as the NumPy path, bit for bit: every value is computed by the same IEEE
operations in the same order (``max`` / ``min`` are exact whatever the order, ``x + 0.0`` is
``x``, ``a + (-g)`` is ``a - g``), and ``fastmath`` is off so nothing is contracted or
reassociated.  :func:`cell_sums` adds exact integers, like the NumPy path.

The functions are compiled eagerly, with explicit signatures, when this module is first
imported (``cache=True``: later processes load the machine code from ``__pycache__`` beside
this file, or Numba's user-wide cache when that folder is read-only; ``NUMBA_CACHE_DIR`` moves
it).  ``nogil=True``: shards run in threads in parallel.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

#: Iterations per tile: three tasks x tile float64 matrices (1,000 tasks: 3 MB at 128) stay
#: in the last-level cache, and a row of a tile is whole SIMD registers.
TILE = 128

_U32_SCALE = 2.0**-32


def _schedule(
    cells: npt.NDArray[np.uint16],
    cell_row: npt.NDArray[np.int64],
    table: npt.NDArray[np.float32],
    table_row: npt.NDArray[np.int64],
    fixed: npt.NDArray[np.float64],
    risk_words: npt.NDArray[np.uint32],
    risk_prob: npt.NDArray[np.float64],
    risk_delay: npt.NDArray[np.float64],
    risk_ptr: npt.NDArray[np.int64],
    risk_tasks: npt.NDArray[np.int64],
    order: npt.NDArray[np.int64],
    in_ptr: npt.NDArray[np.int64],
    in_src: npt.NDArray[np.int64],
    in_lag: npt.NDArray[np.float64],
    out_ptr: npt.NDArray[np.int64],
    out_dst: npt.NDArray[np.int64],
    out_lag: npt.NDArray[np.float64],
    clamp_at_zero: bool,
    done: npt.NDArray[np.bool_],
    rtol: float,
    backward: bool,
    finish: npt.NDArray[np.float64],
    counts: npt.NDArray[np.int64],
) -> None:
    """Schedule ``finish.size`` iterations; write each one's finish, add to ``counts``.

    ``cells[cell_row[v], i]`` is task ``v``'s quantile cell in iteration ``i`` (``cell_row``
    -1: a fixed duration, ``fixed[v]``); its duration is ``table[table_row[v] + cell]``.
    Risk ``k`` adds ``risk_delay[k]`` to ``risk_tasks[risk_ptr[k]:risk_ptr[k + 1]]`` in the
    iterations whose word maps to a uniform below ``risk_prob[k]``.  Edges are CSR by
    successor (``in_*``) and by predecessor (``out_*``); ``order`` is topological.
    ``backward`` False: the finish only (no criticality).
    """
    n = order.size
    width = finish.size
    # The look-up first, task by task over all iterations: a task's table row (16 KiB) stays
    # in the L1 cache while its cells are read, instead of being fetched again for each tile.
    sampled = np.empty((cells.shape[0], width), dtype=np.float32)
    for v in range(n):
        r = cell_row[v]
        if r >= 0:
            base = table_row[v]
            for i in range(width):
                sampled[r, i] = table[base + np.int64(cells[r, i])]
    d = np.empty((n, TILE), dtype=np.float64)
    ef = np.empty((n, TILE), dtype=np.float64)
    ls = np.empty((n, TILE), dtype=np.float64)
    acc = np.empty(TILE, dtype=np.float64)
    project = np.empty(TILE, dtype=np.float64)
    tol = np.empty(TILE, dtype=np.float64)
    for t0 in range(0, width, TILE):
        w = min(TILE, width - t0)
        for v in range(n):
            r = cell_row[v]
            if r < 0:
                x = fixed[v]
                for i in range(w):
                    d[v, i] = x
            else:
                for i in range(w):
                    d[v, i] = np.float64(sampled[r, t0 + i])
        for k in range(risk_prob.size):
            p = risk_prob[k]
            delay = risk_delay[k]
            if p <= 0.0 or delay == 0.0:
                continue
            for i in range(w):
                u = (np.float64(risk_words[k, t0 + i]) + 0.5) * _U32_SCALE
                if u < p:
                    for e in range(risk_ptr[k], risk_ptr[k + 1]):
                        d[risk_tasks[e], i] += delay
        for i in range(w):
            project[i] = -np.inf
        for v in order:
            e0 = in_ptr[v]
            e1 = in_ptr[v + 1]
            if e0 == e1:
                for i in range(w):
                    ef[v, i] = d[v, i]
            else:
                u0 = in_src[e0]
                g = in_lag[e0]
                for i in range(w):
                    acc[i] = ef[u0, i] + g
                for e in range(e0 + 1, e1):
                    u1 = in_src[e]
                    g = in_lag[e]
                    for i in range(w):
                        c = ef[u1, i] + g
                        acc[i] = c if c > acc[i] else acc[i]
                if clamp_at_zero:
                    for i in range(w):
                        acc[i] = acc[i] if acc[i] > 0.0 else 0.0
                for i in range(w):
                    ef[v, i] = acc[i] + d[v, i]
            for i in range(w):
                project[i] = ef[v, i] if ef[v, i] > project[i] else project[i]
        for i in range(w):
            finish[t0 + i] = project[i]
        if not backward:
            continue
        for i in range(w):
            tol[i] = rtol * abs(project[i])
        for j in range(n - 1, -1, -1):
            v = order[j]
            e0 = out_ptr[v]
            e1 = out_ptr[v + 1]
            for i in range(w):
                acc[i] = project[i]
            if e0 != e1:
                for e in range(e0, e1):
                    s = out_dst[e]
                    g = out_lag[e]
                    for i in range(w):
                        c = ls[s, i] - g
                        acc[i] = c if c < acc[i] else acc[i]
            hits = 0
            if not done[v]:
                for i in range(w):
                    hits += 1 if acc[i] - ef[v, i] <= tol[i] else 0
            counts[v] += hits
            for i in range(w):
                ls[v, i] = acc[i] - d[v, i]


def _cell_sums(
    cells: npt.NDArray[np.uint16],
    ranks: npt.NDArray[np.int64],
    sum_q: npt.NDArray[np.int64],
    sum_qq: npt.NDArray[np.int64],
    sum_qr: npt.NDArray[np.int64],
) -> None:
    """Add each row's ``sum q``, ``sum q*q`` and ``sum q*r`` (exact int64) to the sums."""
    rows, cols = cells.shape
    for row in range(rows):
        sq = np.int64(0)
        sqq = np.int64(0)
        sqr = np.int64(0)
        for i in range(cols):
            q = np.int64(cells[row, i])
            sq += q
            sqq += q * q
            sqr += q * ranks[i]
        sum_q[row] += sq
        sum_qq[row] += sqq
        sum_qr[row] += sqr


_SCHEDULE_SIGNATURE = (
    "void(uint16[:, :], int64[::1], float32[::1], int64[::1], float64[::1], uint32[:, :], float64[::1], "
    "float64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], float64[::1], int64[::1], "
    "int64[::1], float64[::1], boolean, boolean[::1], float64, boolean, float64[::1], int64[::1])"
)
_CELL_SUMS_SIGNATURE = "void(uint16[:, :], int64[::1], int64[::1], int64[::1], int64[::1])"

# ``fastmath`` off (the default) on purpose: the same bits as the NumPy path.
schedule = numba.njit(_SCHEDULE_SIGNATURE, nogil=True, cache=True)(_schedule)
cell_sums = numba.njit(_CELL_SUMS_SIGNATURE, nogil=True, cache=True)(_cell_sums)

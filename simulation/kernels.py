"""Compiled (Numba) kernels of the Monte Carlo engine; load through :mod:`simulation.backend`.

:func:`schedule` first looks up the block's durations task by task (float32, as the table
holds them), then fuses, for a tile of iterations at a time, what the NumPy path does in
separate passes over the whole block: the risks' delays, the forward pass, the project finish,
the backward pass and the critical counts.  The tile (``TILE`` iterations of every task) stays
in the CPU's cache and the inner loops run over iterations (SIMD).  :func:`philox_words` draws
the random streams' words themselves (the very words NumPy's Philox gives), so a block costs
no Python call per task.

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

from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

#: Iterations per tile: two tasks x tile float64 matrices (1,000 tasks: 2 MB at 128) stay
#: in the last-level cache, and a row of a tile is whole SIMD registers.
TILE = 128

_U32_SCALE = 2.0**-32


def _schedule(  # noqa: PLR0912, PLR0915, PLR0917 - one fused loop nest; Numba passes arrays positionally
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
    # The backward pass writes a task's late start over its early finish (``ef`` then holds
    # ``ls`` for the tasks already passed): once its slack is counted, a task's early finish
    # is never read again.  Two task x tile matrices instead of three stay in the cache.
    ls = ef
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
            if not done[v]:  # (ef[v] is still the early finish: ls[v] is written below)
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


# Philox-4x64-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"), the bit
# generator of :mod:`simulation.streams`, computed here so that a stream's words for any range
# of iterations cost no Python call: word ``i`` of a stream is half ``i % 2`` (low half first,
# as NumPy's little-endian view gives) of output lane ``(i // 2) % 4`` of the block at counter
# ``1 + i // 8`` (NumPy's Philox advances its counter before each block).
_PHILOX_M0 = np.uint64(0xD2E7470EE14C6C93)
_PHILOX_M1 = np.uint64(0xCA5A826395121157)
_PHILOX_W0 = np.uint64(0x9E3779B97F4A7C15)
_PHILOX_W1 = np.uint64(0xBB67AE8584CAA73B)
_PHILOX_ROUNDS = 10


def _mulhilo_typing(typingctx: Any, a: Any, b: Any) -> Any:
    """``(high, low)`` 64-bit halves of the 128-bit product of two uint64 (one LLVM ``mul i128``)."""
    signature = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)  # type: ignore[no-untyped-call]

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        x, y = args
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(x, wide), builder.zext(y, wide))
        low = builder.trunc(product, ir.IntType(64))
        high = builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))
        return context.make_tuple(builder, sig.return_type, [high, low])

    return signature, codegen


_mulhilo: Any = intrinsic(_mulhilo_typing)


def _philox_words(keys: npt.NDArray[np.uint64], start: int, shift: int, out: npt.NDArray[np.uint32]) -> None:
    """``out[j, i]``: word ``start + i`` of stream ``keys[j]``, shifted right by ``shift`` bits."""
    count = out.shape[1]
    if count == 0:
        return
    mask = np.uint64(0xFFFFFFFF)
    high = np.uint64(32)
    bits = np.uint32(shift)
    words = np.empty(8, dtype=np.uint32)
    for j in range(keys.shape[0]):
        for block in range(start // 8, (start + count - 1) // 8 + 1):
            c0 = np.uint64(block + 1)
            c1 = np.uint64(0)
            c2 = np.uint64(0)
            c3 = np.uint64(0)
            key0 = keys[j, 0]
            key1 = keys[j, 1]
            for r in range(_PHILOX_ROUNDS):
                if r:
                    key0 += _PHILOX_W0
                    key1 += _PHILOX_W1
                hi0, lo0 = _mulhilo(_PHILOX_M0, c0)
                hi1, lo1 = _mulhilo(_PHILOX_M1, c2)
                c0, c1, c2, c3 = hi1 ^ c1 ^ key0, lo1, hi0 ^ c3 ^ key1, lo0
            words[0] = np.uint32(c0 & mask) >> bits
            words[1] = np.uint32(c0 >> high) >> bits
            words[2] = np.uint32(c1 & mask) >> bits
            words[3] = np.uint32(c1 >> high) >> bits
            words[4] = np.uint32(c2 & mask) >> bits
            words[5] = np.uint32(c2 >> high) >> bits
            words[6] = np.uint32(c3 & mask) >> bits
            words[7] = np.uint32(c3 >> high) >> bits
            base = block * 8 - start
            lo = max(0, -base)
            hi = min(8, count - base)
            for t in range(lo, hi):
                out[j, base + t] = words[t]


_SCHEDULE_SIGNATURE = (
    "void(uint16[:, :], int64[::1], float32[::1], int64[::1], float64[::1], uint32[:, :], float64[::1], "
    "float64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], float64[::1], int64[::1], "
    "int64[::1], float64[::1], boolean, boolean[::1], float64, boolean, float64[::1], int64[::1])"
)
_CELL_SUMS_SIGNATURE = "void(uint16[:, :], int64[::1], int64[::1], int64[::1], int64[::1])"

# ``fastmath`` off (the default) on purpose: the same bits as the NumPy path.
schedule = numba.njit(_SCHEDULE_SIGNATURE, nogil=True, cache=True)(_schedule)
cell_sums = numba.njit(_CELL_SUMS_SIGNATURE, nogil=True, cache=True)(_cell_sums)
philox_words = numba.njit(
    ["void(uint64[:, ::1], int64, int64, uint32[:, :])", "void(uint64[:, ::1], int64, int64, uint16[:, :])"],
    nogil=True,
    cache=True,
)(_philox_words)

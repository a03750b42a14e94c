"""Three-point duration distributions sampled by inverse transform.

Every duration is ``Q(u)`` for one uniform ``u`` per task and iteration, with
``Q`` the distribution's quantile function.  ``u`` is quantised to
``TABLE_BITS`` bits: the top bits of a 32-bit random word pick one of
``QUANTILE_TABLE_SIZE`` equal-probability cells, and the duration is ``Q`` at
the cell's midpoint, read from a per-estimate table.  So sampling is one
integer shift and one table look-up per draw (no interpolation, no float
arithmetic), the sample is a non-decreasing function of the cell (used by the
sensitivity measure, see :mod:`simulation.montecarlo`), and the sampled
distribution is the midpoint discretisation of the exact one: each cell holds
probability ``2**-12`` and its value deviates from the exact quantiles of
that cell by at most the cell's width in duration (about ``span / 4096`` in
the body of the distribution), far below the resolution of a working day.

* ``pert``: Beta-PERT with lambda = 4, i.e. Beta(alpha, beta) scaled to
  [a, b] with ``alpha = 1 + 4 (m - a) / (b - a)`` and
  ``beta = 1 + 4 (b - m) / (b - a)``.  The Beta CDF is integrated numerically
  on a fine grid once per distinct shape and inverted at the cell midpoints.
* ``triangular``: closed-form inverse CDF.
* ``uniform``: ``a + (b - a) u``.

A task with ``a == b`` has a fixed duration (its table row is constant).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from simulation.streams import UIntArray

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
Distribution = Literal["pert", "triangular", "uniform"]
DISTRIBUTIONS: tuple[Distribution, ...] = ("pert", "triangular", "uniform")
PERT_LAMBDA = 4.0

#: Bits of the uniform word that select the quantile cell.
TABLE_BITS = 12
QUANTILE_TABLE_SIZE = 1 << TABLE_BITS
#: Right shift turning a 32-bit random word into its cell index.
CELL_SHIFT = 32 - TABLE_BITS
#: Intervals of the x grid on which the Beta CDF is integrated.
CDF_GRID_INTERVALS = 16384
#: Elements per chunk of the look-up (keeps index and output chunks in L2).
_LOOKUP_CHUNK = 1 << 15

#: Cell midpoints ``(k + 0.5) / 4096``.
U_MID = (np.arange(QUANTILE_TABLE_SIZE, dtype=np.float64) + 0.5) / QUANTILE_TABLE_SIZE


def validate_three_point(key: str, a: float, m: float, b: float) -> None:
    """Raise ``ValueError`` naming ``key`` unless ``0 <= a <= m <= b`` (finite)."""
    values = (a, m, b)
    if not all(np.isfinite(v) for v in values) or not (0 <= a <= m <= b):
        raise ValueError(
            f"task {key!r}: estimates must satisfy 0 <= optimistic <= most likely <= pessimistic, got ({a}, {m}, {b})"
        )


def pert_shape(a: float, m: float, b: float) -> tuple[float, float]:
    """Beta shape parameters of the PERT distribution (requires ``a < b``)."""
    span = b - a
    return 1.0 + PERT_LAMBDA * (m - a) / span, 1.0 + PERT_LAMBDA * (b - m) / span


def pert_mean(a: float, m: float, b: float) -> float:
    """Analytic mean ``(a + 4m + b) / 6``."""
    return (a + PERT_LAMBDA * m + b) / (PERT_LAMBDA + 2.0)


@functools.lru_cache(maxsize=256)
def beta_quantile_table(alpha: float, beta: float) -> FloatArray:
    """Quantiles of Beta(alpha, beta) at the cell midpoints ``U_MID``.

    The density is integrated with the trapezoid rule on a fine grid (both
    shapes are >= 1 for PERT, so the density is bounded) and the resulting
    CDF is inverted by linear interpolation.  Cached per shape (read-only).
    """
    x = np.linspace(0.0, 1.0, CDF_GRID_INTERVALS + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pdf = (alpha - 1.0) * np.log(x) + (beta - 1.0) * np.log1p(-x)
    pdf = np.exp(np.nan_to_num(log_pdf, nan=-np.inf, neginf=-np.inf))
    if alpha == 1.0:
        pdf[0] = 1.0 if beta >= 1.0 else pdf[0]
    if beta == 1.0:
        pdf[-1] = 1.0 if alpha >= 1.0 else pdf[-1]
    cdf = np.concatenate(([0.0], np.cumsum((pdf[1:] + pdf[:-1]) * 0.5)))
    cdf /= cdf[-1]
    table = np.interp(U_MID, cdf, x)
    table.flags.writeable = False
    return table


def standard_quantiles(distribution: Distribution, a: float, m: float, b: float) -> FloatArray:
    """``(Q(u) - a) / (b - a)`` at the cell midpoints (requires ``a < b``)."""
    if distribution == "pert":
        return beta_quantile_table(*pert_shape(a, m, b))
    if distribution == "uniform":
        return U_MID.copy()
    c = (m - a) / (b - a)
    low = np.sqrt(U_MID * c)
    high = 1.0 - np.sqrt((1.0 - U_MID) * (1.0 - c))
    result: FloatArray = np.where(c > U_MID, low, high)
    return result


@dataclass(frozen=True)
class DurationModel:
    """Per-task three-point estimates plus the prepared look-up table.

    ``table`` holds one row of ``QUANTILE_TABLE_SIZE`` durations (already
    scaled to ``[a, b]``) per distinct ``(a, m, b)`` estimate, flattened;
    ``table_row[j]`` is the flat offset of task ``j``'s row.  Tasks sharing an
    estimate share a row.  The table is float32 (16 KiB per row): the look-up
    is bound by reading the table, and a relative rounding of 6e-8 is far
    below the discretisation itself.  Fixed durations never go through the
    table, so they stay exact.
    """

    low: FloatArray
    mode: FloatArray
    high: FloatArray
    distribution: Distribution
    table: npt.NDArray[np.float32]
    table_row: IndexArray

    @classmethod
    def build(cls, low: npt.ArrayLike, mode: npt.ArrayLike, high: npt.ArrayLike, distribution: str) -> DurationModel:
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {distribution!r}; use one of {DISTRIBUTIONS}")
        a = np.asarray(low, dtype=np.float64).reshape(-1)
        m = np.asarray(mode, dtype=np.float64).reshape(-1)
        b = np.asarray(high, dtype=np.float64).reshape(-1)
        if not (a.shape == m.shape == b.shape):
            raise ValueError("low, mode and high must have the same length")
        for j in range(a.size):
            validate_three_point(str(j), float(a[j]), float(m[j]), float(b[j]))
        dist: Distribution = distribution  # narrowed by the check above
        estimates, inverse = np.unique(np.stack([a, m, b], axis=1), axis=0, return_inverse=True)
        table = np.empty((estimates.shape[0], QUANTILE_TABLE_SIZE), dtype=np.float32)
        for row, (ea, em, eb) in enumerate(estimates.tolist()):
            table[row] = ea + (eb - ea) * standard_quantiles(dist, ea, em, eb) if eb > ea else ea
        table_row = np.asarray(inverse, dtype=np.intp).reshape(-1) * QUANTILE_TABLE_SIZE
        return cls(a, m, b, dist, table.reshape(-1), table_row)

    @functools.cached_property
    def fixed_tasks(self) -> IndexArray:
        """Tasks with ``a == b``."""
        return np.flatnonzero(self.high <= self.low).astype(np.intp)

    def sample_block(self, cells: npt.NDArray[np.uint16], out: FloatArray | None = None) -> FloatArray:
        """Durations (tasks x iterations) for a matrix of cell indices.

        ``cells[j, i]`` in ``[0, QUANTILE_TABLE_SIZE)`` is the cell of task
        ``j`` in iteration ``i`` (rows of fixed tasks may hold anything).  The
        look-up runs in row chunks so the index and float32 temporaries stay in
        cache; fixed tasks get their exact ``low``.
        """
        n, width = cells.shape
        d = np.empty((n, width), dtype=np.float64) if out is None else out
        rows = max(1, min(n, _LOOKUP_CHUNK // max(width, 1)))
        index = np.empty((rows, width), dtype=np.intp)
        values = np.empty((rows, width), dtype=np.float32)
        for r0 in range(0, n, rows):
            r1 = min(r0 + rows, n)
            idx, val = index[: r1 - r0], values[: r1 - r0]
            np.add(cells[r0:r1], self.table_row[r0:r1, None], out=idx)
            self.table.take(idx, out=val, mode="clip")
            d[r0:r1] = val
        fixed = self.fixed_tasks
        if fixed.size:
            d[fixed] = self.low[fixed, None]
        return d

    @property
    def size(self) -> int:
        return int(self.low.size)

    @property
    def variable(self) -> npt.NDArray[np.bool_]:
        """Tasks whose duration actually varies (``a < b``)."""
        return np.asarray(self.high > self.low)

    def sample(self, task: int, bits: UIntArray) -> FloatArray:
        """Durations of ``task`` for 32-bit uniform words ``bits``.

        The result is a non-decreasing function of ``bits`` (inverse transform):
        the top ``TABLE_BITS`` bits select the cell.
        """
        if self.high[task] <= self.low[task]:
            return np.full(np.shape(bits), self.low[task], dtype=np.float64)
        cells = (np.asarray(bits, dtype=np.uint32) >> np.uint32(CELL_SHIFT)).astype(np.intp)
        cells += self.table_row[task]
        return self.table.take(cells).astype(np.float64)

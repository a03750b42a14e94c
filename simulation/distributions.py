"""Three-point duration distributions sampled by inverse transform.

Every duration is ``Q(u)`` for one uniform ``u`` in (0, 1) per task and
iteration, with ``Q`` the distribution's quantile function.  That makes the
sample a monotone function of ``u`` (used by the sensitivity measure, see
:mod:`simulation.montecarlo`) and makes sampling a table look-up:

* ``pert``: Beta-PERT with lambda = 4, i.e. Beta(alpha, beta) scaled to
  [a, b] with ``alpha = 1 + 4 (m - a) / (b - a)`` and
  ``beta = 1 + 4 (b - m) / (b - a)``.  The Beta CDF is integrated numerically
  on a fine grid once per distinct shape and inverted into a quantile table
  on a uniform grid of ``u``; samples interpolate linearly in that table.
* ``triangular``: closed-form inverse CDF.
* ``uniform``: ``a + (b - a) u``.

A task with ``a == b`` has a fixed duration.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from simulation.streams import UIntArray, to_uniform

FloatArray = npt.NDArray[np.float64]
Distribution = Literal["pert", "triangular", "uniform"]
DISTRIBUTIONS: tuple[Distribution, ...] = ("pert", "triangular", "uniform")
PERT_LAMBDA = 4.0

#: Intervals of the uniform grid on which PERT quantiles are tabulated
#: (a power of two: the top bits of a 32-bit uniform word pick the interval).
_TABLE_BITS = 12
QUANTILE_TABLE_INTERVALS = 1 << _TABLE_BITS
_FRACTION_BITS = 32 - _TABLE_BITS
_FRACTION_MASK = (1 << _FRACTION_BITS) - 1
#: Intervals of the x grid on which the Beta CDF is integrated.
CDF_GRID_INTERVALS = 16384

_U_GRID = np.linspace(0.0, 1.0, QUANTILE_TABLE_INTERVALS + 1)


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


def beta_quantile_table(alpha: float, beta: float) -> FloatArray:
    """Quantiles of Beta(alpha, beta) on the uniform grid ``_U_GRID``.

    The density is integrated with the trapezoid rule on a fine grid (both
    shapes are >= 1 for PERT, so the density is bounded) and the resulting
    CDF is inverted by linear interpolation.
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
    table = np.interp(_U_GRID, cdf, x)
    table[0], table[-1] = 0.0, 1.0
    return table


@dataclass(frozen=True)
class DurationModel:
    """Per-task three-point estimates plus the prepared sampling tables."""

    low: FloatArray
    mode: FloatArray
    high: FloatArray
    distribution: Distribution
    tables: FloatArray  # (n_shapes, QUANTILE_TABLE_INTERVALS + 1), PERT only
    slopes: FloatArray  # differences of consecutive table entries
    table_of: npt.NDArray[np.int64]  # task -> row of ``tables`` (-1: none)

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
        table_of = np.full(a.size, -1, dtype=np.int64)
        rows: list[FloatArray] = []
        if distribution == "pert":
            shapes: dict[tuple[float, float], int] = {}
            for j in np.flatnonzero(b > a).tolist():
                shape = pert_shape(float(a[j]), float(m[j]), float(b[j]))
                if shape not in shapes:
                    shapes[shape] = len(rows)
                    rows.append(beta_quantile_table(*shape))
                table_of[j] = shapes[shape]
        tables = np.vstack(rows) if rows else np.zeros((0, _U_GRID.size))
        slopes = np.diff(tables, axis=1)
        dist: Distribution = distribution  # narrowed by the check above
        return cls(a, m, b, dist, tables, slopes, table_of)

    @functools.cached_property
    def flat_starts(self) -> FloatArray:
        """Left table entries of every interval, all shapes in one contiguous row."""
        return np.ascontiguousarray(self.tables[:, :-1]).reshape(-1) if self.tables.size else np.zeros(1)

    @functools.cached_property
    def flat_slopes(self) -> FloatArray:
        return np.ascontiguousarray(self.slopes).reshape(-1) if self.slopes.size else np.zeros(1)

    def sample_block(self, bits: UIntArray) -> FloatArray:
        """Durations (tasks x iterations) for a matrix of 32-bit uniform words.

        Same numbers as :meth:`sample` row by row, but one numpy call per step
        for all tasks (rows of fixed tasks are ignored and set to ``low``).
        """
        width = bits.shape[1]
        a, b = self.low[:, None], self.high[:, None]
        span = b - a
        if self.distribution == "pert":
            cell = (bits >> np.uint32(_FRACTION_BITS)).astype(np.intp)
            rows = np.maximum(self.table_of, 0)[:, None] * QUANTILE_TABLE_INTERVALS
            cell += rows
            frac = (bits & np.uint32(_FRACTION_MASK)).astype(np.float64)
            frac += 0.5
            frac *= 2.0**-_FRACTION_BITS
            q = self.flat_slopes.take(cell)
            q *= frac
            q += self.flat_starts.take(cell)
        elif self.distribution == "uniform":
            q = to_uniform(bits)
        else:
            u = to_uniform(bits)
            with np.errstate(divide="ignore", invalid="ignore"):
                c = np.where(span > 0, (self.mode[:, None] - a) / np.where(span > 0, span, 1.0), 0.0)
            q = np.where(u < c, np.sqrt(u * c), 1.0 - np.sqrt((1.0 - u) * (1.0 - c)))
        q *= span
        q += a
        fixed = ~self.variable
        if fixed.any():
            q[fixed] = np.broadcast_to(self.low[fixed, None], (int(fixed.sum()), width))
        return q

    @property
    def size(self) -> int:
        return int(self.low.size)

    @property
    def variable(self) -> npt.NDArray[np.bool_]:
        """Tasks whose duration actually varies (``a < b``)."""
        return np.asarray(self.high > self.low)

    def sample(self, task: int, bits: UIntArray) -> FloatArray:
        """Durations of ``task`` for 32-bit uniform words ``bits``.

        The result is a non-decreasing function of ``bits`` (inverse transform).
        PERT interpolates linearly in the quantile table: the top
        ``_TABLE_BITS`` bits select the table interval, the rest the fraction.
        """
        a, m, b = float(self.low[task]), float(self.mode[task]), float(self.high[task])
        if b <= a:
            return np.full(bits.shape, a, dtype=np.float64)
        span = b - a
        if self.distribution == "pert":
            row = int(self.table_of[task])
            cell = bits >> np.uint32(_FRACTION_BITS)
            frac = (bits & np.uint32(_FRACTION_MASK)).astype(np.float64)
            frac += 0.5
            frac *= 2.0**-_FRACTION_BITS
            q = self.slopes[row].take(cell)
            q *= frac
            q += self.tables[row, :-1].take(cell)
        elif self.distribution == "uniform":
            q = to_uniform(bits)
        else:
            u = to_uniform(bits)
            c = (m - a) / span
            q = np.where(u < c, np.sqrt(u * c), 1.0 - np.sqrt((1.0 - u) * (1.0 - c)))
        q *= span
        q += a
        result: FloatArray = np.asarray(q, dtype=np.float64)
        return result

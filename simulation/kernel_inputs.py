"""A model laid out for the compiled kernels (:mod:`simulation.kernels`): flat, contiguous arrays.

Built in O(tasks + edges) with NumPy, without importing Numba; :func:`run_schedule` calls the
kernel.  The Monte Carlo engine (:mod:`simulation.montecarlo`) and the what-if scorer
(:mod:`simulation.whatif`) share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from simulation.cpm import CRITICAL_RTOL

if TYPE_CHECKING:
    from simulation.montecarlo import SimulationModel

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class KernelInputs:
    """One model's network, durations and risks as the kernel's arrays (see its docstring)."""

    cell_row: IntArray
    table: npt.NDArray[np.float32]
    table_row: IntArray
    fixed: FloatArray
    risk_prob: FloatArray
    risk_delay: FloatArray
    risk_ptr: IntArray
    risk_tasks: IntArray
    order: IntArray
    in_ptr: IntArray
    in_src: IntArray
    in_lag: FloatArray
    out_ptr: IntArray
    out_dst: IntArray
    out_lag: FloatArray
    clamp_at_zero: bool
    done: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, model: SimulationModel, cell_row: IntArray) -> KernelInputs:
        """``cell_row[v]``: the row of task ``v`` in the cell matrices given to :func:`run_schedule`,
        or -1 for a task of fixed duration."""
        net, durations = model.network, model.durations
        n = net.size
        in_ptr, in_src, in_lag = _csr(net.succ, net.pred, net.lag, n)
        out_ptr, out_dst, out_lag = _csr(net.pred, net.succ, net.lag, n)
        ptr = [0]
        tasks: list[int] = []
        for risk in model.risks:
            # A task named twice by one risk gets its delay once, as with NumPy's ``d[tasks] +=``.
            tasks += sorted(set(risk.tasks))
            ptr.append(len(tasks))
        done = model.done_flags()
        return cls(
            cell_row=np.ascontiguousarray(cell_row, dtype=np.int64),
            table=np.ascontiguousarray(durations.table, dtype=np.float32),
            table_row=np.ascontiguousarray(durations.table_row, dtype=np.int64),
            fixed=np.ascontiguousarray(durations.low, dtype=np.float64),
            risk_prob=np.array([r.probability for r in model.risks], dtype=np.float64),
            risk_delay=np.array([r.delay for r in model.risks], dtype=np.float64),
            risk_ptr=np.array(ptr, dtype=np.int64),
            risk_tasks=np.array(tasks, dtype=np.int64),
            order=np.ascontiguousarray(net.order, dtype=np.int64),
            in_ptr=in_ptr,
            in_src=in_src,
            in_lag=in_lag,
            out_ptr=out_ptr,
            out_dst=out_dst,
            out_lag=out_lag,
            clamp_at_zero=net.has_negative_lag,
            done=np.zeros(n, dtype=np.bool_) if done is None else np.ascontiguousarray(done),
        )


def _csr(key: IntArray, value: IntArray, lag: FloatArray, n: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Edges grouped by ``key`` (stable): offsets, far ends, lags."""
    perm = np.argsort(key, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n), out=ptr[1:])
    return ptr, np.ascontiguousarray(value[perm], dtype=np.int64), np.ascontiguousarray(lag[perm], dtype=np.float64)


def run_schedule(
    kernels: ModuleType,
    inputs: KernelInputs,
    cells: npt.NDArray[np.uint16],
    risk_words: npt.NDArray[np.uint32],
    finish: FloatArray,
    *,
    counts: IntArray | None,
) -> None:
    """Schedule ``finish.size`` iterations (cells and risk words: one column each).

    ``counts`` None: the finish only (no backward pass, no criticality)."""
    backward = counts is not None
    kernels.schedule(
        cells,
        inputs.cell_row,
        inputs.table,
        inputs.table_row,
        inputs.fixed,
        risk_words,
        inputs.risk_prob,
        inputs.risk_delay,
        inputs.risk_ptr,
        inputs.risk_tasks,
        inputs.order,
        inputs.in_ptr,
        inputs.in_src,
        inputs.in_lag,
        inputs.out_ptr,
        inputs.out_dst,
        inputs.out_lag,
        inputs.clamp_at_zero,
        inputs.done,
        CRITICAL_RTOL,
        backward,
        finish,
        counts if counts is not None else np.zeros(inputs.order.size, dtype=np.int64),
    )

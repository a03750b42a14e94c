"""Compare variants of one plan with common random numbers (the optimisation agent's scoring).

Each variant is the plan with some estimates and some dependency lags changed.  All variants
are simulated on the *same* draws:

* the same seed and iterations, and
* each task's random stream is keyed by the task's **key** (Philox key from
  ``SeedSequence(seed, spawn_key=(WHATIF_STREAM, <64-bit digest of the key>))``), not by its
  position, so reordering tasks or changing one task never redraws another;
* each risk's stream is keyed by its position in ``plan.risks`` (risks are the same in every
  variant).

The quantile cells of every task are drawn once and shared by all variants; a variant that
changes a task's estimate maps the same cell through its new quantile table.  So the difference
between two variants is the effect of what differs, not noise: a variant that changes nothing
gives exactly the baseline's numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType

import numpy as np
import numpy.typing as npt

from simulation.backend import kernels_for
from simulation.calendar import WorkCalendar, finish_day_index
from simulation.distributions import CELL_SHIFT, Distribution
from simulation.kernel_inputs import KernelInputs, run_schedule
from simulation.montecarlo import SimulationModel
from simulation.passes import forward_pass
from simulation.plan import DependencyInput, PlanInput, TaskInput, build_model
from simulation.streams import KeyArray, uniform_bits

#: Stream kind of the what-if task streams (the engine's task and risk kinds are 0 and 1).
WHATIF_STREAM = 2
WHATIF_RISK_STREAM = 3
#: Iterations per block: bounds memory at a few tasks x block float64 matrices.
_BLOCK = 4096

FloatArray = npt.NDArray[np.float64]
CellArray = npt.NDArray[np.uint16]
WordArray = npt.NDArray[np.uint32]


@dataclass(frozen=True)
class Variant:
    """What differs from the plan: three-point estimates by task key, lags by (predecessor,
    successor) key pair. Empty: the plan itself."""

    estimates: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    lags: Mapping[tuple[str, str], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """One variant's simulated numbers. ``on_time_probability`` is the share of iterations that
    finish on or before the target date; ``mean_finish_days`` is in working days from as-of."""

    on_time_probability: float
    mean_finish_days: float
    p80_finish_days: float


def task_stream_key(seed: int, task_key: str) -> KeyArray:
    """The Philox key of one task's stream: a function of the seed and the task's key only."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    digest = int.from_bytes(hashlib.sha256(task_key.encode("utf-8")).digest()[:8], "big")
    seq = np.random.SeedSequence(seed, spawn_key=(WHATIF_STREAM, digest))
    return np.asarray(seq.generate_state(2, np.uint64), dtype=np.uint64)


def _risk_stream_key(seed: int, index: int) -> KeyArray:
    seq = np.random.SeedSequence(seed, spawn_key=(WHATIF_RISK_STREAM, index))
    return np.asarray(seq.generate_state(2, np.uint64), dtype=np.uint64)


def apply_variant(plan: PlanInput, variant: Variant) -> PlanInput:
    """The plan with the variant's estimates and lags (unknown keys raise ``ValueError``)."""
    keys = {t.key for t in plan.tasks}
    unknown = set(variant.estimates) - keys
    if unknown:
        raise ValueError(f"variant names unknown tasks {sorted(unknown)}")
    tasks: list[TaskInput] = []
    for task in plan.tasks:
        points = variant.estimates.get(task.key)
        tasks.append(
            task
            if points is None
            else replace(task, optimistic=points[0], most_likely=points[1], pessimistic=points[2])
        )
    edges = {(d.predecessor, d.successor) for d in plan.dependencies}
    missing = set(variant.lags) - edges
    if missing:
        raise ValueError(f"variant names unknown dependencies {sorted(missing)}")
    deps: list[DependencyInput] = [
        replace(d, lag_days=variant.lags[(d.predecessor, d.successor)])
        if (d.predecessor, d.successor) in variant.lags
        else d
        for d in plan.dependencies
    ]
    return replace(plan, tasks=tuple(tasks), dependencies=tuple(deps))


def compare(
    plan: PlanInput,
    variants: Sequence[Variant],
    iterations: int,
    seed: int,
    *,
    distribution: Distribution = "pert",
    target_finish_days: int | None = None,
    backend: str | None = None,
) -> tuple[Outcome, list[Outcome]]:
    """The plan's outcome and each variant's, all on common random numbers.

    The target is ``plan.event_date`` (its last working day index on or before it), or else
    ``target_finish_days`` (a working-day index from as-of); one of them is required.
    ``backend`` (see :mod:`simulation.backend`): the compiled kernels or the NumPy passes, with
    the same numbers.
    """
    if iterations < 1:
        raise ValueError("iterations must be positive")
    calendar = WorkCalendar(plan.calendar.working_days, plan.calendar.holidays)
    if plan.event_date is not None:
        limit = calendar.last_index_on_or_before(calendar.origin(plan.as_of), plan.event_date)
    elif target_finish_days is not None:
        limit = target_finish_days
    else:
        raise ValueError("a target: the plan's event date or target_finish_days")
    models = [build_model(plan, distribution)] + [build_model(apply_variant(plan, v), distribution) for v in variants]
    keys = [task_stream_key(seed, t.key) for t in plan.tasks]
    risk_keys = [_risk_stream_key(seed, r) for r in range(len(models[0].risks))]
    kernels = kernels_for(backend, len(plan.tasks) * iterations * len(models))
    draw = _NumpyDraws(keys, risk_keys) if kernels is None else _KernelDraws(keys, risk_keys, kernels)
    finish_of = _numpy_finish if kernels is None else _kernel_finish(models, kernels)
    on_time = np.zeros(len(models), dtype=np.int64)
    sums = np.zeros(len(models), dtype=np.float64)
    finishes = [np.empty(iterations, dtype=np.float64) for _ in models]
    for b0 in range(0, iterations, _BLOCK):
        b1 = min(b0 + _BLOCK, iterations)
        cells, words = draw(b0, b1)
        for index, model in enumerate(models):
            finish = finish_of(index, model, cells, words)
            finishes[index][b0:b1] = finish
            on_time[index] += int(np.count_nonzero(finish_day_index(finish) <= limit))
            sums[index] += float(finish.sum())
    outcomes = [
        Outcome(
            on_time_probability=int(on_time[i]) / iterations,
            mean_finish_days=float(sums[i]) / iterations,
            p80_finish_days=float(np.percentile(finishes[i], 80, method="inverted_cdf")),
        )
        for i in range(len(models))
    ]
    return outcomes[0], outcomes[1:]


Draws = Callable[[int, int], tuple[CellArray, WordArray]]
Finish = Callable[[int, SimulationModel, CellArray, WordArray], FloatArray]


class _NumpyDraws:
    """Every task's cells and every risk's words of iterations ``start .. stop-1`` (NumPy)."""

    def __init__(self, keys: Sequence[KeyArray], risk_keys: Sequence[KeyArray]) -> None:
        self.keys, self.risk_keys = keys, risk_keys

    def __call__(self, start: int, stop: int) -> tuple[CellArray, WordArray]:
        words = np.empty((len(self.risk_keys), stop - start), dtype=np.uint32)
        for row, key in enumerate(self.risk_keys):
            words[row] = uniform_bits(key, start, stop)
        return _cells(self.keys, start, stop), words


class _KernelDraws:
    """:class:`_NumpyDraws`' very words, from the compiled Philox kernel."""

    def __init__(self, keys: Sequence[KeyArray], risk_keys: Sequence[KeyArray], kernels: ModuleType) -> None:
        self.keys = np.ascontiguousarray(np.reshape(keys, (len(keys), 2)), dtype=np.uint64)
        self.risk_keys = np.ascontiguousarray(np.reshape(risk_keys, (len(risk_keys), 2)), dtype=np.uint64)
        self.kernels = kernels

    def __call__(self, start: int, stop: int) -> tuple[CellArray, WordArray]:
        cells = np.empty((self.keys.shape[0], stop - start), dtype=np.uint16)
        self.kernels.philox_words(self.keys, start, CELL_SHIFT, cells)
        words = np.empty((self.risk_keys.shape[0], stop - start), dtype=np.uint32)
        self.kernels.philox_words(self.risk_keys, start, 0, words)
        return cells, words


def _kernel_finish(models: Sequence[SimulationModel], kernels: ModuleType) -> Finish:
    """The compiled forward pass; every task has a row of cells (fixed ones: -1, unused)."""
    inputs = [
        KernelInputs.of(m, np.where(m.durations.variable, np.arange(m.network.size), -1).astype(np.int64))
        for m in models
    ]

    def finish(index: int, _model: SimulationModel, cells: CellArray, words: WordArray) -> FloatArray:
        out = np.zeros(cells.shape[1], dtype=np.float64)
        if inputs[index].order.size:
            run_schedule(kernels, inputs[index], cells, words, out, counts=None)
        return out

    return finish


def _numpy_finish(_index: int, model: SimulationModel, cells: CellArray, words: WordArray) -> FloatArray:
    return _finish(model, cells, [_to_unit(w) for w in words])


def _to_unit(bits: npt.NDArray[np.uint32]) -> FloatArray:
    return (bits.astype(np.float64) + 0.5) * 2.0**-32


def _cells(keys: Sequence[KeyArray], start: int, stop: int) -> CellArray:
    cells = np.empty((len(keys), stop - start), dtype=np.uint16)
    for row, key in enumerate(keys):
        np.right_shift(uniform_bits(key, start, stop), np.uint32(CELL_SHIFT), out=cells[row], casting="unsafe")
    return cells


def _finish(model: SimulationModel, cells: CellArray, hits: Sequence[FloatArray]) -> FloatArray:
    """Project finish per iteration of one block (the forward pass only)."""
    if model.network.size == 0:
        return np.zeros(cells.shape[1], dtype=np.float64)
    d = model.durations.sample_block(cells)
    for risk, u in zip(model.risks, hits, strict=True):
        if risk.probability <= 0.0 or risk.delay == 0.0 or not risk.tasks:
            continue
        d[list(risk.tasks)] += np.where(u < risk.probability, risk.delay, 0.0)
    return np.asarray(forward_pass(model.network, d).max(axis=0), dtype=np.float64)

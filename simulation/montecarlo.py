"""Monte Carlo schedule engine: blocks, shards and an exact merge.

Shape of a run
--------------
* Iterations ``0 .. N-1`` are split into shards (contiguous ranges) and each
  shard into blocks of at most ``block_size`` iterations, so memory is
  ``O(tasks x block)`` whatever ``N`` is.  A block holds one column per
  iteration: durations are sampled task by task (inverse transform of a
  counter-based uniform, see :mod:`simulation.streams`), risks add their
  delays, then the level-wise forward and backward passes of
  :mod:`simulation.passes` give each iteration's finish and each task's
  total float.
* Every per-iteration quantity depends only on ``(plan, seed, i)``, so block
  size and sharding cannot change any number.
* A shard returns its iterations' finish times and per-task critical counts
  (integers); :func:`merge_shards` concatenates and sums them and computes
  every statistic from the merged data, so the merged result *is* the
  single-process result.

Criticality
-----------
A task is critical in an iteration when its total float is at most
``CRITICAL_RTOL`` times that iteration's project duration (a relative
tolerance, so the result does not depend on units or magnitudes) and its
work is not done (the model's ``done`` tasks are never critical): the rule
is :func:`simulation.cpm.critical_mask`, shared with CPM.

Sensitivity (Spearman's rho)
----------------------------
Spearman's rho is Pearson's correlation of the two variables' rank
transforms.  A task's duration is ``Q(q)`` for its quantile cell ``q`` (the
top ``_SENS_BITS`` bits of its uniform word) with ``Q`` non-decreasing, so
we correlate ``q`` -- an integer, the population CDF value up to an affine
map -- with the mid-ranks of the project finish over all iterations (times
two, also an integer).  That needs global ranks, so it happens in the merge:
:func:`simulate` keeps the cells drawn while scheduling when they fit in
``CELL_CACHE_BYTES``; otherwise (and always for :func:`merge_shards` of
remote shards) a second pass regenerates them from the streams (no
scheduling).  All sums are exact integers, so the value cannot depend on
summation order or on where the cells came from.  Tasks with a fixed
duration get 0.  The delay added by risks is not part of a task's sampled
duration.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from simulation.backend import kernels_for
from simulation.cpm import CRITICAL_RTOL, critical_mask, done_mask
from simulation.distributions import CELL_SHIFT, TABLE_BITS, Distribution, DurationModel
from simulation.kernel_inputs import KernelInputs, run_schedule
from simulation.network import Network
from simulation.passes import backward_pass, forward_pass
from simulation.streams import RISK_STREAM, TASK_STREAM, WordStream, stream_keys, to_uniform

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
CellArray = npt.NDArray[np.uint16]
WordArray = npt.NDArray[np.uint32]
Progress = Callable[[int, int], None]

#: Memory budget for one block's task x iteration matrices.
BLOCK_BUDGET_BYTES = 64 * 1024 * 1024
MAX_BLOCK = 2048
MIN_BLOCK = 32
#: Largest supported iteration count (keeps the exact integer sums in int64).
MAX_ITERATIONS = (1 << 24) - 1
#: Bits of each uniform kept for the rank correlation.  With ranks below
#: 2**25 and at most 2**16 iterations per pass-2 block, every partial sum of
#: ``q * rank`` stays below 2**53, so float64 BLAS products are exact.
_SENS_BITS = TABLE_BITS
_PASS2_MAX_BLOCK = 1 << 16
_PASS2_BUDGET_BYTES = 48 * 1024 * 1024
#: :func:`simulate` keeps the run's quantile cells (2 bytes per variable task
#: and iteration) for the sensitivity pass when they fit in this many bytes.
CELL_CACHE_BYTES = 96 * 1024 * 1024
#: Cells generated ahead per stream call when they are not kept.
_CELL_CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class RiskSpec:
    """A risk event: with ``probability`` adds ``delay`` to each of ``tasks``."""

    probability: float
    delay: float
    tasks: tuple[int, ...]

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("risk probability must be within [0, 1]")
        if not math.isfinite(self.delay) or self.delay < 0:
            raise ValueError("risk delay must be finite and non-negative")


@dataclass(frozen=True)
class SimulationModel:
    """Network, remaining-work estimates (working days), risks, and the tasks already done.

    ``done`` lists (ascending) the tasks whose work is complete: they are never critical.
    """

    network: Network
    durations: DurationModel
    risks: tuple[RiskSpec, ...] = ()
    fingerprint: str = field(default="", compare=False)
    done: tuple[int, ...] = ()

    def done_flags(self) -> BoolArray | None:
        """One flag per task (True when done), or None when no task is done."""
        if not self.done:
            return None
        flags = np.zeros(self.network.size, dtype=np.bool_)
        flags[list(self.done)] = True
        return flags

    @classmethod
    def build(
        cls,
        network: Network,
        low: npt.ArrayLike,
        mode: npt.ArrayLike,
        high: npt.ArrayLike,
        *,
        distribution: Distribution | str = "pert",
        risks: Sequence[RiskSpec] = (),
        done: npt.ArrayLike | None = None,
    ) -> SimulationModel:
        """``done`` flags (one per task) the tasks whose work is complete: never critical."""
        model = DurationModel.build(low, mode, high, distribution)
        if model.size != network.size:
            raise ValueError("one estimate per task is required")
        for risk in risks:
            if any(not 0 <= t < network.size for t in risk.tasks):
                raise ValueError("risk refers to an unknown task")
        flags = done_mask(network.size, done)
        finished: tuple[int, ...] = () if flags is None else tuple(np.flatnonzero(flags).tolist())
        digest = hashlib.sha256()
        for part in (network.pred, network.succ, network.lag, model.low, model.mode, model.high):
            digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(repr((network.keys, model.distribution, tuple(risks))).encode())
        if finished:  # (a model without done tasks keeps the fingerprint it always had)
            digest.update(repr(("done", finished)).encode())
        return cls(network, model, tuple(risks), digest.hexdigest()[:16], finished)


@dataclass(frozen=True)
class ShardResult:
    """One shard's raw results; JSON-serialisable through ``to_dict``."""

    fingerprint: str
    seed: int
    iterations: int
    shard_index: int
    shard_count: int
    start: int
    stop: int
    variable_tasks: tuple[int, ...]
    finish_times: tuple[float, ...]
    critical_counts: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "seed": self.seed,
            "iterations": self.iterations,
            "shardIndex": self.shard_index,
            "shardCount": self.shard_count,
            "start": self.start,
            "stop": self.stop,
            "variableTasks": list(self.variable_tasks),
            "finishTimes": list(self.finish_times),
            "criticalCounts": list(self.critical_counts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardResult:
        return cls(
            fingerprint=str(data["fingerprint"]),
            seed=int(data["seed"]),
            iterations=int(data["iterations"]),
            shard_index=int(data["shardIndex"]),
            shard_count=int(data["shardCount"]),
            start=int(data["start"]),
            stop=int(data["stop"]),
            variable_tasks=tuple(int(x) for x in data["variableTasks"]),
            finish_times=tuple(float(x) for x in data["finishTimes"]),
            critical_counts=tuple(int(x) for x in data["criticalCounts"]),
        )


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Merged results in working days from time 0 (see :mod:`simulation.calendar`)."""

    iterations: int
    seed: int
    finish_times: FloatArray  # per iteration, in iteration order
    critical_counts: IntArray  # per task
    sensitivity: FloatArray  # per task

    @property
    def criticality(self) -> FloatArray:
        return self.critical_counts / float(self.iterations)

    @property
    def mean_finish(self) -> float:
        return float(np.mean(self.finish_times))

    def percentile(self, q: float) -> float:
        """Smallest sampled finish with at least ``q`` percent of iterations at or below."""
        return float(np.percentile(self.finish_times, q, method="inverted_cdf"))

    def probability_by(self, t: float) -> float:
        return float(np.count_nonzero(self.finish_times <= t)) / self.iterations

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SimulationResult):
            return NotImplemented
        return (
            self.iterations == other.iterations
            and self.seed == other.seed
            and np.array_equal(self.finish_times, other.finish_times)
            and np.array_equal(self.critical_counts, other.critical_counts)
            and np.array_equal(self.sensitivity, other.sensitivity)
        )

    __hash__ = None  # type: ignore[assignment]


def shard_bounds(iterations: int, shard_index: int, shard_count: int) -> tuple[int, int]:
    """Iteration range ``[start, stop)`` of a shard (contiguous, balanced)."""
    if shard_count < 1 or not 0 <= shard_index < shard_count:
        raise ValueError("shard_index must be within [0, shard_count)")
    return iterations * shard_index // shard_count, iterations * (shard_index + 1) // shard_count


def default_block_size(task_count: int) -> int:
    per_iteration = 8 * 5 * max(task_count, 1)  # a few n x block float64 arrays
    return max(MIN_BLOCK, min(MAX_BLOCK, BLOCK_BUDGET_BYTES // per_iteration))


def _check_run(iterations: int, seed: int) -> None:
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be within [1, {MAX_ITERATIONS}]")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")


class _BlockSampler:
    """Draws the duration matrix of consecutive blocks of one shard.

    Only tasks with a variable duration own a stream; their 32-bit words are
    reduced to quantile cells (see :mod:`simulation.distributions`).  Cells
    are generated ahead, one stream call per task for many blocks, into
    ``keep`` (the whole shard, kept for the sensitivity pass) or else into a
    chunk of about ``_CELL_CHUNK_BYTES``: a Python call per task and block
    would cost more than the sampling itself.
    """

    def __init__(self, model: SimulationModel, seed: int, start: int, keep: CellArray | None = None) -> None:
        self.model = model
        n = model.durations.size
        self.rows = np.flatnonzero(model.durations.variable)
        keys = stream_keys(seed, n, TASK_STREAM)
        self.tasks = [WordStream(keys[j], start) for j in self.rows.tolist()]
        rkeys = stream_keys(seed, len(model.risks), RISK_STREAM)
        self.risks = [WordStream(rkeys[r], start) for r in range(len(model.risks))]
        self._width = max(1, _CELL_CHUNK_BYTES // (2 * max(len(self.tasks), 1)))
        self._pos = 0
        if keep is None:
            self._cells: CellArray = np.empty((len(self.tasks), 0), dtype=np.uint16)
        else:
            self._cells = keep
            self._fill(keep)

    def _fill(self, dest: CellArray) -> None:
        words = np.empty(dest.shape[1], dtype=np.uint32)
        for row, stream in enumerate(self.tasks):
            stream.take(dest.shape[1], words)
            np.right_shift(words, np.uint32(CELL_SHIFT), out=dest[row], casting="unsafe")

    def _next_cells(self, count: int) -> CellArray:
        """Cells of the variable tasks for the next ``count`` iterations."""
        rest = self._cells.shape[1] - self._pos
        if rest < count:
            chunk = np.empty((len(self.tasks), rest + max(count - rest, self._width)), dtype=np.uint16)
            chunk[:, :rest] = self._cells[:, self._pos :]
            self._fill(chunk[:, rest:])
            self._cells, self._pos = chunk, 0
        cells = self._cells[:, self._pos : self._pos + count]
        self._pos += count
        return cells

    def next_draws(self, count: int) -> tuple[CellArray, WordArray]:
        """The variable tasks' cells and the risks' words of the next ``count`` iterations."""
        cells = self._next_cells(count)
        words = np.empty((len(self.risks), count), dtype=np.uint32)
        for row, stream in enumerate(self.risks):
            stream.take(count, words[row])
        return cells, words

    def next(self, count: int) -> FloatArray:
        """The duration matrix (tasks x iterations) of the next ``count`` iterations."""
        n = self.model.durations.size
        cells, words = self.next_draws(count)
        if len(self.tasks) != n:
            full = np.zeros((n, count), dtype=np.uint16)  # fixed rows: any cell
            full[self.rows] = cells
            cells = full
        d = self.model.durations.sample_block(cells)
        for risk, word in zip(self.model.risks, words, strict=True):
            if risk.probability <= 0.0 or risk.delay == 0.0 or not risk.tasks:
                continue
            hit = to_uniform(word) < risk.probability
            d[list(risk.tasks)] += np.where(hit, risk.delay, 0.0)
        return d


class _KernelDraws:
    """:class:`_BlockSampler`'s draws (the same words) from the compiled Philox kernel: no
    Python call per task, and no GIL held while drawing."""

    def __init__(
        self, model: SimulationModel, seed: int, start: int, keep: CellArray | None, kernels: ModuleType
    ) -> None:
        self.rows = np.flatnonzero(model.durations.variable)
        self._keys = np.ascontiguousarray(stream_keys(seed, model.durations.size, TASK_STREAM)[self.rows])
        self._risk_keys = np.ascontiguousarray(stream_keys(seed, len(model.risks), RISK_STREAM))
        self._start, self._pos, self._keep, self._kernels = start, start, keep, kernels

    def next_draws(self, count: int) -> tuple[CellArray, WordArray]:
        """The variable tasks' cells (written into ``keep`` when kept) and the risks' words."""
        at = self._pos - self._start
        if self._keep is not None:
            cells = self._keep[:, at : at + count]
        else:
            cells = np.empty((self.rows.size, count), dtype=np.uint16)
        self._kernels.philox_words(self._keys, self._pos, CELL_SHIFT, cells)
        words = np.empty((self._risk_keys.shape[0], count), dtype=np.uint32)
        self._kernels.philox_words(self._risk_keys, self._pos, 0, words)
        self._pos += count
        return cells, words


def run_shard(
    model: SimulationModel,
    iterations: int,
    seed: int,
    shard_index: int = 0,
    shard_count: int = 1,
    *,
    block_size: int | None = None,
    progress: Progress | None = None,
    backend: str | None = None,
) -> ShardResult:
    """Simulate one shard of a run of ``iterations`` iterations.

    ``backend``: ``numba``, ``numpy`` or ``auto`` (see :mod:`simulation.backend`; the same
    numbers either way)."""
    return _run_shard(
        model,
        iterations,
        seed,
        shard_index,
        shard_count,
        block_size=block_size,
        progress=progress,
        keep=None,
        kernels=kernels_for(backend, model.network.size * (iterations // max(shard_count, 1))),
    )


def _run_shard(
    model: SimulationModel,
    iterations: int,
    seed: int,
    shard_index: int,
    shard_count: int,
    *,
    block_size: int | None,
    progress: Progress | None,
    keep: CellArray | None,
    kernels: ModuleType | None,
) -> ShardResult:
    """:func:`run_shard`, optionally keeping the variable tasks' cells.

    ``keep`` (variable tasks x shard iterations) receives the quantile cells
    drawn for the shard, for :func:`spearman_sensitivity` to reuse.
    ``kernels``: the compiled kernels, or None for the NumPy passes.
    """
    _check_run(iterations, seed)
    start, stop = shard_bounds(iterations, shard_index, shard_count)
    net = model.network
    n = net.size
    block = block_size or default_block_size(n)
    if block < 1:
        raise ValueError("block_size must be positive")
    finish = np.zeros(stop - start, dtype=np.float64)
    counts = np.zeros(n, dtype=np.int64)
    done = model.done_flags()
    if kernels is not None:
        draws = _KernelDraws(model, seed, start, keep, kernels)
        cell_row = np.full(n, -1, dtype=np.int64)
        cell_row[draws.rows] = np.arange(draws.rows.size)
        inputs = KernelInputs.of(model, cell_row)
    else:
        sampler = _BlockSampler(model, seed, start, keep)
    for b0 in range(start, stop, block):
        b1 = min(b0 + block, stop)
        if kernels is not None:
            cells, words = draws.next_draws(b1 - b0)
            if n:
                run_schedule(kernels, inputs, cells, words, finish[b0 - start : b1 - start], counts=counts)
        elif n:
            d = sampler.next(b1 - b0)
            ef = forward_pass(net, d)
            project = ef.max(axis=0)
            tol = CRITICAL_RTOL * np.abs(project)

            def count(nodes: IntArray, lf: FloatArray, ef: FloatArray = ef, tol: FloatArray = tol) -> None:
                slack = lf - ef[nodes]
                critical = critical_mask(slack, tol, None if done is None else done[nodes])
                counts[nodes] += np.count_nonzero(critical, axis=1)

            backward_pass(net, d, project, on_level=count)
            finish[b0 - start : b1 - start] = project
        if progress is not None:
            progress(b1 - start, stop - start)
    return ShardResult(
        fingerprint=model.fingerprint,
        seed=seed,
        iterations=iterations,
        shard_index=shard_index,
        shard_count=shard_count,
        start=start,
        stop=stop,
        variable_tasks=tuple(np.flatnonzero(model.durations.variable).tolist()),
        finish_times=tuple(finish.tolist()),
        critical_counts=tuple(counts.tolist()),
    )


def merge_shards(shards: Sequence[ShardResult], *, backend: str | None = None) -> SimulationResult:
    """Combine all shards of one run into the single-process result (exactly)."""
    work = len(shards[0].variable_tasks) * shards[0].iterations if shards else 0
    return _merge_shards(shards, None, kernels_for(backend, work))


def _merge_shards(
    shards: Sequence[ShardResult], cells: CellArray | None, kernels: ModuleType | None
) -> SimulationResult:
    """:func:`merge_shards`; ``cells`` are the run's kept cells, if any."""
    if not shards:
        raise ValueError("no shards to merge")
    ordered = sorted(shards, key=lambda s: s.shard_index)
    head = ordered[0]
    for s in ordered:
        same = (s.fingerprint, s.seed, s.iterations, s.shard_count, s.variable_tasks) == (
            head.fingerprint,
            head.seed,
            head.iterations,
            head.shard_count,
            head.variable_tasks,
        )
        if not same or len(s.critical_counts) != len(head.critical_counts):
            raise ValueError("shards come from different runs")
    if [s.shard_index for s in ordered] != list(range(head.shard_count)):
        raise ValueError("every shard index must appear exactly once")
    position = 0
    for s in ordered:
        if (s.start, s.stop) != shard_bounds(s.iterations, s.shard_index, s.shard_count):
            raise ValueError("shard range does not match its index")
        if s.start != position or len(s.finish_times) != s.stop - s.start:
            raise ValueError("shards do not cover the iterations")
        position = s.stop
    finish = np.array([t for s in ordered for t in s.finish_times], dtype=np.float64)
    counts = np.sum([np.asarray(s.critical_counts, dtype=np.int64) for s in ordered], axis=0)
    counts = np.asarray(counts, dtype=np.int64).reshape(len(head.critical_counts))
    sensitivity = _spearman(
        finish, head.seed, len(head.critical_counts), head.variable_tasks, cells=cells, kernels=kernels
    )
    return SimulationResult(head.iterations, head.seed, finish, counts, sensitivity)


def doubled_midranks(values: FloatArray) -> IntArray:
    """Twice the (1-based) mid-rank of each value: ties share their average rank."""
    _uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts
    return np.asarray(2 * below[inverse] + counts[inverse] + 1, dtype=np.int64)


def _cell_sums(cells: CellArray, ranks: FloatArray) -> tuple[IntArray, IntArray, IntArray]:
    """Per-row ``sum q``, ``sum q*q`` and ``sum q*r`` of at most ``_PASS2_MAX_BLOCK`` columns.

    The products run in float64 BLAS, but every partial sum is an integer
    below 2**53 (see ``_SENS_BITS``), so they are exact in any order.
    """
    q = cells.astype(np.float64)
    weights = np.empty((ranks.size, 2), dtype=np.float64)
    weights[:, 0] = 1.0
    weights[:, 1] = ranks
    s_q_qr = q @ weights
    s_qq = np.einsum("ij,ij->i", q, q)
    return s_q_qr[:, 0].astype(np.int64), s_qq.astype(np.int64), s_q_qr[:, 1].astype(np.int64)


def spearman_sensitivity(
    finish: FloatArray,
    seed: int,
    task_count: int,
    variable_tasks: Sequence[int],
    cells: CellArray | None = None,
    *,
    backend: str | None = None,
) -> FloatArray:
    """Per-task rank correlation of sampled duration with project finish (exact).

    ``cells`` (variable tasks x iterations), when the run kept them, are the
    quantile cells the streams would give; otherwise they are regenerated
    block by block.  Either way the integer sums, hence the result, are equal.
    """
    work = len(variable_tasks) * finish.size
    return _spearman(finish, seed, task_count, variable_tasks, cells=cells, kernels=kernels_for(backend, work))


def _spearman(
    finish: FloatArray,
    seed: int,
    task_count: int,
    variable_tasks: Sequence[int],
    *,
    cells: CellArray | None,
    kernels: ModuleType | None,
) -> FloatArray:
    """:func:`spearman_sensitivity`; the compiled kernels add the integer sums when given."""
    n_iter = finish.size
    rho = np.zeros(task_count, dtype=np.float64)
    if n_iter < 2 or not variable_tasks:
        return rho
    ranks = doubled_midranks(finish)
    sum_r = int(ranks.sum())
    sum_rr = sum(
        int(np.dot(ranks[i : i + _PASS2_MAX_BLOCK], ranks[i : i + _PASS2_MAX_BLOCK]))
        for i in range(0, n_iter, _PASS2_MAX_BLOCK)
    )
    var_r = n_iter * sum_rr - sum_r * sum_r
    if var_r == 0:
        return rho
    tasks = list(variable_tasks)
    sum_q = np.zeros(len(tasks), dtype=np.int64)
    sum_qq = np.zeros(len(tasks), dtype=np.int64)
    sum_qr = np.zeros(len(tasks), dtype=np.int64)
    r_float = ranks.astype(np.float64)
    for b0, b1, q in _cell_blocks(seed, task_count, tasks, n_iter, cells=cells, kernels=kernels):
        if kernels is not None:
            kernels.cell_sums(q, ranks[b0:b1], sum_q, sum_qq, sum_qr)
            continue
        s_q, s_qq, s_qr = _cell_sums(q, r_float[b0:b1])
        sum_q += s_q
        sum_qq += s_qq
        sum_qr += s_qr
    for row, (sq, sqq, sqr) in enumerate(zip(sum_q.tolist(), sum_qq.tolist(), sum_qr.tolist(), strict=True)):
        var_q = n_iter * sqq - sq * sq
        cov = n_iter * sqr - sq * sum_r
        if var_q > 0:
            rho[tasks[row]] = cov / math.sqrt(float(var_q) * float(var_r))
    return rho


def _cell_blocks(
    seed: int, task_count: int, tasks: list[int], n_iter: int, *, cells: CellArray | None, kernels: ModuleType | None
) -> Iterator[tuple[int, int, CellArray]]:
    """The variable tasks' cells, block by block: the kept ones, else drawn again from the
    streams (by the compiled Philox kernel, or by NumPy)."""
    if cells is not None:
        for b0 in range(0, n_iter, _PASS2_MAX_BLOCK):
            yield b0, min(b0 + _PASS2_MAX_BLOCK, n_iter), cells[:, b0 : b0 + _PASS2_MAX_BLOCK]
        return
    keys = stream_keys(seed, task_count, TASK_STREAM)
    if kernels is not None:
        block = max(256, min(_PASS2_MAX_BLOCK, _PASS2_BUDGET_BYTES // (2 * len(tasks))))
        task_keys = np.ascontiguousarray(keys[tasks])
        regenerated = np.empty((len(tasks), min(block, n_iter)), dtype=np.uint16)
        for b0 in range(0, n_iter, block):
            b1 = min(b0 + block, n_iter)
            kernels.philox_words(task_keys, b0, CELL_SHIFT, regenerated[:, : b1 - b0])
            yield b0, b1, regenerated[:, : b1 - b0]
        return
    streams = [WordStream(keys[j], 0) for j in tasks]
    block = max(256, min(_PASS2_MAX_BLOCK, _PASS2_BUDGET_BYTES // (20 * len(tasks))))
    words = np.empty((len(tasks), block), dtype=np.uint32)
    regenerated = np.empty((len(tasks), block), dtype=np.uint16)
    for b0 in range(0, n_iter, block):
        b1 = min(b0 + block, n_iter)
        for row, stream in enumerate(streams):
            stream.take(b1 - b0, words[row])
        q = regenerated[:, : b1 - b0]
        np.right_shift(words[:, : b1 - b0], np.uint32(CELL_SHIFT), out=q, casting="unsafe")
        yield b0, b1, q


def simulate(
    model: SimulationModel,
    iterations: int,
    seed: int,
    *,
    shards: int = 1,
    block_size: int | None = None,
    progress: Progress | None = None,
    backend: str | None = None,
    workers: int | None = None,
) -> SimulationResult:
    """Run all shards in this process and merge them.

    Shards run in ``workers`` threads at once (default: one per shard, at most one per CPU
    this process may use): the compiled kernels release the GIL, and so do NumPy's
    random streams and large array operations, so two shards on two cores take about half
    the time of one.  ``progress`` is called in the calling thread only.

    When the quantile cells of the whole run fit in ``CELL_CACHE_BYTES`` they
    are kept while scheduling, so the sensitivity pass needs no second draw
    of the random streams (the numbers are the same either way).
    """
    _check_run(iterations, seed)
    if shards < 1:
        raise ValueError("shards must be positive")
    kernels = kernels_for(backend, model.network.size * iterations)
    n_var = int(np.count_nonzero(model.durations.variable))
    keep: CellArray | None = None
    if 0 < n_var * iterations * 2 <= CELL_CACHE_BYTES:
        keep = np.empty((n_var, iterations), dtype=np.uint16)
    pool_size = max(1, min(shards, workers if workers is not None else usable_cpus()))
    runner = _ShardRunner(
        model, iterations=iterations, seed=seed, shards=shards, block_size=block_size, keep=keep, kernels=kernels
    )
    if pool_size == 1:
        results = [runner.run(k, progress) for k in range(shards)]
    else:
        results = runner.run_parallel(pool_size, progress)
    return _merge_shards(results, keep, kernels)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, where the platform tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        return os.cpu_count() or 1


class _ShardRunner:
    """Runs the shards of one :func:`simulate` call, in this thread or in a pool of threads."""

    def __init__(
        self,
        model: SimulationModel,
        *,
        iterations: int,
        seed: int,
        shards: int,
        block_size: int | None,
        keep: CellArray | None,
        kernels: ModuleType | None,
    ) -> None:
        self.model, self.iterations, self.seed, self.shards = model, iterations, seed, shards
        self.block_size, self.keep, self.kernels = block_size, keep, kernels
        self._done = [0] * shards
        self._stop = threading.Event()

    def run(self, k: int, progress: Progress | None) -> ShardResult:
        """Shard ``k``; ``progress`` gets the run's total iterations done after each block."""
        start, stop = shard_bounds(self.iterations, k, self.shards)

        def report(done: int, _total: int) -> None:
            if self._stop.is_set():
                raise _Stopped
            self._done[k] = done
            if progress is not None:
                progress(sum(self._done), self.iterations)

        part = None if self.keep is None else self.keep[:, start:stop]
        return _run_shard(
            self.model,
            self.iterations,
            self.seed,
            k,
            self.shards,
            block_size=self.block_size,
            progress=report,
            keep=part,
            kernels=self.kernels,
        )

    def run_parallel(self, pool_size: int, progress: Progress | None) -> list[ShardResult]:
        """All shards in ``pool_size`` threads; progress is reported from this thread while
        they run (and an exception it raises stops the shards at their next block)."""
        with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="planner-shard") as pool:
            futures = [pool.submit(self.run, k, None) for k in range(self.shards)]
            try:
                pending = set(futures)
                reported = -1
                while pending:
                    _finished, pending = wait(pending, timeout=_PROGRESS_POLL_S, return_when=FIRST_EXCEPTION)
                    if any(f.done() and f.exception() is not None for f in futures):
                        break
                    done = sum(self._done)
                    if progress is not None and done != reported:
                        reported = done
                        progress(done, self.iterations)
            finally:
                self._stop.set()
        for future in futures:
            failure = future.exception()
            if failure is not None and not isinstance(failure, _Stopped):
                raise failure
        return [f.result() for f in futures]


class _Stopped(Exception):
    """A shard thread stops early because another shard or the caller failed."""


#: How often the calling thread reports the progress of shards running in threads.
_PROGRESS_POLL_S = 0.05

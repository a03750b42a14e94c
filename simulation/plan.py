"""Date-level facade: plain-Python plan in, dates and JSON-able reports out.

Remaining work
--------------
* ``COMPLETED`` tasks have no remaining work (and risks no longer affect them).
  They are *done*: never critical, neither in the schedule nor in any
  simulated iteration, and never on the critical path.
* ``IN_PROGRESS`` tasks need ``(100 - percent_complete)%`` of their duration:
  all three estimates are scaled by that share.
* ``NOT_STARTED`` tasks need their full duration (``percent_complete`` is
  ignored).
* Nothing starts before the as-of date (time 0, see :mod:`simulation.calendar`).

Deterministic schedule
----------------------
:func:`schedule_plan` runs CPM on the remaining *most likely* durations.  Risks
with probability 1 are certain, so their delays are added; all other risks are
ignored there (they only enter the Monte Carlo simulation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.calendar import WorkCalendar, finish_day_index, interval_day_indices, to_date
from simulation.cpm import critical_path_method
from simulation.distributions import DISTRIBUTIONS, Distribution, validate_three_point
from simulation.montecarlo import (
    RiskSpec,
    ShardResult,
    SimulationModel,
    SimulationResult,
    merge_shards,
    run_shard,
    simulate,
)
from simulation.network import Network

STATUSES = ("NOT_STARTED", "IN_PROGRESS", "COMPLETED")
WEEKDAYS: frozenset[int] = frozenset({0, 1, 2, 3, 4})


@dataclass(frozen=True)
class TaskInput:
    """Three-point estimate of a task's full duration, in working days."""

    key: str
    optimistic: float
    most_likely: float
    pessimistic: float
    status: str = "NOT_STARTED"
    percent_complete: int = 0


@dataclass(frozen=True)
class DependencyInput:
    """Finish-to-start dependency with a lag in working days."""

    predecessor: str
    successor: str
    lag_days: float = 0.0


@dataclass(frozen=True)
class RiskInput:
    """With ``probability`` (1.0 = certain) delays each of ``task_keys``."""

    probability: float
    delay_days: float
    task_keys: tuple[str, ...]


@dataclass(frozen=True)
class CalendarInput:
    working_days: frozenset[int] = WEEKDAYS
    holidays: frozenset[dt.date] = frozenset()


@dataclass(frozen=True)
class PlanInput:
    tasks: tuple[TaskInput, ...]
    dependencies: tuple[DependencyInput, ...]
    as_of: dt.date
    event_date: dt.date | None = None
    calendar: CalendarInput = field(default_factory=CalendarInput)
    risks: tuple[RiskInput, ...] = ()


@dataclass(frozen=True)
class TaskSchedule:
    key: str
    early_start: dt.date
    early_finish: dt.date
    late_start: dt.date
    late_finish: dt.date
    total_slack_days: float
    is_critical: bool
    #: No remaining work (``COMPLETED``): never critical; its dates are an instant.
    is_done: bool = False


@dataclass(frozen=True)
class PlanSchedule:
    tasks: Mapping[str, TaskSchedule]
    critical_path: tuple[str, ...]
    duration_days: float
    start_date: dt.date
    finish_date: dt.date


@dataclass(frozen=True)
class SimulationReport:
    iterations: int
    seed: int
    on_time_probability: float | None
    on_time_standard_error: float | None
    mean_finish_date: dt.date
    p50_finish_date: dt.date
    p80_finish_date: dt.date
    p90_finish_date: dt.date
    histogram: tuple[tuple[dt.date, int], ...]
    cumulative: tuple[tuple[dt.date, float], ...]
    task_criticality: Mapping[str, float]
    sensitivity: Mapping[str, float]
    mean_duration_days: float

    def to_json(self) -> dict[str, Any]:
        """Dictionary with camelCase keys and ISO dates, ready for ``json.dumps``."""
        return {
            "iterations": self.iterations,
            "seed": self.seed,
            "onTimeProbability": self.on_time_probability,
            "onTimeStandardError": self.on_time_standard_error,
            "meanFinishDate": self.mean_finish_date.isoformat(),
            "p50FinishDate": self.p50_finish_date.isoformat(),
            "p80FinishDate": self.p80_finish_date.isoformat(),
            "p90FinishDate": self.p90_finish_date.isoformat(),
            "histogram": [{"date": d.isoformat(), "count": c} for d, c in self.histogram],
            "cumulative": [{"date": d.isoformat(), "probability": p} for d, p in self.cumulative],
            "taskCriticality": dict(self.task_criticality),
            "sensitivity": dict(self.sensitivity),
        }


@dataclass(frozen=True)
class _Prepared:
    network: Network
    low: np.ndarray[Any, np.dtype[np.float64]]
    mode: np.ndarray[Any, np.dtype[np.float64]]
    high: np.ndarray[Any, np.dtype[np.float64]]
    done: np.ndarray[Any, np.dtype[np.bool_]]
    risks: tuple[RiskSpec, ...]
    calendar: WorkCalendar
    origin: np.datetime64


def _remaining_share(task: TaskInput) -> float:
    if task.status not in STATUSES:
        raise ValueError(f"task {task.key!r}: unknown status {task.status!r}")
    if task.status == "COMPLETED":
        return 0.0
    if task.status == "NOT_STARTED":
        return 1.0
    if not 0 <= task.percent_complete <= 100:
        raise ValueError(f"task {task.key!r}: percent_complete must be within 0..100")
    return (100 - task.percent_complete) / 100.0


def _prepare(plan: PlanInput) -> _Prepared:
    keys = [t.key for t in plan.tasks]
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            raise ValueError(f"duplicate task key {k!r}")
        seen.add(k)
    for t in plan.tasks:
        validate_three_point(t.key, t.optimistic, t.most_likely, t.pessimistic)
    share = np.array([_remaining_share(t) for t in plan.tasks], dtype=np.float64)
    low = np.array([t.optimistic for t in plan.tasks], dtype=np.float64) * share
    mode = np.array([t.most_likely for t in plan.tasks], dtype=np.float64) * share
    high = np.array([t.pessimistic for t in plan.tasks], dtype=np.float64) * share
    done = np.array([t.status == "COMPLETED" for t in plan.tasks], dtype=np.bool_)
    for dep in plan.dependencies:
        if not np.isfinite(dep.lag_days):
            raise ValueError("dependency lag must be finite")
    network = Network.from_keys(keys, [(d.predecessor, d.successor, d.lag_days) for d in plan.dependencies])
    risks = []
    for r in plan.risks:
        for k in r.task_keys:
            if k not in network.index:
                raise ValueError(f"risk refers to unknown task key {k!r}")
        affected = tuple(sorted({network.index[k] for k in r.task_keys if not done[network.index[k]]}))
        risks.append(RiskSpec(float(r.probability), float(r.delay_days), affected))
    calendar = WorkCalendar(plan.calendar.working_days, plan.calendar.holidays)
    return _Prepared(network, low, mode, high, done, tuple(risks), calendar, calendar.origin(plan.as_of))


def schedule_plan(plan: PlanInput) -> PlanSchedule:
    """Deterministic CPM schedule on remaining most-likely durations."""
    prep = _prepare(plan)
    durations = prep.mode.copy()
    for risk in prep.risks:
        if risk.probability >= 1.0:
            durations[list(risk.tasks)] += risk.delay
    cpm = critical_path_method(prep.network, durations, prep.done)
    es_day, ef_day = interval_day_indices(cpm.early_start, durations)
    ls_day, lf_day = interval_day_indices(cpm.late_start, durations)
    cal, origin = prep.calendar, prep.origin
    dates = [cal.workdays(origin, x) for x in (es_day, ef_day, ls_day, lf_day)]
    tasks = {}
    for j, key in enumerate(prep.network.keys):
        tasks[key] = TaskSchedule(
            key=key,
            early_start=to_date(dates[0][j]),
            early_finish=to_date(dates[1][j]),
            late_start=to_date(dates[2][j]),
            late_finish=to_date(dates[3][j]),
            total_slack_days=float(cpm.total_slack[j]),
            is_critical=bool(cpm.critical[j]),
            is_done=bool(prep.done[j]),
        )
    finish = int(finish_day_index(cpm.duration))
    return PlanSchedule(
        tasks=tasks,
        critical_path=tuple(prep.network.keys[j] for j in cpm.critical_path.tolist()),
        duration_days=cpm.duration,
        start_date=to_date(origin),
        finish_date=cal.workday(origin, finish),
    )


def build_model(plan: PlanInput, distribution: Distribution | str = "pert") -> SimulationModel:
    """Engine-level model (working-day offsets) for ``plan``."""
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution {distribution!r}; use one of {DISTRIBUTIONS}")
    prep = _prepare(plan)
    return SimulationModel.build(
        prep.network, prep.low, prep.mode, prep.high, distribution=distribution, risks=prep.risks, done=prep.done
    )


def simulate_plan(
    plan: PlanInput,
    iterations: int,
    seed: int,
    *,
    distribution: Distribution | str = "pert",
    shards: int = 1,
    progress: Callable[[int, int], None] | None = None,
    block_size: int | None = None,
) -> SimulationReport:
    """Monte Carlo schedule risk analysis of ``plan``, reported in dates."""
    model = build_model(plan, distribution)
    result = simulate(model, iterations, seed, shards=shards, block_size=block_size, progress=progress)
    return report(plan, result)


def run_plan_shard(
    plan: PlanInput,
    iterations: int,
    seed: int,
    shard_index: int,
    shard_count: int,
    *,
    distribution: Distribution | str = "pert",
    block_size: int | None = None,
) -> ShardResult:
    """One shard of :func:`simulate_plan` (for fan-out); merge with :func:`merge_plan_shards`."""
    model = build_model(plan, distribution)
    return run_shard(model, iterations, seed, shard_index, shard_count, block_size=block_size)


def merge_plan_shards(plan: PlanInput, shards: Sequence[ShardResult]) -> SimulationReport:
    """Merge all shards of a run; equal to :func:`simulate_plan` with the same inputs."""
    return report(plan, merge_shards(shards))


def report(plan: PlanInput, result: SimulationResult) -> SimulationReport:
    """Turn an engine result into dates with the plan's calendar."""
    cal = WorkCalendar(plan.calendar.working_days, plan.calendar.holidays)
    origin = cal.origin(plan.as_of)
    keys = [t.key for t in plan.tasks]
    n = result.iterations
    days = finish_day_index(result.finish_times)
    first, last = int(days.min()), int(days.max())
    counts = np.bincount(days - first, minlength=last - first + 1)
    sorted_days = np.sort(days)
    cal_days = cal.workdays(origin, np.arange(first, last + 1))
    histogram = tuple((to_date(d), int(c)) for d, c in zip(cal_days, counts.tolist(), strict=True))
    cumulative_counts = np.cumsum(counts)
    cumulative = tuple((to_date(d), int(c) / n) for d, c in zip(cal_days, cumulative_counts.tolist(), strict=True))

    def percentile_day(percent: int) -> dt.date:
        rank = -(-percent * n // 100)  # ceil(percent% of n), exact in integers
        return cal.workday(origin, int(sorted_days[max(rank, 1) - 1]))

    on_time: float | None = None
    std_err: float | None = None
    if plan.event_date is not None:
        limit = cal.last_index_on_or_before(origin, plan.event_date)
        on_time = int(np.count_nonzero(days <= limit)) / n
        std_err = float(np.sqrt(on_time * (1.0 - on_time) / n))
    mean = result.mean_finish
    return SimulationReport(
        iterations=n,
        seed=result.seed,
        on_time_probability=on_time,
        on_time_standard_error=std_err,
        mean_finish_date=cal.workday(origin, int(finish_day_index(mean))),
        p50_finish_date=percentile_day(50),
        p80_finish_date=percentile_day(80),
        p90_finish_date=percentile_day(90),
        histogram=histogram,
        cumulative=cumulative,
        task_criticality={k: float(x) for k, x in zip(keys, result.criticality.tolist(), strict=True)},
        sensitivity={k: float(x) for k, x in zip(keys, result.sensitivity.tolist(), strict=True)},
        mean_duration_days=mean,
    )

"""What-if comparison on common random numbers: differences are effects, not noise."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from simulation.plan import DependencyInput, PlanInput, RiskInput, TaskInput
from simulation.whatif import Variant, compare, task_stream_key

AS_OF = dt.date(2025, 1, 6)


def _plan(event_date: dt.date = dt.date(2025, 2, 7)) -> PlanInput:
    tasks = (
        TaskInput("design", 3, 5, 9),
        TaskInput("build", 6, 8, 14),
        TaskInput("docs", 2, 3, 6),
        TaskInput("ship", 1, 2, 4),
    )
    deps = (
        DependencyInput("design", "build"),
        DependencyInput("design", "docs"),
        DependencyInput("build", "ship"),
        DependencyInput("docs", "ship"),
    )
    risks = (RiskInput(0.4, 3.0, ("build",)),)
    return PlanInput(tasks, deps, AS_OF, event_date, risks=risks)


def test_a_variant_that_changes_nothing_differs_by_exactly_zero() -> None:
    plan = _plan()
    same_estimate = Variant(estimates={"build": (6, 8, 14)})
    same_lag = Variant(lags={("build", "ship"): 0.0})
    base, (empty, estimate, lag) = compare(plan, [Variant(), same_estimate, same_lag], 3000, seed=11)
    assert 0 < base.on_time_probability < 1
    for outcome in (empty, estimate, lag):
        assert outcome == base  # exactly: the same draws, the same network


def test_results_follow_the_tasks_not_their_positions() -> None:
    plan = _plan()
    shuffled = replace(plan, tasks=tuple(reversed(plan.tasks)), dependencies=tuple(reversed(plan.dependencies)))
    crash = Variant(estimates={"build": (4.8, 6.4, 11.2)})
    assert compare(plan, [crash], 2000, seed=5) == compare(shuffled, [crash], 2000, seed=5)
    # A task's stream is a function of the seed and its key only.
    assert np.array_equal(task_stream_key(5, "build"), task_stream_key(5, "build"))
    assert not np.array_equal(task_stream_key(5, "build"), task_stream_key(5, "docs"))
    assert not np.array_equal(task_stream_key(5, "build"), task_stream_key(6, "build"))


def test_adding_a_task_does_not_redraw_the_others() -> None:
    plan = _plan()
    # A fixed-duration task off the critical chain changes nothing if the others keep their draws.
    extra = replace(
        plan,
        tasks=(TaskInput("note", 0.5, 0.5, 0.5), *plan.tasks),  # first: every position moves
        dependencies=(*plan.dependencies, DependencyInput("design", "note")),
    )
    assert compare(plan, [], 2000, seed=3)[0] == compare(extra, [], 2000, seed=3)[0]


def test_shortening_and_overlapping_the_critical_chain_never_hurts_any_iteration() -> None:
    plan = _plan()
    crash = Variant(estimates={"build": (4.8, 6.4, 11.2)})
    overlap = Variant(lags={("design", "build"): -1.5})
    slower = Variant(estimates={"docs": (20, 25, 30)})
    base, (crashed, overlapped, slowed) = compare(plan, [crash, overlap, slower], 4000, seed=2)
    assert crashed.on_time_probability > base.on_time_probability
    assert crashed.mean_finish_days < base.mean_finish_days
    assert overlapped.mean_finish_days < base.mean_finish_days
    assert slowed.on_time_probability < base.on_time_probability


def test_unknown_names_and_a_missing_target_are_refused() -> None:
    plan = _plan()
    with pytest.raises(ValueError, match="unknown tasks"):
        compare(plan, [Variant(estimates={"nope": (1, 1, 1)})], 10, seed=1)
    with pytest.raises(ValueError, match="unknown dependencies"):
        compare(plan, [Variant(lags={("ship", "design"): 1.0})], 10, seed=1)
    with pytest.raises(ValueError, match="target"):
        compare(replace(plan, event_date=None), [], 10, seed=1)
    assert compare(replace(plan, event_date=None), [], 10, seed=1, target_finish_days=1000)[0].on_time_probability == 1

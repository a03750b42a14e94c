"""Task invariants and the status/percent derivation of ``Task.changed``."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.errors import DomainError, ErrorCode
from planning.model import Task, TaskStatus, ThreePointEstimate
from planning.model.task import check_task_input

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
T1 = datetime(2025, 1, 7, 9, 0, tzinfo=UTC)


def make_task(**overrides: Any) -> Task:
    fields: dict[str, Any] = {
        "id": "t1",
        "plan_id": "p1",
        "title": "Book the venue",
        "status": TaskStatus.NOT_STARTED,
        "percent_complete": 0,
        "start_date": None,
        "due_date": None,
        "duration_days": 3.0,
        "estimate": None,
        "assignees": (),
        "planner_task_id": None,
        "version": 1,
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Task(**fields)


def invalid_field(exc: pytest.ExceptionInfo[DomainError]) -> str | None:
    assert exc.value.code is ErrorCode.INVALID_INPUT
    return exc.value.field[-1] if exc.value.field else None


# Construction invariants


@pytest.mark.parametrize(
    ("status", "percent"),
    [
        (TaskStatus.NOT_STARTED, 0),
        (TaskStatus.IN_PROGRESS, 0),
        (TaskStatus.IN_PROGRESS, 1),
        (TaskStatus.IN_PROGRESS, 99),
        (TaskStatus.COMPLETED, 100),
    ],
)
def test_consistent_status_and_percent_are_accepted(status: TaskStatus, percent: int) -> None:
    task = make_task(status=status, percent_complete=percent)
    assert (task.status, task.percent_complete) == (status, percent)


@pytest.mark.parametrize("percent", [-1, 101, 150])
def test_percent_complete_outside_0_to_100_is_rejected(percent: int) -> None:
    with pytest.raises(DomainError) as exc:
        make_task(status=TaskStatus.IN_PROGRESS, percent_complete=percent)
    assert invalid_field(exc) == "percentComplete"
    assert str(percent) in exc.value.message


def test_percent_complete_must_not_be_a_bool() -> None:
    with pytest.raises(DomainError) as exc:
        make_task(status=TaskStatus.IN_PROGRESS, percent_complete=True)
    assert invalid_field(exc) == "percentComplete"


@pytest.mark.parametrize("percent", [0, 50, 99])
def test_completed_requires_100(percent: int) -> None:
    with pytest.raises(DomainError) as exc:
        make_task(status=TaskStatus.COMPLETED, percent_complete=percent)
    assert invalid_field(exc) == "percentComplete"


@pytest.mark.parametrize("status", [TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS])
def test_100_percent_requires_completed(status: TaskStatus) -> None:
    with pytest.raises(DomainError) as exc:
        make_task(status=status, percent_complete=100)
    assert invalid_field(exc) == "status"


@pytest.mark.parametrize("percent", [1, 50])
def test_not_started_requires_0(percent: int) -> None:
    with pytest.raises(DomainError) as exc:
        make_task(status=TaskStatus.NOT_STARTED, percent_complete=percent)
    assert invalid_field(exc) == "percentComplete"


def test_start_after_due_is_rejected_but_equal_is_fine() -> None:
    same = make_task(start_date=date(2025, 3, 1), due_date=date(2025, 3, 1))
    assert same.start_date == same.due_date
    with pytest.raises(DomainError) as exc:
        make_task(start_date=date(2025, 3, 2), due_date=date(2025, 3, 1))
    assert invalid_field(exc) == "startDate"
    assert "2025-03-02" in exc.value.message


@pytest.mark.parametrize("title", ["", "   ", "\t\n"])
def test_empty_title_is_rejected(title: str) -> None:
    with pytest.raises(DomainError) as exc:
        make_task(title=title)
    assert invalid_field(exc) == "title"


def test_title_length_limit_applies_to_input_not_to_stored_tasks() -> None:
    assert make_task(title="x" * 501).title == "x" * 501  # a stored task is read as it is
    check_task_input({"title": "x" * 500})
    with pytest.raises(DomainError) as exc:
        check_task_input({"title": "x" * 501})
    assert invalid_field(exc) == "title"
    with pytest.raises(DomainError) as exc:
        make_task().changed({"title": "x" * 501}, at=make_task().updated_at, expected_version=None)
    assert invalid_field(exc) == "title"


@pytest.mark.parametrize("days", [-0.5, -1.0, math.inf, math.nan])
def test_duration_days_must_be_finite_and_not_negative(days: float) -> None:
    with pytest.raises(DomainError) as exc:
        make_task(duration_days=days)
    assert invalid_field(exc) == "durationDays"


@pytest.mark.parametrize("days", [0.0, 0.5, 10.0, None])
def test_duration_days_zero_or_more_or_absent_is_fine(days: float | None) -> None:
    assert make_task(duration_days=days).duration_days == days


def test_scheduling_points_prefer_the_estimate() -> None:
    est = ThreePointEstimate(1, 2, 4)
    assert make_task(estimate=est, duration_days=9).scheduling_points == (1, 2, 4)
    assert make_task(duration_days=3).scheduling_points == (3, 3, 3)
    assert make_task(duration_days=None).scheduling_points is None


# Task.changed


@pytest.mark.parametrize(
    ("start", "new_status", "expected_percent"),
    [
        ((TaskStatus.IN_PROGRESS, 40), TaskStatus.COMPLETED, 100),
        ((TaskStatus.IN_PROGRESS, 40), TaskStatus.NOT_STARTED, 0),
        ((TaskStatus.NOT_STARTED, 0), TaskStatus.IN_PROGRESS, 0),
        ((TaskStatus.COMPLETED, 100), TaskStatus.IN_PROGRESS, 50),
        ((TaskStatus.COMPLETED, 100), TaskStatus.NOT_STARTED, 0),
        ((TaskStatus.IN_PROGRESS, 40), TaskStatus.IN_PROGRESS, 40),
    ],
)
def test_status_only_change_makes_percent_follow(
    start: tuple[TaskStatus, int], new_status: TaskStatus, expected_percent: int
) -> None:
    task = make_task(status=start[0], percent_complete=start[1])
    updated = task.changed({"status": new_status}, at=T1, expected_version=None)
    assert updated.status is new_status
    assert updated.percent_complete == expected_percent


@pytest.mark.parametrize(
    ("start", "new_percent", "expected_status"),
    [
        ((TaskStatus.NOT_STARTED, 0), 100, TaskStatus.COMPLETED),
        ((TaskStatus.NOT_STARTED, 0), 30, TaskStatus.IN_PROGRESS),
        ((TaskStatus.COMPLETED, 100), 30, TaskStatus.IN_PROGRESS),
        ((TaskStatus.COMPLETED, 100), 0, TaskStatus.NOT_STARTED),
        ((TaskStatus.IN_PROGRESS, 30), 0, TaskStatus.IN_PROGRESS),
        ((TaskStatus.NOT_STARTED, 0), 0, TaskStatus.NOT_STARTED),
    ],
)
def test_percent_only_change_makes_status_follow(
    start: tuple[TaskStatus, int], new_percent: int, expected_status: TaskStatus
) -> None:
    task = make_task(status=start[0], percent_complete=start[1])
    updated = task.changed({"percent_complete": new_percent}, at=T1, expected_version=None)
    assert updated.percent_complete == new_percent
    assert updated.status is expected_status


def test_both_given_are_taken_as_they_are_and_checked() -> None:
    task = make_task()
    ok = task.changed({"status": TaskStatus.IN_PROGRESS, "percent_complete": 0}, at=T1, expected_version=None)
    assert (ok.status, ok.percent_complete) == (TaskStatus.IN_PROGRESS, 0)
    with pytest.raises(DomainError) as exc:
        task.changed({"status": TaskStatus.NOT_STARTED, "percent_complete": 50}, at=T1, expected_version=None)
    assert invalid_field(exc) == "percentComplete"


def test_change_bumps_version_and_updated_at_and_keeps_the_rest() -> None:
    task = make_task(version=4, assignees=("ann",))
    updated = task.changed({"title": "Book the hall"}, at=T1, expected_version=4)
    assert updated.version == 5
    assert updated.updated_at == T1
    assert updated.created_at == T0
    assert updated == replace(task, title="Book the hall", version=5, updated_at=T1)
    assert task.version == 4  # the original is untouched


def test_stale_expected_version_is_rejected() -> None:
    task = make_task(version=3)
    with pytest.raises(DomainError) as exc:
        task.changed({"title": "New"}, at=T1, expected_version=2)
    assert exc.value.code is ErrorCode.STALE_VERSION
    assert exc.value.field == ("input", "expectedVersion")
    assert "3" in exc.value.message


def test_change_that_breaks_an_invariant_is_rejected() -> None:
    task = make_task()
    with pytest.raises(DomainError) as exc:
        task.changed({"percent_complete": 150}, at=T1, expected_version=None)
    assert invalid_field(exc) == "percentComplete"
    with pytest.raises(DomainError) as exc:
        task.changed({"start_date": date(2025, 5, 2), "due_date": date(2025, 5, 1)}, at=T1, expected_version=None)
    assert invalid_field(exc) == "startDate"


@given(
    start=st.sampled_from(
        [
            (TaskStatus.NOT_STARTED, 0),
            (TaskStatus.IN_PROGRESS, 0),
            (TaskStatus.IN_PROGRESS, 42),
            (TaskStatus.COMPLETED, 100),
        ]
    ),
    change=st.one_of(
        st.builds(lambda s: {"status": s}, st.sampled_from(list(TaskStatus))),
        st.builds(lambda p: {"percent_complete": p}, st.integers(0, 100)),
    ),
)
def test_one_sided_changes_always_yield_a_valid_task(start: tuple[TaskStatus, int], change: dict[str, Any]) -> None:
    task = make_task(status=start[0], percent_complete=start[1])
    updated = task.changed(change, at=T1, expected_version=1)
    assert updated.version == 2
    assert (updated.status is TaskStatus.COMPLETED) == (updated.percent_complete == 100)
    if updated.status is TaskStatus.NOT_STARTED:
        assert updated.percent_complete == 0

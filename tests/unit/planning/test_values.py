"""ThreePointEstimate, WorkCalendar and Principal."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.errors import DomainError, ErrorCode
from planning.model import ThreePointEstimate, WorkCalendar
from planning.principal import Principal

# ThreePointEstimate


@pytest.mark.parametrize("points", [(1, 2, 3), (0.5, 0.5, 0.5), (1, 1, 5), (1, 5, 5), (0.001, 1, 1000)])
def test_ordered_positive_estimates_are_accepted(points: tuple[float, float, float]) -> None:
    est = ThreePointEstimate(*points)
    assert (est.optimistic_days, est.most_likely_days, est.pessimistic_days) == points


@pytest.mark.parametrize(
    "points",
    [(0, 1, 2), (-1, 1, 2), (2, 1, 3), (1, 3, 2), (3, 2, 1), (0, 0, 0)],
)
def test_estimates_out_of_order_or_not_positive_are_rejected(points: tuple[float, float, float]) -> None:
    with pytest.raises(DomainError) as exc:
        ThreePointEstimate(*points)
    assert exc.value.code is ErrorCode.INVALID_INPUT
    assert exc.value.field == ("estimate",)
    assert "optimisticDays <= mostLikelyDays <= pessimisticDays" in exc.value.message


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_estimates_must_be_finite(bad: float, position: int) -> None:
    points = [1.0, 2.0, 3.0]
    points[position] = bad
    with pytest.raises(DomainError) as exc:
        ThreePointEstimate(*points)
    assert exc.value.code is ErrorCode.INVALID_INPUT
    assert exc.value.field == ("estimate",)


def test_fixed_estimate_has_three_equal_points() -> None:
    assert ThreePointEstimate.fixed(4) == ThreePointEstimate(4, 4, 4)
    with pytest.raises(DomainError):
        ThreePointEstimate.fixed(0)


@given(st.tuples(*[st.floats(allow_nan=True, allow_infinity=True, width=64)] * 3))
def test_estimate_is_valid_exactly_when_finite_and_ordered(points: tuple[float, float, float]) -> None:
    o, m, p = points
    expected = all(math.isfinite(x) for x in points) and 0 < o <= m <= p
    if expected:
        assert ThreePointEstimate(o, m, p).optimistic_days == o
    else:
        with pytest.raises(DomainError) as exc:
            ThreePointEstimate(o, m, p)
        assert exc.value.code is ErrorCode.INVALID_INPUT


# WorkCalendar


def test_from_names_maps_names_case_insensitively() -> None:
    cal = WorkCalendar.from_names(["mon", "Tue", "SUN"], [date(2025, 12, 25)])
    assert cal.working_weekdays == frozenset({0, 1, 6})
    assert cal.holidays == frozenset({date(2025, 12, 25)})
    assert cal.weekday_names == ["MON", "TUE", "SUN"]
    assert not cal.is_default()


def test_from_names_of_monday_to_friday_is_the_default() -> None:
    cal = WorkCalendar.from_names(["FRI", "THU", "WED", "TUE", "MON", "MON"], [])
    assert cal == WorkCalendar()
    assert cal.is_default()
    assert WorkCalendar().weekday_names == ["MON", "TUE", "WED", "THU", "FRI"]


def test_from_names_rejects_unknown_day() -> None:
    with pytest.raises(DomainError) as exc:
        WorkCalendar.from_names(["MON", "Funday"], [])
    assert exc.value.code is ErrorCode.INVALID_INPUT
    assert exc.value.field == ("calendar", "workingDays")
    assert "Funday" in exc.value.message


def test_calendar_needs_a_working_day() -> None:
    with pytest.raises(DomainError) as exc:
        WorkCalendar.from_names([], [])
    assert exc.value.field == ("calendar", "workingDays")
    with pytest.raises(DomainError):
        WorkCalendar(frozenset({7}))


def test_holidays_make_a_calendar_non_default() -> None:
    assert not WorkCalendar(holidays=frozenset({date(2025, 1, 1)})).is_default()


# Principal


# What a principal may do on plans is planning.access's (tests/unit/planning/test_access.py);
# ``can_write`` is its group rule: who may create plans.


@pytest.mark.parametrize("groups", [{"viewer"}, set(), {"guests", "viewer"}])
def test_readers_may_not_create_plans(groups: set[str]) -> None:
    assert not Principal("vera@example.com", frozenset(groups)).can_write


@pytest.mark.parametrize("groups", [{"planner"}, {"admin"}, {"viewer", "planner"}, {"admin", "planner"}])
def test_planners_and_admins_may_create_plans(groups: set[str]) -> None:
    assert Principal("pat@example.com", frozenset(groups)).can_write

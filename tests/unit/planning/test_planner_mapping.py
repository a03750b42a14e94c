"""How Planner's values become a task's (planning.services.planner_sync), without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from planning.model import TaskStatus
from planning.services.planner_sync import PLANNER_OWNED, owned_snapshot, planner_date


@pytest.mark.parametrize("offset_h", range(-11, 13))
def test_a_planner_day_is_found_from_midnight_in_any_zone(offset_h: int) -> None:
    """Planner keeps 1 March as midnight of 1 March in the setter's zone, sent in UTC."""
    local_midnight = datetime(2027, 3, 1, tzinfo=timezone(timedelta(hours=offset_h)))
    assert planner_date(local_midnight.astimezone(UTC)) == date(2027, 3, 1)


def test_no_date_is_none() -> None:
    assert planner_date(None) is None


def test_owned_values_as_json() -> None:
    values = {
        "title": "T",
        "status": TaskStatus.IN_PROGRESS,
        "percent_complete": 50,
        "start_date": date(2027, 1, 4),
        "due_date": None,
        "assignees": ("a@x.com", "b@x.com"),
    }
    assert set(values) == set(PLANNER_OWNED)
    assert owned_snapshot(values) == {
        "title": "T",
        "status": "IN_PROGRESS",
        "percent_complete": 50,
        "start_date": "2027-01-04",
        "due_date": None,
        "assignees": ["a@x.com", "b@x.com"],
    }

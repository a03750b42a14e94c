"""Which external events the forecast carries, how likely an event's delay is, forecast dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from planning.model import ExternalEvent, ExternalEventStatus, Severity
from planning.ports.scheduling import Delay, TaskTiming
from planning.services.graph_queries import EventImpact, forecast_delays, in_forecast, occurrence_probability

T0 = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)


def event(key: str, **fields: Any) -> ExternalEvent:
    base: dict[str, Any] = {
        "id": key,
        "plan_id": "p1",
        "event_type": "supplier_delay",
        "severity": Severity.HIGH,
        "title": f"Event {key}",
        "description": None,
        "source": None,
        "occurred_at": T0,
        "received_at": T0,
        "delay_days": 10.0,
        "probability": None,
        "payload": None,
        "affected_task_ids": (f"task-{key}",),
        "idempotency_key": None,
    }
    return ExternalEvent(**{**base, **fields})


@pytest.mark.parametrize(
    ("probability", "status", "counted", "likelihood"),
    [
        (None, ExternalEventStatus.OPEN, True, 1.0),
        (1.0, ExternalEventStatus.OPEN, True, 1.0),
        (0.4, ExternalEventStatus.OPEN, False, 0.4),
        (0.0, ExternalEventStatus.OPEN, False, 0.0),
        (None, ExternalEventStatus.RESOLVED, False, 0.0),
        (None, ExternalEventStatus.WITHDRAWN, False, 0.0),
        (0.4, ExternalEventStatus.RESOLVED, False, 0.0),
    ],
)
def test_open_certain_events_are_in_the_forecast(
    probability: float | None, status: ExternalEventStatus, counted: bool, likelihood: float
) -> None:
    e = event("a", probability=probability, status=status)
    assert in_forecast(e) is counted
    assert forecast_delays([e]) == ((Delay(("task-a",), 10.0),) if counted else ())
    assert occurrence_probability(e) == likelihood


def test_forecast_delays_keep_the_events_order() -> None:
    events = [
        event("a", delay_days=3.0),
        event("b", probability=0.9),
        event("c", delay_days=2.5, affected_task_ids=("x", "y")),
        event("d", status=ExternalEventStatus.RESOLVED),
    ]
    assert forecast_delays(events) == (Delay(("task-a",), 3.0), Delay(("x", "y"), 2.5))


def test_expected_delay_is_the_probability_times_the_delay_if_it_occurs() -> None:
    found = EventImpact(
        affected_task_count=1,
        critical_path_delay_days=10.0,
        finish_date_before=date(2025, 2, 7),
        finish_date_after=date(2025, 2, 21),
        downstream_task_ids=(),
        probability=0.35,
        in_forecast=False,
    )
    assert found.expected_delay_days == 3.5


def test_a_done_task_has_no_forecast_dates() -> None:
    day, later = date(2025, 2, 3), date(2025, 2, 5)
    open_task = TaskTiming(day, later, day, later, 0.0, True)
    assert (open_task.forecast_start, open_task.forecast_finish) == (day, later)
    done = TaskTiming(day, day, day, day, 0.0, False, done=True)
    assert (done.forecast_start, done.forecast_finish) == (None, None)

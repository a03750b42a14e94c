"""The codec of resolver parents (``resolvers/codec.py``): a parent written as the JSON AppSync
hands back as ``source`` reads back as the object it was."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from planning.model import ExternalEvent, ThreePointEstimate
from planning.model.external_event import Severity
from resolvers.codec import HIDDEN_KEY, hidden, parent_of, round_trip
from tests.unit.planning.test_task import make_task

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _event(payload: object) -> ExternalEvent:
    return ExternalEvent(
        id="e1",
        plan_id="p1",
        event_type="supplier_delay",
        severity=Severity.HIGH,
        title="Late parts",
        description=None,
        source="erp",
        occurred_at=T0,
        received_at=T0,
        delay_days=4.5,
        probability=0.25,
        payload=payload,
        affected_task_ids=("t1", "t2"),
        idempotency_key=None,
    )


def test_a_task_reads_back_equal_through_json_text() -> None:
    task = make_task(
        start_date=date(2026, 3, 2),
        estimate=ThreePointEstimate(1.0, 2.0, 5.0),
        assignees=("ana@example.com", "bo@example.com"),
    )
    source = json.loads(json.dumps({"title": task.title, HIDDEN_KEY: hidden(task)}))
    read = parent_of(source)
    assert read == task
    assert isinstance(read.start_date, date)
    assert isinstance(read.assignees, tuple)


def test_an_events_payload_is_kept_as_it_is_however_deep() -> None:
    deep = [[[]]]
    for _ in range(1200):  # deeper than the interpreter's recursion limit
        deep = [deep]
    event = _event({"supplier": "ACME", "lines": deep})
    read = round_trip(event)
    assert read == event
    assert read.payload["lines"] is deep
    assert round_trip(_event({"n": 1})).affected_task_ids == ("t1", "t2")


def test_values_that_are_no_parent_pass_through_and_an_unknown_type_is_refused() -> None:
    assert round_trip("text") == "text"
    assert hidden({"a": 1}) is None
    assert parent_of({"title": "no hidden key"}) == {"title": "no hidden key"}
    with pytest.raises(ValueError, match="known type"):
        parent_of({HIDDEN_KEY: {"type": "Nope", "fields": {}}})

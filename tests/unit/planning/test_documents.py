"""parse_document: a valid plan, and every complaint naming the task key and the field."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from planning.documents import DocumentError, PlanDocument, format_instant, parse_document
from planning.errors import DomainError, ErrorCode
from planning.model import (
    DependencyType,
    ExternalEventStatus,
    Severity,
    TaskStatus,
    ThreePointEstimate,
    WorkCalendar,
)


def valid_document() -> dict[str, Any]:
    return {
        "name": "  Summer fair  ",
        "eventDate": "2025-07-05",
        "plannerPlanId": "planner-plan-1",
        "asOf": "2025-05-05",
        "calendar": {"workingDays": ["MON", "TUE", "WED", "THU"], "holidays": ["2025-05-26"]},
        "tasks": [
            {
                "key": "venue",
                "title": " Book the venue ",
                "estimate": {"optimisticDays": 1, "mostLikelyDays": 2, "pessimisticDays": 5},
                "assignees": ["ann@example.com", " ", " bob@example.com "],
                "startDate": "2025-05-05",
                "dueDate": "2025-05-09",
                "plannerTaskId": "pt-1",
            },
            {"key": "stalls", "title": "Stalls", "durationDays": 3, "status": "COMPLETED"},
            {"key": "music", "title": "Music", "durationDays": 2.5, "percentComplete": 40},
            {"key": "posters", "title": "Posters", "durationDays": 0, "status": "IN_PROGRESS"},
        ],
        "dependencies": [
            {"predecessor": "venue", "successor": "stalls"},
            {"predecessor": "venue", "successor": "music", "lagDays": 2, "type": "FINISH_TO_START"},
            {"predecessor": "stalls", "successor": "posters", "lagDays": 0.5},
        ],
    }


def with_task(index: int, **fields: Any) -> dict[str, Any]:
    doc = valid_document()
    doc["tasks"][index].update(fields)
    return doc


def without(doc: dict[str, Any], index: int, *names: str) -> dict[str, Any]:
    for name in names:
        doc["tasks"][index].pop(name, None)
    return doc


def parse_error(doc: Any) -> DomainError:
    with pytest.raises(DomainError) as exc:
        parse_document(doc)
    return exc.value


def test_valid_document_is_parsed() -> None:
    doc = parse_document(valid_document())
    assert doc.name == "Summer fair"
    assert doc.event_date == date(2025, 7, 5)
    assert doc.as_of == date(2025, 5, 5)
    assert doc.planner_plan_id == "planner-plan-1"
    assert doc.calendar == WorkCalendar(frozenset({0, 1, 2, 3}), frozenset({date(2025, 5, 26)}))
    venue, stalls, music, posters = doc.tasks
    assert [t.key for t in doc.tasks] == ["venue", "stalls", "music", "posters"]
    assert venue.title == "Book the venue"
    assert venue.estimate == ThreePointEstimate(1, 2, 5)
    assert venue.duration_days is None
    assert venue.assignees == ("ann@example.com", "bob@example.com")
    assert (venue.start_date, venue.due_date) == (date(2025, 5, 5), date(2025, 5, 9))
    assert venue.planner_task_id == "pt-1"
    assert (venue.status, venue.percent_complete) == (TaskStatus.NOT_STARTED, 0)
    assert (stalls.status, stalls.percent_complete) == (TaskStatus.COMPLETED, 100)
    assert stalls.duration_days == 3.0
    assert (music.status, music.percent_complete) == (TaskStatus.IN_PROGRESS, 40)
    assert (posters.status, posters.percent_complete) == (TaskStatus.IN_PROGRESS, 0)
    assert [(d.predecessor, d.successor, d.lag_days) for d in doc.dependencies] == [
        ("venue", "stalls", 0.0),
        ("venue", "music", 2.0),
        ("stalls", "posters", 0.5),
    ]
    assert all(d.type is DependencyType.FINISH_TO_START for d in doc.dependencies)


def test_minimal_document_gets_defaults() -> None:
    doc = parse_document({"name": "x", "tasks": []})
    assert doc.tasks == ()
    assert doc.dependencies == ()
    assert doc.calendar == WorkCalendar()
    assert (doc.event_date, doc.as_of, doc.planner_plan_id) == (None, None, None)


def test_parsing_does_not_modify_the_input() -> None:
    raw = valid_document()
    before = copy.deepcopy(raw)
    parse_document(raw)
    assert raw == before


# Task errors: (document, task key, field)

TASK_ERRORS = {
    "missing title": (without(valid_document(), 2, "title"), 2, "music", "title"),
    "blank title": (with_task(2, title="   "), 2, "music", "title"),
    "title not text": (with_task(2, title=7), 2, "music", "title"),
    "bad status": (with_task(1, status="DONE"), 1, "stalls", "status"),
    "percent 150": (with_task(2, percentComplete=150), 2, "music", "percentComplete"),
    "percent negative": (with_task(2, percentComplete=-5), 2, "music", "percentComplete"),
    "percent not a whole number": (with_task(2, percentComplete=40.5), 2, "music", "percentComplete"),
    "percent bool": (with_task(2, percentComplete=True), 2, "music", "percentComplete"),
    "completed below 100": (with_task(1, percentComplete=80), 1, "stalls", "percentComplete"),
    "100 but in progress": (with_task(2, percentComplete=100, status="IN_PROGRESS"), 2, "music", "status"),
    "estimate out of order": (
        with_task(0, estimate={"optimisticDays": 3, "mostLikelyDays": 2, "pessimisticDays": 5}),
        0,
        "venue",
        "estimate",
    ),
    "estimate zero": (
        with_task(0, estimate={"optimisticDays": 0, "mostLikelyDays": 2, "pessimisticDays": 5}),
        0,
        "venue",
        "estimate",
    ),
    "estimate missing a point": (
        with_task(0, estimate={"optimisticDays": 1, "pessimisticDays": 5}),
        0,
        "venue",
        "estimate",
    ),
    "estimate not an object": (with_task(0, estimate=[1, 2, 3]), 0, "venue", "estimate"),
    "neither estimate nor duration": (without(valid_document(), 1, "durationDays"), 1, "stalls", "estimate"),
    "negative duration": (with_task(1, durationDays=-1), 1, "stalls", "durationDays"),
    "duration not a number": (with_task(1, durationDays="3"), 1, "stalls", "durationDays"),
    "bad start date": (with_task(0, startDate="2025-02-30"), 0, "venue", "startDate"),
    "bad due date format": (with_task(0, dueDate="09/05/2025"), 0, "venue", "dueDate"),
    "date with time": (with_task(0, dueDate="2025-05-09T10:00:00"), 0, "venue", "dueDate"),
    "start after due": (with_task(0, startDate="2025-05-10"), 0, "venue", "startDate"),
    "assignees not strings": (with_task(0, assignees=["ann", 3]), 0, "venue", "assignees"),
    "assignees not a list": (with_task(0, assignees="ann"), 0, "venue", "assignees"),
    "planner task id not text": (with_task(0, plannerTaskId=12), 0, "venue", "plannerTaskId"),
}


@pytest.mark.parametrize(("doc", "index", "key", "field"), TASK_ERRORS.values(), ids=TASK_ERRORS.keys())
def test_task_errors_name_the_key_and_the_field(doc: dict[str, Any], index: int, key: str, field: str) -> None:
    error = parse_error(doc)
    assert isinstance(error, DocumentError)
    assert error.code is ErrorCode.INVALID_INPUT
    assert f"task {key!r}" in error.message
    assert field in error.message
    assert error.field == ("tasks", str(index), field)


def test_duplicate_key_names_the_key() -> None:
    doc = valid_document()
    doc["tasks"][3]["key"] = "stalls"
    error = parse_error(doc)
    assert error.code is ErrorCode.INVALID_INPUT
    assert "'stalls'" in error.message
    assert "key" in error.message
    assert error.field == ("tasks", "3", "key")


@pytest.mark.parametrize("key", [None, "", "  ", 5])
def test_task_without_a_usable_key_is_named_by_position(key: Any) -> None:
    doc = valid_document()
    doc["tasks"][2]["key"] = key
    error = parse_error(doc)
    assert "tasks[2]" in error.message
    assert error.field == ("tasks", "2", "key")


def test_task_that_is_not_an_object() -> None:
    doc = valid_document()
    doc["tasks"][1] = "stalls"
    error = parse_error(doc)
    assert "tasks[1]" in error.message
    assert error.field == ("tasks", "1")


# Dependency errors


@pytest.mark.parametrize("end", ["predecessor", "successor"])
def test_dependency_to_an_unknown_key_names_the_key_and_the_end(end: str) -> None:
    doc = valid_document()
    doc["dependencies"][1][end] = "fireworks"
    error = parse_error(doc)
    assert error.code is ErrorCode.INVALID_INPUT
    assert "'fireworks'" in error.message
    assert f"dependencies[1]: {end}" in error.message
    assert error.field == ("dependencies", "1", end)


def test_dependency_without_an_end_names_the_end() -> None:
    doc = valid_document()
    del doc["dependencies"][0]["successor"]
    error = parse_error(doc)
    assert "successor" in error.message
    assert error.field == ("dependencies", "0", "successor")


def test_dependency_end_that_is_not_text_is_an_input_error() -> None:
    """A list where a key belongs must be reported like any other bad key, not crash the parser."""
    doc = valid_document()
    doc["dependencies"][0]["predecessor"] = ["venue"]
    error = parse_error(doc)
    assert error.code is ErrorCode.INVALID_INPUT
    assert error.field == ("dependencies", "0", "predecessor")


def test_self_dependency_names_the_key() -> None:
    doc = valid_document()
    doc["dependencies"].append({"predecessor": "music", "successor": "music"})
    error = parse_error(doc)
    assert error.code is ErrorCode.INVALID_INPUT
    assert "dependencies[3]" in error.message
    assert "'music'" in error.message
    assert error.field == ("dependencies", "3")


def test_duplicate_dependency_names_both_keys() -> None:
    doc = valid_document()
    doc["dependencies"].append({"predecessor": "venue", "successor": "music", "lagDays": 1})
    error = parse_error(doc)
    assert error.code is ErrorCode.INVALID_INPUT
    assert "dependencies[3]" in error.message
    assert "'music'" in error.message
    assert "'venue'" in error.message
    assert error.field == ("dependencies", "3")


def test_cycle_is_reported_with_code_cycle_and_the_loop() -> None:
    doc = valid_document()
    doc["dependencies"].append({"predecessor": "posters", "successor": "venue"})
    error = parse_error(doc)
    assert error.code is ErrorCode.CYCLE
    assert "dependencies[3]" in error.message
    assert "venue -> stalls -> posters -> venue" in error.message
    assert error.field == ("dependencies", "3")


def test_two_task_cycle() -> None:
    doc = valid_document()
    doc["dependencies"].append({"predecessor": "music", "successor": "venue"})
    error = parse_error(doc)
    assert error.code is ErrorCode.CYCLE
    assert "venue -> music -> venue" in error.message


def test_bad_dependency_type_and_lag() -> None:
    doc = valid_document()
    doc["dependencies"][0]["type"] = "START_TO_START"
    error = parse_error(doc)
    assert "START_TO_START" in error.message
    assert error.field == ("dependencies", "0", "type")
    doc = valid_document()
    doc["dependencies"][2]["lagDays"] = "1"
    error = parse_error(doc)
    assert error.field == ("dependencies", "2", "lagDays")


# Document-level errors


@pytest.mark.parametrize("raw", [[], "plan", None, 42, [{"name": "x"}]])
def test_non_object_document_is_rejected(raw: Any) -> None:
    error = parse_error(raw)
    assert error.code is ErrorCode.INVALID_INPUT
    assert "JSON object" in error.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": None}, "name"),
        ({"tasks": {"a": {}}}, "tasks"),
        ({"dependencies": "venue->stalls"}, "dependencies"),
        ({"eventDate": "July 5th"}, "eventDate"),
        ({"plannerPlanId": 9}, "plannerPlanId"),
        ({"calendar": ["MON"]}, "calendar"),
    ],
)
def test_document_level_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    doc = valid_document()
    doc.update(change)
    error = parse_error(doc)
    assert error.code is ErrorCode.INVALID_INPUT
    assert error.field is not None
    assert error.field[0] == field


def test_unknown_working_day_in_calendar() -> None:
    doc = valid_document()
    doc["calendar"]["workingDays"] = ["MON", "Someday"]
    error = parse_error(doc)
    assert error.field == ("calendar", "workingDays")
    assert "Someday" in error.message


def test_error_in_the_last_task_is_found() -> None:
    doc = valid_document()
    doc["tasks"].append({"key": "last", "title": "Last", "durationDays": 1, "percentComplete": 150})
    error = parse_error(doc)
    assert "task 'last'" in error.message
    assert error.field == ("tasks", "4", "percentComplete")


# PlanDocument.shifted


def test_shifted_moves_every_plan_date_and_keeps_holidays() -> None:
    doc = parse_document(valid_document())
    moved = doc.shifted(14)
    assert moved.event_date == date(2025, 7, 19)
    assert moved.as_of == date(2025, 5, 19)
    assert moved.calendar == doc.calendar  # holidays are calendar facts: they stay on their dates
    assert moved.calendar.holidays == frozenset({date(2025, 5, 26)})
    assert (moved.tasks[0].start_date, moved.tasks[0].due_date) == (date(2025, 5, 19), date(2025, 5, 23))
    assert (moved.tasks[1].start_date, moved.tasks[1].due_date) == (None, None)
    assert moved.name == doc.name
    assert moved.dependencies == doc.dependencies
    for before, after in zip(doc.tasks, moved.tasks, strict=True):
        assert (after.key, after.title, after.estimate, after.duration_days, after.assignees) == (
            before.key,
            before.title,
            before.estimate,
            before.duration_days,
            before.assignees,
        )
    assert doc.event_date == date(2025, 7, 5)  # the original is untouched


def test_shifted_moves_event_times_and_nothing_else_of_the_events() -> None:
    doc = parse_document(with_events())
    moved = doc.shifted(-7)
    assert [e.occurred_at for e in moved.events] == [
        datetime(2025, 5, 2, 8, 0, tzinfo=UTC),
        datetime(2025, 5, 4, 12, 15, 30, 250000, tzinfo=UTC),
    ]
    for before, after in zip(doc.events, moved.events, strict=True):
        assert replace(after, occurred_at=before.occurred_at) == before


def test_shifting_a_year_keeps_christmas() -> None:
    raw = valid_document()
    raw["calendar"]["holidays"] = ["2025-12-25", "2026-01-01"]
    doc = parse_document(raw)
    moved = doc.shifted(52 * 7)
    assert moved.calendar.holidays == frozenset({date(2025, 12, 25), date(2026, 1, 1)})
    assert moved.event_date == date(2026, 7, 4)


def test_shifted_back_and_forth_is_identity_and_none_stays_none() -> None:
    doc = parse_document(with_events())
    assert doc.shifted(-21).shifted(21) == doc
    assert doc.shifted(0) == doc
    bare = PlanDocument("x", None, None, WorkCalendar(), None, (), ())
    assert bare.shifted(7) == bare


# Strict keys: an unknown key anywhere is refused with its path and a near miss

UNKNOWN_KEYS = {
    "top level": (
        lambda d: d.update(eventdate="2025-07-05"),
        "top level",
        ("eventdate",),
        '"eventDate"',
    ),
    "top level far off": (lambda d: d.update(colour="red"), "top level", ("colour",), None),
    "top level $schema": (lambda d: d.update({"$schema": "https://x"}), "top level", ("$schema",), None),
    "top level version": (lambda d: d.update(version=2), "top level", ("version",), None),
    "holidays outside the calendar": (
        lambda d: d.update(holidays=["2025-12-25"]),
        "top level",
        ("holidays",),
        None,
    ),
    "calendar": (
        lambda d: d["calendar"].update(holiday=["2025-12-25"]),
        "calendar",
        ("calendar", "holiday"),
        '"holidays"',
    ),
    "task": (
        lambda d: d["tasks"][3].update(stauts="COMPLETED"),
        'tasks[3] ("Posters")',
        ("tasks", "3", "stauts"),
        '"status"',
    ),
    "task case": (
        lambda d: d["tasks"][1].update(duedate="2025-05-09"),
        'tasks[1] ("Stalls")',
        ("tasks", "1", "duedate"),
        '"dueDate"',
    ),
    "task dependsOn": (
        lambda d: d["tasks"][2].update(dependsOn=["venue"]),
        'tasks[2] ("Music")',
        ("tasks", "2", "dependsOn"),
        None,
    ),
    "estimate": (
        lambda d: d["tasks"][0]["estimate"].update(mostlikelyDays=3),
        'tasks[0] ("Book the venue").estimate',
        ("tasks", "0", "estimate", "mostlikelyDays"),
        '"mostLikelyDays"',
    ),
    "dependency": (
        lambda d: d["dependencies"][1].update(lag=2),
        "dependencies[1]",
        ("dependencies", "1", "lag"),
        '"lagDays"',
    ),
    "event": (
        lambda d: d["events"][1].update(affectedTask=["venue"]),
        'events[1] ("Rain forecast")',
        ("events", "1", "affectedTask"),
        '"affectedTasks"',
    ),
    "event snake case": (
        lambda d: d["events"][0].update(delay_days=3),
        'events[0] ("Stage supplier late")',
        ("events", "0", "delay_days"),
        '"delayDays"',
    ),
}


@pytest.mark.parametrize(("change", "where", "field", "suggestion"), UNKNOWN_KEYS.values(), ids=UNKNOWN_KEYS.keys())
def test_unknown_keys_are_refused_with_path_and_suggestion(
    change: Any, where: str, field: tuple[str, ...], suggestion: str | None
) -> None:
    raw = with_events()
    change(raw)
    error = parse_error(raw)
    assert isinstance(error, DocumentError)
    assert error.code is ErrorCode.INVALID_INPUT
    assert error.field == field
    assert error.message.startswith(f'{where}: unknown key "{field[-1]}"')
    if suggestion is None:
        assert "did you mean" not in error.message
    else:
        assert error.message.endswith(f"; did you mean {suggestion}?")


def test_the_brief_example_message() -> None:
    raw = valid_document()
    raw["tasks"].append({"key": "review", "title": "Design review", "durationDays": 1})
    raw["tasks"][4]["stauts"] = "IN_PROGRESS"
    assert parse_error(raw).message == 'tasks[4] ("Design review"): unknown key "stauts"; did you mean "status"?'


def test_task_level_dependencies_point_to_the_dependency_list() -> None:
    raw = valid_document()
    raw["tasks"][2]["dependsOn"] = ["venue"]
    assert '"dependencies" list' in parse_error(raw).message


def test_unknown_key_is_reported_before_other_task_errors() -> None:
    """A misspelled required key is named as misspelled, not as missing."""
    raw = valid_document()
    raw["tasks"][1]["kye"] = raw["tasks"][1].pop("key")
    error = parse_error(raw)
    assert error.field == ("tasks", "1", "kye")
    assert 'did you mean "key"?' in error.message


def test_payload_may_hold_any_keys() -> None:
    raw = with_events()
    raw["events"][0]["payload"] = {"anything": {"stauts": [1, 2, {"x": None}]}}
    doc = parse_document(raw)
    assert doc.events[0].payload == {"anything": {"stauts": [1, 2, {"x": None}]}}


# Events


def with_events() -> dict[str, Any]:
    doc = valid_document()
    doc["events"] = [
        {
            "eventType": "supplier_delay",
            "severity": "HIGH",
            "title": " Stage supplier late ",
            "description": "The stage arrives a week late.\n",
            "source": "erp",
            "occurredAt": "2025-05-09T10:00:00+02:00",
            "delayDays": 5,
            "affectedTasks": ["stalls", "venue"],
            "payload": {"order": 42, "lines": [1, 2]},
            "idempotencyKey": "erp-42",
        },
        {
            "eventType": "weather",
            "severity": "LOW",
            "title": "Rain forecast",
            "occurredAt": "2025-05-11T12:15:30.25Z",
            "delayDays": 1.5,
            "probability": 0.3,
            "affectedTasks": [],
            "status": "RESOLVED",
        },
    ]
    return doc


def with_event(index: int, **fields: Any) -> dict[str, Any]:
    doc = with_events()
    doc["events"][index].update(fields)
    return doc


def without_event_field(index: int, name: str) -> dict[str, Any]:
    doc = with_events()
    del doc["events"][index][name]
    return doc


def test_events_are_parsed() -> None:
    doc = parse_document(with_events())
    late, rain = doc.events
    assert late.event_type == "supplier_delay"
    assert late.severity is Severity.HIGH
    assert late.title == "Stage supplier late"
    assert late.description == "The stage arrives a week late.\n"
    assert late.source == "erp"
    assert late.occurred_at == datetime(2025, 5, 9, 8, 0, tzinfo=UTC)
    assert late.delay_days == 5.0
    assert late.probability is None
    assert late.affected_tasks == ("stalls", "venue")
    assert late.status is ExternalEventStatus.OPEN
    assert late.payload == {"order": 42, "lines": [1, 2]}
    assert late.idempotency_key == "erp-42"
    assert (rain.probability, rain.status, rain.affected_tasks) == (0.3, ExternalEventStatus.RESOLVED, ())
    assert (rain.description, rain.source, rain.payload, rain.idempotency_key) == (None, None, None, None)
    assert rain.occurred_at == datetime(2025, 5, 11, 12, 15, 30, 250000, tzinfo=UTC)


def test_a_document_without_events_has_none() -> None:
    assert parse_document(valid_document()).events == ()


def test_events_as_entities_use_task_keys_and_open_events_leave_the_resolved_out() -> None:
    doc = parse_document(with_events())
    entities = doc.external_events()
    assert [e.affected_task_ids for e in entities] == [("stalls", "venue"), ()]
    assert [e.status for e in entities] == [ExternalEventStatus.OPEN, ExternalEventStatus.RESOLVED]
    assert len({e.id for e in entities}) == 2
    assert [e.title for e in doc.open_events()] == ["Stage supplier late"]
    stored = doc.events[0].entity(
        event_id="e1",
        plan_id="p1",
        received_at=datetime(2025, 6, 1, tzinfo=UTC),
        task_ids={"stalls": "t2", "venue": "t1"},
    )
    assert (stored.id, stored.plan_id, stored.affected_task_ids) == ("e1", "p1", ("t2", "t1"))
    assert stored.received_at == datetime(2025, 6, 1, tzinfo=UTC)


EVENT_ERRORS = {
    "missing eventType": (without_event_field(0, "eventType"), 0, "eventType"),
    "blank eventType": (with_event(0, eventType="  "), 0, "eventType"),
    "eventType too long": (with_event(0, eventType="x" * 101), 0, "eventType"),
    "missing title": (without_event_field(1, "title"), 1, "title"),
    "title not text": (with_event(1, title=3), 1, "title"),
    "missing severity": (without_event_field(0, "severity"), 0, "severity"),
    "bad severity": (with_event(0, severity="SEVERE"), 0, "severity"),
    "bad status": (with_event(1, status="CLOSED"), 1, "status"),
    "missing occurredAt": (without_event_field(0, "occurredAt"), 0, "occurredAt"),
    "occurredAt a date": (with_event(0, occurredAt="2025-05-09"), 0, "occurredAt"),
    "occurredAt without zone": (with_event(0, occurredAt="2025-05-09T10:00:00"), 0, "occurredAt"),
    "occurredAt not a date": (with_event(0, occurredAt="2025-13-09T10:00:00Z"), 0, "occurredAt"),
    "missing delayDays": (without_event_field(0, "delayDays"), 0, "delayDays"),
    "negative delayDays": (with_event(0, delayDays=-1), 0, "delayDays"),
    "delayDays text": (with_event(0, delayDays="5"), 0, "delayDays"),
    "delayDays huge": (with_event(0, delayDays=1e9), 0, "delayDays"),
    "probability above 1": (with_event(1, probability=1.5), 1, "probability"),
    "probability text": (with_event(1, probability="0.3"), 1, "probability"),
    "probability bool": (with_event(1, probability=True), 1, "probability"),
    "missing affectedTasks": (without_event_field(1, "affectedTasks"), 1, "affectedTasks"),
    "affectedTasks not a list": (with_event(0, affectedTasks="venue"), 0, "affectedTasks"),
    "affectedTasks unknown key": (with_event(0, affectedTasks=["venue", "fireworks"]), 0, "affectedTasks"),
    "affectedTasks twice": (with_event(0, affectedTasks=["venue", "venue"]), 0, "affectedTasks"),
    "description not text": (with_event(0, description=["a"]), 0, "description"),
    "source not text": (with_event(0, source=7), 0, "source"),
    "payload NaN": (with_event(0, payload={"x": float("nan")}), 0, "payload"),
    "idempotencyKey not text": (with_event(0, idempotencyKey=42), 0, "idempotencyKey"),
    "idempotencyKey used twice": (with_event(1, idempotencyKey="erp-42"), 1, "idempotencyKey"),
}


@pytest.mark.parametrize(("doc", "index", "field"), EVENT_ERRORS.values(), ids=EVENT_ERRORS.keys())
def test_event_errors_name_the_event_and_the_field(doc: dict[str, Any], index: int, field: str) -> None:
    error = parse_error(doc)
    assert isinstance(error, DocumentError)
    assert error.code is ErrorCode.INVALID_INPUT
    assert error.message.startswith(f"events[{index}]")
    title = doc["events"][index].get("title")
    if isinstance(title, str) and title.strip():
        assert f'("{title.strip()}")' in error.message
    assert f": {field}: " in error.message
    assert error.field == ("events", str(index), field)


def test_events_must_be_a_list_of_objects() -> None:
    raw = valid_document()
    raw["events"] = {"late": {}}
    assert parse_error(raw).field == ("events",)
    raw["events"] = ["late"]
    error = parse_error(raw)
    assert error.field == ("events", "0")
    assert "events[0]" in error.message


def test_a_certain_event_and_a_null_probability_are_the_same() -> None:
    with_null = parse_document(with_event(0, probability=None))
    assert with_null.events == parse_document(with_events()).events
    assert with_null.events[0].probability is None


def test_parsing_events_does_not_share_the_payload() -> None:
    raw = with_events()
    doc = parse_document(raw)
    raw["events"][0]["payload"]["order"] = 7
    assert doc.events[0].payload == {"order": 42, "lines": [1, 2]}


# format_instant


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2025, 2, 5, 10, 30, tzinfo=UTC), "2025-02-05T10:30:00Z"),
        (datetime(2025, 2, 5, 10, 30, 0, 120, tzinfo=UTC), "2025-02-05T10:30:00.000120Z"),
        (datetime(2025, 2, 5, 12, 30, tzinfo=timezone(timedelta(hours=2))), "2025-02-05T10:30:00Z"),
    ],
)
def test_format_instant_writes_utc_that_parses_back(value: datetime, text: str) -> None:
    assert format_instant(value) == text
    assert datetime.fromisoformat(text) == value


def test_a_bad_holiday_is_named_under_the_calendar() -> None:
    raw = valid_document()
    raw["calendar"]["holidays"] = ["2025-12-25", "Christmas"]
    error = parse_error(raw)
    assert error.field == ("calendar", "holidays")
    assert error.message.startswith("calendar: holidays:")
    assert "'Christmas'" in error.message

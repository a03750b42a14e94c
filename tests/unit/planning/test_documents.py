"""parse_document: a valid plan, and every complaint naming the task key and the field."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from planning.documents import DocumentError, PlanDocument, parse_document
from planning.errors import DomainError, ErrorCode
from planning.model import DependencyType, TaskStatus, ThreePointEstimate, WorkCalendar


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


def test_shifted_moves_every_date_and_nothing_else() -> None:
    doc = parse_document(valid_document())
    moved = doc.shifted(14)
    assert moved.event_date == date(2025, 7, 19)
    assert moved.as_of == date(2025, 5, 19)
    assert moved.calendar.holidays == frozenset({date(2025, 6, 9)})
    assert moved.calendar.working_weekdays == doc.calendar.working_weekdays
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


def test_shifted_back_and_forth_is_identity_and_none_stays_none() -> None:
    doc = parse_document(valid_document())
    assert doc.shifted(-21).shifted(21) == doc
    assert doc.shifted(0) == doc
    bare = PlanDocument("x", None, None, WorkCalendar(), None, (), ())
    assert bare.shifted(7) == bare

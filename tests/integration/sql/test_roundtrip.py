"""Create through the services, read back equal objects, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from adapters.sql.rows import TASK_COLUMNS, task_values
from planning.commands import AddDependency, CreatePlan, CreateTask, IngestExternalEvent, UpdatePlan, UpdateTask
from planning.errors import DomainError, ErrorCode
from planning.model import Severity, TaskStatus, ThreePointEstimate, WorkCalendar
from planning.ports import TaskFilter
from tests.integration.sql.conftest import ADMIN, PLANNER, VIEWER, kinds_after, last_position


def test_plan_round_trip(app: Application) -> None:
    calendar = WorkCalendar.from_names(["MON", "TUE", "SAT"], [date(2025, 12, 25), date(2026, 1, 1)])
    plan = app.services.plans.create(
        CreatePlan("  Launch  ", event_date=date(2026, 3, 1), planner_plan_id="pp-1", calendar=calendar), PLANNER
    )
    assert plan.name == "Launch"
    assert plan.created_at.tzinfo is not None
    [stored] = app.services.plans.get_many(ADMIN, [plan.id])
    assert stored == plan
    assert stored.calendar == calendar
    assert stored.created_at.utcoffset() == timedelta(0)
    assert app.services.plans.count(ADMIN) == 1


def test_task_round_trip(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    task = app.services.tasks.create(
        CreateTask(
            plan.id,
            "  Order stage  ",
            percent_complete=30,
            start_date=date(2025, 2, 28),
            due_date=date(2025, 3, 31),
            estimate=ThreePointEstimate(1.5, 2.25, 7.125),
            duration_days=4.5,
            assignees=("zoe@example.com", " adam@example.com ", "mia@example.com", "zoe@example.com", " "),
            planner_task_id="pt-9",
        ),
        PLANNER,
    )
    assert task.title == "Order stage"
    assert task.status is TaskStatus.IN_PROGRESS
    assert task.assignees == ("zoe@example.com", "adam@example.com", "mia@example.com")
    assert task.version == 1
    [stored] = app.services.tasks.get_many(ADMIN, [task.id])
    assert stored == task
    assert stored is not None
    assert stored.assignees == ("zoe@example.com", "adam@example.com", "mia@example.com")
    assert stored.start_date == date(2025, 2, 28)
    assert stored.estimate == ThreePointEstimate(1.5, 2.25, 7.125)
    assert stored.updated_at.tzinfo is not None
    assert app.services.tasks.for_plan(ADMIN, plan.id) == [task]
    assert app.services.plans.task_counts(ADMIN, [plan.id, "missing"]) == [1, 0]


def test_update_round_trip_reorders_assignees_and_bumps_version(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    task = app.services.tasks.create(CreateTask(plan.id, "T", duration_days=1, assignees=("a", "b")), PLANNER)
    updated = app.services.tasks.update(
        UpdateTask(task.id, {"assignees": ("c", "a"), "status": TaskStatus.COMPLETED, "estimate": None}, 1), PLANNER
    )
    assert (updated.version, updated.percent_complete) == (2, 100)
    [stored] = app.services.tasks.get_many(ADMIN, [task.id])
    assert stored == updated
    assert stored is not None
    assert stored.assignees == ("c", "a")


def test_reads_after_a_change_answer_the_change(app: Application) -> None:
    """Rows are made into objects once per distinct row (adapters.sql.row_memo): a changed row,
    read again, is never answered by the object made before the change."""
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    task = app.services.tasks.create(CreateTask(plan.id, "T", duration_days=1, assignees=("a",)), PLANNER)
    for _ in range(2):
        assert app.services.tasks.get_many(ADMIN, [task.id]) == [task]
        assert app.services.plans.get_many(ADMIN, [plan.id]) == [plan]
    app.services.tasks.update(UpdateTask(task.id, {"title": "T2"}), PLANNER)
    app.services.tasks.update(UpdateTask(task.id, {"assignees": ("b", "a")}), PLANNER)
    app.services.plans.update(UpdatePlan(plan.id, {"name": "P2", "holidays": [date(2026, 12, 25)]}), PLANNER)
    [read_task] = app.services.tasks.get_many(ADMIN, [task.id])
    [read_plan] = app.services.plans.get_many(ADMIN, [plan.id])
    assert sorted(task_values(read_task)) == sorted(TASK_COLUMNS)  # what is read is what is written
    assert (read_task.title, read_task.assignees, read_task.version) == ("T2", ("b", "a"), 3)
    assert (read_plan.name, read_plan.calendar.holidays) == ("P2", frozenset({date(2026, 12, 25)}))
    assert [p.name for p in app.services.plans.page(ADMIN, None, 10).items] == ["P2"]


def test_dependency_round_trip(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    a = app.services.tasks.create(CreateTask(plan.id, "A", duration_days=1), PLANNER)
    b = app.services.tasks.create(CreateTask(plan.id, "B", duration_days=1), PLANNER)
    dep = app.services.dependencies.add(AddDependency(a.id, b.id, lag_days=1.5), PLANNER)
    assert app.services.dependencies.get(ADMIN, dep.id) == dep
    assert app.services.dependencies.for_plans(ADMIN, [plan.id]) == [dep]
    assert app.services.dependencies.touching(ADMIN, [a.id]) == [dep]
    assert app.services.dependencies.touching(ADMIN, [b.id]) == [dep]
    assert dep.created_at.tzinfo is not None


def test_external_event_round_trip(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    a = app.services.tasks.create(CreateTask(plan.id, "A", duration_days=1), PLANNER)
    b = app.services.tasks.create(CreateTask(plan.id, "B", duration_days=1), PLANNER)
    payload = {"supplier": "Acme", "lines": [1, 2.5, None, True], "nested": {"ünïcode": "✓", "empty": []}}
    event = app.services.external_events.ingest(
        IngestExternalEvent(
            plan.id,
            " SUPPLIER_DELAY ",
            Severity.HIGH,
            " Stage late ",
            description="two days",
            source="erp",
            occurred_at=datetime(2025, 3, 1, 8, 30, 15, 123000, tzinfo=UTC),
            delay_days=2.5,
            probability=0.25,
            payload=payload,
            affected_task_ids=(b.id, a.id, b.id),
        ),
        PLANNER,
    )
    assert (event.event_type, event.title) == ("SUPPLIER_DELAY", "Stage late")
    assert event.affected_task_ids == (b.id, a.id)
    [stored] = app.services.external_events.get_many(ADMIN, [event.id])
    assert stored == event
    assert stored is not None
    assert stored.payload == payload
    assert stored.occurred_at == datetime(2025, 3, 1, 8, 30, 15, 123000, tzinfo=UTC)
    assert app.services.external_events.affecting(ADMIN, [a.id, b.id, "nope"]) == [[event], [event], []]
    assert app.services.external_events.count(ADMIN, plan.id) == 1


def test_datetime_with_an_offset_keeps_its_instant(app: Application) -> None:
    """An aware datetime in another zone must come back as the same instant (in UTC)."""
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    when = datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    event = app.services.external_events.ingest(
        IngestExternalEvent(plan.id, "x", Severity.LOW, "t", occurred_at=when), PLANNER
    )
    [stored] = app.services.external_events.get_many(ADMIN, [event.id])
    assert stored is not None
    assert stored.occurred_at == when  # same instant: 10:00 UTC
    assert stored.occurred_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_viewer_cannot_write_and_nothing_is_stored(app: Application) -> None:
    with pytest.raises(DomainError) as exc:
        app.services.plans.create(CreatePlan("P"), VIEWER)
    assert exc.value.code is ErrorCode.FORBIDDEN
    assert app.services.plans.count(ADMIN) == 0
    assert last_position(app) == 0


def test_reads_of_unknown_ids_keep_order_with_none(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    a = app.services.tasks.create(CreateTask(plan.id, "A", duration_days=1), PLANNER)
    assert app.services.tasks.get_many(ADMIN, ["nope", a.id, "nope"]) == [None, a, None]
    assert app.services.plans.get_many(ADMIN, ["x", plan.id]) == [None, plan]


def test_data_survives_a_restart(app: Application, settings: Settings) -> None:
    plan = app.services.plans.create(CreatePlan("Durable", event_date=date(2026, 1, 2)), PLANNER)
    task = app.services.tasks.create(CreateTask(plan.id, "T", duration_days=2, assignees=("a",)), PLANNER)
    before = kinds_after(app, 0)
    app.engine.dispose()
    again = bootstrap(settings)
    try:
        assert again.services.plans.get_many(ADMIN, [plan.id]) == [plan]
        assert again.services.tasks.for_plan(ADMIN, plan.id) == [task]
        assert kinds_after(again, 0) == before
        assert again.services.tasks.count(ADMIN, plan.id, TaskFilter()) == 1
    finally:
        again.close()

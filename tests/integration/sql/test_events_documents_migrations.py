"""External-event idempotency, plan document import/export, and migrations."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from adapters.bootstrap import Application
from adapters.sql import upgrade
from adapters.sql.migrate import alembic_config, current_revision
from adapters.sql.tables import external_events, metadata, task_dependencies, tasks
from planning.commands import AddPlanMember, CreatePlan, CreateTask, IngestExternalEvent
from planning.errors import DomainError, ErrorCode
from planning.model import Severity, TaskStatus, ThreePointEstimate
from planning.model.membership import PlanRole
from planning.ports import TaskFilter
from tests.integration.sql.conftest import ADMIN, PLANNER, VIEWER, kinds_after, last_position


def count_rows(app: Application, table: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# External events


def test_ingest_is_idempotent_per_key(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    cmd = IngestExternalEvent(plan.id, "DELAY", Severity.MEDIUM, "Late", delay_days=1, idempotency_key="erp-42")
    first = app.services.external_events.ingest(cmd, PLANNER)
    before = last_position(app)
    second = app.services.external_events.ingest(cmd, PLANNER)
    assert second.id == first.id
    assert second == first
    assert count_rows(app, external_events) == 1
    assert last_position(app) == before
    assert kinds_after(app, 0)[-1] == ("EXTERNAL_EVENT_RECEIVED", first.id)


def test_same_key_in_another_plan_and_no_key_make_new_events(app: Application) -> None:
    p1 = app.services.plans.create(CreatePlan("P1"), PLANNER)
    p2 = app.services.plans.create(CreatePlan("P2"), PLANNER)
    ingest = app.services.external_events.ingest
    e1 = ingest(IngestExternalEvent(p1.id, "t", Severity.LOW, "a", idempotency_key="k"), PLANNER)
    e2 = ingest(IngestExternalEvent(p2.id, "t", Severity.LOW, "a", idempotency_key="k"), PLANNER)
    n1 = ingest(IngestExternalEvent(p1.id, "t", Severity.LOW, "a"), PLANNER)
    n2 = ingest(IngestExternalEvent(p1.id, "t", Severity.LOW, "a"), PLANNER)
    assert len({e1.id, e2.id, n1.id, n2.id}) == 4
    assert count_rows(app, external_events) == 4


def test_affected_task_of_another_plan_is_cross_plan(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    own = app.services.tasks.create(CreateTask(plan.id, "A", duration_days=1), PLANNER)
    other = app.services.plans.create(CreatePlan("Other"), PLANNER)
    foreign = app.services.tasks.create(CreateTask(other.id, "X", duration_days=1), PLANNER)
    before = last_position(app)
    with pytest.raises(DomainError) as exc:
        app.services.external_events.ingest(
            IngestExternalEvent(plan.id, "t", Severity.LOW, "a", affected_task_ids=(own.id, foreign.id)), PLANNER
        )
    assert exc.value.code is ErrorCode.CROSS_PLAN
    assert exc.value.field == ("input", "affectedTaskIds")
    with pytest.raises(DomainError) as exc:
        app.services.external_events.ingest(
            IngestExternalEvent(plan.id, "t", Severity.LOW, "a", affected_task_ids=("nope",)), PLANNER
        )
    assert exc.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as exc:
        app.services.external_events.ingest(IngestExternalEvent("nope", "t", Severity.LOW, "a"), PLANNER)
    assert exc.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as exc:
        # No member of the plan: as if it did not exist.
        app.services.external_events.ingest(IngestExternalEvent(plan.id, "t", Severity.LOW, "a"), VIEWER)
    assert exc.value.code is ErrorCode.NOT_FOUND
    app.services.members.add(AddPlanMember(plan.id, VIEWER.user_id, PlanRole.VIEWER), PLANNER)
    with pytest.raises(DomainError) as exc:
        app.services.external_events.ingest(IngestExternalEvent(plan.id, "t", Severity.LOW, "a"), VIEWER)
    assert exc.value.code is ErrorCode.FORBIDDEN
    assert count_rows(app, external_events) == 0
    assert [k for k, _ in kinds_after(app, before)] == ["MEMBER_ADDED"]


def test_affected_task_of_a_plan_the_caller_may_not_read_is_not_found(app: Application) -> None:
    """CROSS_PLAN would tell the caller that the task exists; a stranger's task is NOT_FOUND."""
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    secret = app.services.plans.create(CreatePlan("Secret"), ADMIN)
    hidden = app.services.tasks.create(CreateTask(secret.id, "X", duration_days=1), ADMIN)
    with pytest.raises(DomainError) as exc:
        app.services.external_events.ingest(
            IngestExternalEvent(plan.id, "t", Severity.LOW, "a", affected_task_ids=(hidden.id,)), PLANNER
        )
    assert (exc.value.code, exc.value.field) == (ErrorCode.NOT_FOUND, ("input", "affectedTaskIds"))
    assert count_rows(app, external_events) == 0


# Documents


def plan_document(last_task_error: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "Fair",
        "eventDate": "2025-07-05",
        "plannerPlanId": "plan-7",
        "calendar": {"workingDays": ["MON", "TUE", "WED", "THU", "FRI", "SAT"], "holidays": ["2025-06-09"]},
        "tasks": [
            {
                "key": "venue",
                "title": "Venue",
                "estimate": {"optimisticDays": 1, "mostLikelyDays": 2, "pessimisticDays": 4},
                "assignees": ["b@example.com", "a@example.com"],
                "startDate": "2025-05-05",
                "dueDate": "2025-05-09",
                "plannerTaskId": "pt-venue",
            },
            {"key": "stalls", "title": "Stalls", "durationDays": 3, "status": "COMPLETED"},
            {"key": "music", "title": "Music", "durationDays": 2.5, "percentComplete": 40},
            {"key": "posters", "title": "Posters", "durationDays": 1},
        ],
        "dependencies": [
            {"predecessor": "venue", "successor": "stalls"},
            {"predecessor": "venue", "successor": "music", "lagDays": 2},
            {"predecessor": "stalls", "successor": "posters", "lagDays": 0.5},
        ],
    }
    if last_task_error:
        doc["tasks"][-1]["dueDate"] = "2025-02-30"
    return doc


def test_import_creates_everything(app: Application) -> None:
    plan = app.services.documents.import_document(plan_document(), PLANNER)
    assert (plan.name, plan.planner_plan_id) == ("Fair", "plan-7")
    stored = app.services.tasks.for_plan(ADMIN, plan.id)
    assert [t.title for t in stored] == ["Venue", "Stalls", "Music", "Posters"]
    venue = stored[0]
    assert venue.estimate == ThreePointEstimate(1, 2, 4)
    assert venue.assignees == ("b@example.com", "a@example.com")
    assert venue.planner_task_id == "pt-venue"
    assert (stored[1].status, stored[2].status) == (TaskStatus.COMPLETED, TaskStatus.IN_PROGRESS)
    deps = app.services.dependencies.for_plans(ADMIN, [plan.id])
    assert [(d.predecessor_id, d.successor_id, d.lag_days) for d in deps] == [
        (stored[0].id, stored[1].id, 0.0),
        (stored[0].id, stored[2].id, 2.0),
        (stored[1].id, stored[3].id, 0.5),
    ]
    kinds = [k for k, _ in kinds_after(app, 0)]
    assert kinds == ["PLAN_CREATED", "MEMBER_ADDED"] + ["TASK_CREATED"] * 4 + ["DEPENDENCY_ADDED"] * 3
    assert (count_rows(app, tasks), count_rows(app, task_dependencies)) == (4, 3)


def test_import_with_an_error_in_the_last_task_creates_nothing(app: Application) -> None:
    with pytest.raises(DomainError) as exc:
        app.services.documents.import_document(plan_document(last_task_error=True), PLANNER)
    assert "task 'posters'" in exc.value.message
    assert "dueDate" in exc.value.message
    assert app.services.plans.count(ADMIN) == 0
    assert (count_rows(app, tasks), count_rows(app, task_dependencies)) == (0, 0)
    assert last_position(app) == 0


def test_import_of_a_second_plan_with_the_same_planner_id_creates_nothing(app: Application) -> None:
    app.services.documents.import_document(plan_document(), PLANNER)
    before = last_position(app)
    with pytest.raises(DomainError) as exc:
        app.services.documents.import_document(plan_document(), PLANNER)
    assert exc.value.code is ErrorCode.DUPLICATE
    assert app.services.plans.count(ADMIN) == 1
    assert count_rows(app, tasks) == 4
    assert last_position(app) == before


def test_import_with_two_tasks_sharing_a_planner_task_id_is_an_input_error(app: Application) -> None:
    """The document check should name the task and plannerTaskId, and nothing must be stored."""
    doc = plan_document()
    doc["tasks"][3]["plannerTaskId"] = "pt-venue"
    with pytest.raises(DomainError) as exc:
        app.services.documents.import_document(doc, PLANNER)
    assert exc.value.code is ErrorCode.INVALID_INPUT
    assert "posters" in exc.value.message
    assert "plannerTaskId" in exc.value.message
    assert app.services.plans.count(ADMIN) == 0
    assert last_position(app) == 0


def test_viewer_cannot_import(app: Application) -> None:
    with pytest.raises(DomainError) as exc:
        app.services.documents.import_document(plan_document(), VIEWER)
    assert exc.value.code is ErrorCode.FORBIDDEN
    assert app.services.plans.count(ADMIN) == 0


def test_export_import_round_trip(app: Application) -> None:
    raw = plan_document()
    original = copy.deepcopy(raw)
    plan = app.services.documents.import_document(raw, PLANNER)
    assert raw == original
    exported = app.services.documents.export_document(ADMIN, plan.id)
    assert exported["name"] == "Fair"
    assert exported["calendar"] == {
        "workingDays": ["MON", "TUE", "WED", "THU", "FRI", "SAT"],
        "holidays": ["2025-06-09"],
    }
    assert [t["key"] for t in exported["tasks"]] == ["pt-venue", "task-002", "task-003", "task-004"]
    exported["plannerPlanId"] = "plan-8"  # a second plan may not reuse the first's Planner id
    again = app.services.documents.import_document(exported, PLANNER)
    re_exported = app.services.documents.export_document(ADMIN, again.id)
    assert re_exported == exported
    first_tasks = app.services.tasks.for_plan(ADMIN, plan.id)
    second_tasks = app.services.tasks.for_plan(ADMIN, again.id)
    fields = ("title", "status", "percent_complete", "start_date", "due_date", "duration_days", "estimate", "assignees")
    assert [[getattr(t, f) for f in fields] for t in first_tasks] == [
        [getattr(t, f) for f in fields] for t in second_tasks
    ]


def test_exported_keys_stay_unique(app: Application) -> None:
    """A Planner task id that looks like a generated key must not make the export unimportable."""
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    app.services.tasks.create(CreateTask(plan.id, "A", duration_days=1), PLANNER)
    app.services.tasks.create(CreateTask(plan.id, "B", duration_days=1, planner_task_id="task-003"), PLANNER)
    app.services.tasks.create(CreateTask(plan.id, "C", duration_days=1), PLANNER)
    exported = app.services.documents.export_document(ADMIN, plan.id)
    keys = [t["key"] for t in exported["tasks"]]
    assert len(set(keys)) == len(keys), keys
    again = app.services.documents.import_document(exported, PLANNER)
    assert app.services.tasks.count(ADMIN, again.id, TaskFilter()) == 3


def test_export_of_unknown_plan_is_not_found(app: Application) -> None:
    with pytest.raises(DomainError) as exc:
        app.services.documents.export_document(ADMIN, "nope")
    assert exc.value.code is ErrorCode.NOT_FOUND


# Migrations


def test_upgrade_twice_is_harmless_and_at_head(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("Kept"), PLANNER)
    head = ScriptDirectory.from_config(alembic_config(app.engine)).get_current_head()
    assert head is not None
    assert current_revision(app.engine) == head
    upgrade(app.engine)
    upgrade(app.engine)
    assert current_revision(app.engine) == head
    assert app.services.plans.get_many(ADMIN, [plan.id]) == [plan]
    names = set(inspect(app.engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= names

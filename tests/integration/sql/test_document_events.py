"""Plan documents with external events: stored in the import's one transaction, exported back,
and moved by ``rebase_to`` without moving the holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.bootstrap import Application
from adapters.cli import demo_document
from adapters.sql.tables import external_event_tasks, external_events, task_dependencies, tasks
from planning.commands import CreatePlan, CreateTask, IngestExternalEvent
from planning.errors import DomainError, ErrorCode
from planning.model import ExternalEventStatus, Severity
from tests.integration.sql.conftest import ADMIN, PLANNER, kinds_after, last_position, outbox_after


def count_rows(app: Application, table: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def document() -> dict[str, Any]:
    return {
        "name": "Fair",
        "eventDate": "2025-07-05",
        "asOf": "2025-05-05",
        "calendar": {"workingDays": ["MON", "TUE", "WED", "THU", "FRI"], "holidays": ["2025-05-26", "2025-12-25"]},
        "tasks": [
            {"key": "venue", "title": "Venue", "durationDays": 2, "startDate": "2025-05-05", "dueDate": "2025-05-07"},
            {"key": "stalls", "title": "Stalls", "durationDays": 3, "status": "COMPLETED"},
            {"key": "music", "title": "Music", "durationDays": 2.5, "percentComplete": 40},
        ],
        "dependencies": [{"predecessor": "venue", "successor": "music", "lagDays": 1}],
        "events": [
            {
                "eventType": "supplier_delay",
                "severity": "HIGH",
                "title": "Stage late",
                "occurredAt": "2025-05-02T09:00:00Z",
                "delayDays": 4,
                "affectedTasks": ["music", "venue"],
                "payload": {"order": 42},
                "idempotencyKey": "erp-42",
            },
            {
                "eventType": "weather",
                "severity": "LOW",
                "title": "Rain",
                "occurredAt": "2025-05-03T10:00:00Z",
                "delayDays": 1,
                "probability": 0.25,
                "affectedTasks": [],
                "status": "WITHDRAWN",
            },
        ],
    }


def test_import_stores_the_events_with_their_outbox_messages(app: Application) -> None:
    plan = app.services.documents.import_document(document(), PLANNER)
    stored_tasks = {t.title: t.id for t in app.services.tasks.for_plan(ADMIN, plan.id)}
    page = app.services.external_events.page(ADMIN, plan.id, None, 10)
    late, rain = page.items
    assert (late.title, late.event_type, late.severity) == ("Stage late", "supplier_delay", Severity.HIGH)
    assert late.affected_task_ids == (stored_tasks["Music"], stored_tasks["Venue"])
    assert late.occurred_at == datetime(2025, 5, 2, 9, tzinfo=UTC)
    assert (late.delay_days, late.probability, late.status) == (4.0, None, ExternalEventStatus.OPEN)
    assert (late.payload, late.idempotency_key) == ({"order": 42}, "erp-42")
    assert (rain.probability, rain.status, rain.affected_task_ids) == (0.25, ExternalEventStatus.WITHDRAWN, ())
    kinds = kinds_after(app, 0)
    assert [k for k, _ in kinds] == (
        ["PLAN_CREATED", "MEMBER_ADDED"]  # the importer owns the plan
        + ["TASK_CREATED"] * 3
        + ["DEPENDENCY_ADDED"]
        + ["EXTERNAL_EVENT_RECEIVED"] * 2
    )
    assert [entity for _, entity in kinds[-2:]] == [late.id, rain.id]
    snapshot = outbox_after(app, 0)[-2].event.data
    assert snapshot["affectedTaskIds"] == [stored_tasks["Music"], stored_tasks["Venue"]]
    assert snapshot["status"] == "OPEN"
    # The idempotency key holds in the imported plan: ingesting it again gives the stored event.
    again = app.services.external_events.ingest(
        IngestExternalEvent(
            plan.id,
            "supplier_delay",
            Severity.HIGH,
            "Stage late",
            delay_days=4,
            payload={"order": 42},
            affected_task_ids=(stored_tasks["Venue"], stored_tasks["Music"]),
            idempotency_key="erp-42",
        ),
        PLANNER,
    )
    assert again.id == late.id


@pytest.mark.parametrize(
    ("index", "change", "field"),
    [
        (1, {"affectedTasks": ["music", "nope"]}, "affectedTasks"),
        (1, {"delayDays": -2}, "delayDays"),
        (1, {"occurredAt": "yesterday"}, "occurredAt"),
        (1, {"idempotencyKey": "erp-42"}, "idempotencyKey"),
        (1, {"stauts": "OPEN"}, "stauts"),
    ],
)
def test_a_bad_last_event_imports_nothing(app: Application, index: int, change: dict[str, Any], field: str) -> None:
    doc = document()
    doc["events"][index].update(change)
    with pytest.raises(DomainError) as exc:
        app.services.documents.import_document(doc, PLANNER)
    assert exc.value.code is ErrorCode.INVALID_INPUT
    assert exc.value.message.startswith('events[1] ("Rain")')
    assert exc.value.field == ("events", "1", field)
    assert app.services.plans.count(ADMIN) == 0
    for table in (tasks, task_dependencies, external_events, external_event_tasks):
        assert count_rows(app, table) == 0
    assert last_position(app) == 0


def test_a_store_refusal_after_the_events_imports_nothing(app: Application) -> None:
    """The duplicate Planner plan id is found in the transaction: the events go with the rest."""
    doc = document()
    doc["plannerPlanId"] = "plan-7"
    app.services.documents.import_document(doc, PLANNER)
    before = (last_position(app), count_rows(app, external_events), count_rows(app, external_event_tasks))
    with pytest.raises(DomainError) as exc:
        app.services.documents.import_document(doc, PLANNER)
    assert exc.value.code is ErrorCode.DUPLICATE
    assert app.services.plans.count(ADMIN) == 1
    assert (last_position(app), count_rows(app, external_events), count_rows(app, external_event_tasks)) == before


def test_export_writes_the_events_with_document_keys(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    first = app.services.tasks.create(CreateTask(plan.id, "A", duration_days=1), PLANNER)
    second = app.services.tasks.create(CreateTask(plan.id, "B", duration_days=2, planner_task_id="pt-b"), PLANNER)
    app.services.external_events.ingest(
        IngestExternalEvent(
            plan.id,
            "supplier_delay",
            Severity.CRITICAL,
            "Chips late",
            description="from the ERP",
            source="erp",
            occurred_at=datetime(2025, 3, 1, 8, 30, 15, 120000, tzinfo=UTC),
            delay_days=3,
            probability=0.5,
            payload=[1, {"a": None}],
            affected_task_ids=(second.id, first.id),
            idempotency_key="k-1",
        ),
        PLANNER,
    )
    exported = app.services.documents.export_document(ADMIN, plan.id)
    assert exported["calendar"] == {"workingDays": ["MON", "TUE", "WED", "THU", "FRI"], "holidays": []}
    assert exported["events"] == [
        {
            "eventType": "supplier_delay",
            "severity": "CRITICAL",
            "title": "Chips late",
            "description": "from the ERP",
            "source": "erp",
            "occurredAt": "2025-03-01T08:30:15.120000Z",
            "delayDays": 3.0,
            "probability": 0.5,
            "affectedTasks": ["pt-b", "task-001"],
            "status": "OPEN",
            "payload": [1, {"a": None}],
            "idempotencyKey": "k-1",
        }
    ]
    again = app.services.documents.import_document(exported, PLANNER)
    assert app.services.documents.export_document(ADMIN, again.id) == exported


def test_rebase_moves_plan_dates_by_whole_weeks_and_keeps_the_holidays(app: Application) -> None:
    # The document's asOf, Monday 2025-05-05, moves to the week of 2026-11-30: 82 weeks later.
    moved = timedelta(weeks=82)
    plan = app.services.documents.import_document(document(), PLANNER, rebase_to=date(2026, 12, 2))
    assert plan.event_date == date(2025, 7, 5) + moved
    assert plan.calendar.holidays == frozenset({date(2025, 5, 26), date(2025, 12, 25)})
    venue = app.services.tasks.for_plan(ADMIN, plan.id)[0]
    assert (venue.start_date, venue.due_date) == (date(2026, 11, 30), date(2026, 12, 2))
    late = app.services.external_events.page(ADMIN, plan.id, None, 10).items[0]
    assert late.occurred_at == datetime(2025, 5, 2, 9, tzinfo=UTC) + moved


def test_the_demo_rebased_keeps_its_holidays(app: Application) -> None:
    raw = demo_document()
    plan = app.services.documents.import_document(raw, PLANNER, rebase_to=date(2026, 11, 30))
    assert plan.calendar.holidays == frozenset(date.fromisoformat(h) for h in raw["calendar"]["holidays"])
    assert plan.event_date is not None
    assert (plan.event_date - date.fromisoformat(raw["eventDate"])).days % 7 == 0
    assert plan.event_date > date(2026, 11, 30)

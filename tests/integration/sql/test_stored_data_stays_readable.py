"""Bounds apply to what callers send, not to what is stored: older data must stay readable."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from adapters.sql import SqlUnitOfWork
from adapters.sql.tables import external_events, task_assignees
from planning.commands import CreatePlan, CreateTask, IngestExternalEvent, UpdateTask
from planning.errors import DomainError, ErrorCode
from planning.model import Severity
from planning.principal import Principal

ADMIN = Principal("t", frozenset({"admin"}))


def test_a_task_stored_under_looser_bounds_reads_and_changes_in_its_other_fields(app) -> None:
    plan = app.services.plans.create(CreatePlan("P"), ADMIN)
    task = app.services.tasks.create(CreateTask(plan.id, "crowded", duration_days=2), ADMIN)
    crowd = [f"p{i}@example.com" for i in range(60)]  # more than today's 50
    with SqlUnitOfWork(app.engine) as uow:
        uow.connection.execute(
            task_assignees.insert(), [{"task_id": task.id, "position": i, "assignee": a} for i, a in enumerate(crowd)]
        )
        uow.commit()
    assert list(app.services.tasks.get_many(ADMIN, [task.id])[0].assignees) == crowd
    changed = app.services.tasks.update(UpdateTask(task.id, {"percent_complete": 40}), ADMIN)
    assert (len(changed.assignees), changed.percent_complete) == (60, 40)
    with pytest.raises(DomainError) as refused:
        app.services.tasks.update(UpdateTask(task.id, {"assignees": (*crowd, "one@example.com")}), ADMIN)
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert refused.value.field == ("assignees",)


def test_an_event_stored_with_a_large_payload_still_reads(app) -> None:
    plan = app.services.plans.create(CreatePlan("P"), ADMIN)
    event = app.services.external_events.ingest(
        IngestExternalEvent(plan.id, "feed", Severity.LOW, "Feed item", payload={"small": True}), ADMIN
    )
    big = {"blob": "x" * 100_000}
    with SqlUnitOfWork(app.engine) as uow:
        uow.connection.execute(
            update(external_events)
            .where(external_events.c.id == event.id)
            .values(payload=big, description="d" * 200_000)
        )
        uow.commit()
    page = app.services.external_events.page(ADMIN, plan.id, None, 10)
    assert page.items[0].payload == big
    assert len(page.items[0].description or "") == 200_000

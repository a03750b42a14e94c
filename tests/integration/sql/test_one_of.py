"""Reads by a list of ids: the right rows on both stores, one statement text whatever the list's
length (adapters.sql.one_of), so that it is compiled and planned once, and lists longer than
SQLite's old limit of 999 bound parameters."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from adapters.bootstrap import Application
from adapters.sql import SqlUnitOfWork
from planning.commands import CreatePlan
from tests.integration.sql.conftest import ADMIN


def test_reads_by_ids_answer_the_rows_asked_for_with_one_statement_text(app: Application) -> None:
    plans = [app.services.plans.create(CreatePlan(name=f"p{i}", event_date=date(2026, 1, 1)), ADMIN) for i in range(4)]
    texts: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM plans" in statement:
            texts.append(statement)

    event.listen(app.engine, "before_cursor_execute", note)
    try:
        with SqlUnitOfWork(app.engine) as uow:
            two = uow.plans.get_many([plans[0].id, plans[2].id, plans[0].id])  # a duplicate, once
            three = uow.plans.get_many([p.id for p in plans[1:]] + ["no such plan"])
    finally:
        event.remove(app.engine, "before_cursor_execute", note)
    assert sorted(p.name for p in two) == ["p0", "p2"]
    assert sorted(p.name for p in three) == ["p1", "p2", "p3"]
    assert len(texts) == 2
    assert texts[0] == texts[1]
    assert ("json_each" if app.engine.dialect.name == "sqlite" else "jsonb_array_elements_text") in texts[0]


def test_reads_by_a_long_list_of_ids(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan(name="long", event_date=date(2026, 1, 1)), ADMIN)
    other = app.services.plans.create(CreatePlan(name="other", event_date=date(2026, 1, 1)), ADMIN)
    wanted = [f"missing-{i}" for i in range(1500)] + [other.id, plan.id]
    with SqlUnitOfWork(app.engine) as uow:
        found = uow.plans.get_many(wanted)
        tasks = uow.tasks.get_many(["it's", 'a "quoted" id', "ünïcode"])
    assert sorted(p.name for p in found) == ["long", "other"]
    assert tasks == []

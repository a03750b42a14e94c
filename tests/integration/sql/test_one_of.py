"""Reads by a list of ids: the right rows on both stores, and on PostgreSQL one statement text
whatever the list's length (adapters.sql.one_of), so that it is compiled and planned once."""

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
    if app.engine.dialect.name == "postgresql":
        assert texts[0] == texts[1]
        assert "ANY" in texts[0]
    else:
        assert texts[0] != texts[1]  # SQLite: one parameter per id

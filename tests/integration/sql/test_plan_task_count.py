"""Each plan's ``task_count`` (what PlanList answers ``taskCount`` from) moves with every task
written, by any service, and the migration that adds it fills it from the tasks already stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from adapters.bootstrap import Application
from adapters.sql import create_store_engine, upgrade
from adapters.sql.tables import plans, tasks
from planning.commands import CreatePlan, CreateTask, DeleteTask
from planning.errors import DomainError, ErrorCode
from tests.integration.graph_reference import RefTask, plan_document
from tests.integration.sql.conftest import ADMIN


def _kept_and_counted(engine: Engine) -> dict[str, tuple[int, int]]:
    counted = select(func.count()).select_from(tasks).where(tasks.c.plan_id == plans.c.id).scalar_subquery()
    with engine.connect() as conn:
        rows = conn.execute(select(plans.c.id, plans.c.task_count, counted)).all()
    return {plan_id: (kept, n) for plan_id, kept, n in rows}


def _assert_kept(engine: Engine) -> dict[str, int]:
    found = _kept_and_counted(engine)
    assert all(kept == counted for kept, counted in found.values()), found
    return {plan_id: kept for plan_id, (kept, _counted) in found.items()}


def test_creates_imports_and_deletes_keep_every_plan_s_count(app: Application) -> None:
    empty = app.services.plans.create(CreatePlan("Empty"), ADMIN)
    plan = app.services.plans.create(CreatePlan("Typed"), ADMIN)
    created = [app.services.tasks.create(CreateTask(plan.id, f"T{i}"), ADMIN) for i in range(3)]
    imported = app.services.documents.import_document(
        plan_document("Imported", [RefTask(f"i{i}", 1) for i in range(5)], [("i0", "i1", 0)]), ADMIN
    )
    assert _assert_kept(app.engine) == {empty.id: 0, plan.id: 3, imported.id: 5}

    app.services.tasks.delete(DeleteTask(created[1].id), ADMIN)
    with pytest.raises(DomainError) as again:  # a second delete finds nothing, and counts nothing
        app.services.tasks.delete(DeleteTask(created[1].id), ADMIN)
    assert again.value.code is ErrorCode.NOT_FOUND
    assert _assert_kept(app.engine) == {empty.id: 0, plan.id: 2, imported.id: 5}

    page, counts = app.services.plans.page_with_task_counts(ADMIN, None, 10)
    assert dict(zip((p.id for p in page.items), counts, strict=True)) == {empty.id: 0, plan.id: 2, imported.id: 5}
    assert app.services.plans.task_counts(ADMIN, [imported.id, plan.id, empty.id]) == [5, 2, 0]


def test_the_database_keeps_the_count_whatever_writes_the_tasks(app: Application) -> None:
    """Statements outside the repositories (an older release during a deploy, a script) move it
    too: inserts of many rows at once, a move to another plan, deletes."""
    one = app.services.plans.create(CreatePlan("One"), ADMIN)
    other = app.services.plans.create(CreatePlan("Other"), ADMIN)
    now = "2026-12-01 00:00:00+00:00"
    with app.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tasks (id, plan_id, title, status, percent_complete, version, created_at, updated_at)"
                " VALUES (:id, :plan, 'T', 'NOT_STARTED', 0, 1, :now, :now)"
            ),
            [{"id": f"raw-{i}", "plan": one.id, "now": now} for i in range(4)],
        )
    assert _assert_kept(app.engine) == {one.id: 4, other.id: 0}
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE tasks SET plan_id = :other WHERE id IN ('raw-0', 'raw-1')"), {"other": other.id})
        conn.execute(text("UPDATE tasks SET title = 'renamed' WHERE id = 'raw-2'"))
    assert _assert_kept(app.engine) == {one.id: 2, other.id: 2}
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM tasks WHERE plan_id = :one"), {"one": one.id})
    assert _assert_kept(app.engine) == {one.id: 0, other.id: 2}
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM tasks"))
        conn.rollback()  # undone with the rows: still 2
    assert _assert_kept(app.engine) == {one.id: 0, other.id: 2}


@pytest.fixture
def engine_at_0010(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A store of its own, migrated to the revision before ``task_count``."""
    if database_url.startswith("sqlite"):
        engine = create_store_engine(f"sqlite:///{tmp_path}/at-0010.db")
        upgrade(engine, "0010")
        yield engine
        engine.dispose()
        return
    server = request.getfixturevalue("postgres_url")
    name = f"planner_0010_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_store_engine(make_url(server).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine, "0010")
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_migration_counts_the_tasks_already_stored(engine_at_0010: Engine) -> None:
    now = "2026-12-01 00:00:00+00:00"
    with engine_at_0010.begin() as conn:
        for plan_id, count in (("p-none", 0), ("p-two", 2), ("p-three", 3)):
            conn.execute(
                text(
                    "INSERT INTO plans (id, name, working_weekdays, holidays, created_at, updated_at, version)"
                    " VALUES (:id, :id, '0,1,2,3,4', '[]', :now, :now, 1)"
                ),
                {"id": plan_id, "now": now},
            )
            for i in range(count):
                conn.execute(
                    text(
                        "INSERT INTO tasks (id, plan_id, title, status, percent_complete, version, created_at,"
                        " updated_at) VALUES (:id, :plan, 'T', 'NOT_STARTED', 0, 1, :now, :now)"
                    ),
                    {"id": f"{plan_id}-t{i}", "plan": plan_id, "now": now},
                )
    upgrade(engine_at_0010)
    assert _assert_kept(engine_at_0010) == {"p-none": 0, "p-two": 2, "p-three": 3}

"""A plan's task list is read once per change of the plan, in every process, and never stale
(``TaskService.tasks_of_plan``); a task written without its event cannot commit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, event

from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from adapters.memo import LruMemo
from adapters.sql import SqlUnitOfWork
from adapters.system import SystemClock, TimeOrderedIds
from planning.commands import AddDependency, CreateTask, DeleteTask, UpdateTask
from planning.events import PlanEventKind
from planning.principal import Principal
from planning.services.base import ServiceDeps
from planning.services.tasks import TaskService
from tests.integration.graph_reference import RefTask, plan_document

ADMIN = Principal("ada@example.com", frozenset({"admin"}))
OUTSIDER = Principal("olga@example.com", frozenset({"planner"}))
TASKS = [RefTask(f"t{i}", 1 + i % 3) for i in range(4)]


@pytest.fixture
def other(settings: Settings) -> Iterator[Application]:
    """Another process on the same store, with a memo of its own."""
    application = bootstrap(settings)
    yield application
    application.close()


class TaskReads:
    """Counts the statements that read the ``tasks`` table."""

    def __init__(self, app: Application) -> None:
        self.count = 0
        self._engine = app.engine
        event.listen(self._engine, "before_cursor_execute", self)

    def __call__(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM tasks" in statement:
            self.count += 1

    def stop(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self)


def _import(app: Application) -> tuple[str, dict[str, str]]:
    plan = app.services.documents.import_document(plan_document("Memo", TASKS, []), ADMIN)
    return plan.id, {t.title: t.id for t in app.services.tasks.for_plan(ADMIN, plan.id)}


def _titles(app: Application, plan_id: str) -> set[str]:
    return {t.title for t in app.services.tasks.tasks_of_plan(ADMIN, plan_id).values()}


def test_an_unchanged_plan_s_tasks_are_read_once(app: Application) -> None:
    plan_id, ids = _import(app)
    first = app.services.tasks.tasks_of_plan(ADMIN, plan_id)
    reads = TaskReads(app)
    try:
        again = app.services.tasks.tasks_of_plan(ADMIN, plan_id)
    finally:
        reads.stop()
    assert again is first
    assert reads.count == 0
    assert set(first) == set(ids.values())
    assert {t.title for t in first.values()} == {"t0", "t1", "t2", "t3"}


def test_every_kind_of_change_is_read_afresh(app: Application) -> None:
    plan_id, ids = _import(app)
    assert _titles(app, plan_id) == {"t0", "t1", "t2", "t3"}

    app.services.tasks.update(UpdateTask(ids["t1"], {"title": "renamed"}), ADMIN)
    assert _titles(app, plan_id) == {"t0", "renamed", "t2", "t3"}

    created = app.services.tasks.create(CreateTask(plan_id, "added"), ADMIN)
    assert _titles(app, plan_id) == {"t0", "renamed", "t2", "t3", "added"}

    app.services.tasks.delete(DeleteTask(ids["t0"]), ADMIN)
    assert _titles(app, plan_id) == {"renamed", "t2", "t3", "added"}

    # A new dependency changes no task: the list read afresh is the same.
    app.services.dependencies.add(AddDependency(ids["t2"], created.id), ADMIN)
    assert _titles(app, plan_id) == {"renamed", "t2", "t3", "added"}


def test_a_change_made_by_another_process_is_read_afresh(app: Application, other: Application) -> None:
    plan_id, ids = _import(app)
    assert _titles(app, plan_id) == _titles(other, plan_id) == {"t0", "t1", "t2", "t3"}
    other.services.tasks.update(UpdateTask(ids["t2"], {"title": "from elsewhere"}), ADMIN)
    assert _titles(app, plan_id) == {"t0", "t1", "from elsewhere", "t3"}


class PlanChangedMeanwhile:
    """A unit of work whose second question for the plan's last change finds a later one: a
    task write committed between its statements, as READ COMMITTED lets a transaction see."""

    def __init__(self, engine: Engine) -> None:
        self._inner = SqlUnitOfWork(engine)
        self._asked = 0

    def __enter__(self) -> PlanChangedMeanwhile:
        self.tasks = self._inner.__enter__().tasks
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)  # type: ignore[arg-type]

    @property
    def outbox(self) -> PlanChangedMeanwhile:
        return self

    def last_position_of(self, plan_id: str, kinds: frozenset[PlanEventKind]) -> int:
        self._asked += 1
        return self._inner.outbox.last_position_of(plan_id, kinds) + (self._asked > 1)


def test_a_list_read_while_the_plan_changed_is_answered_but_not_kept(app: Application) -> None:
    plan_id, ids = _import(app)
    deps = ServiceDeps(uow=lambda: PlanChangedMeanwhile(app.engine), clock=SystemClock(), ids=TimeOrderedIds())
    memo = LruMemo(10_000)
    racing = TaskService(deps, memo=memo)
    assert set(racing.tasks_of_plan(ADMIN, plan_id)) == set(ids.values())
    assert len(memo) == 0
    steady = TaskService(replace(deps, uow=lambda: SqlUnitOfWork(app.engine)), memo=memo)
    assert set(steady.tasks_of_plan(ADMIN, plan_id)) == set(ids.values())
    assert len(memo) == 1


def test_a_caller_who_may_not_read_the_plan_gets_no_tasks(app: Application) -> None:
    plan_id, _ = _import(app)
    assert _titles(app, plan_id) == {"t0", "t1", "t2", "t3"}  # now in the memo
    assert dict(app.services.tasks.tasks_of_plan(OUTSIDER, plan_id)) == {}


def test_a_task_written_without_its_event_is_refused_and_nothing_is_written(app: Application) -> None:
    plan_id, ids = _import(app)
    [task] = app.services.tasks.get_many(ADMIN, [ids["t1"]])
    assert task is not None
    with SqlUnitOfWork(app.engine) as uow:
        assert uow.tasks.update(replace(task, title="untold", version=task.version + 1))
        with pytest.raises(RuntimeError, match="without a task event"):
            uow.commit()
    assert _titles(app, plan_id) == {"t0", "t1", "t2", "t3"}
    [stored] = app.services.tasks.get_many(ADMIN, [ids["t1"]])
    assert stored == task

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, delete, exists, func, select, update

from adapters.sql.one_of import one_of
from adapters.sql.row_memo import RowMemo
from adapters.sql.rows import TASK_COLUMNS, task_from_row, task_values
from adapters.sql.tables import plans, task_assignees, tasks
from planning.model import Task
from planning.ports import TaskFilter

#: What a ``Task`` is made of: not the Planner sync's own columns.
_TASK_COLUMNS = tuple(tasks.c[name] for name in TASK_COLUMNS)
#: Tasks by their row's values and assignees (adapters.sql.row_memo): an unchanged task is made once.
TASKS: RowMemo[Task] = RowMemo(task_from_row)


class SqlTaskRepository:
    """Tasks with their assignees; any read of N tasks costs two statements, whatever N.

    ``written_plans`` are the plans whose tasks it wrote: the unit of work checks, before it
    commits, that each of them has a task event in the outbox (``SqlUnitOfWork.commit``).
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.written_plans: set[str] = set()

    def add(self, task: Task) -> None:
        self.written_plans.add(task.plan_id)
        self._conn.execute(tasks.insert().values(task_values(task)))
        self._write_assignees(task)

    def add_many(self, many: Sequence[Task]) -> None:
        if not many:
            return
        self.written_plans.update(t.plan_id for t in many)
        self._conn.execute(tasks.insert(), [task_values(t) for t in many])
        rows = [{"task_id": t.id, "position": i, "assignee": a} for t in many for i, a in enumerate(t.assignees)]
        if rows:
            self._conn.execute(task_assignees.insert(), rows)

    def get(self, task_id: str) -> Task | None:
        found = self.get_many([task_id])
        return found[0] if found else None

    def get_many(self, task_ids: Sequence[str]) -> list[Task]:
        if not task_ids:
            return []
        return self._load(select(*_TASK_COLUMNS).where(one_of(self._conn, tasks.c.id, task_ids)))

    def update(self, task: Task) -> bool:
        result = self._conn.execute(
            update(tasks)
            .where(and_(tasks.c.id == task.id, tasks.c.version == task.version - 1))
            .values(task_values(task))
        )
        if result.rowcount != 1:
            return False
        self.written_plans.add(task.plan_id)
        self._conn.execute(delete(task_assignees).where(task_assignees.c.task_id == task.id))
        self._write_assignees(task)
        return True

    def delete(self, task_id: str, version: int | None = None) -> bool:
        query = delete(tasks).where(tasks.c.id == task_id)
        if version is not None:
            query = query.where(tasks.c.version == version)
        deleted = self._conn.execute(query.returning(tasks.c.plan_id)).scalars().all()
        self.written_plans.update(deleted)
        return len(deleted) == 1

    def for_plan(self, plan_id: str) -> list[Task]:
        return self._load(select(*_TASK_COLUMNS).where(tasks.c.plan_id == plan_id).order_by(tasks.c.id))

    def page(self, plan_id: str, task_filter: TaskFilter, after: str | None, limit: int) -> list[Task]:
        query = select(*_TASK_COLUMNS).where(*_filter_clauses(plan_id, task_filter)).order_by(tasks.c.id).limit(limit)
        if after is not None:
            query = query.where(tasks.c.id > after)
        return self._load(query)

    def count(self, plan_id: str, task_filter: TaskFilter) -> int:
        query = select(func.count()).select_from(tasks).where(*_filter_clauses(plan_id, task_filter))
        return int(self._conn.execute(query).scalar_one())

    def count_by_plan(self, plan_ids: Sequence[str]) -> dict[str, int]:
        """The plans' kept counts (``plans.task_count``, moved by the database's triggers), not a
        count of their tasks."""
        if not plan_ids:
            return {}
        query = select(plans.c.id, plans.c.task_count).where(one_of(self._conn, plans.c.id, plan_ids))
        return {plan_id: int(n) for plan_id, n in self._conn.execute(query).all()}

    def find_by_planner_id(self, plan_id: str, planner_task_id: str) -> Task | None:
        found = self._load(
            select(*_TASK_COLUMNS).where(tasks.c.plan_id == plan_id, tasks.c.planner_task_id == planner_task_id)
        )
        return found[0] if found else None

    def _write_assignees(self, task: Task) -> None:
        if task.assignees:
            self._conn.execute(
                task_assignees.insert(),
                [{"task_id": task.id, "position": i, "assignee": a} for i, a in enumerate(task.assignees)],
            )

    def _load(self, query: Select[Any]) -> list[Task]:
        rows = self._conn.execute(query).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        assignees: dict[str, list[str]] = defaultdict(list)
        for task_id, assignee in self._conn.execute(
            select(task_assignees.c.task_id, task_assignees.c.assignee)
            .where(one_of(self._conn, task_assignees.c.task_id, ids))
            .order_by(task_assignees.c.task_id, task_assignees.c.position)
        ).all():  # all(): one fetch, not one per row
            assignees[task_id].append(assignee)
        made = []
        for row in rows:
            names = tuple(assignees.get(row.id, ()))
            made.append(TASKS((tuple(row), names), row._mapping, names))
        return made


def _filter_clauses(plan_id: str, task_filter: TaskFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [tasks.c.plan_id == plan_id]
    if task_filter.statuses:
        clauses.append(tasks.c.status.in_([s.value for s in task_filter.statuses]))
    if task_filter.assignee:
        clauses.append(
            exists().where(
                task_assignees.c.task_id == tasks.c.id,
                func.lower(task_assignees.c.assignee) == task_filter.assignee.lower(),
            )
        )
    if task_filter.title_contains:
        clauses.append(func.lower(tasks.c.title).contains(task_filter.title_contains.lower(), autoescape=True))
    return clauses

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, func, or_, select, update

from adapters.sql.one_of import one_of
from adapters.sql.row_memo import RowMemo
from adapters.sql.rows import plan_from_row, plan_values
from adapters.sql.tables import (
    external_event_tasks,
    external_events,
    plan_activity,
    plan_members,
    plans,
    proposed_actions,
    simulations,
    task_assignees,
    task_dependencies,
    tasks,
)
from planning.model import Plan


class SqlPlanRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, plan: Plan) -> None:
        self._conn.execute(plans.insert().values(plan_values(plan)))

    def get(self, plan_id: str) -> Plan | None:
        row = self._conn.execute(select(plans).where(plans.c.id == plan_id)).mappings().first()
        return plan_from_row(row) if row else None

    def get_many(self, plan_ids: Sequence[str]) -> list[Plan]:
        if not plan_ids:
            return []
        return _plans_of(self._conn.execute(select(plans).where(one_of(self._conn, plans.c.id, plan_ids))))

    def lock(self, plan_id: str) -> Plan | None:
        row = self._conn.execute(select(plans).where(plans.c.id == plan_id).with_for_update()).mappings().first()
        return plan_from_row(row) if row else None

    def touch(self, plan: Plan) -> None:
        self._conn.execute(update(plans).where(plans.c.id == plan.id).values(plan_values(plan)))

    def update(self, plan: Plan) -> bool:
        result = self._conn.execute(
            update(plans).where(plans.c.id == plan.id, plans.c.version == plan.version - 1).values(plan_values(plan))
        )
        return result.rowcount == 1

    def delete(self, plan_id: str) -> bool:
        """Everything of the plan, children first: explicit statements rather than the schema's
        ON DELETE CASCADE, so that nothing depends on a store enforcing foreign keys."""
        plan_tasks = select(tasks.c.id).where(tasks.c.plan_id == plan_id).scalar_subquery()
        plan_events = select(external_events.c.id).where(external_events.c.plan_id == plan_id).scalar_subquery()
        for statement in (
            delete(proposed_actions).where(proposed_actions.c.plan_id == plan_id),
            delete(external_event_tasks).where(
                or_(external_event_tasks.c.event_id.in_(plan_events), external_event_tasks.c.task_id.in_(plan_tasks))
            ),
            delete(external_events).where(external_events.c.plan_id == plan_id),
            delete(task_dependencies).where(
                or_(
                    task_dependencies.c.plan_id == plan_id,
                    task_dependencies.c.predecessor_id.in_(plan_tasks),
                    task_dependencies.c.successor_id.in_(plan_tasks),
                )
            ),
            delete(task_assignees).where(task_assignees.c.task_id.in_(plan_tasks)),
            delete(tasks).where(tasks.c.plan_id == plan_id),
            delete(simulations).where(simulations.c.plan_id == plan_id),
            delete(plan_members).where(plan_members.c.plan_id == plan_id),
            delete(plan_activity).where(plan_activity.c.plan_id == plan_id),
        ):
            self._conn.execute(statement)
        return self._conn.execute(delete(plans).where(plans.c.id == plan_id)).rowcount == 1

    def page(self, after: str | None, limit: int, *, member_id: str | None = None) -> list[Plan]:
        query = select(plans).order_by(plans.c.id).limit(limit)
        if member_id is not None:
            query = query.join(
                plan_members, (plan_members.c.plan_id == plans.c.id) & (plan_members.c.user_id == member_id)
            )
        if after is not None:
            query = query.where(plans.c.id > after)
        return _plans_of(self._conn.execute(query))

    def count(self, *, member_id: str | None = None) -> int:
        if member_id is None:
            return int(self._conn.execute(select(func.count()).select_from(plans)).scalar_one())
        query = select(func.count()).select_from(plan_members).where(plan_members.c.user_id == member_id)
        return int(self._conn.execute(query).scalar_one())

    def find_by_planner_id(self, planner_plan_id: str) -> Plan | None:
        row = self._conn.execute(select(plans).where(plans.c.planner_plan_id == planner_plan_id)).mappings().first()
        return plan_from_row(row) if row else None


#: Plans by their row's values (adapters.sql.row_memo): an unchanged plan is made once.
PLANS: RowMemo[Plan] = RowMemo(plan_from_row)


def _plans_of(rows: Iterable[Row[Any]]) -> list[Plan]:
    # The holidays column reads as a list: a tuple of it keys the memo.
    return [PLANS(tuple(tuple(v) if isinstance(v, list) else v for v in row), row._mapping) for row in rows]

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Result, Text, cast, delete, func, or_, select, update

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
        return _first(_plans_of(self._conn.execute(_SELECT.where(plans.c.id == plan_id))))

    def get_many(self, plan_ids: Sequence[str]) -> list[Plan]:
        if not plan_ids:
            return []
        return _plans_of(self._conn.execute(_SELECT.where(one_of(self._conn, plans.c.id, plan_ids))))

    def lock(self, plan_id: str) -> Plan | None:
        return _first(_plans_of(self._conn.execute(_SELECT.where(plans.c.id == plan_id).with_for_update())))

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
        return [plan for plan, _count in self.page_with_task_counts(after, limit, member_id=member_id)]

    def page_with_task_counts(
        self, after: str | None, limit: int, *, member_id: str | None = None
    ) -> list[tuple[Plan, int]]:
        query = _SELECT.add_columns(plans.c.task_count).order_by(plans.c.id).limit(limit)
        if member_id is not None:
            query = query.join(
                plan_members, (plan_members.c.plan_id == plans.c.id) & (plan_members.c.user_id == member_id)
            )
        if after is not None:
            query = query.where(plans.c.id > after)
        # The memo's key is the plan's own columns, not its count: a new task makes no new Plan.
        return [(PLANS(tuple(row[:-1]), row._mapping), int(row[-1])) for row in self._conn.execute(query).all()]

    def count(self, *, member_id: str | None = None) -> int:
        if member_id is None:
            return int(self._conn.execute(select(func.count()).select_from(plans)).scalar_one())
        query = select(func.count()).select_from(plan_members).where(plan_members.c.user_id == member_id)
        return int(self._conn.execute(query).scalar_one())

    def find_by_planner_id(self, planner_plan_id: str) -> Plan | None:
        return _first(_plans_of(self._conn.execute(_SELECT.where(plans.c.planner_plan_id == planner_plan_id))))


#: The columns a plan is made of (not its task count), the holidays as their JSON text: the driver
#: leaves it unparsed, the text is part of the memo's key, and it is parsed only when a plan is made.
_SELECT = select(
    *(cast(c, Text).label(c.name) if c.name == "holidays" else c for c in plans.c if c.name != "task_count")
)


def _plan_of(row: Mapping[str, Any]) -> Plan:
    return plan_from_row({**row, "holidays": json.loads(row["holidays"])})


#: Plans by their row's values (adapters.sql.row_memo): an unchanged plan is made once.
PLANS: RowMemo[Plan] = RowMemo(_plan_of)


def _plans_of(result: Result[Any]) -> list[Plan]:
    return [PLANS(tuple(row), row._mapping) for row in result.all()]  # all(): one fetch, not one per row


def _first(found: list[Plan]) -> Plan | None:
    return found[0] if found else None

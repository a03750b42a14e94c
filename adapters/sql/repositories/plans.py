from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select, update

from adapters.sql.rows import plan_from_row, plan_values
from adapters.sql.tables import plans
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
        rows = self._conn.execute(select(plans).where(plans.c.id.in_(list(set(plan_ids))))).mappings()
        return [plan_from_row(r) for r in rows]

    def lock(self, plan_id: str) -> Plan | None:
        row = self._conn.execute(select(plans).where(plans.c.id == plan_id).with_for_update()).mappings().first()
        return plan_from_row(row) if row else None

    def touch(self, plan: Plan) -> None:
        self._conn.execute(update(plans).where(plans.c.id == plan.id).values(plan_values(plan)))

    def page(self, after: str | None, limit: int) -> list[Plan]:
        query = select(plans).order_by(plans.c.id).limit(limit)
        if after is not None:
            query = query.where(plans.c.id > after)
        return [plan_from_row(r) for r in self._conn.execute(query).mappings()]

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(plans)).scalar_one())

    def find_by_planner_id(self, planner_plan_id: str) -> Plan | None:
        row = self._conn.execute(select(plans).where(plans.c.planner_plan_id == planner_plan_id)).mappings().first()
        return plan_from_row(row) if row else None

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, or_, select

from adapters.sql.one_of import one_of
from adapters.sql.rows import dependency_from_row, dependency_values
from adapters.sql.tables import task_dependencies as deps
from planning.model import Dependency


class SqlDependencyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, dependency: Dependency) -> None:
        self._conn.execute(deps.insert().values(dependency_values(dependency)))

    def add_many(self, many: Sequence[Dependency]) -> None:
        if many:
            self._conn.execute(deps.insert(), [dependency_values(d) for d in many])

    def get(self, dependency_id: str) -> Dependency | None:
        row = self._conn.execute(select(deps).where(deps.c.id == dependency_id)).mappings().first()
        return dependency_from_row(row) if row else None

    def delete(self, dependency_id: str) -> None:
        self._conn.execute(delete(deps).where(deps.c.id == dependency_id))

    def for_plan(self, plan_id: str) -> list[Dependency]:
        return self.for_plans([plan_id])

    def for_plans(self, plan_ids: Sequence[str]) -> list[Dependency]:
        if not plan_ids:
            return []
        query = select(deps).where(one_of(self._conn, deps.c.plan_id, plan_ids)).order_by(deps.c.id)
        return [dependency_from_row(r) for r in self._conn.execute(query).mappings()]

    def touching(self, task_ids: Sequence[str]) -> list[Dependency]:
        if not task_ids:
            return []
        query = (
            select(deps)
            .where(
                or_(
                    one_of(self._conn, deps.c.predecessor_id, task_ids),
                    one_of(self._conn, deps.c.successor_id, task_ids),
                )
            )
            .order_by(deps.c.id)
        )
        return [dependency_from_row(r) for r in self._conn.execute(query).mappings()]

"""The Planner sync's records: task links (columns of ``tasks``) and ``planner_sync_state``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from adapters.sql.one_of import one_of
from adapters.sql.rows import utc
from adapters.sql.tables import planner_sync_state, plans, tasks
from planning.ports.planner import PlannerLink, PlannerSyncState


def _state(row: Mapping[str, Any]) -> PlannerSyncState:
    def when(name: str) -> Any:
        return utc(row[name]) if row[name] is not None else None

    return PlannerSyncState(
        plan_id=row["plan_id"],
        last_started_at=when("last_started_at"),
        last_succeeded_at=when("last_succeeded_at"),
        last_error=row["last_error"],
        last_error_at=when("last_error_at"),
        created=row["created"],
        updated=row["updated"],
        deleted=row["deleted"],
        unchanged=row["unchanged"],
    )


class SqlPlannerSyncRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def linked_plans(self) -> list[str]:
        query = select(plans.c.id).where(plans.c.planner_plan_id.is_not(None)).order_by(plans.c.id)
        return list(self._conn.execute(query).scalars())

    def links(self, plan_id: str) -> dict[str, PlannerLink]:
        query = select(
            tasks.c.id, tasks.c.planner_task_id, tasks.c.planner_etag, tasks.c.planner_bucket_id, tasks.c.planner_synced
        ).where(tasks.c.plan_id == plan_id, tasks.c.planner_task_id.is_not(None))
        return {
            planner_id: PlannerLink(task_id, planner_id, etag, bucket, synced)
            for task_id, planner_id, etag, bucket, synced in self._conn.execute(query)
        }

    def set_link(self, task_id: str, etag: str, bucket_id: str | None, synced: Mapping[str, Any]) -> None:
        self._conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id)
            .values(planner_etag=etag, planner_bucket_id=bucket_id, planner_synced=dict(synced))
        )

    def state(self, plan_id: str) -> PlannerSyncState | None:
        return self.states([plan_id]).get(plan_id)

    def states(self, plan_ids: Sequence[str]) -> dict[str, PlannerSyncState]:
        if not plan_ids:
            return {}
        query = select(planner_sync_state).where(one_of(self._conn, planner_sync_state.c.plan_id, plan_ids))
        return {row["plan_id"]: _state(row) for row in self._conn.execute(query).mappings()}

    def save_state(self, state: PlannerSyncState) -> None:
        values = {
            "last_started_at": state.last_started_at and utc(state.last_started_at),
            "last_succeeded_at": state.last_succeeded_at and utc(state.last_succeeded_at),
            "last_error": state.last_error,
            "last_error_at": state.last_error_at and utc(state.last_error_at),
            "created": state.created,
            "updated": state.updated,
            "deleted": state.deleted,
            "unchanged": state.unchanged,
        }
        changed = self._conn.execute(
            update(planner_sync_state).where(planner_sync_state.c.plan_id == state.plan_id).values(values)
        )
        if changed.rowcount == 0:
            self._conn.execute(planner_sync_state.insert().values(plan_id=state.plan_id, **values))

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Select, func, select, update

from adapters.sql.one_of import one_of
from adapters.sql.rows import external_event_from_row, external_event_values, utc
from adapters.sql.tables import external_event_tasks as links
from adapters.sql.tables import external_events as events
from planning.model import ExternalEvent, ExternalEventStatus


class SqlExternalEventRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, event: ExternalEvent) -> None:
        self._conn.execute(events.insert().values(external_event_values(event)))
        if event.affected_task_ids:
            self._conn.execute(
                links.insert(),
                [{"event_id": event.id, "position": i, "task_id": t} for i, t in enumerate(event.affected_task_ids)],
            )

    def get_many(self, event_ids: Sequence[str]) -> list[ExternalEvent]:
        if not event_ids:
            return []
        return self._load(select(events).where(one_of(self._conn, events.c.id, event_ids)))

    def find_by_idempotency_key(self, plan_id: str, key: str) -> ExternalEvent | None:
        found = self._load(select(events).where(events.c.plan_id == plan_id, events.c.idempotency_key == key))
        return found[0] if found else None

    def update_status(self, event: ExternalEvent, previous: ExternalEventStatus) -> bool:
        result = self._conn.execute(
            update(events)
            .where(events.c.id == event.id, events.c.status == previous.value)
            .values(
                status=event.status.value,
                status_changed_at=utc(event.status_changed_at) if event.status_changed_at else None,
                status_changed_by=event.status_changed_by,
                status_note=event.status_note,
            )
        )
        return result.rowcount == 1

    def page(self, plan_id: str, after: str | None, limit: int) -> list[ExternalEvent]:
        query = select(events).where(events.c.plan_id == plan_id).order_by(events.c.id).limit(limit)
        if after is not None:
            query = query.where(events.c.id > after)
        return self._load(query)

    def count(self, plan_id: str) -> int:
        query = select(func.count()).select_from(events).where(events.c.plan_id == plan_id)
        return int(self._conn.execute(query).scalar_one())

    def for_plan(self, plan_id: str) -> list[ExternalEvent]:
        return self._load(select(events).where(events.c.plan_id == plan_id).order_by(events.c.id))

    def affecting(self, task_ids: Sequence[str]) -> dict[str, list[ExternalEvent]]:
        if not task_ids:
            return {}
        pairs = list(
            self._conn.execute(
                select(links.c.task_id, links.c.event_id).where(one_of(self._conn, links.c.task_id, task_ids))
            )
        )
        found = {e.id: e for e in self.get_many([event_id for _, event_id in pairs])}
        out: dict[str, list[ExternalEvent]] = defaultdict(list)
        for task_id, event_id in sorted(pairs, key=lambda p: p[1]):
            out[task_id].append(found[event_id])
        return out

    def _load(self, query: Select[Any]) -> list[ExternalEvent]:
        rows: list[Mapping[str, Any]] = list(self._conn.execute(query).mappings())
        if not rows:
            return []
        affected: dict[str, list[str]] = defaultdict(list)
        for event_id, task_id in self._conn.execute(
            select(links.c.event_id, links.c.task_id)
            .where(one_of(self._conn, links.c.event_id, [r["id"] for r in rows]))
            .order_by(links.c.event_id, links.c.position)
        ):
            affected[event_id].append(task_id)
        return [external_event_from_row(r, affected.get(r["id"], ())) for r in rows]

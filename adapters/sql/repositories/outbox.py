from __future__ import annotations

from sqlalchemy import Connection, case, func, select, text, update

from adapters.sql.rows import utc
from adapters.sql.tables import outbox, outbox_checkpoints
from planning.events import OutboxMessage, PlanEvent, PlanEventKind

# Any constant: the advisory lock that orders outbox writers on PostgreSQL.
_OUTBOX_LOCK_KEY = 7_316_842


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locked = False
        self.appended = False

    def append(self, event: PlanEvent) -> None:
        self._lock_writers()
        self._conn.execute(
            outbox.insert().values(
                plan_id=event.plan_id,
                kind=event.kind.value,
                entity_id=event.entity_id,
                occurred_at=event.occurred_at,
                data=event.data,
            )
        )
        self.appended = True

    def _lock_writers(self) -> None:
        """Make outbox positions commit in order on PostgreSQL.

        A sequence hands out positions at insert time, but transactions commit in any order: a
        reader that saw position 6 could later find 5 appear behind it and skip it. Holding a
        transaction-scoped advisory lock from the first append to the commit means positions
        become visible in order. (SQLite units of work are serialised already.)
        """
        if self._locked:
            return
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OUTBOX_LOCK_KEY})
        self._locked = True

    def read_after(self, position: int, limit: int) -> list[OutboxMessage]:
        rows = self._conn.execute(
            select(outbox).where(outbox.c.position > position).order_by(outbox.c.position).limit(limit)
        ).mappings()
        return [
            OutboxMessage(
                r["position"],
                PlanEvent(r["plan_id"], PlanEventKind(r["kind"]), r["entity_id"], utc(r["occurred_at"]), r["data"]),
            )
            for r in rows
        ]

    def last_position(self) -> int:
        return int(self._conn.execute(select(func.coalesce(func.max(outbox.c.position), 0))).scalar_one())

    def checkpoint(self, consumer: str) -> int:
        value = self._conn.execute(
            select(outbox_checkpoints.c.position).where(outbox_checkpoints.c.consumer == consumer)
        ).scalar_one_or_none()
        return int(value or 0)

    def save_checkpoint(self, consumer: str, position: int) -> None:
        """Set the position whatever it was (a rebuild's reset)."""
        result = self._conn.execute(
            update(outbox_checkpoints).where(outbox_checkpoints.c.consumer == consumer).values(position=position)
        )
        if result.rowcount == 0:
            self._conn.execute(outbox_checkpoints.insert().values(consumer=consumer, position=position))

    def last_position_of(self, plan_id: str, kinds: frozenset[PlanEventKind]) -> int:
        found = self._conn.execute(
            select(func.max(outbox.c.position)).where(
                outbox.c.plan_id == plan_id, outbox.c.kind.in_(sorted(k.value for k in kinds))
            )
        ).scalar_one_or_none()
        return int(found or 0)

    def advance_checkpoint(self, consumer: str, position: int) -> None:
        row = outbox_checkpoints.c
        result = self._conn.execute(
            update(outbox_checkpoints)
            .where(row.consumer == consumer)
            .values(position=case((row.position < position, position), else_=row.position))
        )
        if result.rowcount == 0:
            self._conn.execute(outbox_checkpoints.insert().values(consumer=consumer, position=position))

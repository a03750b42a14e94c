from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, case, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.rows import utc
from adapters.sql.tables import outbox, outbox_checkpoints
from planning.events import OutboxMessage, PlanEvent, PlanEventKind

# Any constant: the advisory lock that orders outbox writers on PostgreSQL.
_OUTBOX_LOCK_KEY = 7_316_842


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locked = False

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
        """Set the position whatever it was and whoever holds the lease (tooling and tests only)."""
        result = self._conn.execute(
            update(outbox_checkpoints).where(outbox_checkpoints.c.consumer == consumer).values(position=position)
        )
        if result.rowcount == 0:
            self._conn.execute(outbox_checkpoints.insert().values(consumer=consumer, position=position))

    # The checkpoint's lease: one holder at a time, across processes, on either store. Every
    # change is a single conditional statement, so two holders racing for it cannot both win
    # (PostgreSQL re-checks the WHERE clause after a concurrent update commits; SQLite units of
    # work are serialised by BEGIN IMMEDIATE).

    def acquire_lease(self, consumer: str, holder: str, now: datetime, until: datetime) -> bool:
        if self._take_lease(consumer, holder, now, until):
            return True
        # No row yet, or one another holder leases: make sure the row exists, then try again.
        values = {"consumer": consumer, "position": 0}
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(postgresql.insert(outbox_checkpoints).values(values).on_conflict_do_nothing())
        else:
            self._conn.execute(sqlite.insert(outbox_checkpoints).values(values).on_conflict_do_nothing())
        return self._take_lease(consumer, holder, now, until)

    def _take_lease(self, consumer: str, holder: str, now: datetime, until: datetime) -> bool:
        row = outbox_checkpoints.c
        taken = self._conn.execute(
            update(outbox_checkpoints)
            .where(
                row.consumer == consumer,
                or_(row.holder.is_(None), row.holder == holder, row.lease_until.is_(None), row.lease_until < utc(now)),
            )
            .values(holder=holder, lease_until=utc(until))
        )
        return taken.rowcount == 1

    def lease_holder(self, consumer: str, now: datetime) -> tuple[str, datetime] | None:
        found = self._conn.execute(
            select(outbox_checkpoints.c.holder, outbox_checkpoints.c.lease_until).where(
                outbox_checkpoints.c.consumer == consumer
            )
        ).first()
        if found is None or found.holder is None or found.lease_until is None or utc(found.lease_until) < utc(now):
            return None
        return found.holder, utc(found.lease_until)

    def renew_lease(self, consumer: str, holder: str, until: datetime) -> bool:
        row = outbox_checkpoints.c
        result = self._conn.execute(
            update(outbox_checkpoints)
            .where(row.consumer == consumer, row.holder == holder)
            .values(lease_until=utc(until))
        )
        return result.rowcount == 1

    def release_lease(self, consumer: str, holder: str) -> None:
        row = outbox_checkpoints.c
        self._conn.execute(
            update(outbox_checkpoints)
            .where(row.consumer == consumer, row.holder == holder)
            .values(holder=None, lease_until=None)
        )

    def advance_checkpoint(self, consumer: str, holder: str, position: int, until: datetime) -> bool:
        row = outbox_checkpoints.c
        result = self._conn.execute(
            update(outbox_checkpoints)
            .where(row.consumer == consumer, row.holder == holder)
            .values(
                position=case((row.position < position, position), else_=row.position),
                lease_until=utc(until),
            )
        )
        return result.rowcount == 1

    def reset_checkpoint(self, consumer: str, holder: str, position: int) -> bool:
        row = outbox_checkpoints.c
        result = self._conn.execute(
            update(outbox_checkpoints).where(row.consumer == consumer, row.holder == holder).values(position=position)
        )
        return result.rowcount == 1

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Float, case, func, literal, or_, select, text, update
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
        """Set the position whatever it was and whoever holds the lease (tooling and tests only)."""
        result = self._conn.execute(
            update(outbox_checkpoints).where(outbox_checkpoints.c.consumer == consumer).values(position=position)
        )
        if result.rowcount == 0:
            self._conn.execute(outbox_checkpoints.insert().values(consumer=consumer, position=position))

    # The checkpoint's lease: one holder at a time, across processes, on either store. Every
    # change is a single conditional statement, so two holders racing for it cannot both win
    # (PostgreSQL re-checks the WHERE clause after a concurrent update commits; SQLite units of
    # work are serialised by BEGIN IMMEDIATE). Expiry is the database's clock, never a host's:
    # hosts whose clocks disagree still agree on whether a lease has run out.

    def _db_now(self) -> Any:
        """The database's current time, comparable with ``lease_until`` as stored."""
        if self._conn.dialect.name == "postgresql":
            return func.now()
        # SQLAlchemy stores SQLite timestamps as UTC text with microseconds; SQLite's 'now' is UTC.
        return func.strftime("%Y-%m-%d %H:%M:%f", "now").concat("000")

    def _db_after(self, seconds: float) -> Any:
        """The database's current time plus ``seconds``, as ``lease_until`` stores it."""
        if self._conn.dialect.name == "postgresql":
            return func.now() + func.make_interval(0, 0, 0, 0, 0, 0, literal(float(seconds), Float))
        return func.strftime("%Y-%m-%d %H:%M:%f", "now", f"+{float(seconds):.3f} seconds").concat("000")

    def acquire_lease(self, consumer: str, holder: str, lease_s: float) -> bool:
        if self._take_lease(consumer, holder, lease_s):
            return True
        # No row yet, or one another holder leases: make sure the row exists, then try again.
        values = {"consumer": consumer, "position": 0}
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(postgresql.insert(outbox_checkpoints).values(values).on_conflict_do_nothing())
        else:
            self._conn.execute(sqlite.insert(outbox_checkpoints).values(values).on_conflict_do_nothing())
        return self._take_lease(consumer, holder, lease_s)

    def _take_lease(self, consumer: str, holder: str, lease_s: float) -> bool:
        row = outbox_checkpoints.c
        taken = self._conn.execute(
            update(outbox_checkpoints)
            .where(
                row.consumer == consumer,
                or_(
                    row.holder.is_(None),
                    row.holder == holder,
                    row.lease_until.is_(None),
                    row.lease_until < self._db_now(),
                ),
            )
            .values(holder=holder, lease_until=self._db_after(lease_s))
        )
        return taken.rowcount == 1

    def lease_holder(self, consumer: str) -> tuple[str, datetime] | None:
        row = outbox_checkpoints.c
        found = self._conn.execute(
            select(row.holder, row.lease_until).where(
                row.consumer == consumer,
                row.holder.is_not(None),
                row.lease_until.is_not(None),
                row.lease_until >= self._db_now(),
            )
        ).first()
        if found is None:
            return None
        return found.holder, utc(found.lease_until)

    def renew_lease(self, consumer: str, holder: str, lease_s: float) -> bool:
        row = outbox_checkpoints.c
        result = self._conn.execute(
            update(outbox_checkpoints)
            .where(row.consumer == consumer, row.holder == holder)
            .values(lease_until=self._db_after(lease_s))
        )
        return result.rowcount == 1

    def release_lease(self, consumer: str, holder: str) -> None:
        row = outbox_checkpoints.c
        self._conn.execute(
            update(outbox_checkpoints)
            .where(row.consumer == consumer, row.holder == holder)
            .values(holder=None, lease_until=None)
        )

    def advance_checkpoint(self, consumer: str, holder: str, position: int, lease_s: float) -> bool:
        row = outbox_checkpoints.c
        result = self._conn.execute(
            update(outbox_checkpoints)
            .where(row.consumer == consumer, row.holder == holder)
            .values(
                position=case((row.position < position, position), else_=row.position),
                lease_until=self._db_after(lease_s),
            )
        )
        return result.rowcount == 1

    def reset_checkpoint(self, consumer: str, holder: str, position: int) -> bool:
        row = outbox_checkpoints.c
        result = self._conn.execute(
            update(outbox_checkpoints).where(row.consumer == consumer, row.holder == holder).values(position=position)
        )
        return result.rowcount == 1

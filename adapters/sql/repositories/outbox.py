from __future__ import annotations

from sqlalchemy import Connection, RowMapping, case, func, select, text, update

from adapters.sql.rows import utc
from adapters.sql.tables import outbox, outbox_checkpoints
from planning.events import OutboxMessage, PlanEvent, PlanEventKind

# Any constant: the advisory lock that orders outbox writers on PostgreSQL.
_OUTBOX_LOCK_KEY = 7_316_842
#: The PostgreSQL NOTIFY channel a transaction that appends to the outbox notifies on commit
#: (``adapters.events.postgres_notify`` listens). The payload is a position only: listeners read
#: the outbox itself, so no event is ever cut to NOTIFY's 8000 bytes.
OUTBOX_CHANNEL = "planner_outbox"
#: The events that tell a change of a task: every write of a task appends one of them.
TASK_EVENT_KINDS = frozenset({PlanEventKind.TASK_CREATED, PlanEventKind.TASK_UPDATED, PlanEventKind.TASK_DELETED})


class SqlOutbox:
    """``read_only``: the transaction reads one snapshot and writes nothing, so a plan's last
    position is read once however often it is asked for (a plan's graph and its task list are
    both keyed by it, ``planning.services.tasks``)."""

    def __init__(self, conn: Connection, *, read_only: bool = False) -> None:
        self._conn = conn
        self._locked = False
        self.appended = False
        self._positions: dict[tuple[str, frozenset[PlanEventKind]], int] | None = {} if read_only else None
        #: The plans this transaction appended a task event for.
        self.told_task_changes: set[str] = set()

    def append(self, event: PlanEvent) -> None:
        first = not self._locked
        self._lock_writers()
        result = self._conn.execute(
            outbox.insert().values(
                plan_id=event.plan_id,
                kind=event.kind.value,
                entity_id=event.entity_id,
                occurred_at=event.occurred_at,
                data=event.data,
            )
        )
        if event.kind in TASK_EVENT_KINDS:
            self.told_task_changes.add(event.plan_id)
        if first and self._conn.dialect.name == "postgresql":
            # One notification a transaction, delivered by PostgreSQL at its commit (never for a
            # rollback): live subscribers in every process read the outbox from there.
            (position,) = result.inserted_primary_key or (0,)
            self._conn.execute(
                text("SELECT pg_notify(:channel, :position)"), {"channel": OUTBOX_CHANNEL, "position": str(position)}
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
        return [_message(r) for r in rows]

    def read_plan_between(self, plan_id: str, after: int, until: int, limit: int) -> list[OutboxMessage]:
        """One plan's messages with ``after < position <= until``, in position order."""
        rows = self._conn.execute(
            select(outbox)
            .where(outbox.c.position > after, outbox.c.position <= until, outbox.c.plan_id == plan_id)
            .order_by(outbox.c.position)
            .limit(limit)
        ).mappings()
        return [_message(r) for r in rows]

    def first_position_about(self, plan_id: str, entity_id: str) -> int | None:
        """The position of the plan's first message about ``entity_id`` (None when there is none)."""
        found = self._conn.execute(
            select(func.min(outbox.c.position)).where(outbox.c.plan_id == plan_id, outbox.c.entity_id == entity_id)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def last_position(self) -> int:
        return int(self._conn.execute(select(func.coalesce(func.max(outbox.c.position), 0))).scalar_one())

    def checkpoint(self, consumer: str) -> int:
        return self.checkpoints(consumer)[0]

    def checkpoints(self, *consumers: str) -> tuple[int, ...]:
        rows = self._conn.execute(
            select(outbox_checkpoints.c.consumer, outbox_checkpoints.c.position).where(
                outbox_checkpoints.c.consumer.in_(consumers)
            )
        ).all()
        found = {consumer: int(position or 0) for consumer, position in rows}
        return tuple(found.get(c, 0) for c in consumers)

    def save_checkpoint(self, consumer: str, position: int) -> None:
        """Set the position whatever it was (a rebuild's reset)."""
        result = self._conn.execute(
            update(outbox_checkpoints).where(outbox_checkpoints.c.consumer == consumer).values(position=position)
        )
        if result.rowcount == 0:
            self._conn.execute(outbox_checkpoints.insert().values(consumer=consumer, position=position))

    def last_position_of(self, plan_id: str, kinds: frozenset[PlanEventKind]) -> int:
        if self._positions is not None and (plan_id, kinds) in self._positions:
            return self._positions[plan_id, kinds]
        found = self._conn.execute(
            select(func.max(outbox.c.position)).where(
                outbox.c.plan_id == plan_id, outbox.c.kind.in_(sorted(k.value for k in kinds))
            )
        ).scalar_one_or_none()
        position = int(found or 0)
        if self._positions is not None:
            self._positions[plan_id, kinds] = position
        return position

    def advance_checkpoint(self, consumer: str, position: int) -> None:
        row = outbox_checkpoints.c
        result = self._conn.execute(
            update(outbox_checkpoints)
            .where(row.consumer == consumer)
            .values(position=case((row.position < position, position), else_=row.position))
        )
        if result.rowcount == 0:
            self._conn.execute(outbox_checkpoints.insert().values(consumer=consumer, position=position))


def _message(r: RowMapping) -> OutboxMessage:
    return OutboxMessage(
        r["position"],
        PlanEvent(r["plan_id"], PlanEventKind(r["kind"]), r["entity_id"], utc(r["occurred_at"]), r["data"]),
    )

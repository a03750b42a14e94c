"""The in-process event broker: one reader of the committed outbox fans messages out to subscribers.

A thread reads the outbox after its cursor whenever it is woken (``wake()``: the unit of work's
``on_commit`` hook in this process, or ``PostgresNotifyBroker``'s listener) and at least every
``poll_s`` (the safety net that also brings in what other SQLite processes, such as
``planner import``, committed). It hands each message to the subscribers of its plan, on their
own event loops, through a bounded queue each: the reader never waits for a subscriber, and a
subscriber whose queue overflows is told so (``SubscriberTooSlow``) and can resume from its
last position, since every message stays in the outbox (nothing prunes it).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import TypeVar

import structlog
from sqlalchemy import Engine

from adapters.sql.repositories.outbox import SqlOutbox
from planning.events import OutboxMessage
from subscriptions.broker import SubscriberTooSlow

log = structlog.get_logger("planner.events")

T = TypeVar("T")

#: Messages read from the outbox at once.
READ_BATCH = 500


class OutboxBroker:
    """The ``EventBroker`` of one process. ``start()`` before following, ``stop()`` at the end."""

    def __init__(self, engine: Engine, *, poll_s: float = 1.0, queue_size: int = 256) -> None:
        self._engine = engine
        self.poll_s = poll_s
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._cursor = 0
        self._followers: dict[str, set[OutboxFollow]] = {}

    # -- the reader ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._cursor = self._read(lambda outbox: outbox.last_position())
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="outbox-broker", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(10)
        self._engine.dispose()

    def wake(self) -> None:
        """Something was committed: read the outbox now (thread-safe, never blocks)."""
        self._wake.set()

    @property
    def position(self) -> int:
        """The last position handed out."""
        return self._cursor

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.poll_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self._pump()
            except Exception as exc:  # noqa: BLE001 - the store may be away for a while; read again later
                log.warning("reading the outbox for subscribers failed", error=str(exc))
                self._stopping.wait(self.poll_s)

    def _pump(self) -> None:
        while True:
            batch = self._read(lambda outbox: outbox.read_after(self._cursor, READ_BATCH))
            if not batch:
                return
            with self._lock:
                for message in batch:
                    for follow in list(self._followers.get(message.event.plan_id, ())):
                        follow.offer(message)
                self._cursor = batch[-1].position
            if len(batch) < READ_BATCH:
                return

    def _read(self, query: Callable[[SqlOutbox], T]) -> T:
        with self._engine.connect() as conn:
            return query(SqlOutbox(conn))

    # -- the subscribers ----------------------------------------------------------------------

    def follow(self, plan_id: str, after: int | None) -> OutboxFollow:
        """Called on the subscriber's event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            follow = OutboxFollow(self, plan_id, after, self._cursor, loop)
            self._followers.setdefault(plan_id, set()).add(follow)
        return follow

    def forget(self, follow: OutboxFollow) -> None:
        with self._lock:
            followers = self._followers.get(follow.plan_id)
            if followers is not None:
                followers.discard(follow)
                if not followers:
                    del self._followers[follow.plan_id]

    @property
    def follower_count(self) -> int:
        with self._lock:
            return sum(len(f) for f in self._followers.values())

    def position_before(self, plan_id: str, entity_id: str) -> int | None:
        first = self._read(lambda outbox: outbox.first_position_about(plan_id, entity_id))
        return None if first is None else first - 1

    def backlog(self, plan_id: str, after: int, until: int) -> list[OutboxMessage]:
        return self._read(lambda outbox: outbox.read_plan_between(plan_id, after, until, READ_BATCH))


class OutboxFollow:
    """One subscriber: what the outbox held after ``after`` up to ``start`` (read on demand), then
    every message the broker's reader hands over, through a queue of ``queue_size``."""

    def __init__(
        self, broker: OutboxBroker, plan_id: str, after: int | None, start: int, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._broker = broker
        self.plan_id = plan_id
        self._after = after
        self._start = start
        self._loop = loop
        self._queue: asyncio.Queue[OutboxMessage] = asyncio.Queue(broker.queue_size)
        self._overflowed = False
        self._closed = False

    @property
    def overflowed(self) -> bool:
        """The subscriber fell further behind than its queue holds; its next read says so."""
        return self._overflowed

    def offer(self, message: OutboxMessage) -> None:
        """From the reader's thread: never blocks."""
        try:
            self._loop.call_soon_threadsafe(self._put, message)
        except RuntimeError:  # the subscriber's loop is closed: it is gone
            self._closed = True
            self._broker.forget(self)

    def _put(self, message: OutboxMessage) -> None:
        if self._overflowed or self._closed:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self._overflowed = True
            # Nobody awaits a full queue; the subscriber finds out at its next message.

    async def messages(self) -> AsyncIterator[OutboxMessage]:
        last = self._start if self._after is None else self._after
        while last < self._start:
            batch = await asyncio.to_thread(self._broker.backlog, self.plan_id, last, self._start)
            for message in batch:
                yield message
                last = message.position
            if len(batch) < READ_BATCH:
                last = max(last, self._start)
        while not self._closed:
            if self._overflowed:
                raise SubscriberTooSlow(last)
            message = await self._queue.get()
            if self._overflowed:
                raise SubscriberTooSlow(last)
            if message.position <= last:
                continue
            last = message.position
            yield message

    def close(self) -> None:
        self._closed = True
        self._broker.forget(self)
        with suppress(Exception):
            while not self._queue.empty():
                self._queue.get_nowait()

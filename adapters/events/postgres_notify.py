"""The PostgreSQL event broker: ``LISTEN`` wakes the outbox reader when any process commits.

Every transaction that appends to the outbox sends one ``NOTIFY planner_outbox, '<position>'``
(``adapters.sql.repositories.outbox``), which PostgreSQL delivers at its commit, to every
listening process: a server, another server behind the same load balancer, whatever committed
(a mutation, ``planner import``, a simulation worker). The notification carries a position only;
the reader reads the messages from the outbox, so nothing depends on NOTIFY's payload limit.
A lost connection is opened again; the broker's poll covers the gap.
"""

from __future__ import annotations

import threading

import psycopg
import structlog
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from adapters.events.outbox_broker import OutboxBroker
from adapters.sql.repositories.outbox import OUTBOX_CHANNEL

log = structlog.get_logger("planner.events")


def libpq_url(database_url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://`` URL as psycopg takes it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresNotifyBroker(OutboxBroker):
    def __init__(self, engine: Engine, database_url: str, *, poll_s: float = 5.0, queue_size: int = 256) -> None:
        super().__init__(engine, poll_s=poll_s, queue_size=queue_size)
        self._conninfo = libpq_url(database_url)
        self._listening = threading.Event()
        self._listener: threading.Thread | None = None
        self._halt = threading.Event()

    def start(self) -> None:
        super().start()
        if self._listener is None:
            self._halt.clear()
            self._listener = threading.Thread(target=self._listen, name="outbox-listener", daemon=True)
            self._listener.start()

    def stop(self) -> None:
        self._halt.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.join(10)
        super().stop()

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def _listen(self) -> None:
        while not self._halt.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    self._listening.set()
                    self.wake()  # what committed while no one listened
                    while not self._halt.is_set():
                        for _notification in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake()
            except psycopg.Error as exc:
                log.warning("listening for outbox notifications failed; listening again", error=str(exc))
                self._halt.wait(1.0)
            finally:
                self._listening.clear()

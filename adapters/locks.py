"""Process locks (``planning.ports.locks.ProcessLock``) that die with their holder.

PostgreSQL: a session-level advisory lock on a connection of its own, released by the server
when that session ends, however the process ended. SQLite: ``flock`` on a file beside the
database, released by the kernel when the process's descriptor closes, however it closed.
Neither has a term to wait out after a crash, which a lease in a table did (issue: a
``kill -9`` left the graph projection stalled for five minutes).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from pathlib import Path

import structlog
from sqlalchemy import Connection, Engine, text

from planning.ports.locks import ProcessLock

log = structlog.get_logger("planner.locks")

#: How often a waiting acquire tries again.
POLL_S = 0.05


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (PostgreSQL's advisory lock key space)."""
    return int.from_bytes(hashlib.blake2b(f"planner:{name}".encode(), digest_size=8).digest(), "big", signed=True)


class _Polling:
    """Acquire by polling a non-blocking attempt until a deadline; one holder per object."""

    def __init__(self) -> None:
        # Threads sharing this object take turns; other objects (and processes) are kept
        # out by the lock itself.
        self._mutex = threading.Lock()
        self._held = False

    def _try(self) -> bool:
        raise NotImplementedError

    def _let_go(self) -> None:
        raise NotImplementedError

    def acquire(self, wait_s: float = 0.0) -> bool:
        deadline = time.monotonic() + max(wait_s, 0.0)
        if not self._mutex.acquire(timeout=max(wait_s, 0.0)):
            return False
        try:
            while True:
                if self._try():
                    self._held = True
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    self._mutex.release()
                    return False
                time.sleep(min(POLL_S, left))
        except BaseException:
            self._mutex.release()
            raise

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        try:
            self._let_go()
        finally:
            self._mutex.release()


class AdvisoryLock(_Polling):
    """A PostgreSQL session-level advisory lock, on a connection held while the lock is."""

    def __init__(self, engine: Engine, name: str) -> None:
        super().__init__()
        self._engine = engine
        self.name = name
        self._key = _advisory_key(name)
        self._conn: Connection | None = None

    def _try(self) -> bool:
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        conn = self._conn
        if not self._held or conn is None:
            return False
        try:
            conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - a lost session means a lost lock, whatever the error
            return False
        return True

    def _let_go(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        except Exception:  # noqa: BLE001 - closing the session below releases the lock anyway
            log.warning("advisory unlock failed; closing its session instead", lock=self.name)
            conn.invalidate()
        finally:
            conn.close()


class FileLock(_Polling):
    """An exclusive ``flock`` on a file: released by the kernel when the descriptor closes.

    ``flock`` locks belong to open file descriptions, so two objects in one process exclude
    each other as two processes do.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.name = path.name
        self._fd: int | None = None

    def _try(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._held and self._fd is not None

    def _let_go(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock


def process_lock(engine: Engine, name: str) -> ProcessLock:
    """The process lock ``name`` for the store behind ``engine``."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(engine, name)
    database = url.database
    if not database or database == ":memory:":
        raise ValueError("process locks need a SQLite database file, not an in-memory database")
    return FileLock(Path(f"{database}.{name}.lock"))

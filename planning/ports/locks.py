"""A lock held by a process, across every process that shares the store."""

from __future__ import annotations

from typing import Protocol


class ProcessLock(Protocol):
    """One holder at a time, across threads and processes, released when its holder ends.

    Whatever ends the holder — a normal release, an exception, the process exiting or being
    killed — lets the lock go at once, so no lock outlives its holder and nobody waits out a
    term. (On PostgreSQL a session-level advisory lock, on SQLite an operating-system file lock.)
    """

    def acquire(self, wait_s: float = 0.0) -> bool:
        """Take the lock, waiting up to ``wait_s`` seconds for another holder; False if not taken."""
        ...

    def still_held(self) -> bool:
        """Whether this holder still holds it (a PostgreSQL session can be lost under it)."""
        ...

    def release(self) -> None:
        """Let it go; releasing a lock not held does nothing."""
        ...

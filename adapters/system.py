"""The standard clock, id generator and background workers."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class TimeOrderedIds:
    """UUID-formatted ids in the layout of UUIDv7: 48 bits of milliseconds, then a counter.

    Strings sort in creation order, so keyset pages come out in creation order; the counter
    keeps that true for ids made within the same millisecond (a plan import makes hundreds).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def new_id(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
                if self._counter >= 1 << 26:
                    ms += 1
                    self._counter = 0
            else:
                self._counter = int.from_bytes(os.urandom(2), "big")
            self._last_ms = ms
            counter = self._counter
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 50) - 1)
        value = (
            (ms << 80)
            | (0x7 << 76)
            | ((counter >> 14) << 64)
            | (0b10 << 62)
            | ((counter & 0x3FFF) << 48)
            | (rand & ((1 << 48) - 1))
        )
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class ThreadBackground:
    """``planning.ports.background.Background`` on threads."""

    @contextlib.contextmanager
    def repeating(self, interval_s: float, tick: Callable[[], bool], *, name: str) -> Iterator[None]:
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(interval_s):
                if not tick():
                    return

        worker = threading.Thread(target=run, name=name, daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join()

    def mutex(self) -> threading.Lock:
        return threading.Lock()

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

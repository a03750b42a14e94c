from __future__ import annotations

import threading
import time

import structlog

from planning.services.projection import GraphProjector

log = structlog.get_logger("planner.projection")


class ProjectionRunner:
    """Keeps the graph caught up with the outbox: right after each commit, and every few seconds.

    Projecting right after a commit gives the local API read-your-writes on graph questions
    while the graph is healthy. A kick hands the pass to a worker thread and waits for it at
    most ``kick_budget_s``: a write never waits longer for the graph, however slow it is. A
    pass that runs over the budget goes on in the background, and a circuit breaker opens so
    that later writes do not wait for the graph at all: ``kick`` only wakes the background loop
    and returns at once. The breaker also opens when a pass fails. The loop retries every
    ``retry_s`` and closes the breaker when a pass succeeds (so does the pass that ran over the
    budget, when it ends well). Without a running loop (a CLI command), a kick makes the retry
    itself once ``retry_s`` has passed. Failures are logged, never raised into the write that
    triggered them: it is committed.
    """

    def __init__(
        self,
        projector: GraphProjector,
        *,
        interval_s: float = 5.0,
        retry_s: float = 3.0,
        kick_budget_s: float = 2.0,
    ) -> None:
        self._projector = projector
        self.interval_s = interval_s
        self.retry_s = retry_s
        self.kick_budget_s = kick_budget_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._state = threading.Lock()
        self._opened_at: float | None = None
        self._thread: threading.Thread | None = None
        # Kicks ask the kick worker for a pass; ``_served`` is the last ask a finished pass covered.
        self._asks = threading.Condition()
        self._asked = 0
        self._served = 0
        self._kicker: threading.Thread | None = None

    @property
    def breaker_open(self) -> bool:
        return self._opened_at is not None

    def _loop_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def kick(self) -> None:
        opened_at = self._opened_at
        if opened_at is not None and (self._loop_running() or time.monotonic() - opened_at < self.retry_s):
            self._wake.set()
            return
        deadline = time.monotonic() + self.kick_budget_s
        with self._asks:
            if self._stop.is_set():
                return
            if self._kicker is None or not self._kicker.is_alive():
                self._kicker = threading.Thread(target=self._serve_kicks, name="graph-projection-kick", daemon=True)
                self._kicker.start()
            self._asked += 1
            mine = self._asked
            self._asks.notify_all()
            while self._served < mine:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._asks.wait(left)
            served = self._served >= mine
        if not served:
            # The pass goes on in the background; until it (or the loop's next) succeeds,
            # writes do not wait for the graph.
            self._open(f"a projection pass took longer than {self.kick_budget_s:g} s")

    def _serve_kicks(self) -> None:
        """The kick worker: one pass at a time, each covering every kick made before it began."""
        while True:
            with self._asks:
                while self._served >= self._asked and not self._stop.is_set():
                    self._asks.wait()
                if self._stop.is_set():
                    return
                target = self._asked
            try:
                self._attempt(wait_s=None)
            finally:
                with self._asks:
                    self._served = target
                    self._asks.notify_all()

    def _attempt(self, *, wait_s: float | None) -> bool:
        """One pass; True when the graph took everything pending (the breaker is closed then)."""
        try:
            progress = self._projector.catch_up(wait_s=wait_s)
        except Exception as exc:  # noqa: BLE001 - any graph failure only delays the projection
            self._open(f"{type(exc).__name__}: {exc}")
            return False
        if progress.skipped:
            log.info("graph projection held elsewhere; will retry", holder=progress.held_by)
            return False
        with self._state:
            was_open, self._opened_at = self._opened_at is not None, None
        if was_open:
            log.info("graph projection caught up; writes project synchronously again", position=progress.position)
        if progress.applied:
            log.debug("graph projected", applied=progress.applied, position=progress.position)
        return True

    def _open(self, reason: str) -> None:
        with self._state:
            was_open = self._opened_at is not None
            self._opened_at = time.monotonic()
        if was_open:
            log.debug("graph projection still behind", error=reason)
        else:
            log.warning(
                "graph projection behind; writes no longer wait for it, retrying in the background", error=reason
            )
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="graph-projection", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._opened_at is not None:
                # Breaker open: retry on a fixed cadence, however many writes ask for it.
                if self._stop.wait(self.retry_s):
                    return
            else:
                self._wake.wait(self.interval_s)
                if self._stop.is_set():
                    return
            self._wake.clear()
            self._attempt(wait_s=None)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._asks:
            self._asks.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)
            self._thread = None
        if self._kicker is not None:
            # A pass still running is given a moment; it stops at the process's end otherwise.
            self._kicker.join(timeout=self.kick_budget_s)
            self._kicker = None

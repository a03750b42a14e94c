from __future__ import annotations

import threading
import time

import structlog

from planning.services.projection import GraphProjector

log = structlog.get_logger("planner.projection")


class ProjectionRunner:
    """Runs graph projection passes on one worker thread: after commits, for readers, and on a timer.

    * ``kick()`` (after each commit that wrote events) asks for a pass and waits for it at most
      ``kick_budget_s``: a write never waits longer for the graph, however slow it is. A pass
      that runs over the budget goes on in the background.
    * ``catch_up_to(position, wait_s)`` (the planning ``ProjectionDriver``) is how a reader gets
      a fresh graph: it asks for passes until the checkpoint reaches ``position`` or ``wait_s``
      runs out, and answers the checkpoint reached.
    * After ``start()`` (the server), the worker also runs a pass every ``interval_s``, so changes
      committed by other processes (the CLI, another server) reach the graph without a reader.

    When a pass fails, a circuit breaker opens: kicks stop waiting for the graph at all, readers
    answer at once from the checkpoint (so they say UNAVAILABLE rather than hang), and passes
    are retried every ``retry_s`` (by the timer, or without one by the next kick or reader).
    The first pass that succeeds closes it. Failures are logged, never raised into the write
    that triggered them: it is committed.

    A pass waits at most ``lock_wait_s`` for the projection lock when another process holds it;
    a reader keeps asking until its own deadline.
    """

    def __init__(
        self,
        projector: GraphProjector,
        *,
        interval_s: float = 5.0,
        retry_s: float = 3.0,
        kick_budget_s: float = 2.0,
        lock_wait_s: float = 1.0,
    ) -> None:
        self._projector = projector
        self.interval_s = interval_s
        self.retry_s = retry_s
        self.kick_budget_s = kick_budget_s
        self.lock_wait_s = lock_wait_s
        self._periodic = False
        self._stopping = False
        self._failed_at: float | None = None
        self._worker: threading.Thread | None = None
        # Asks are numbered; ``_served`` is the last ask that a finished pass covered (a pass
        # covers every ask made before it began).
        self._cond = threading.Condition()
        self._asked = 0
        self._served = 0
        self._running = False
        self._kicked = False  # this process committed events since it started

    @property
    def breaker_open(self) -> bool:
        return self._failed_at is not None

    def _retry_due(self) -> bool:
        failed_at = self._failed_at
        return failed_at is None or time.monotonic() - failed_at >= self.retry_s

    # -- asking for passes -----------------------------------------------------------------

    def _ensure_worker(self) -> None:
        """Caller holds ``_cond``."""
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="graph-projection", daemon=True)
            self._worker.start()

    def _request_pass(self, deadline: float) -> bool:
        """Ask for a pass that starts from now; wait until one covered it or ``deadline``."""
        with self._cond:
            if self._stopping:
                return False
            self._ensure_worker()
            self._asked += 1
            mine = self._asked
            self._cond.notify_all()
            while self._served < mine:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping:
                    return False
                self._cond.wait(left)
            return True

    def kick(self) -> None:
        self._kicked = True
        if self._failed_at is not None and (self._periodic or not self._retry_due()):
            return  # the breaker is open: the timer (or a later kick) retries, not this write
        if not self._request_pass(time.monotonic() + self.kick_budget_s):
            log.info("graph projection is taking longer than a write waits; it goes on in the background")

    def catch_up_to(self, position: int, wait_s: float) -> int:
        deadline = time.monotonic() + wait_s
        reached = self._projector.position()
        while reached < position and time.monotonic() < deadline:
            if not self._retry_due():
                break  # the graph failed moments ago: answer now, the retry comes on its own
            if not self._request_pass(deadline):
                break
            reached = self._projector.position()
        return reached

    # -- the worker --------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                while self._served >= self._asked and not self._stopping:
                    if not self._periodic:
                        self._cond.wait()
                        continue
                    wait = self.retry_s if self._failed_at is not None else self.interval_s
                    if not self._cond.wait(wait):
                        break  # timer: a pass nobody asked for
                if self._stopping:
                    return
                target = self._asked
                self._running = True
            try:
                self._attempt()
            finally:
                with self._cond:
                    self._running = False
                    self._served = max(self._served, target)
                    self._cond.notify_all()

    def _attempt(self) -> None:
        try:
            progress = self._projector.catch_up(wait_s=self.lock_wait_s)
        except Exception as exc:  # noqa: BLE001 - any graph failure only delays the projection
            was_open, self._failed_at = self._failed_at is not None, time.monotonic()
            if was_open:
                log.debug("graph projection still failing", error=f"{type(exc).__name__}: {exc}")
            else:
                log.warning(
                    "graph projection failed; writes no longer wait for it, retrying in the background",
                    error=f"{type(exc).__name__}: {exc}",
                )
            return
        if progress.busy:
            log.debug("graph projection held by another process; will retry")
            return
        if self._failed_at is not None:
            self._failed_at = None
            log.info("graph projection caught up; writes project synchronously again", position=progress.position)
        if progress.applied:
            log.debug("graph projected", applied=progress.applied, position=progress.position)

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Also run a pass every ``interval_s`` (the server does; one-off commands do not)."""
        with self._cond:
            self._periodic = True
            self._ensure_worker()
            self._cond.notify_all()

    def stop(self, *, finish_s: float = 0.0) -> bool:
        """Stop the worker, first projecting what this process committed for up to ``finish_s``.

        A one-off command's kick may have found the lock held by a server's periodic pass; it
        keeps asking until the checkpoint reaches the end of the outbox, so the import it ran is
        in the graph when it exits rather than left to a server that may be slow to take it.
        A pass still running after ``finish_s`` is abandoned: its thread is a daemon, and the
        projection lock dies with the process. True when no pass was left running.
        """
        deadline = time.monotonic() + finish_s
        if self._kicked and finish_s > 0:
            self.catch_up_to(self._projector.outbox_end(), finish_s)
        with self._cond:
            while self._running and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            self._stopping = True
            self._cond.notify_all()
            running = self._running
        worker = self._worker
        if worker is not None and not running:
            worker.join(timeout=1.0)
        self._worker = None
        return not running

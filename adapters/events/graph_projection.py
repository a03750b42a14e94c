from __future__ import annotations

import threading

import structlog

from planning.services.projection import GraphProjector

log = structlog.get_logger("planner.projection")


class ProjectionRunner:
    """Keeps the graph caught up with the outbox: right after each commit, and every few seconds.

    Projecting right after a commit gives the local API read-your-writes on graph questions;
    the periodic pass retries after the graph was unreachable. Failures are logged, never
    raised into the write that triggered them: the write is committed already.
    """

    def __init__(self, projector: GraphProjector, *, interval_s: float = 5.0) -> None:
        self._projector = projector
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        try:
            progress = self._projector.catch_up()
        except Exception as exc:  # noqa: BLE001 - any graph failure only delays the projection
            log.warning("graph projection behind; will retry", error=f"{type(exc).__name__}: {exc}")
            return
        if progress.applied:
            log.debug("graph projected", applied=progress.applied, position=progress.position)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="graph-projection", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.kick()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 5)
            self._thread = None

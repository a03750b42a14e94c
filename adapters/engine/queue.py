from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import structlog

log = structlog.get_logger("planner.simulations")


class SimulationRunner(Protocol):
    """Runs one simulation by id; stops early (leaving it QUEUED) once ``should_stop`` answers True."""

    def __call__(self, simulation_id: str, *, should_stop: Callable[[], bool]) -> object: ...


class ThreadSimulationQueue:
    """Runs simulations on a small thread pool, one at a time by default.

    numpy does the heavy lifting outside the GIL, so the API stays responsive; on AWS the
    same port is an asynchronous Lambda invocation.
    """

    def __init__(self, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simulation")
        self._run: SimulationRunner | None = None
        self._stopping = threading.Event()
        self._futures: set[Future[None]] = set()
        # Runs submitted and not started yet: the periodic sweep may submit them again.
        self._waiting: set[str] = set()
        self._lock = threading.Lock()

    def bind(self, run: SimulationRunner) -> None:
        """The function that runs one simulation by id (the service's ``execute``)."""
        self._run = run

    @property
    def waiting(self) -> int:
        """Runs submitted whose job has not started yet."""
        with self._lock:
            return len(self._waiting)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def submit(self, simulation_id: str) -> None:
        """Queue a run. After shutdown it stays QUEUED in the store (another process's sweep or
        the next start's recover() runs it); a run already waiting here is not queued twice."""
        if self._run is None:
            raise RuntimeError("the simulation queue has no runner bound")
        should_stop = self._stopping.is_set

        def job() -> None:
            with self._lock:
                self._waiting.discard(simulation_id)
                run = self._run  # the runner bound now, not at submission
            if should_stop() or run is None:
                return
            try:
                run(simulation_id, should_stop=should_stop)
            except Exception:
                log.exception("simulation worker failed", simulation_id=simulation_id)

        with self._lock:
            # Under the lock that shutdown() takes to set _stopping: no submit slips in between.
            if self._stopping.is_set():
                log.info("simulation left queued: the queue is shutting down", simulation_id=simulation_id)
                return
            if simulation_id in self._waiting:
                return
            future = self._pool.submit(job)
            self._waiting.add(simulation_id)
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop promptly: pending runs are cancelled (they stay QUEUED in the store for the next
        start's recovery) and a running one is asked to stop at its next progress report, which
        puts it back to QUEUED. ``wait`` waits for that running one to let go."""
        with self._lock:
            self._stopping.set()
            pending = list(self._futures)
        cancelled = sum(1 for f in pending if f.cancel())
        if cancelled:
            log.info("queued simulations left for the next start", count=cancelled)
        self._pool.shutdown(wait=wait, cancel_futures=True)

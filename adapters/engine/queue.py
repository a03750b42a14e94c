from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import structlog

log = structlog.get_logger("planner.simulations")


class ThreadSimulationQueue:
    """Runs simulations on a small thread pool, one at a time by default.

    numpy does the heavy lifting outside the GIL, so the API stays responsive; on AWS the
    same port is an asynchronous Lambda invocation.
    """

    def __init__(self, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simulation")
        self._run: Callable[[str], object] | None = None

    def bind(self, run: Callable[[str], object]) -> None:
        """The function that runs one simulation by id (the service's ``execute``)."""
        self._run = run

    def submit(self, simulation_id: str) -> None:
        if self._run is None:
            raise RuntimeError("the simulation queue has no runner bound")
        run = self._run

        def job() -> None:
            try:
                run(simulation_id)
            except Exception:
                log.exception("simulation worker failed", simulation_id=simulation_id)

        self._pool.submit(job)

    def shutdown(self, *, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

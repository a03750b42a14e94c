"""What a Lambda container runs on: the store, the graph and the services, opened once, lazily.

Unlike ``adapters.bootstrap.bootstrap()`` (a server), it migrates nothing (migrations are a
one-off function of their own), and starts no background loop: the graph projection runs in the
caller, after each commit and before a read that needs it, and simulation runs stay QUEUED for the
simulation worker (``queue`` replaces that with SQS). Everything async runs on one event loop per
container, so its worker threads are made once, not per invocation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from planning.services.projection import GraphProjector

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from adapters.config import Settings
    from planning.ports.simulation import SimulationQueue
    from planning.services.registry import PlanningServices

log = logging.getLogger("planner.appsync")
T = TypeVar("T")


class QueuedForWorker:
    """A run is left QUEUED in the store, where the simulation worker picks it up."""

    def submit(self, simulation_id: str) -> None:
        log.info("simulation %s queued for the worker", simulation_id)


class InlineProjection:
    """The graph projection, run by whoever needs it (a Lambda has no background thread)."""

    def __init__(self, projector: GraphProjector) -> None:
        self._projector = projector

    def kick(self) -> None:
        """After a commit: apply it to the graph now; a graph that fails only delays it."""
        try:
            self._projector.catch_up()
        except (ConnectionError, OSError, TimeoutError):
            log.warning("graph projection failed; the next reader retries it", exc_info=True)

    def catch_up_to(self, position: int, wait_s: float) -> int:
        try:
            return self._projector.catch_up(wait_s=wait_s, until=position).position
        except (ConnectionError, OSError, TimeoutError):
            log.warning("graph projection failed", exc_info=True)
            return self._projector.position()


@dataclass
class LambdaRuntime:
    services: PlanningServices
    loop: asyncio.AbstractEventLoop
    #: The store's engine (statement counts in tests).
    engine: Engine
    #: Lets go of the graph and the store (a container never needs it; tests do).
    release: Callable[[], None]

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        self.loop.close()
        self.release()


def build_runtime(settings: Settings, *, queue: SimulationQueue | None = None) -> LambdaRuntime:
    """Open the store and the graph and wire the services; connections open on first use."""
    from adapters.bootstrap import GRAPH_PROJECTION_LOCK
    from adapters.engine.scheduler import EngineScheduler
    from adapters.engine.simulator import EngineSimulator
    from adapters.engine.variant_scorer import EngineVariantScorer
    from adapters.graph import open_graph
    from adapters.graph.confined import ThreadConfinedGraph
    from adapters.locks import process_lock
    from adapters.memo import LruMemo
    from adapters.sql import SqlUnitOfWork, create_store_engine
    from adapters.system import SystemClock, TimeOrderedIds
    from planning.services.base import ServiceDeps
    from planning.services.registry import PlanningServices

    engine = create_store_engine(settings.database_url)
    handle = open_graph(settings.graph_url)
    graph = ThreadConfinedGraph(handle.graph, close=handle.close)
    projector = GraphProjector(lambda: SqlUnitOfWork(engine), graph, process_lock(engine, GRAPH_PROJECTION_LOCK))
    projection = InlineProjection(projector)
    deps = ServiceDeps(
        uow=lambda: SqlUnitOfWork(engine, on_commit=projection.kick),
        clock=SystemClock(),
        ids=TimeOrderedIds(),
    )
    services = PlanningServices.build(
        deps,
        graph=graph,
        scheduler=EngineScheduler(),
        simulator=EngineSimulator(),
        simulation_queue=queue or QueuedForWorker(),
        projection=projection,
        maintenance_lock=process_lock(engine, GRAPH_PROJECTION_LOCK),
        freshness_wait_s=settings.graph_wait_s,
        memo=LruMemo(settings.graph_memo_size) if settings.graph_memo_size else None,
        scorer=EngineVariantScorer(),
        lock_for=lambda name: process_lock(engine, name),
    )

    def release() -> None:
        graph.close()
        engine.dispose()

    return LambdaRuntime(services=services, loop=asyncio.new_event_loop(), engine=engine, release=release)

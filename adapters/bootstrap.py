"""The composition root: settings in, a wired application out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from adapters.config import Settings
from adapters.engine.queue import ThreadSimulationQueue
from adapters.engine.scheduler import EngineScheduler
from adapters.engine.simulator import EngineSimulator
from adapters.events.graph_projection import ProjectionRunner
from adapters.graph import open_graph
from adapters.graph.confined import ThreadConfinedGraph
from adapters.identity import HeaderIdentity
from adapters.sql import SqlUnitOfWork, create_store_engine, upgrade
from adapters.system import SystemClock, TimeOrderedIds
from planning.principal import Principal
from planning.services.base import ServiceDeps
from planning.services.projection import GraphProjector
from planning.services.registry import PlanningServices
from resolvers.context import RequestContext


@dataclass
class Application:
    settings: Settings
    engine: Engine
    graph: ThreadConfinedGraph
    services: PlanningServices
    projector: GraphProjector
    projection: ProjectionRunner
    simulation_queue: ThreadSimulationQueue
    identity: HeaderIdentity

    def context(self, principal: Principal) -> RequestContext:
        return RequestContext(services=self.services, principal=principal)

    def close(self) -> None:
        # Cancels queued runs and stops a running one at its next progress report (both stay
        # QUEUED in the store for the next start's recover()), so closing does not wait them out.
        self.simulation_queue.shutdown(wait=True)
        self.projection.stop()
        self.graph.close()
        self.engine.dispose()


def bootstrap(settings: Settings, *, migrate: bool = True) -> Application:
    engine = create_store_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    handle = open_graph(settings.graph_url)
    graph = ThreadConfinedGraph(handle.graph, close=handle.close)
    clock = SystemClock()
    # The projector's own units of work trigger no projection; the services' ones kick it after
    # each commit (synchronously while the graph is healthy, see ProjectionRunner's breaker).
    projector = GraphProjector(lambda: SqlUnitOfWork(engine), graph)
    projection = ProjectionRunner(projector)
    deps = ServiceDeps(uow=lambda: SqlUnitOfWork(engine, on_commit=projection.kick), clock=clock, ids=TimeOrderedIds())
    identity = HeaderIdentity(
        Principal(settings.dev_user, frozenset(settings.dev_groups)), trust_headers=settings.identity_headers
    )
    queue = ThreadSimulationQueue()
    services = PlanningServices.build(
        deps, graph=graph, scheduler=EngineScheduler(), simulator=EngineSimulator(), simulation_queue=queue
    )
    queue.bind(services.simulations.execute)
    return Application(
        settings=settings,
        engine=engine,
        graph=graph,
        services=services,
        projector=projector,
        projection=projection,
        simulation_queue=queue,
        identity=identity,
    )

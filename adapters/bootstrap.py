"""The composition root: settings in, a wired application out."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import Engine

from adapters.config import Settings
from adapters.engine.queue import ThreadSimulationQueue
from adapters.engine.scheduler import EngineScheduler
from adapters.engine.simulator import EngineSimulator
from adapters.engine.variant_scorer import EngineVariantScorer
from adapters.events.agent_runner import AgentRunner
from adapters.events.graph_projection import ProjectionRunner
from adapters.events.live import OutboxBroker, after_commit, open_broker
from adapters.graph import open_graph
from adapters.graph.confined import ThreadConfinedGraph
from adapters.identity import Authenticator, build_identity
from adapters.locks import process_lock
from adapters.memo import LruMemo
from adapters.msgraph import planner_graph_from_settings
from adapters.sql import SqlUnitOfWork, create_store_engine, upgrade
from adapters.sql.shared_reads import SharedReads, shared_reads, unit_of_work_factory
from adapters.system import SystemClock, ThreadBackground, TimeOrderedIds
from planning.ports import DependencyGraph
from planning.ports.simulation import RiskSimulator
from planning.principal import Principal
from planning.services.agent_trigger import AgentTrigger
from planning.services.base import ServiceDeps
from planning.services.projection import GraphProjector
from planning.services.registry import PlanningServices
from resolvers.context import RequestContext

#: The one lock that a projector or a rebuild holds while it writes the graph.
GRAPH_PROJECTION_LOCK = "graph-projection"
#: Connections kept for requests at most, whatever ``max_in_flight`` admits (PostgreSQL's own
#: limit is 100 by default); requests beyond them wait for a connection.
MAX_POOLED_REQUESTS = 40
#: The one lock that the optimisation agent's trigger holds while it works through the outbox.
AGENT_TRIGGER_LOCK = "optimisation-agent"


@dataclass
class Application:
    settings: Settings
    engine: Engine
    graph: ThreadConfinedGraph
    services: PlanningServices
    projector: GraphProjector
    projection: ProjectionRunner
    simulation_queue: ThreadSimulationQueue
    identity: Authenticator
    #: Live subscriptions' broker (started by the server; a one-off command only wakes nobody).
    events: OutboxBroker
    #: The optimisation agent's background trigger; a server starts it (``agent_background``).
    agent: AgentRunner | None = None

    def context(self, principal: Principal) -> RequestContext:
        return RequestContext(services=self.services, principal=principal)

    def shared_reads(self) -> AbstractContextManager[SharedReads]:
        """A scope in which the services' reads share one read-only transaction (a query's)."""
        return shared_reads(self.engine)

    def close(self, *, finish_projection_s: float = 0.0) -> None:
        """Let go of everything; a projection pass under way may finish for ``finish_projection_s``.

        A one-off command that wrote gives its pass time to finish, so what it committed is in
        the graph when it exits; a server stops at once (the next process takes over at once
        too: the projection lock dies with its holder).
        """
        # Cancels queued runs and stops a running one at its next progress report (both stay
        # QUEUED in the store for the next start's recover()), so closing does not wait them out.
        self.simulation_queue.shutdown(wait=True)
        if self.agent is not None:
            self.agent.stop()
        self.projection.stop(finish_s=finish_projection_s)
        self.events.stop()
        self.graph.close()
        self.engine.dispose()


def bootstrap(
    settings: Settings,
    *,
    migrate: bool = True,
    wrap_graph: Callable[[DependencyGraph], DependencyGraph] | None = None,
    simulator: RiskSimulator | None = None,
) -> Application:
    """``wrap_graph`` decorates the graph connection (tests put a fault-injecting double there);
    ``simulator`` replaces the Monte Carlo engine (tests put a scripted one there)."""
    # A query holds one connection for its whole run (adapters.sql.shared_reads), graph waits
    # included: room for every request admitted at once, beside the projection, the locks, the
    # live broker's listener and the workers.
    engine = create_store_engine(
        settings.database_url, pool_size=min(settings.max_in_flight, MAX_POOLED_REQUESTS) + 5, max_overflow=10
    )
    if migrate:
        upgrade(engine)
    handle = open_graph(settings.graph_url)
    inner: DependencyGraph = handle.graph if wrap_graph is None else wrap_graph(handle.graph)
    graph = ThreadConfinedGraph(inner, close=handle.close)
    clock = SystemClock()
    # The projector's own units of work trigger no projection; the services' ones kick it after
    # each commit (synchronously while the graph is healthy, see ProjectionRunner's breaker).
    projector = GraphProjector(lambda: SqlUnitOfWork(engine), graph, process_lock(engine, GRAPH_PROJECTION_LOCK))
    projection = ProjectionRunner(projector)
    agent_kick: list[Callable[[], None]] = []
    events = open_broker(engine, settings)

    def kick_agent() -> None:
        for kick in agent_kick:
            kick()

    deps = ServiceDeps(
        # Inside a query's scope (adapters.sql.shared_reads), blocks on its one read transaction.
        uow=unit_of_work_factory(engine, on_commit=after_commit(events.wake, projection.kick, kick_agent)),
        clock=clock,
        ids=TimeOrderedIds(),
    )
    identity = build_identity(settings)
    queue = ThreadSimulationQueue()
    services = PlanningServices.build(
        deps,
        graph=graph,
        scheduler=EngineScheduler(),
        simulator=simulator if simulator is not None else EngineSimulator(),
        simulation_queue=queue,
        background=ThreadBackground(),
        projection=projection,
        maintenance_lock=process_lock(engine, GRAPH_PROJECTION_LOCK),
        freshness_wait_s=settings.graph_wait_s,
        memo=LruMemo(settings.graph_memo_size) if settings.graph_memo_size else None,
        scorer=EngineVariantScorer(),
        # Microsoft Planner sync: Graph when configured; each plan's syncs take turns on a process lock.
        planner_graph=planner_graph_from_settings(
            url=settings.msgraph_url,
            token=settings.msgraph_token,
            tenant_id=settings.msgraph_tenant_id,
            client_id=settings.msgraph_client_id,
            client_secret=settings.msgraph_client_secret,
            authority_host=settings.msgraph_authority,
            client_secret_arn=settings.msgraph_client_secret_arn,
            client_certificate_path=settings.msgraph_client_certificate_path,
            client_certificate_password=settings.msgraph_client_certificate_password,
        ),
        lock_for=lambda name: process_lock(engine, name),
    )
    queue.bind(services.simulations.execute)
    agent = AgentRunner(AgentTrigger(deps.uow, services.actions, process_lock(engine, AGENT_TRIGGER_LOCK)))
    agent_kick.append(agent.kick)
    return Application(
        settings=settings,
        engine=engine,
        graph=graph,
        services=services,
        projector=projector,
        projection=projection,
        simulation_queue=queue,
        identity=identity,
        agent=agent,
        events=events,
    )

"""What a Lambda container builds once and keeps: the store, the graph, the planning services.

Unlike ``adapters.bootstrap`` (the local server), nothing here migrates (that is the migrate
function's job), starts a thread or a background loop, or connects at import: every part is
built on first use, once per container, and each invocation reuses it. The graph projection is
driven inline (a reader that needs the graph current applies the outbox itself, under the
projection's process lock); runs are queued on SQS for the worker function.

``PLANNER_DATABASE_IAM_AUTH=1``: the database password is an RDS IAM token made per connection.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AbstractContextManager
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from adapters.config import Settings

# The store, the graph and the services are imported by the properties that build them: importing
# this module (every function's cold start) loads none of SQLAlchemy, gremlinpython or the engine.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from adapters.graph.confined import ThreadConfinedGraph
    from planning.ports import UnitOfWorkFactory
    from planning.ports.simulation import SimulationQueue
    from planning.services.projection import GraphProjector
    from planning.services.registry import PlanningServices
    from planning.services.simulation_fanout import SimulationFanout

T = TypeVar("T")

#: The process lock of the graph projection (the same name as the local server's).
GRAPH_PROJECTION_LOCK = "graph-projection"


def boto3_client(service: str) -> Any:
    import boto3  # loaded by the functions that talk to AWS, not at import

    return boto3.client(service)


class InlineProjection:
    """The projection driver of a process without a projection thread: catching up to a
    position is a pass made there and then (waiting at most ``wait_s`` for the lock)."""

    def __init__(self, projector: GraphProjector) -> None:
        self._projector = projector

    def catch_up_to(self, position: int, wait_s: float) -> int:
        return self._projector.catch_up(wait_s=wait_s, until=position).position


class NoQueue:
    """Where runs cannot be queued (no ``PLANNER_SIMULATION_QUEUE_URL``): the worker functions
    run what they are handed and request nothing."""

    def submit(self, simulation_id: str) -> None:
        raise RuntimeError("no simulation queue here: set PLANNER_SIMULATION_QUEUE_URL")


class LambdaRuntime:
    """One per container. ``client`` makes boto3 clients (tests hand in moto's or fakes);
    ``settings``, when given, replaces those read from ``env``; ``simulation_queue`` replaces
    the SQS queue (tests)."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        settings: Settings | None = None,
        client: Callable[[str], Any] = boto3_client,
        simulation_queue: SimulationQueue | None = None,
    ) -> None:
        self.env = dict(os.environ if env is None else env)
        self.settings = Settings.from_env(self.env) if settings is None else settings
        self._client = client
        self._clients: dict[str, Any] = {}
        self._queue = simulation_queue

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._client(service)
        return self._clients[service]

    @cached_property
    def engine(self) -> Engine:
        from adapters.sql import create_store_engine
        from adapters.sql.iam_auth import use_iam_auth

        engine = create_store_engine(self.settings.database_url)
        if self.env.get("PLANNER_DATABASE_IAM_AUTH", "").strip() in {"1", "true", "yes"}:
            use_iam_auth(engine, self.client("rds"), self.env.get("AWS_REGION"))
        return engine

    @property
    def uow(self) -> UnitOfWorkFactory:
        from adapters.sql.shared_reads import unit_of_work_factory

        # Inside an invocation's read scope (``shared_reads``), blocks on its one read transaction.
        return unit_of_work_factory(self.engine)

    def shared_reads(self) -> AbstractContextManager[Any]:
        """A scope in which the services' reads share one read-only transaction (adapters.sql.shared_reads)."""
        from adapters.sql.shared_reads import shared_reads

        return shared_reads(self.engine)

    @cached_property
    def graph(self) -> ThreadConfinedGraph:
        """One graph connection per container, on a thread of its own (gremlite's SQLite
        connection belongs to one thread, and the resolvers' service calls run in worker threads)."""
        from adapters.graph import open_graph
        from adapters.graph.confined import ThreadConfinedGraph

        handle = open_graph(self.settings.graph_url, region=self.env.get("AWS_REGION"))
        return ThreadConfinedGraph(handle.graph, close=handle.close)

    @cached_property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The container's one event loop: the resolvers are coroutines, and the loop's worker
        threads are made once, not per invocation."""
        return asyncio.new_event_loop()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        """Lets go of the loop, the graph and the store (a container never needs it; tests do)."""
        if "loop" in self.__dict__:
            self.loop.close()
        if "graph" in self.__dict__:
            self.graph.close()
        if "engine" in self.__dict__:
            self.engine.dispose()

    @cached_property
    def simulation_queue(self) -> SimulationQueue:
        if self._queue is not None:
            return self._queue
        url = self.env.get("PLANNER_SIMULATION_QUEUE_URL", "").strip()
        if not url:
            return NoQueue()
        from adapters.appsync.sqs_queue import SqsSimulationQueue

        return SqsSimulationQueue(self.client("sqs"), url)

    @cached_property
    def services(self) -> PlanningServices:
        from adapters.engine.scheduler import EngineScheduler
        from adapters.engine.simulator import EngineSimulator
        from adapters.engine.variant_scorer import EngineVariantScorer
        from adapters.locks import process_lock
        from adapters.memo import LruMemo
        from adapters.system import SystemClock, ThreadBackground, TimeOrderedIds
        from planning.services.base import ServiceDeps
        from planning.services.projection import GraphProjector
        from planning.services.registry import PlanningServices

        engine = self.engine
        graph = self.graph
        from adapters.sql import SqlUnitOfWork

        # The projector writes (it catches up inline here): units of work of its own, even inside a
        # query's read scope.
        projector = GraphProjector(lambda: SqlUnitOfWork(engine), graph, process_lock(engine, GRAPH_PROJECTION_LOCK))
        deps = ServiceDeps(uow=self.uow, clock=SystemClock(), ids=TimeOrderedIds())
        return PlanningServices.build(
            deps,
            graph=graph,
            scheduler=EngineScheduler(),
            simulator=EngineSimulator(),
            simulation_queue=self.simulation_queue,
            # The heartbeat of a run is a thread only while that run goes (the worker's invocation).
            background=ThreadBackground(),
            projection=InlineProjection(projector),
            maintenance_lock=process_lock(engine, GRAPH_PROJECTION_LOCK),
            freshness_wait_s=self.settings.graph_wait_s,
            memo=LruMemo(self.settings.graph_memo_size) if self.settings.graph_memo_size else None,
            scorer=EngineVariantScorer(),
            planner_graph=self.planner_graph(),
            lock_for=lambda name: process_lock(engine, name),
        )

    @cached_property
    def fanout(self) -> SimulationFanout:
        """Large runs over shards; the size comes from ``PLANNER_SIMULATION_FANOUT_ITERATIONS``."""
        from adapters.engine.shards import EngineShards
        from adapters.sql.shard_results import SqlShardResults
        from planning.services.simulation_fanout import FANOUT_ITERATIONS, SimulationFanout

        size = self.env.get("PLANNER_SIMULATION_FANOUT_ITERATIONS", "").strip()
        return SimulationFanout(
            self.services.simulations,
            EngineShards(),
            SqlShardResults(self.engine),
            fanout_iterations=int(size) if size else FANOUT_ITERATIONS,
        )

    def planner_graph(self) -> Any:
        """Microsoft Graph for the Planner sync: the settings' (``PLANNER_MSGRAPH_*``), or the
        JSON secret ``{tenantId, clientId, clientSecret}`` at ``PLANNER_MSGRAPH_SECRET_ARN``."""
        from adapters.msgraph import planner_graph_from_settings

        s = self.settings
        tenant_id, client_id, client_secret = s.msgraph_tenant_id, s.msgraph_client_id, s.msgraph_client_secret
        secret_arn = self.env.get("PLANNER_MSGRAPH_SECRET_ARN", "").strip()
        if secret_arn and not (tenant_id and client_id):
            import json

            value = json.loads(self.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])
            tenant_id, client_id, client_secret = value["tenantId"], value["clientId"], value["clientSecret"]
        return planner_graph_from_settings(
            url=s.msgraph_url,
            token=s.msgraph_token,
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            authority_host=s.msgraph_authority,
            client_secret_arn=s.msgraph_client_secret_arn,
        )


_RUNTIMES: dict[tuple[tuple[str, str], ...], LambdaRuntime] = {}


def runtime() -> LambdaRuntime:
    """The container's runtime, made on the first invocation that needs it and kept.

    Kept per configuration (the ``PLANNER_*`` environment), which never changes in a container;
    a process that runs several configurations one after another (the tests) gets one each.
    """
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PLANNER_")))
    if key not in _RUNTIMES:
        _RUNTIMES[key] = LambdaRuntime()
    return _RUNTIMES[key]

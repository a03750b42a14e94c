"""``/metrics``: the server in Prometheus text format (``prometheus-client``).

Counted as requests pass (``RequestLog`` records each one):

* ``planner_graphql_requests_total{operation, outcome}``: GraphQL requests by operation name and
  outcome (``ok``, ``partial``: data with errors, ``error``: no data, or ``http_<status>`` for a
  request the edge refused before GraphQL ran: 400, 401, 413, 503, ...);
* ``planner_graphql_request_duration_seconds{operation}``: their latency, a histogram;
* ``planner_subscriptions_open``: the subscriptions following the live broker now.

Read from the store when scraped (off the event loop):

* ``planner_simulations{status}``: simulation runs by status;
* ``planner_projection_lag_messages``: outbox messages the graph has not applied yet
  (``GraphProjector.pending()``: the outbox's end minus the graph's checkpoint);
* ``planner_outbox_backlog_messages{consumer}``: for each outbox consumer, the messages past its
  checkpoint.

Operation names come from clients: a name that is not a GraphQL name, or one past the first
``MAX_OPERATION_NAMES`` seen, is counted as ``other``, so a client cannot grow the series
without bound. An operation without a name is ``anonymous``; a request refused before its
document was read is ``-``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from adapters.sql.tables import outbox, outbox_checkpoints, simulations
from planning.model.simulation import SimulationStatus

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from adapters.bootstrap import Application

log = structlog.get_logger("planner.metrics")

MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,99}$")
#: Latency buckets in seconds: from a cached read to a long graph question.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """One server's metrics, in a registry of its own (so that servers in one process, such as
    tests', count apart)."""

    def __init__(self, app: Application | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "planner_graphql_requests",
            "GraphQL requests by operation name and outcome.",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "planner_graphql_request_duration_seconds",
            "GraphQL request latency by operation name, in seconds.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.subscriptions_open = Gauge(
            "planner_subscriptions_open",
            "GraphQL subscriptions open on this process.",
            registry=self.registry,
        )
        if app is not None:  # each open subscription follows the live broker: counted at scrape time
            self.subscriptions_open.set_function(lambda: app.events.follower_count)
        self._names: set[str] = set()
        if app is not None:
            self.registry.register(StoreCollector(app))

    def operation_label(self, name: str | None) -> str:
        if name is None:
            return "anonymous"
        if not _NAME.match(name):
            return "other"
        if name not in self._names:
            if len(self._names) >= MAX_OPERATION_NAMES:
                return "other"
            self._names.add(name)
        return name

    def record(self, operation: str, outcome: str, duration_s: float) -> None:
        self.requests.labels(operation, outcome).inc()
        self.latency.labels(operation).observe(duration_s)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, _request: Request) -> Response:
        body = await asyncio.to_thread(self.exposition)  # the store collector queries
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class StoreCollector(Collector):
    """What the store says at scrape time: simulations by status, the graph's lag, the outbox."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def describe(self) -> list[Metric]:
        return []  # no store query at registration

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._read()
        except Exception as exc:  # noqa: BLE001 - a scrape answers the process's own metrics even with the store down
            log.warning("metrics: the store did not answer", error=str(exc))

    def _read(self) -> list[Metric]:
        by_status = GaugeMetricFamily("planner_simulations", "Simulation runs by status.", labels=["status"])
        backlog = GaugeMetricFamily(
            "planner_outbox_backlog_messages",
            "Outbox messages past each consumer's checkpoint.",
            labels=["consumer"],
        )
        with self._app.engine.connect() as conn:
            counts = dict(conn.execute(select(simulations.c.status, func.count()).group_by(simulations.c.status)).all())
            end = conn.execute(select(func.coalesce(func.max(outbox.c.position), 0))).scalar_one()
            checkpoints = conn.execute(select(outbox_checkpoints.c.consumer, outbox_checkpoints.c.position)).all()
        for status in SimulationStatus:
            by_status.add_metric([status.value], counts.get(status.value, 0))
        for consumer, position in checkpoints:
            backlog.add_metric([consumer], max(0, end - position))
        lag = GaugeMetricFamily(
            "planner_projection_lag_messages",
            "Outbox messages the graph projection has not applied yet.",
            value=self._app.projector.pending(),
        )
        return [by_status, backlog, lag]

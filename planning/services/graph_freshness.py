"""Graph reads that are fresh, or refuse: never an answer from a graph that is behind."""

from __future__ import annotations

from typing import Protocol

from planning.ports import DependencyGraph, PlanGraph, UnitOfWorkFactory
from planning.ports.memo import Memo, NoMemo
from planning.services.projection import (
    GRAPH_CONSUMER,
    GRAPH_EVENT_KINDS,
    GRAPH_GENERATION,
    GraphBehind,
    ProjectionDriver,
)

#: How long a reader waits, by default, for the projection to apply a plan's last change.
FRESHNESS_WAIT_S = 5.0


class PlanGraphReader(Protocol):
    def plan_graph(self, plan_id: str) -> PlanGraph: ...


class FreshPlanGraphs:
    """Reads a plan's graph only once the projection has applied every committed change of it.

    The relational store is the truth; the graph follows through the outbox. Before reading,
    this compares the plan's last graph-changing outbox position with the projection's
    checkpoint. When the graph is behind, it asks the projection driver to catch up, waiting at
    most ``wait_s``; when that is not enough (the graph is down, the backlog is long), it raises
    GraphBehind (code UNAVAILABLE) instead of answering from an old graph.

    A plan's graph read once is kept in ``memo`` under the plan's last graph-changing outbox
    position and the graph's generation (which every rebuild bumps): no other write changes
    that plan's graph, so the entry holds until the plan changes again, in this process or any
    other, and the next request pays for one small SQL read instead of a graph traversal.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        graph: DependencyGraph,
        driver: ProjectionDriver,
        *,
        wait_s: float = FRESHNESS_WAIT_S,
        memo: Memo | None = None,
    ) -> None:
        self._uow = uow
        self._graph = graph
        self._driver = driver
        self._memo: Memo = memo if memo is not None else NoMemo()
        self.wait_s = wait_s

    def plan_graph(self, plan_id: str) -> PlanGraph:
        with self._uow() as uow:
            needed = uow.outbox.last_position_of(plan_id, GRAPH_EVENT_KINDS)
            reached, generation = uow.outbox.checkpoints(GRAPH_CONSUMER, GRAPH_GENERATION)
        key = ("plan-graph", plan_id, needed, generation)
        remembered: PlanGraph | None = self._memo.get(key)
        if remembered is not None:
            return remembered
        if reached < needed:
            reached = self._driver.catch_up_to(needed, self.wait_s)
        if reached < needed:
            raise GraphBehind(needed, reached)
        # Read after the check: the graph is at least as fresh as the checkpoint said.
        graph = self._graph.plan_graph(plan_id)
        self._memo.put(key, graph, weight=len(graph.tasks) + len(graph.edges))
        return graph

from __future__ import annotations

from dataclasses import dataclass

from planning.graph_projection import graph_edge, graph_task
from planning.ports import DependencyGraph, GraphEdge, GraphTask, UnitOfWorkFactory
from planning.ports.locks import ProcessLock
from planning.services.projection import GRAPH_CONSUMER, GRAPH_GENERATION, ProjectionBusy, ProjectionLockLost

# How long a rebuild waits for a projector (here or in another process) to let the graph go.
REBUILD_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class GraphDrift:
    """Where the graph differs from the relational store (the system of record)."""

    missing_tasks: tuple[str, ...] = ()
    extra_tasks: tuple[str, ...] = ()
    changed_tasks: tuple[str, ...] = ()
    missing_edges: tuple[str, ...] = ()
    extra_edges: tuple[str, ...] = ()
    changed_edges: tuple[str, ...] = ()
    pending_events: int = 0
    checked_plans: int = 0

    @property
    def in_sync(self) -> bool:
        return not (
            self.missing_tasks
            or self.extra_tasks
            or self.changed_tasks
            or self.missing_edges
            or self.extra_edges
            or self.changed_edges
        )


class GraphMaintenance:
    """Rebuild and drift check. ``lock`` is the projection's lock (a separate holder of it)."""

    def __init__(self, uow: UnitOfWorkFactory, graph: DependencyGraph, lock: ProcessLock) -> None:
        self._uow = uow
        self._graph = graph
        self._lock = lock

    def _expected(self) -> tuple[int, dict[str, GraphTask], dict[str, GraphEdge]]:
        with self._uow() as uow:
            position = uow.outbox.last_position()
            tasks: dict[str, GraphTask] = {}
            edges: dict[str, GraphEdge] = {}
            after: str | None = None
            while plans := uow.plans.page(after, 200):
                for plan in plans:
                    tasks.update((t.id, graph_task(t)) for t in uow.tasks.for_plan(plan.id))
                edges.update((d.id, graph_edge(d)) for d in uow.dependencies.for_plans([p.id for p in plans]))
                after = plans[-1].id
        return position, tasks, edges

    def rebuild(self, *, wait_s: float = REBUILD_WAIT_S) -> tuple[int, int]:
        """Replace the graph with what the relational store holds; the projector resumes after it.

        The rebuild holds the projection lock throughout, so no projector (in this process or
        another) applies events to the graph meanwhile; it waits up to ``wait_s`` for the lock
        and raises ProjectionBusy when it is still held.

        The outbox position is read before the data: changes committed in between are applied
        again by the projector, which is harmless because every graph write is idempotent.
        """
        if not self._lock.acquire(wait_s):
            raise ProjectionBusy()
        try:
            position, tasks, edges = self._expected()
            self._graph.clear()
            self._graph.bulk_load(list(tasks.values()), list(edges.values()))
            if not self._lock.still_held():
                raise ProjectionLockLost("the graph projection lock was lost during the rebuild; run it again")
            with self._uow() as uow:
                uow.outbox.save_checkpoint(GRAPH_CONSUMER, position)
                uow.outbox.save_checkpoint(GRAPH_GENERATION, uow.outbox.checkpoint(GRAPH_GENERATION) + 1)
                uow.commit()
        finally:
            self._lock.release()
        return len(tasks), len(edges)

    def check(self) -> GraphDrift:
        position, tasks, edges = self._expected()
        with self._uow() as uow:
            pending = position - uow.outbox.checkpoint(GRAPH_CONSUMER)
        plan_ids = {t.plan_id for t in tasks.values()} | set(self._graph.plan_ids())
        found_tasks: dict[str, GraphTask] = {}
        found_edges: dict[str, GraphEdge] = {}
        for plan_id in sorted(plan_ids):
            graph = self._graph.plan_graph(plan_id)
            found_tasks.update((t.task_id, t) for t in graph.tasks)
            found_edges.update((e.dependency_id, e) for e in graph.edges)
        return GraphDrift(
            missing_tasks=tuple(sorted(tasks.keys() - found_tasks.keys())),
            extra_tasks=tuple(sorted(found_tasks.keys() - tasks.keys())),
            changed_tasks=tuple(sorted(k for k in tasks.keys() & found_tasks.keys() if tasks[k] != found_tasks[k])),
            missing_edges=tuple(sorted(edges.keys() - found_edges.keys())),
            extra_edges=tuple(sorted(found_edges.keys() - edges.keys())),
            changed_edges=tuple(sorted(k for k in edges.keys() & found_edges.keys() if edges[k] != found_edges[k])),
            pending_events=max(pending, 0),
            checked_plans=len(plan_ids),
        )

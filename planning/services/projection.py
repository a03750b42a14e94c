from __future__ import annotations

import threading
from dataclasses import dataclass

from planning.events import OutboxMessage, PlanEventKind
from planning.graph_projection import graph_edge, graph_edge_from_snapshot, graph_task, graph_task_from_snapshot
from planning.ports import DependencyGraph, MissingVertex, UnitOfWorkFactory

GRAPH_CONSUMER = "graph"


@dataclass(frozen=True, slots=True)
class ProjectionProgress:
    applied: int
    position: int


class GraphProjector:
    """Applies the outbox to the dependency graph, in order, and records how far it got.

    The relational store is the system of record; the graph follows it. Every graph write is
    idempotent, so a message applied twice (after a crash between the write and the
    checkpoint) leaves the graph as applying it once, and a graph that is down only delays the
    projection: the checkpoint stays at the last message the graph took.
    """

    def __init__(self, uow: UnitOfWorkFactory, graph: DependencyGraph, *, batch_size: int = 500) -> None:
        self._uow = uow
        self._graph = graph
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def catch_up(self) -> ProjectionProgress:
        """Apply every message not applied yet; raise what the graph raised, keeping progress."""
        applied = 0
        with self._lock:
            position = self._checkpoint()
            while True:
                with self._uow() as uow:
                    batch = uow.outbox.read_after(position, self._batch_size)
                if not batch:
                    return ProjectionProgress(applied, position)
                done = position
                try:
                    for message in batch:
                        self._apply(message)
                        done = message.position
                        applied += 1
                finally:
                    if done > position:
                        self._save(done)
                        position = done

    def pending(self) -> int:
        with self._uow() as uow:
            return uow.outbox.last_position() - uow.outbox.checkpoint(GRAPH_CONSUMER)

    def _heal_edge(self, dependency_id: str) -> None:
        """An edge whose task vertex is missing: the graph lost the vertex, or the edge is gone.

        The relational store decides: a dependency it still holds gets its task vertices
        written again first; one it no longer holds is skipped (its removal is in the outbox).
        """
        with self._uow() as uow:
            dep = uow.dependencies.get(dependency_id)
            tasks = uow.tasks.get_many([dep.predecessor_id, dep.successor_id]) if dep else []
        if dep is None:
            return
        for task in tasks:
            self._graph.upsert_task(graph_task(task))
        self._graph.upsert_dependency(graph_edge(dep))

    def _checkpoint(self) -> int:
        with self._uow() as uow:
            return uow.outbox.checkpoint(GRAPH_CONSUMER)

    def _save(self, position: int) -> None:
        with self._uow() as uow:
            uow.outbox.save_checkpoint(GRAPH_CONSUMER, position)
            uow.commit()

    def _apply(self, message: OutboxMessage) -> None:
        event = message.event
        kind = event.kind
        if kind in (PlanEventKind.TASK_CREATED, PlanEventKind.TASK_UPDATED):
            self._graph.upsert_task(graph_task_from_snapshot(event.data))
        elif kind is PlanEventKind.TASK_DELETED:
            self._graph.remove_task(event.entity_id)
        elif kind is PlanEventKind.DEPENDENCY_ADDED:
            try:
                self._graph.upsert_dependency(graph_edge_from_snapshot(event.data))
            except MissingVertex:
                self._heal_edge(event.entity_id)
        elif kind is PlanEventKind.DEPENDENCY_REMOVED:
            self._graph.remove_dependency(event.entity_id)

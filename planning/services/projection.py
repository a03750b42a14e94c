"""The graph projection: the outbox applied to the dependency graph, in order, by one holder."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from planning.errors import DomainError, ErrorCode
from planning.events import OutboxMessage, PlanEventKind
from planning.graph_projection import graph_edge, graph_edge_from_snapshot, graph_task, graph_task_from_snapshot
from planning.ports import DependencyGraph, GraphEdge, MissingVertex, UnitOfWorkFactory
from planning.ports.locks import ProcessLock

GRAPH_CONSUMER = "graph"
#: Not a consumer: a counter kept beside the checkpoints, bumped by every rebuild of the graph,
#: so that what was remembered of the graph before a rebuild is never answered after it.
GRAPH_GENERATION = "graph:generation"
#: The events that change the graph. A plan's graph is fresh once the projection has applied
#: its last event of these kinds; other events (simulations, external events) leave it as it is.
GRAPH_EVENT_KINDS: frozenset[PlanEventKind] = frozenset(
    {
        PlanEventKind.TASK_CREATED,
        PlanEventKind.TASK_UPDATED,
        PlanEventKind.TASK_DELETED,
        PlanEventKind.DEPENDENCY_ADDED,
        PlanEventKind.DEPENDENCY_REMOVED,
        PlanEventKind.PLAN_DELETED,
    }
)

log = logging.getLogger("planner.projection")


@dataclass(frozen=True, slots=True)
class ProjectionProgress:
    """What a pass applied and where the checkpoint stands.

    ``busy``: another holder (a projector or a rebuild, here or in another process) had the
    projection lock for longer than the pass would wait, so the pass applied nothing.
    """

    applied: int
    position: int
    busy: bool = False


class ProjectionBusy(DomainError):
    """Another holder kept the projection lock for longer than the caller would wait."""

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.UNAVAILABLE,
            "the graph projection is busy: another `planner graph rebuild`, `planner graph project` or a "
            "server is applying events. Try again shortly.",
        )


class ProjectionLockLost(RuntimeError):
    """The projection lock was lost during a pass (its PostgreSQL session ended under it)."""


class GraphBehind(DomainError):
    """A plan's graph has not applied every committed change of that plan."""

    def __init__(self, needed: int, reached: int) -> None:
        super().__init__(
            ErrorCode.UNAVAILABLE,
            f"the dependency graph is behind this plan's last change (outbox position {needed}, graph at "
            f"{reached}), so its answer would be stale; try again shortly",
        )


class ProjectionDriver(Protocol):
    """Gets the projection to an outbox position on a reader's behalf (an adapter runs passes)."""

    def catch_up_to(self, position: int, wait_s: float) -> int:
        """Try for at most ``wait_s`` seconds; the checkpoint reached (maybe still short of it)."""
        ...


class GraphProjector:
    """Applies the outbox to the dependency graph, in order, and records how far it got.

    The relational store is the system of record; the graph follows it. Every graph write is
    idempotent, so a message applied twice (after a crash between the write and the
    checkpoint) leaves the graph as applying it once, and a graph that is down only delays the
    projection: the checkpoint stays at the last message the graph took.

    One projector at a time, across threads and processes: a pass holds ``lock`` (a
    ``ProcessLock``, which dies with its holder, so a crashed or killed process never keeps
    others waiting). Runs of consecutive upserts are written in batches.

    The limit: the graph takes no fencing token, so a graph call that timed out on the client
    while the server still carries it out can land after the lock passed to another holder.
    Every write is a whole-state upsert or a removal by id, so such a late write can only
    leave a task or edge as it was one change earlier, until its next change; `planner graph
    check` reports it and `planner graph rebuild` repairs it.
    """

    def __init__(self, uow: UnitOfWorkFactory, graph: DependencyGraph, lock: ProcessLock, *, batch_size: int = 500):
        self._uow = uow
        self._graph = graph
        self._lock = lock
        self._batch_size = batch_size

    def catch_up(self, *, wait_s: float = 0.0, until: int | None = None) -> ProjectionProgress:
        """Apply every message not applied yet (up to ``until`` when given).

        Waits up to ``wait_s`` for the lock; when another holder keeps it, nothing is applied
        and the progress says ``busy``. Raises what the graph raised, keeping the progress made.
        """
        if not self._lock.acquire(wait_s):
            return ProjectionProgress(0, self.position(), busy=True)
        try:
            return self._apply_after(self.position(), until)
        finally:
            self._lock.release()

    def position(self) -> int:
        with self._uow() as uow:
            return uow.outbox.checkpoint(GRAPH_CONSUMER)

    def outbox_end(self) -> int:
        """The position of the last committed message, which a finished projection reaches."""
        with self._uow() as uow:
            return uow.outbox.last_position()

    def pending(self) -> int:
        with self._uow() as uow:
            return uow.outbox.last_position() - uow.outbox.checkpoint(GRAPH_CONSUMER)

    def _apply_after(self, position: int, until: int | None) -> ProjectionProgress:
        applied = 0
        while until is None or position < until:
            limit = self._batch_size if until is None else min(self._batch_size, until - position)
            with self._uow() as uow:
                batch = uow.outbox.read_after(position, limit)
            if not batch:
                break
            done = position
            try:
                for run in _runs(batch):
                    self._check_lock()
                    self._apply_run(run)
                    done = run[-1].position
                    applied += len(run)
            finally:
                # Only over runs the graph took; safe even once the lock is lost, since the
                # checkpoint never moves back and another holder re-applies idempotently.
                if done > position:
                    with self._uow() as uow:
                        uow.outbox.advance_checkpoint(GRAPH_CONSUMER, done)
                        uow.commit()
                    position = done
            self._check_lock()
        return ProjectionProgress(applied, position)

    def _check_lock(self) -> None:
        if not self._lock.still_held():
            raise ProjectionLockLost("the graph projection lock was lost; stopped before the next graph write")

    def _apply_run(self, run: Sequence[OutboxMessage]) -> None:
        """One graph call for a run of one group; a plan's removal alone. Other messages need nothing."""
        messages = [m for m in run if m.event.kind in GRAPH_EVENT_KINDS]
        if not messages:
            return
        group = _BATCHED_GROUPS.get(messages[0].event.kind)
        if group == "task_removals":
            self._graph.remove_tasks([m.event.entity_id for m in messages])
        elif group == "edge_removals":
            self._graph.remove_dependencies([m.event.entity_id for m in messages])
        elif group == "tasks":
            self._graph.upsert_tasks([graph_task_from_snapshot(m.event.data) for m in messages])
        elif group == "edges":
            edges = [graph_edge_from_snapshot(m.event.data) for m in messages]
            try:
                self._graph.upsert_dependencies(edges)
            except MissingVertex:
                for edge in edges:
                    self._upsert_or_heal(edge)
        else:
            (message,) = messages
            event = message.event
            if event.kind is PlanEventKind.PLAN_DELETED:
                self._graph.remove_plan(event.plan_id)

    def _upsert_or_heal(self, edge: GraphEdge) -> None:
        """An edge whose task vertex is missing: the graph lost the vertex, or the edge is gone.

        The relational store decides: a dependency it still holds gets its task vertices
        written again first; one it no longer holds is skipped (its removal is in the outbox).
        """
        try:
            self._graph.upsert_dependencies([edge])
            return
        except MissingVertex:
            pass
        with self._uow() as uow:
            dep = uow.dependencies.get(edge.dependency_id)
            tasks = uow.tasks.get_many([dep.predecessor_id, dep.successor_id]) if dep else []
        if dep is None:
            return
        self._graph.upsert_tasks([graph_task(t) for t in tasks])
        self._graph.upsert_dependencies([graph_edge(dep)])


#: Consecutive messages of one group are applied by one graph call (written in batches).
_BATCHED_GROUPS: dict[PlanEventKind, str] = {
    PlanEventKind.TASK_CREATED: "tasks",
    PlanEventKind.TASK_UPDATED: "tasks",
    PlanEventKind.DEPENDENCY_ADDED: "edges",
    PlanEventKind.TASK_DELETED: "task_removals",
    PlanEventKind.DEPENDENCY_REMOVED: "edge_removals",
}


def _runs(batch: Sequence[OutboxMessage]) -> list[list[OutboxMessage]]:
    """Consecutive messages grouped for as few graph calls as order allows.

    Task upserts go together, edge upserts together, task removals together, edge removals
    together, a plan's removal alone; messages the graph ignores ride along with the run before
    them, so the checkpoint moves past them.
    """
    runs: list[list[OutboxMessage]] = []
    open_group: str | None = None  # the batched group the last run may still take
    for message in batch:
        kind = message.event.kind
        group = _BATCHED_GROUPS.get(kind)
        if runs and (kind not in GRAPH_EVENT_KINDS or (group is not None and group == open_group)):
            runs[-1].append(message)
            continue
        runs.append([message])
        open_group = group
    return runs

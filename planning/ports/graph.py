from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class MissingVertex(LookupError):
    """An edge was written while one of its task vertices is not in the graph."""


class GraphUnavailable(ConnectionError):
    """The graph did not answer, even after retrying: callers may try again later."""


@dataclass(frozen=True, slots=True)
class GraphTask:
    """A ``Task`` vertex: what graph questions need of a task."""

    task_id: str
    plan_id: str
    status: str
    percent_complete: int
    optimistic_days: float | None
    most_likely_days: float | None
    pessimistic_days: float | None


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """A ``depends_on`` edge, from the successor's vertex to its predecessor's (as in the seed)."""

    dependency_id: str
    plan_id: str
    predecessor_id: str
    successor_id: str
    lag_days: float


@dataclass(frozen=True, slots=True)
class PlanGraph:
    tasks: tuple[GraphTask, ...]
    edges: tuple[GraphEdge, ...]


class DependencyGraph(Protocol):
    """The dependency graph store (Neptune in AWS, an embedded Gremlin graph locally).

    Every write is idempotent: applying it twice leaves the graph as applying it once.
    """

    def upsert_task(self, task: GraphTask) -> None: ...
    def remove_task(self, task_id: str) -> None:
        """Drop the vertex and its edges; a missing vertex is not an error."""
        ...

    def upsert_dependency(self, edge: GraphEdge) -> None:
        """Raise MissingVertex when either task's vertex is absent."""
        ...

    def remove_dependency(self, dependency_id: str) -> None: ...
    def upsert_tasks(self, tasks: Sequence[GraphTask]) -> None:
        """Many upserts in as few round trips as the graph allows; a repeated id counts once, last wins."""
        ...

    def upsert_dependencies(self, edges: Sequence[GraphEdge]) -> None:
        """Many edge upserts in few round trips; MissingVertex when a task vertex is absent."""
        ...

    def remove_tasks(self, task_ids: Sequence[str]) -> None:
        """Many ``remove_task`` in as few round trips as the graph allows."""
        ...

    def remove_dependencies(self, dependency_ids: Sequence[str]) -> None:
        """Many ``remove_dependency`` in as few round trips as the graph allows."""
        ...

    def remove_plan(self, plan_id: str) -> None:
        """Drop every vertex of the plan and so every edge; a plan with none is not an error."""
        ...

    def plan_graph(self, plan_id: str) -> PlanGraph:
        """Every vertex and edge of one plan, read in one or two round trips."""
        ...

    def plan_ids(self) -> list[str]: ...
    def clear(self) -> None:
        """Remove every vertex and edge (used by a rebuild)."""
        ...

    def bulk_load(self, tasks: Sequence[GraphTask], edges: Sequence[GraphEdge]) -> None: ...

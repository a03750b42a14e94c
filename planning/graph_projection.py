"""How domain events and entities become the dependency graph's vertices and edges."""

from __future__ import annotations

from typing import Any

from planning.model import Dependency, Task, ThreePointEstimate
from planning.model.task import scheduling_points
from planning.ports.graph import GraphEdge, GraphTask


def graph_task(task: Task) -> GraphTask:
    points = task.scheduling_points
    return GraphTask(
        task_id=task.id,
        plan_id=task.plan_id,
        status=task.status.value,
        percent_complete=task.percent_complete,
        optimistic_days=points[0] if points else None,
        most_likely_days=points[1] if points else None,
        pessimistic_days=points[2] if points else None,
    )


def graph_edge(dep: Dependency) -> GraphEdge:
    return GraphEdge(
        dependency_id=dep.id,
        plan_id=dep.plan_id,
        predecessor_id=dep.predecessor_id,
        successor_id=dep.successor_id,
        lag_days=dep.lag_days,
    )


def graph_task_from_snapshot(data: dict[str, Any]) -> GraphTask:
    """The vertex of a task snapshot (see ``planning.snapshots.task_snapshot``)."""
    est = data.get("estimate")
    estimate = ThreePointEstimate(est["optimisticDays"], est["mostLikelyDays"], est["pessimisticDays"]) if est else None
    points = scheduling_points(estimate, data.get("durationDays")) or (None, None, None)
    return GraphTask(
        task_id=data["id"],
        plan_id=data["planId"],
        status=data["status"],
        percent_complete=int(data["percentComplete"]),
        optimistic_days=points[0],
        most_likely_days=points[1],
        pessimistic_days=points[2],
    )


def graph_edge_from_snapshot(data: dict[str, Any]) -> GraphEdge:
    return GraphEdge(
        dependency_id=data["id"],
        plan_id=data["planId"],
        predecessor_id=data["predecessorId"],
        successor_id=data["successorId"],
        lag_days=float(data["lagDays"]),
    )

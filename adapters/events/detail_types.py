"""The EventBridge detail-type of each domain event kind: the one mapping, after the seed's names.

Lower-case, dot-separated, ``<what>.<happened>``: ``task.created``, ``external.event.received``,
``agent.action.proposed``, ``monte_carlo.simulation.completed``. EventBridge rules match on them;
the publisher reads the kind from the event's detail, not from its detail-type.
"""

from __future__ import annotations

from planning.events import PlanEventKind

DETAIL_TYPES: dict[PlanEventKind, str] = {
    PlanEventKind.TASK_CREATED: "task.created",
    PlanEventKind.TASK_UPDATED: "task.updated",
    PlanEventKind.TASK_DELETED: "task.deleted",
    PlanEventKind.DEPENDENCY_ADDED: "dependency.added",
    PlanEventKind.DEPENDENCY_REMOVED: "dependency.removed",
    PlanEventKind.EXTERNAL_EVENT_RECEIVED: "external.event.received",
    PlanEventKind.EXTERNAL_EVENT_UPDATED: "external.event.updated",
    PlanEventKind.ACTION_PROPOSED: "agent.action.proposed",
    PlanEventKind.ACTION_APPROVED: "agent.action.approved",
    PlanEventKind.ACTION_REJECTED: "agent.action.rejected",
    PlanEventKind.ACTION_APPLIED: "agent.action.applied",
    PlanEventKind.SIMULATION_STARTED: "monte_carlo.simulation.started",
    PlanEventKind.SIMULATION_PROGRESS: "monte_carlo.simulation.progress",
    PlanEventKind.SIMULATION_COMPLETED: "monte_carlo.simulation.completed",
    PlanEventKind.SIMULATION_FAILED: "monte_carlo.simulation.failed",
    PlanEventKind.SIMULATION_CANCELLED: "monte_carlo.simulation.cancelled",
    PlanEventKind.CRITICAL_PATH_RECALCULATED: "critical_path.recalculated",
    PlanEventKind.PLANNER_SYNC_STARTED: "planner.sync.started",
    PlanEventKind.PLANNER_SYNC_COMPLETED: "planner.sync.completed",
    PlanEventKind.PLAN_CREATED: "plan.created",
    PlanEventKind.PLAN_UPDATED: "plan.updated",
    PlanEventKind.PLAN_DELETED: "plan.deleted",
    PlanEventKind.MEMBER_ADDED: "plan.member.added",
    PlanEventKind.MEMBER_UPDATED: "plan.member.updated",
    PlanEventKind.MEMBER_REMOVED: "plan.member.removed",
}


def detail_type(kind: PlanEventKind) -> str:
    return DETAIL_TYPES[kind]

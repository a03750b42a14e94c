"""JSON-ready snapshots of entities, as events carry them and plan documents store them."""

from __future__ import annotations

from typing import Any

from planning.model import Dependency, ExternalEvent, Plan, Task


def plan_snapshot(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "name": plan.name,
        "plannerPlanId": plan.planner_plan_id,
        "eventDate": plan.event_date.isoformat() if plan.event_date else None,
        "calendar": {
            "workingDays": plan.calendar.weekday_names,
            "holidays": sorted(h.isoformat() for h in plan.calendar.holidays),
        },
        "version": plan.version,
        "updatedAt": plan.updated_at.isoformat(),
    }


def task_snapshot(task: Task) -> dict[str, Any]:
    est = task.estimate
    return {
        "id": task.id,
        "planId": task.plan_id,
        "plannerTaskId": task.planner_task_id,
        "title": task.title,
        "status": task.status.value,
        "percentComplete": task.percent_complete,
        "startDate": task.start_date.isoformat() if task.start_date else None,
        "dueDate": task.due_date.isoformat() if task.due_date else None,
        "durationDays": task.duration_days,
        "estimate": None
        if est is None
        else {
            "optimisticDays": est.optimistic_days,
            "mostLikelyDays": est.most_likely_days,
            "pessimisticDays": est.pessimistic_days,
        },
        "assignees": list(task.assignees),
        "version": task.version,
        "updatedAt": task.updated_at.isoformat(),
    }


def dependency_snapshot(dep: Dependency) -> dict[str, Any]:
    return {
        "id": dep.id,
        "planId": dep.plan_id,
        "predecessorId": dep.predecessor_id,
        "successorId": dep.successor_id,
        "type": dep.type.value,
        "lagDays": dep.lag_days,
    }


def external_event_snapshot(event: ExternalEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "planId": event.plan_id,
        "eventType": event.event_type,
        "severity": event.severity.value,
        "title": event.title,
        "delayDays": event.delay_days,
        "probability": event.probability,
        "affectedTaskIds": list(event.affected_task_ids),
        "occurredAt": event.occurred_at.isoformat(),
        "status": event.status.value,
        "statusChangedAt": event.status_changed_at.isoformat() if event.status_changed_at else None,
        "statusChangedBy": event.status_changed_by,
        "statusNote": event.status_note,
    }

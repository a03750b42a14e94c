from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any, Literal

from planning.access import Caller, access_of, forget, principal_of, require_create
from planning.documents import PlanDocument, format_instant, parse_document
from planning.errors import DomainError, ErrorCode, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.model import Dependency, ExternalEvent, Plan, Task
from planning.services.base import ServiceDeps
from planning.services.members import enrol_owner
from planning.snapshots import dependency_snapshot, external_event_snapshot, task_snapshot


class _Importer(Enum):
    IMPORTER = "importer"


#: ``import_document(owner=IMPORTER)``: whoever imports the plan owns it.
IMPORTER = _Importer.IMPORTER


class DocumentService:
    """Plans in and out of the JSON plan document. An import is one transaction: all or nothing.

    Export writes everything import reads back (tasks, dependencies, calendar, external events
    with their status), in store order with stable keys, so that importing an export and
    exporting it again gives the same document.
    """

    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    def import_document(
        self,
        raw: Any,
        caller: Caller,
        *,
        owner: str | Literal[_Importer.IMPORTER] | None = IMPORTER,
        rebase_to: date | None = None,
    ) -> Plan:
        """Store the document as a new plan (group admin or planner may).

        ``owner`` is the user who owns it: by default whoever imports it; None makes a plan
        without members, which only admins see (until one of them adds members).
        ``rebase_to`` moves the plan's dates (the event date, ``asOf``, the tasks' dates and the
        events' times) by whole weeks so that the document's ``asOf`` falls in the week of
        ``rebase_to``; holidays stay on their dates. The demo uses it to stay current.
        """
        principal = principal_of(caller)
        require_create(principal)
        doc = parse_document(raw)
        if rebase_to is not None and doc.as_of is not None:
            weeks = round((rebase_to - doc.as_of).days / 7)
            doc = doc.shifted(weeks * 7)
        plan = self._store(doc, principal.user_id if owner is IMPORTER else owner, by=principal.user_id)
        forget(caller, plan.id)
        return plan

    def _store(self, doc: PlanDocument, owner: str | None, *, by: str) -> Plan:
        now = self._deps.clock.now()
        new_id = self._deps.ids.new_id
        plan = Plan(
            id=new_id(),
            name=doc.name,
            planner_plan_id=doc.planner_plan_id,
            event_date=doc.event_date,
            calendar=doc.calendar,
            created_at=now,
            updated_at=now,
        )
        plan.check_input()
        tasks: dict[str, Task] = {}
        for item in doc.tasks:
            tasks[item.key] = Task.new(
                id=new_id(),
                plan_id=plan.id,
                at=now,
                title=item.title,
                status=item.status,
                percent_complete=item.percent_complete,
                start_date=item.start_date,
                due_date=item.due_date,
                duration_days=item.duration_days,
                estimate=item.estimate,
                assignees=item.assignees,
                planner_task_id=item.planner_task_id,
            )
        deps = [
            Dependency(
                id=new_id(),
                plan_id=plan.id,
                predecessor_id=tasks[d.predecessor].id,
                successor_id=tasks[d.successor].id,
                type=d.type,
                lag_days=d.lag_days,
                created_at=now,
            )
            for d in doc.dependencies
        ]
        task_ids = {key: task.id for key, task in tasks.items()}
        events = [e.entity(event_id=new_id(), plan_id=plan.id, received_at=now, task_ids=task_ids) for e in doc.events]
        for event in events:
            event.check_input()
        with self._deps.uow() as uow:
            if plan.planner_plan_id and uow.plans.find_by_planner_id(plan.planner_plan_id):
                raise DomainError(
                    ErrorCode.DUPLICATE,
                    f"a plan for Planner plan {plan.planner_plan_id} exists already",
                    ("plannerPlanId",),
                )
            uow.plans.add(plan)
            uow.tasks.add_many(list(tasks.values()))
            uow.dependencies.add_many(deps)
            for event in events:
                uow.external_events.add(event)
            uow.outbox.append(
                PlanEvent(plan.id, PlanEventKind.PLAN_CREATED, plan.id, now, {"id": plan.id, "name": plan.name})
            )
            if owner is not None:
                enrol_owner(uow, self._deps.ids, plan_id=plan.id, user_id=owner, by=by, at=now)
            for task in tasks.values():
                uow.outbox.append(PlanEvent(plan.id, PlanEventKind.TASK_CREATED, task.id, now, task_snapshot(task)))
            for dep in deps:
                uow.outbox.append(
                    PlanEvent(plan.id, PlanEventKind.DEPENDENCY_ADDED, dep.id, now, dependency_snapshot(dep))
                )
            for event in events:
                uow.outbox.append(
                    PlanEvent(
                        plan.id, PlanEventKind.EXTERNAL_EVENT_RECEIVED, event.id, now, external_event_snapshot(event)
                    )
                )
            uow.commit()
        return plan

    def export_document(self, caller: Caller, plan_id: str) -> dict[str, Any]:
        """The plan as a document; whoever may read the plan may."""
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            plan = uow.plans.get(plan_id)
            if plan is None or not access.can(plan.id):
                raise not_found("plan", plan_id)
            tasks = uow.tasks.for_plan(plan_id)
            deps = uow.dependencies.for_plan(plan_id)
            events = uow.external_events.for_plan(plan_id)
        keys = _document_keys(tasks)
        doc: dict[str, Any] = {"name": plan.name}
        if plan.event_date:
            doc["eventDate"] = plan.event_date.isoformat()
        if plan.planner_plan_id:
            doc["plannerPlanId"] = plan.planner_plan_id
        doc["calendar"] = {
            "workingDays": plan.calendar.weekday_names,
            "holidays": sorted(h.isoformat() for h in plan.calendar.holidays),
        }
        doc["tasks"] = [_task_entry(t, keys[t.id]) for t in tasks]
        doc["dependencies"] = [
            {
                "predecessor": keys[d.predecessor_id],
                "successor": keys[d.successor_id],
                "type": d.type.value,
                "lagDays": d.lag_days,
            }
            for d in deps
        ]
        doc["events"] = [_event_entry(e, keys) for e in events]
        return doc


def _document_keys(tasks: list[Task]) -> dict[str, str]:
    """A task's Planner id where it has one, else ``task-NNN`` by position; unique either way."""
    taken = {t.planner_task_id for t in tasks if t.planner_task_id}
    keys: dict[str, str] = {}
    for position, task in enumerate(tasks, start=1):
        if task.planner_task_id:
            keys[task.id] = task.planner_task_id
            continue
        candidate, suffix = f"task-{position:03d}", 1
        while candidate in taken:
            suffix += 1
            candidate = f"task-{position:03d}-{suffix}"
        taken.add(candidate)
        keys[task.id] = candidate
    return keys


def _task_entry(task: Task, key: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": key,
        "title": task.title,
        "status": task.status.value,
        "percentComplete": task.percent_complete,
    }
    if task.planner_task_id:
        entry["plannerTaskId"] = task.planner_task_id
    if task.start_date:
        entry["startDate"] = task.start_date.isoformat()
    if task.due_date:
        entry["dueDate"] = task.due_date.isoformat()
    if task.duration_days is not None:
        entry["durationDays"] = task.duration_days
    if task.estimate:
        entry["estimate"] = {
            "optimisticDays": task.estimate.optimistic_days,
            "mostLikelyDays": task.estimate.most_likely_days,
            "pessimisticDays": task.estimate.pessimistic_days,
        }
    entry["assignees"] = list(task.assignees)
    return entry


def _event_entry(event: ExternalEvent, keys: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "eventType": event.event_type,
        "severity": event.severity.value,
        "title": event.title,
    }
    if event.description is not None:
        entry["description"] = event.description
    if event.source is not None:
        entry["source"] = event.source
    entry["occurredAt"] = format_instant(event.occurred_at)
    entry["delayDays"] = event.delay_days
    if event.probability is not None:
        entry["probability"] = event.probability
    entry["affectedTasks"] = [keys[t] for t in event.affected_task_ids if t in keys]
    entry["status"] = event.status.value
    if event.payload is not None:
        entry["payload"] = event.payload
    if event.idempotency_key is not None:
        entry["idempotencyKey"] = event.idempotency_key
    return entry

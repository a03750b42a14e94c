"""Proposed actions: the agent's proposals stored, and each decided exactly once.

Proposing replaces the event's PENDING proposals (never decided ones). Approving checks that the
action is PENDING and that the tasks it touches are at the versions recorded when it was
proposed, then applies it through the task and dependency services' own writes (versions bump,
outbox events), all in one transaction with a conditional ``status = 'PENDING'`` update: of
concurrent decisions exactly one is stored. Every proposal, decision and applied change is kept
in the plan's activity (who, when, before and after) and announced in the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from planning.access import Caller, Permission, access_of, principal_of, require_in
from planning.errors import DomainError, ErrorCode, invalid, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.model import Task, ThreePointEstimate
from planning.model.action import ActionStatus, ActionType, ProposedAction
from planning.model.membership import ActivityEntry, ActivityKind
from planning.ports import UnitOfWork
from planning.services.agent import AgentInput, AgentRun, OptimisationAgent
from planning.services.base import Page, ServiceDeps, ordered
from planning.services.dependencies import DependencyService
from planning.services.tasks import TaskService

#: Who proposals made by the background run are recorded as.
AGENT_ACTOR = "optimisation-agent"
MAX_REASON_LENGTH = 2000


class ActionService:
    def __init__(
        self,
        deps: ServiceDeps,
        agent: OptimisationAgent,
        tasks: TaskService,
        dependencies: DependencyService,
    ) -> None:
        self._deps = deps
        self._agent = agent
        self._tasks = tasks
        self._dependencies = dependencies

    # -- proposing ----------------------------------------------------------------------------

    def propose(self, external_event_id: str, caller: Caller) -> list[ProposedAction]:
        """Run the agent for the event now; editors and owners of its plan (and admins) may."""
        principal = principal_of(caller)
        with self._deps.uow() as uow:
            missing = not_found("external event", external_event_id, "input", "externalEventId")
            found = uow.external_events.get_many([external_event_id])
            if not found:
                raise missing
            require_in(uow, principal, found[0].plan_id, Permission.EDIT, missing)
            if not found[0].counts:
                raise invalid(
                    f"the event is {found[0].status.value}: only OPEN events get proposals",
                    "input",
                    "externalEventId",
                )
        return self._propose(external_event_id, principal.user_id)

    def propose_for_event(self, external_event_id: str) -> list[ProposedAction]:
        """The background run after an event is ingested (a system process, for no caller): an
        event that is gone or no longer counts gets none."""
        with self._deps.uow() as uow:
            found = uow.external_events.get_many([external_event_id])
        if not found or not found[0].counts:
            return []
        return self._propose(external_event_id, AGENT_ACTOR)

    def analyse(self, inp: AgentInput) -> AgentRun:
        """The agent's proposals for a plan that is not stored (``planner simulate --event``)."""
        return self._agent.run(inp)

    def _propose(self, event_id: str, actor: str) -> list[ProposedAction]:
        with self._deps.uow() as uow:
            found = uow.external_events.get_many([event_id])
            plan = uow.plans.get(found[0].plan_id) if found else None
            if not found or plan is None:
                raise not_found("external event", event_id, "input", "externalEventId")
            event = found[0]
            tasks = tuple(uow.tasks.for_plan(plan.id))
            dependencies = tuple(uow.dependencies.for_plan(plan.id))
            events = tuple(uow.external_events.for_plan(plan.id))
        run = self._agent.run(AgentInput(plan, tasks, dependencies, events, event, self._deps.clock.today()))
        versions = {t.id: t.version for t in tasks}
        now = self._deps.clock.now()
        actions = []
        with self._deps.uow() as uow:
            if uow.plans.lock(plan.id) is None:
                raise not_found("external event", event_id, "input", "externalEventId")
            replaced = uow.actions.pending_for_event(event_id)
            uow.actions.delete([a.id for a in replaced])
            for proposal in run.proposals:
                candidate = proposal.candidate
                action = ProposedAction(
                    id=self._deps.ids.new_id(),
                    plan_id=plan.id,
                    external_event_id=event_id,
                    task_id=candidate.task_id,
                    action_type=candidate.action_type,
                    status=ActionStatus.PENDING,
                    rationale=proposal.rationale,
                    parameters=candidate.parameters,
                    expected_impact=proposal.impact,
                    created_at=now,
                    rank=proposal.rank,
                    task_versions={t: versions[t] for t in candidate.touched if t in versions},
                )
                uow.actions.add(action)
                self._record(
                    uow,
                    action,
                    actor,
                    kind=ActivityKind.ACTION_PROPOSED,
                    subject=action.id,
                    before=None,
                    after=action.snapshot(),
                    at=now,
                )
                uow.outbox.append(PlanEvent(plan.id, PlanEventKind.ACTION_PROPOSED, action.id, now, action.snapshot()))
                actions.append(action)
            uow.commit()
        return actions

    # -- deciding -----------------------------------------------------------------------------

    def approve(self, action_id: str, caller: Caller) -> ProposedAction:
        """Apply a PENDING action whose tasks have not changed since it was proposed."""
        principal = principal_of(caller)
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            action = self._pending(uow, action_id, caller)
            decided = replace(action, status=ActionStatus.APPLIED, decided_at=now, decided_by=principal.user_id)
            if not uow.actions.decide(decided):
                raise _already_decided()
            self._check_unchanged(uow, action)
            before = {"status": action.status.value}
            self._record(
                uow,
                decided,
                principal.user_id,
                kind=ActivityKind.ACTION_APPROVED,
                subject=action.id,
                before=before,
                after={"status": "APPROVED"},
                at=now,
            )
            uow.outbox.append(
                PlanEvent(action.plan_id, PlanEventKind.ACTION_APPROVED, action.id, now, decided.snapshot())
            )
            for subject, old, new in self._apply(uow, action, now):
                self._record(
                    uow,
                    decided,
                    principal.user_id,
                    kind=ActivityKind.ACTION_CHANGE,
                    subject=subject,
                    before=old,
                    after=new,
                    at=now,
                )
            self._record(
                uow,
                decided,
                principal.user_id,
                kind=ActivityKind.ACTION_APPLIED,
                subject=action.id,
                before=before,
                after=decided.snapshot(),
                at=now,
            )
            uow.outbox.append(
                PlanEvent(action.plan_id, PlanEventKind.ACTION_APPLIED, action.id, now, decided.snapshot())
            )
            uow.commit()
        return decided

    def reject(self, action_id: str, reason: str | None, caller: Caller) -> ProposedAction:
        """Keep a PENDING action as REJECTED, with the reason given."""
        principal = principal_of(caller)
        note = (reason or "").strip() or None
        if note is not None and len(note) > MAX_REASON_LENGTH:
            raise invalid(f"reason has at most {MAX_REASON_LENGTH} characters", "input", "reason")
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            action = self._pending(uow, action_id, caller)
            decided = replace(
                action, status=ActionStatus.REJECTED, decided_at=now, decided_by=principal.user_id, decision_note=note
            )
            if not uow.actions.decide(decided):
                raise _already_decided()
            self._record(
                uow,
                decided,
                principal.user_id,
                kind=ActivityKind.ACTION_REJECTED,
                subject=action.id,
                before={"status": action.status.value},
                after={"status": decided.status.value, "reason": note},
                at=now,
            )
            uow.outbox.append(
                PlanEvent(action.plan_id, PlanEventKind.ACTION_REJECTED, action.id, now, decided.snapshot())
            )
            uow.commit()
        return decided

    def _pending(self, uow: UnitOfWork, action_id: str, caller: Caller) -> ProposedAction:
        """The action, once the caller may edit its plan, with the plan locked and the action PENDING."""
        missing = not_found("proposed action", action_id, "input", "id")
        action = uow.actions.get(action_id)
        if action is None:
            raise missing
        require_in(uow, principal_of(caller), action.plan_id, Permission.EDIT, missing)
        # Decisions of one plan take turns; the conditional update stays the guarantee.
        if uow.plans.lock(action.plan_id) is None:
            raise missing
        action = uow.actions.get(action_id)
        if action is None:
            raise missing
        if action.status is not ActionStatus.PENDING:
            raise _already_decided(action)
        return action

    @staticmethod
    def _check_unchanged(uow: UnitOfWork, action: ProposedAction) -> None:
        found = {t.id: t for t in uow.tasks.get_many(list(action.task_versions))}
        for task_id, version in action.task_versions.items():
            task = found.get(task_id)
            title = _title(action, task_id)
            if task is None:
                raise DomainError(
                    ErrorCode.STALE_VERSION,
                    f"task {title!r} was deleted since the action was proposed; propose again",
                    ("input", "id"),
                )
            if task.version != version:
                raise DomainError(
                    ErrorCode.STALE_VERSION,
                    f"task {task.title!r} changed since the action was proposed (version {version} then, "
                    f"{task.version} now); propose again",
                    ("input", "id"),
                )

    def _apply(self, uow: UnitOfWork, action: ProposedAction, at: datetime) -> list[tuple[str, Any, Any]]:
        """Make the action's changes; answer (subject, before, after) of each."""
        params = action.parameters
        done: list[tuple[str, Any, Any]] = []
        if action.action_type is ActionType.SHIFT_DATES:
            for entry in params["tasks"]:
                start, due = entry["startDate"]["to"], entry["dueDate"]["to"]
                changes = {"start_date": _date(start), "due_date": _date(due)}
                self._change_task(uow, action, entry["taskId"], changes, at)
                done.append(
                    (
                        entry["taskId"],
                        {"startDate": entry["startDate"]["from"], "dueDate": entry["dueDate"]["from"]},
                        {"startDate": start, "dueDate": due},
                    )
                )
        elif action.action_type is ActionType.CRASH_DURATION:
            if "estimate" in params:
                to = params["estimate"]["to"]
                estimate = ThreePointEstimate(to["optimisticDays"], to["mostLikelyDays"], to["pessimisticDays"])
                self._change_task(uow, action, params["taskId"], {"estimate": estimate}, at)
                done.append((params["taskId"], {"estimate": params["estimate"]["from"]}, {"estimate": to}))
            else:
                days = params["durationDays"]
                self._change_task(uow, action, params["taskId"], {"duration_days": float(days["to"])}, at)
                done.append((params["taskId"], {"durationDays": days["from"]}, {"durationDays": days["to"]}))
        elif action.action_type is ActionType.REASSIGN:
            people = params["assignees"]
            self._change_task(uow, action, params["taskId"], {"assignees": tuple(people["to"])}, at)
            done.append((params["taskId"], {"assignees": people["from"]}, {"assignees": people["to"]}))
        else:  # FAST_TRACK, ADD_BUFFER: a link's lag
            dep = uow.dependencies.get(params["dependencyId"])
            lag = params["lagDays"]
            if dep is None or dep.lag_days != lag["from"]:
                raise DomainError(
                    ErrorCode.STALE_VERSION,
                    f"the dependency of {_title(action, params['successorId'])!r} on "
                    f"{_title(action, params['predecessorId'])!r} changed since the action was proposed; propose again",
                    ("input", "id"),
                )
            changed = self._dependencies.store_lag_change(uow, dep, float(lag["to"]), at=at)
            done.append(
                (
                    dep.id,
                    {"dependencyId": dep.id, "lagDays": lag["from"]},
                    {"dependencyId": changed.id, "lagDays": lag["to"]},
                )
            )
        return done

    def _change_task(
        self, uow: UnitOfWork, action: ProposedAction, task_id: str, changes: dict[str, Any], at: datetime
    ) -> Task:
        task = uow.tasks.get(task_id)
        if task is None:
            raise DomainError(
                ErrorCode.STALE_VERSION,
                f"task {_title(action, task_id)!r} was deleted since the action was proposed; propose again",
                ("input", "id"),
            )
        return self._tasks.store_update(uow, task, changes, at=at, expected_version=action.task_versions.get(task_id))

    def _record(
        self,
        uow: UnitOfWork,
        action: ProposedAction,
        actor: str,
        *,
        kind: ActivityKind,
        subject: str,
        before: Any,
        after: Any,
        at: datetime,
    ) -> None:
        uow.activity.append(
            ActivityEntry(
                id=self._deps.ids.new_id(),
                plan_id=action.plan_id,
                occurred_at=at,
                actor=actor,
                kind=kind,
                subject=subject,
                before=before,
                after=after,
            )
        )

    # -- reads: only what the caller may read ---------------------------------------------------

    def get_many(self, caller: Caller, action_ids: Sequence[str]) -> list[ProposedAction | None]:
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            found = ordered(action_ids, uow.actions.get_many(action_ids))
        return access.visible(found, lambda a: a.plan_id)

    def page(
        self, caller: Caller, plan_id: str, status: ActionStatus | None, after: str | None, limit: int
    ) -> Page[ProposedAction]:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return Page((), False)
        with self._deps.uow() as uow:
            return Page.of(uow.actions.page(plan_id, status, after, limit + 1), limit)

    def count(self, caller: Caller, plan_id: str, status: ActionStatus | None) -> int:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return 0
        with self._deps.uow() as uow:
            return uow.actions.count(plan_id, status)


def _already_decided(action: ProposedAction | None = None) -> DomainError:
    how = f" (it is {action.status.value})" if action is not None else ""
    return DomainError(ErrorCode.ALREADY_DECIDED, f"the action has been decided already{how}", ("input", "id"))


def _title(action: ProposedAction, task_id: str) -> str:
    """A task's title as the proposal recorded it, else its id."""
    params = action.parameters
    for entry in params.get("tasks", []):
        if entry.get("taskId") == task_id:
            return str(entry.get("title", task_id))
    if params.get("taskId") == task_id and "title" in params:
        return str(params["title"])
    for key in ("predecessor", "successor"):
        if params.get(f"{key}Id") == task_id and f"{key}Title" in params:
            return str(params[f"{key}Title"])
    return task_id


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)

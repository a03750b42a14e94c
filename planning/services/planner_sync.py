"""Microsoft Planner sync: a plan's tasks kept in step with its Planner plan, one way (Planner in).

A sync reads every page of the Planner plan's tasks (Graph v1.0 has no Planner delta query) and
applies each page's changes in one transaction: a task whose ETag matches the one stored is left
alone, a new one is created, a changed one updated (its version bumps, ``TASK_UPDATED``), all keyed
by ``plannerTaskId``, so a second run changes nothing. Once every page is read, synced tasks that
Planner no longer has are deleted with their dependencies, and recorded in ``Plan.activity``.

Planner owns a synced task's title, status and percent complete, dates and assignees; estimates,
durations, dependencies and external events are this API's, and a sync never touches them.
A local edit of a Planner-owned field is allowed and stands until the task next changes in
Planner: then Planner's value wins, and the overwritten local value is kept in ``Plan.activity``
(``PLANNER_OVERWRITE``) beside Planner's.

Two syncs of one plan never run at once (a ProcessLock per plan); a crash leaves whole pages
applied, never part of one, and the next sync carries on from what is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from planning.access import Caller, Permission, access_of, principal_of, require_in
from planning.errors import DomainError, ErrorCode, invalid, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.model import Task, TaskStatus
from planning.model.limits import MAX_ASSIGNEES
from planning.model.membership import ActivityKind
from planning.model.task import MAX_TITLE_LENGTH, implied_status
from planning.ports import UnitOfWork
from planning.ports.locks import ProcessLock
from planning.ports.planner import PlannerGraph, PlannerLink, PlannerSyncState, PlannerTaskRecord, PlannerUnavailable
from planning.services.base import ServiceDeps
from planning.services.members import record
from planning.snapshots import dependency_snapshot, task_snapshot

#: Who the sync's entries in ``Plan.activity`` name as the actor.
PLANNER_ACTOR = "microsoft-planner"
#: The task fields Microsoft Planner owns, by attribute name; a sync sets these and no others.
PLANNER_OWNED = ("title", "status", "percent_complete", "start_date", "due_date", "assignees")
#: The longest error message kept in the sync state.
MAX_ERROR_LENGTH = 500


def lock_name(plan_id: str) -> str:
    """The ProcessLock that one plan's syncs take turns on."""
    return f"planner-sync-{plan_id}"


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync did."""

    plan_id: str
    pages: int
    created: int
    updated: int
    deleted: int
    unchanged: int


class PlannerSyncService:
    """``graph`` is None when Microsoft Graph is not configured: a sync then says so."""

    def __init__(
        self,
        deps: ServiceDeps,
        graph: PlannerGraph | None,
        lock_for: Callable[[str], ProcessLock],
    ) -> None:
        self._deps = deps
        self._graph = graph
        self._lock_for = lock_for

    @property
    def configured(self) -> bool:
        return self._graph is not None

    def sync(self, plan_id: str, caller: Caller) -> SyncReport:
        """Sync one plan (editors, owners, admins). Raises DomainError: NOT_FOUND, INVALID_INPUT
        (the plan has no ``plannerPlanId``), CONFLICT (a sync of it is under way), UNAVAILABLE
        (Graph is not configured or could not be read; the state keeps the error)."""
        principal = principal_of(caller)
        with self._deps.uow() as uow:
            missing = not_found("plan", plan_id, "input", "planId")
            require_in(uow, principal, plan_id, Permission.EDIT, missing)
            plan = uow.plans.get(plan_id)
            if plan is None:
                raise missing
        if not plan.planner_plan_id:
            raise invalid("the plan is not linked to Microsoft Planner: set its plannerPlanId first", "input", "planId")
        graph = self._graph
        if graph is None:
            raise DomainError(
                ErrorCode.UNAVAILABLE,
                "Microsoft Graph is not configured: set PLANNER_MSGRAPH_TENANT_ID, _CLIENT_ID and _CLIENT_SECRET "
                "(or PLANNER_MSGRAPH_TOKEN)",
            )
        lock = self._lock_for(lock_name(plan_id))
        if not lock.acquire(0.0):
            raise DomainError(
                ErrorCode.CONFLICT, "a sync of this plan is under way; try again when it ends", ("input", "planId")
            )
        try:
            return self._run(plan.id, graph)
        finally:
            lock.release()

    def linked_plans(self) -> list[str]:
        """Ids of the plans linked to a Planner plan (what a scheduled sync goes through)."""
        with self._deps.uow() as uow:
            return uow.planner_sync.linked_plans()

    def states(self, caller: Caller, plan_ids: Sequence[str]) -> list[PlannerSyncState | None]:
        """Each plan's sync state (None for a plan never synced, or one the caller may not read)."""
        readable = access_of(caller, self._deps.uow).readable(plan_ids)
        if not readable:
            return [None for _ in plan_ids]
        with self._deps.uow() as uow:
            found = uow.planner_sync.states(sorted(readable))
        return [found.get(p) for p in plan_ids]

    # The run

    def _run(self, plan_id: str, graph: PlannerGraph) -> SyncReport:
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            # Read again under the lock: the link may have changed while the lock was awaited.
            plan = uow.plans.get(plan_id)
            if plan is None:
                raise not_found("plan", plan_id, "input", "planId")
            planner_plan_id = plan.planner_plan_id
            if not planner_plan_id:
                raise invalid("the plan is no longer linked to Microsoft Planner", "input", "planId")
            state = uow.planner_sync.state(plan.id) or PlannerSyncState(plan.id)
            uow.planner_sync.save_state(replace(state, last_started_at=now))
            uow.outbox.append(
                PlanEvent(plan.id, PlanEventKind.PLANNER_SYNC_STARTED, plan.id, now, {"plannerPlanId": planner_plan_id})
            )
            uow.commit()
        counts = {"pages": 0, "created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
        seen: set[str] = set()
        try:
            for page in graph.task_pages(planner_plan_id):
                self._apply_page(plan.id, page, graph, seen, counts)
                counts["pages"] += 1
            self._finish(plan.id, seen, counts)
        except PlannerUnavailable as exc:
            self._failed(plan.id, f"Microsoft Graph: {exc}")
            raise DomainError(ErrorCode.UNAVAILABLE, f"the Planner sync failed: Microsoft Graph: {exc}") from exc
        except DomainError as exc:
            self._failed(plan.id, exc.message)
            raise
        except Exception as exc:
            self._failed(plan.id, f"internal error ({type(exc).__name__})")
            raise
        return SyncReport(plan.id, **counts)

    def _apply_page(
        self,
        plan_id: str,
        page: Sequence[PlannerTaskRecord],
        graph: PlannerGraph,
        seen: set[str],
        counts: dict[str, int],
    ) -> None:
        """One page of Planner tasks, in one transaction: all of it or none. The plan's row is locked
        first, as every writer of a plan's tasks locks it before the outbox's lock: a task added
        after an update appended its event would otherwise wait for the plan's row (its task count)
        while holding the outbox's lock, against a plan update holding them the other way round."""
        with self._deps.uow() as uow:
            if uow.plans.lock(plan_id) is None:
                raise not_found("plan", plan_id, "input", "planId")
            links = uow.planner_sync.links(plan_id)
            for item in page:
                seen.add(item.id)
                link = links.get(item.id)
                if link is not None and link.etag == item.etag:
                    counts["unchanged"] += 1
                    continue
                wanted = self._wanted(item, graph)
                if link is None:
                    self._create(uow, plan_id, item, wanted)
                    counts["created"] += 1
                elif self._update(uow, link, item, wanted):
                    counts["updated"] += 1
                else:
                    counts["unchanged"] += 1
            uow.commit()

    def _wanted(self, item: PlannerTaskRecord, graph: PlannerGraph) -> dict[str, Any]:
        """The Planner-owned fields of a task, as Planner has them, in this API's terms."""
        percent = max(0, min(100, int(item.percent_complete)))
        start = planner_date(item.start)
        due = planner_date(item.due)
        if start is not None and due is not None and start > due:
            start = due  # Planner lets a start follow the due date; a task here may not
        emails = []
        for user_id in item.assignee_ids[:MAX_ASSIGNEES]:
            emails.append(graph.user_email(user_id) or user_id)
        title = item.title.strip()[:MAX_TITLE_LENGTH].strip() or "(untitled Planner task)"
        return {
            "title": title,
            "status": implied_status(percent, TaskStatus.NOT_STARTED),
            "percent_complete": percent,
            "start_date": start,
            "due_date": due,
            "assignees": tuple(dict.fromkeys(emails)),
        }

    def _create(self, uow: UnitOfWork, plan_id: str, item: PlannerTaskRecord, wanted: dict[str, Any]) -> None:
        now = self._deps.clock.now()
        task = Task.new(id=self._deps.ids.new_id(), plan_id=plan_id, at=now, planner_task_id=item.id, **wanted)
        uow.tasks.add(task)
        uow.planner_sync.set_link(task.id, item.etag, item.bucket_id, owned_snapshot(wanted))
        uow.outbox.append(PlanEvent(plan_id, PlanEventKind.TASK_CREATED, task.id, now, task_snapshot(task)))

    def _update(self, uow: UnitOfWork, link: PlannerLink, item: PlannerTaskRecord, wanted: dict[str, Any]) -> bool:
        """Bring the task to Planner's values; False when none differed (only the ETag moved)."""
        now = self._deps.clock.now()
        task = uow.tasks.get(link.task_id)
        if task is None:  # deleted here since the links were read: a later sync recreates it
            return False
        current = owned_values(task)
        changes = {f: v for f, v in wanted.items() if current[f] != v}
        synced = owned_snapshot(wanted)
        uow.planner_sync.set_link(task.id, item.etag, item.bucket_id, synced)
        if not changes:
            return False
        overwritten = _local_edits(current, link.synced, changes)
        if overwritten:
            record(
                uow,
                self._deps.ids,
                plan_id=task.plan_id,
                actor=PLANNER_ACTOR,
                kind=ActivityKind.PLANNER_OVERWRITE,
                subject=task.id,
                before=owned_snapshot({f: current[f] for f in overwritten}),
                after=owned_snapshot({f: wanted[f] for f in overwritten}),
                at=now,
            )
        updated = task.changed(changes, at=now, expected_version=None)
        if not uow.tasks.update(updated):
            # Changed by someone else in the meantime: this page is abandoned whole, the next
            # sync applies it again over the newer version.
            raise DomainError(ErrorCode.CONFLICT, "a synced task changed during the sync; sync again")
        uow.outbox.append(
            PlanEvent(updated.plan_id, PlanEventKind.TASK_UPDATED, updated.id, now, task_snapshot(updated))
        )
        return True

    def _finish(self, plan_id: str, seen: set[str], counts: dict[str, int]) -> None:
        """Delete what Planner no longer has, record success: one transaction."""
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            if uow.plans.lock(plan_id) is None:
                raise not_found("plan", plan_id, "input", "planId")
            for planner_id, link in sorted(uow.planner_sync.links(plan_id).items()):
                # A task given a plannerTaskId here but never synced (no ETag) is not Planner's to delete.
                if planner_id in seen or link.etag is None:
                    continue
                self._delete(uow, plan_id, link, now)
                counts["deleted"] += 1
            state = uow.planner_sync.state(plan_id) or PlannerSyncState(plan_id)
            uow.planner_sync.save_state(
                replace(
                    state,
                    last_succeeded_at=now,
                    last_error=None,
                    last_error_at=None,
                    created=counts["created"],
                    updated=counts["updated"],
                    deleted=counts["deleted"],
                    unchanged=counts["unchanged"],
                )
            )
            uow.outbox.append(PlanEvent(plan_id, PlanEventKind.PLANNER_SYNC_COMPLETED, plan_id, now, dict(counts)))
            uow.commit()

    def _delete(self, uow: UnitOfWork, plan_id: str, link: PlannerLink, now: datetime) -> None:
        task = uow.tasks.get(link.task_id)
        if task is None:
            return
        for dep in uow.dependencies.touching([task.id]):
            uow.dependencies.delete(dep.id)
            uow.outbox.append(
                PlanEvent(plan_id, PlanEventKind.DEPENDENCY_REMOVED, dep.id, now, dependency_snapshot(dep))
            )
        uow.tasks.delete(task.id)
        uow.outbox.append(PlanEvent(plan_id, PlanEventKind.TASK_DELETED, task.id, now, task_snapshot(task)))
        record(
            uow,
            self._deps.ids,
            plan_id=plan_id,
            actor=PLANNER_ACTOR,
            kind=ActivityKind.PLANNER_TASK_DELETED,
            subject=task.id,
            before=task_snapshot(task),
            after=None,
            at=now,
        )

    def _failed(self, plan_id: str, message: str) -> None:
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            state = uow.planner_sync.state(plan_id)
            if state is None or uow.plans.get(plan_id) is None:
                return
            uow.planner_sync.save_state(replace(state, last_error=message[:MAX_ERROR_LENGTH], last_error_at=now))
            uow.commit()


def planner_date(moment: datetime | None) -> date | None:
    """The day a Planner date-time stands for: the nearest midnight's date.

    Planner stores a day as midnight in the setter's time zone, expressed in UTC: midnight in
    Paris is 23:00 UTC the day before, in New York 05:00 UTC the same day. Every zone from UTC-11
    to UTC+12 lands within twelve hours of its day's UTC midnight (12:00 UTC counts as UTC+12's
    next day), so rounding finds the day; UTC+13 and +14 read a day early.
    """
    if moment is None:
        return None
    return (moment.astimezone(UTC) + timedelta(hours=12)).date()


def owned_values(task: Task) -> dict[str, Any]:
    """The Planner-owned fields of a task, by attribute name."""
    return {f: getattr(task, f) for f in PLANNER_OWNED}


def owned_snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """Planner-owned values as JSON (dates as ISO strings, enums by value, assignees as a list)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, date):
            out[name] = value.isoformat()
        elif isinstance(value, TaskStatus):
            out[name] = value.value
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out


def _local_edits(current: dict[str, Any], synced: Mapping[str, Any] | None, changes: dict[str, Any]) -> list[str]:
    """The fields about to change whose local value is not what the last sync wrote: edits made
    here since, which Planner's value now overwrites."""
    if synced is None:
        return []
    mine = owned_snapshot(current)
    return [f for f in PLANNER_OWNED if f in changes and f in synced and mine[f] != synced[f]]

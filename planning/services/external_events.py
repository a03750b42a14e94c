from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from planning.access import Caller, Permission, access_in, access_of, principal_of, require_in
from planning.commands import IngestExternalEvent, ResolveExternalEvent
from planning.errors import DomainError, ErrorCode, StoreConflict, invalid, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.model import ExternalEvent
from planning.principal import Principal
from planning.services.base import Page, ServiceDeps, ordered
from planning.snapshots import external_event_snapshot

MAX_AFFECTED_TASKS = 1000


class ExternalEventService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    def ingest(self, cmd: IngestExternalEvent, caller: Caller) -> ExternalEvent:
        """Store the event once per idempotency key: a repeated key returns the stored event,
        or answers CONFLICT when it came with other content (see ExternalEvent.same_content).

        Editors and owners of the plan (and admins) may.
        """
        principal = principal_of(caller)
        now = self._deps.clock.now()
        try:
            return self._ingest(cmd, now, principal)
        except StoreConflict:
            # Another request with the same idempotency key committed first.
            if cmd.idempotency_key is None:
                raise
            with self._deps.uow() as uow:
                stored = uow.external_events.find_by_idempotency_key(cmd.plan_id, cmd.idempotency_key)
            if stored is None:
                raise
            return self._replayed(stored, cmd, now)

    def _ingest(self, cmd: IngestExternalEvent, now: datetime, principal: Principal) -> ExternalEvent:
        affected = _affected(cmd)
        with self._deps.uow() as uow:
            missing = not_found("plan", cmd.plan_id, "input", "planId")
            access = access_in(uow, principal)
            access.require(cmd.plan_id, Permission.EDIT, missing)
            if uow.plans.get(cmd.plan_id) is None:
                raise missing
            if cmd.idempotency_key:
                stored = uow.external_events.find_by_idempotency_key(cmd.plan_id, cmd.idempotency_key)
                if stored is not None:
                    return self._replayed(stored, cmd, now)
            found = uow.tasks.get_many(affected)
            # A task of a plan the caller may not read is one it cannot know of: NOT_FOUND.
            readable = access.readable(t.plan_id for t in found)
            tasks = {t.id: t for t in found if t.plan_id in readable}
            for task_id in affected:
                task = tasks.get(task_id)
                if task is None:
                    raise not_found("task", task_id, "input", "affectedTaskIds")
                if task.plan_id != cmd.plan_id:
                    raise DomainError(
                        ErrorCode.CROSS_PLAN,
                        "a task in affectedTaskIds belongs to another plan",
                        ("input", "affectedTaskIds"),
                    )
            event = self._event_of(cmd, now)
            uow.external_events.add(event)
            uow.outbox.append(
                PlanEvent(
                    event.plan_id,
                    PlanEventKind.EXTERNAL_EVENT_RECEIVED,
                    event.id,
                    now,
                    external_event_snapshot(event),
                )
            )
            uow.commit()
        return event

    def _event_of(self, cmd: IngestExternalEvent, now: datetime) -> ExternalEvent:
        """The event ``cmd`` describes, checked, with a new id (not stored)."""
        event = ExternalEvent(
            id=self._deps.ids.new_id(),
            plan_id=cmd.plan_id,
            event_type=cmd.event_type.strip(),
            severity=cmd.severity,
            title=cmd.title.strip(),
            description=cmd.description,
            source=cmd.source,
            occurred_at=cmd.occurred_at or now,
            received_at=now,
            delay_days=cmd.delay_days,
            probability=cmd.probability,
            payload=cmd.payload,
            affected_task_ids=_affected(cmd),
            idempotency_key=cmd.idempotency_key or None,
        )
        event.check_input()
        return event

    def _replayed(self, stored: ExternalEvent, cmd: IngestExternalEvent, now: datetime) -> ExternalEvent:
        """The stored event of a repeated idempotency key, if ``cmd`` reports the same thing."""
        if not stored.same_content(self._event_of(cmd, now), compare_occurred_at=cmd.occurred_at is not None):
            raise DomainError(
                ErrorCode.CONFLICT,
                "this idempotencyKey was used for another event of the plan; send a new key for new content",
                ("input", "idempotencyKey"),
            )
        return stored

    def resolve(self, cmd: ResolveExternalEvent, caller: Caller) -> ExternalEvent:
        """Set the event's status (the event itself stays, as history); its current status is a no-op.

        Editors and owners of the plan (and admins) may.
        """
        principal = principal_of(caller)
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            missing = not_found("external event", cmd.event_id, "input", "id")
            found = uow.external_events.get_many([cmd.event_id])
            if not found:
                raise missing
            event = found[0]
            require_in(uow, principal, event.plan_id, Permission.EDIT, missing)
            changed = event.with_status(cmd.status, at=now, by=principal.user_id, note=cmd.note)
            if changed is event:
                return event
            if not uow.external_events.update_status(changed, event.status):
                # Someone changed the status first: theirs stands; the same status is no conflict.
                now_stored = uow.external_events.get_many([event.id])
                if not now_stored:
                    raise not_found("external event", cmd.event_id, "input", "id")
                if now_stored[0].status is cmd.status:
                    return now_stored[0]
                raise DomainError(
                    ErrorCode.CONFLICT, "the event's status changed at the same time; reload it and try again"
                )
            uow.outbox.append(
                PlanEvent(
                    changed.plan_id,
                    PlanEventKind.EXTERNAL_EVENT_UPDATED,
                    changed.id,
                    now,
                    external_event_snapshot(changed),
                )
            )
            uow.commit()
        return changed

    # Reads: only what the caller may read (``planning.access``); the rest is as if it did not exist.

    def get_many(self, caller: Caller, event_ids: Sequence[str]) -> list[ExternalEvent | None]:
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            found = ordered(event_ids, uow.external_events.get_many(event_ids))
        return access.visible(found, lambda e: e.plan_id)

    def page(self, caller: Caller, plan_id: str, after: str | None, limit: int) -> Page[ExternalEvent]:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return Page((), False)
        with self._deps.uow() as uow:
            return Page.of(uow.external_events.page(plan_id, after, limit + 1), limit)

    def count(self, caller: Caller, plan_id: str) -> int:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return 0
        with self._deps.uow() as uow:
            return uow.external_events.count(plan_id)

    def affecting(self, caller: Caller, task_ids: Sequence[str]) -> list[list[ExternalEvent]]:
        """The events that name each task as affected."""
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            found = uow.external_events.affecting(task_ids)
        readable = access.readable(e.plan_id for events in found.values() for e in events)
        return [[e for e in found.get(i, []) if e.plan_id in readable] for i in task_ids]


def _affected(cmd: IngestExternalEvent) -> tuple[str, ...]:
    affected = tuple(dict.fromkeys(cmd.affected_task_ids))
    if len(affected) > MAX_AFFECTED_TASKS:
        raise invalid(f"at most {MAX_AFFECTED_TASKS} affected tasks", "input", "affectedTaskIds")
    return affected

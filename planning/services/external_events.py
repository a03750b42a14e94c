from __future__ import annotations

from collections.abc import Sequence

from planning.commands import IngestExternalEvent
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

    def ingest(self, cmd: IngestExternalEvent, principal: Principal) -> ExternalEvent:
        """Store the event once per idempotency key: a repeated key returns the stored event."""
        principal.require_write()
        try:
            return self._ingest(cmd)
        except StoreConflict:
            # Another request with the same idempotency key committed first.
            if cmd.idempotency_key is None:
                raise
            with self._deps.uow() as uow:
                stored = uow.external_events.find_by_idempotency_key(cmd.plan_id, cmd.idempotency_key)
            if stored is None:
                raise
            return stored

    def _ingest(self, cmd: IngestExternalEvent) -> ExternalEvent:
        now = self._deps.clock.now()
        affected = tuple(dict.fromkeys(cmd.affected_task_ids))
        if len(affected) > MAX_AFFECTED_TASKS:
            raise invalid(f"at most {MAX_AFFECTED_TASKS} affected tasks", "input", "affectedTaskIds")
        with self._deps.uow() as uow:
            if uow.plans.get(cmd.plan_id) is None:
                raise not_found("plan", cmd.plan_id, "input", "planId")
            if cmd.idempotency_key:
                stored = uow.external_events.find_by_idempotency_key(cmd.plan_id, cmd.idempotency_key)
                if stored is not None:
                    return stored
            tasks = {t.id: t for t in uow.tasks.get_many(affected)}
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
                affected_task_ids=affected,
                idempotency_key=cmd.idempotency_key or None,
            )
            event.check_input()
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

    # Reads

    def get_many(self, event_ids: Sequence[str]) -> list[ExternalEvent | None]:
        with self._deps.uow() as uow:
            return ordered(event_ids, uow.external_events.get_many(event_ids))

    def page(self, plan_id: str, after: str | None, limit: int) -> Page[ExternalEvent]:
        with self._deps.uow() as uow:
            return Page.of(uow.external_events.page(plan_id, after, limit + 1), limit)

    def count(self, plan_id: str) -> int:
        with self._deps.uow() as uow:
            return uow.external_events.count(plan_id)

    def affecting(self, task_ids: Sequence[str]) -> list[list[ExternalEvent]]:
        with self._deps.uow() as uow:
            found = uow.external_events.affecting(task_ids)
        return [found.get(i, []) for i in task_ids]

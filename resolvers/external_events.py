from __future__ import annotations

import asyncio
from typing import Any

from planning.commands import IngestExternalEvent, ResolveExternalEvent
from planning.model import ExternalEvent, ExternalEventStatus, Severity, Task
from resolvers.arguments import as_datetime, as_enum, as_json, as_number, as_text, input_of
from resolvers.context import RequestContext
from resolvers.errors import payload_or_errors
from resolvers.ids import raw_id
from resolvers.payloads import ExternalEventPayload


async def affected_tasks(ctx: RequestContext, parent: ExternalEvent, _args: dict[str, Any]) -> list[Task]:
    found = await ctx.loaders.task_by_id.load_many(list(parent.affected_task_ids))
    return [t for t in found if t is not None]


def _optional_text(value: Any, *field: str) -> str | None:
    return None if value is None else as_text(value, *field)


async def ingest_external_event(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> ExternalEventPayload:
    """Store the event and answer it. Once stored, the event is the answer: what is worked out
    from it afterwards (its ``impact``, from the graph) is a field of its own, whose failure is
    that field's error (null, with ``UNAVAILABLE``), never a failed ingest that a client would
    send again."""

    async def run() -> ExternalEventPayload:
        data = input_of(args)
        probability = data.get("probability")
        delay = data.get("delayDays")
        cmd = IngestExternalEvent(
            plan_id=raw_id(data.get("planId"), "Plan", "input", "planId"),
            event_type=as_text(data.get("eventType"), "input", "eventType"),
            severity=as_enum(Severity, data.get("severity"), "input", "severity"),
            title=as_text(data.get("title"), "input", "title"),
            description=_optional_text(data.get("description"), "input", "description"),
            source=_optional_text(data.get("source"), "input", "source"),
            occurred_at=as_datetime(data.get("occurredAt"), "input", "occurredAt"),
            delay_days=0.0 if delay is None else as_number(delay, "input", "delayDays"),
            probability=None if probability is None else as_number(probability, "input", "probability"),
            payload=as_json(data.get("payload"), "input", "payload"),
            affected_task_ids=tuple(
                raw_id(i, "Task", "input", "affectedTaskIds") for i in data.get("affectedTaskIds") or ()
            ),
            idempotency_key=_optional_text(data.get("idempotencyKey"), "input", "idempotencyKey"),
        )
        event = await asyncio.to_thread(ctx.services.external_events.ingest, cmd, ctx.access)
        return ExternalEventPayload(external_event=event)

    return await payload_or_errors(run, lambda errors: ExternalEventPayload(user_errors=errors))


async def resolve_external_event(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> ExternalEventPayload:
    async def run() -> ExternalEventPayload:
        data = input_of(args)
        cmd = ResolveExternalEvent(
            event_id=raw_id(data.get("id"), "ExternalEvent", "input", "id"),
            status=as_enum(ExternalEventStatus, data.get("status"), "input", "status"),
            note=_optional_text(data.get("note"), "input", "note"),
        )
        event = await asyncio.to_thread(ctx.services.external_events.resolve, cmd, ctx.access)
        return ExternalEventPayload(external_event=event)

    return await payload_or_errors(run, lambda errors: ExternalEventPayload(user_errors=errors))

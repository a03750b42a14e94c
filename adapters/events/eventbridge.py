"""The outbox relay's bus on AWS: EventBridge PutEvents on the planner's custom bus.

Each outbox message becomes one entry: source ``planner``, the detail-type of its kind
(``adapters.events.detail_types``), and as detail the committed event with its outbox position
(``message_detail``; ``message_from_detail`` reads it back in the publisher).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.events.detail_types import detail_type
from planning.events import OutboxMessage, PlanEvent, PlanEventKind

#: The EventBridge source of every planner event (the CDK app's rules match on it).
EVENT_SOURCE = "planner"


def message_detail(message: OutboxMessage) -> dict[str, Any]:
    event = message.event
    return {
        "position": message.position,
        "planId": event.plan_id,
        "kind": event.kind.value,
        "entityId": event.entity_id,
        "occurredAt": event.occurred_at.isoformat(),
        "data": event.data,
    }


def message_from_detail(detail: Mapping[str, Any]) -> OutboxMessage:
    """The outbox message an EventBridge event's detail carries (``message_detail``'s inverse)."""
    return OutboxMessage(
        position=int(detail["position"]),
        event=PlanEvent(
            plan_id=str(detail["planId"]),
            kind=PlanEventKind(detail["kind"]),
            entity_id=str(detail["entityId"]),
            occurred_at=datetime.fromisoformat(detail["occurredAt"]),
            data=dict(detail.get("data") or {}),
        ),
    )


def entry(message: OutboxMessage, bus_name: str) -> dict[str, Any]:
    return {
        "Source": EVENT_SOURCE,
        "DetailType": detail_type(message.event.kind),
        "Detail": json.dumps(message_detail(message), separators=(",", ":"), sort_keys=True),
        "EventBusName": bus_name,
        "Time": message.event.occurred_at,
    }


class EventBridgeBus:
    """``planning.services.event_relay.EventBus`` on a boto3 ``events`` client."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def put(self, messages: Sequence[OutboxMessage]) -> list[bool]:
        if not messages:
            return []
        response = self._client.put_events(Entries=[entry(m, self._bus_name) for m in messages])
        # One result per entry, in order; a refused one has an ErrorCode (and no EventId).
        return [not result.get("ErrorCode") and bool(result.get("EventId")) for result in response["Entries"]]

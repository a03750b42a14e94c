"""What a live subscription needs from its connection (``adapters.asgi.live`` provides it)."""

from __future__ import annotations

from typing import Protocol

from planning.principal import Principal
from planning.services.registry import PlanningServices
from subscriptions.broker import EventBroker


class LiveContext(Protocol):
    services: PlanningServices
    principal: Principal
    events: EventBroker

    async def disconnect(self, code: int, reason: str) -> None:
        """Close the whole websocket with ``code`` (a subscriber too slow for its queue)."""
        ...

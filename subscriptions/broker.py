"""The event broker port: committed outbox messages, in position order, to live subscribers.

Every adapter (``adapters.events``) reads the committed outbox and nothing else, so a subscriber
sees what was committed, whichever process committed it, and nothing that was not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from planning.events import OutboxMessage


class SubscriberTooSlow(Exception):
    """The subscriber's bounded queue overflowed: it fell too far behind the writers.

    ``position`` is the last position it was given; it resumes from there with ``after``."""

    def __init__(self, position: int) -> None:
        super().__init__(f"the subscriber fell too far behind; resume with after: {position}")
        self.position = position


class EventFollow(Protocol):
    """One subscriber's feed of one plan's committed messages, position after position."""

    def messages(self) -> AsyncIterator[OutboxMessage]:
        """The messages after the ``after`` position the follow began with, first those the
        outbox holds already, then the new ones as they commit. Raises ``SubscriberTooSlow``
        when the subscriber's queue overflowed."""
        ...

    def close(self) -> None:
        """Stop following (idempotent); the broker forgets the subscriber."""
        ...


class EventBroker(Protocol):
    def follow(self, plan_id: str, after: int | None) -> EventFollow:
        """Follow ``plan_id``'s messages after position ``after`` (None: from now on)."""
        ...

    def position_before(self, plan_id: str, entity_id: str) -> int | None:
        """The position just before the plan's first message about ``entity_id`` (None while
        there is none): following from there replays the entity's story. Blocking (a read)."""
        ...

"""The outbox relayed to an event bus (EventBridge on AWS), in commit order, at least once.

The relay is a consumer of the outbox with its own checkpoint (as the graph projection is): it
reads the messages after it, hands them to the bus in batches, retries the entries the bus
refused, and moves the checkpoint only past the longest run of accepted messages from the start.
A message after a refused one may thus be put again by the next pass (at least once: a
subscriber tells a repeat by its ``position``). One relay at a time (on AWS the function's
reserved concurrency is 1), so the bus sees the outbox's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from planning.events import OutboxMessage
from planning.ports import UnitOfWorkFactory

#: The relay's checkpoint in the outbox (beside the graph projection's ``graph``).
EVENT_BUS_CONSUMER = "event-bus"
#: EventBridge's PutEvents takes at most 10 entries.
BATCH_SIZE = 10
#: Messages read from the outbox per pass, at most.
READ_LIMIT = 500
#: Tries of an entry the bus refused, within a pass, before the pass stops at it.
ATTEMPTS = 3


class EventBus(Protocol):
    """Where the relay puts messages: one flag per message, True when the bus accepted it."""

    def put(self, messages: Sequence[OutboxMessage]) -> list[bool]: ...


@dataclass(frozen=True, slots=True)
class RelayProgress:
    """``relayed``: messages the bus accepted this pass; ``position``: the checkpoint now;
    ``stuck``: the position of a message the bus kept refusing (the next pass starts there)."""

    relayed: int
    position: int
    stuck: int | None = None


class OutboxRelay:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        bus: EventBus,
        *,
        batch_size: int = BATCH_SIZE,
        read_limit: int = READ_LIMIT,
        attempts: int = ATTEMPTS,
    ) -> None:
        self._uow = uow
        self._bus = bus
        self._batch_size = batch_size
        self._read_limit = read_limit
        self._attempts = attempts

    def position(self) -> int:
        with self._uow() as uow:
            return uow.outbox.checkpoint(EVENT_BUS_CONSUMER)

    def relay_once(self) -> RelayProgress:
        """Relay what is in the outbox after the checkpoint, up to ``read_limit`` messages."""
        start = self.position()
        with self._uow() as uow:
            messages = uow.outbox.read_after(start, self._read_limit)
        position, relayed = start, 0
        for offset in range(0, len(messages), self._batch_size):
            batch = messages[offset : offset + self._batch_size]
            accepted = self._put(batch)
            relayed += sum(accepted)
            for message, ok in zip(batch, accepted, strict=True):
                if not ok:
                    self._advance(position)
                    return RelayProgress(relayed, position, stuck=message.position)
                position = message.position
            self._advance(position)
        return RelayProgress(relayed, position)

    def relay_all(self, max_passes: int = 100) -> RelayProgress:
        """Passes until the outbox is drained, a message is stuck, or ``max_passes`` were made."""
        total = 0
        progress = RelayProgress(0, self.position())
        for _ in range(max_passes):
            progress = self.relay_once()
            total += progress.relayed
            if progress.stuck is not None or progress.relayed < self._read_limit:
                break
        return RelayProgress(total, progress.position, progress.stuck)

    def _put(self, batch: Sequence[OutboxMessage]) -> list[bool]:
        """Put ``batch``, then again its refused entries (only those), up to ``attempts`` tries."""
        accepted = [False] * len(batch)
        for _ in range(self._attempts):
            pending = [i for i, ok in enumerate(accepted) if not ok]
            if not pending:
                break
            flags = self._bus.put([batch[i] for i in pending])
            for i, ok in zip(pending, flags, strict=True):
                accepted[i] = ok
        return accepted

    def _advance(self, position: int) -> None:
        with self._uow() as uow:
            uow.outbox.advance_checkpoint(EVENT_BUS_CONSUMER, position)
            uow.commit()

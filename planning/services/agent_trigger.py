"""The agent's trigger: every ingested external event gets proposals, even across a crash.

``EXTERNAL_EVENT_RECEIVED`` is committed to the outbox with the event; this consumer reads the
outbox after its own checkpoint (``AGENT_CONSUMER``), runs the agent for each such event and
moves the checkpoint past it, so an event committed just before a crash is still handled by
the next process that runs the consumer (a server does). One holder at a time (``lock``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from planning.errors import DomainError
from planning.events import PlanEventKind
from planning.ports import UnitOfWorkFactory
from planning.ports.locks import ProcessLock
from planning.services.actions import ActionService

AGENT_CONSUMER = "agent"

log = logging.getLogger("planner.agent")


@dataclass(frozen=True, slots=True)
class TriggerProgress:
    handled: int
    position: int
    busy: bool = False


class AgentTrigger:
    def __init__(self, uow: UnitOfWorkFactory, actions: ActionService, lock: ProcessLock, *, batch_size: int = 100):
        self._uow = uow
        self._actions = actions
        self._lock = lock
        self._batch_size = batch_size

    def position(self) -> int:
        with self._uow() as uow:
            return uow.outbox.checkpoint(AGENT_CONSUMER)

    def catch_up(self, *, wait_s: float = 0.0) -> TriggerProgress:
        """Run the agent for every event received after the checkpoint.

        An event the agent cannot work on (a DomainError: a cycle, a plan deleted since) is
        logged and passed; any other failure propagates with the checkpoint at the last event
        handled, so the next pass tries that event again.
        """
        if not self._lock.acquire(wait_s):
            return TriggerProgress(0, self.position(), busy=True)
        try:
            position = self.position()
            handled = 0
            while True:
                with self._uow() as uow:
                    batch = uow.outbox.read_after(position, self._batch_size)
                if not batch:
                    return TriggerProgress(handled, position)
                for message in batch:
                    if message.event.kind is PlanEventKind.EXTERNAL_EVENT_RECEIVED:
                        try:
                            self._actions.propose_for_event(message.event.entity_id)
                        except DomainError as exc:
                            log.info("no proposals for event %s: %s", message.event.entity_id, exc.message)
                        handled += 1
                    position = message.position
                    with self._uow() as uow:
                        uow.outbox.advance_checkpoint(AGENT_CONSUMER, position)
                        uow.commit()
        finally:
            self._lock.release()

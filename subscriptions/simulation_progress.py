"""``onSimulationProgress``: a run's state now, then at each tenth of its iterations, to its end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from planning.errors import not_found
from planning.events import PlanEventKind
from planning.model.simulation import Simulation, SimulationStatus
from planning.principal import Principal
from planning.services.registry import PlanningServices
from subscriptions.broker import EventBroker
from subscriptions.plan_events import MEMBERSHIP_KINDS, may_read

#: The events of one run that move its progress or end it.
RUN_KINDS = frozenset(
    {
        PlanEventKind.SIMULATION_STARTED,
        PlanEventKind.SIMULATION_PROGRESS,
        PlanEventKind.SIMULATION_COMPLETED,
        PlanEventKind.SIMULATION_FAILED,
        PlanEventKind.SIMULATION_CANCELLED,
    }
)
TERMINAL = frozenset({SimulationStatus.SUCCEEDED, SimulationStatus.FAILED, SimulationStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class Progress:
    simulation_id: str
    plan_id: str
    status: SimulationStatus
    progress: float
    completed_iterations: int

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def of(cls, simulation: Simulation) -> Progress:
        return cls(
            simulation.id, simulation.plan_id, simulation.status, simulation.progress, simulation.completed_iterations
        )

    @classmethod
    def from_event(cls, simulation_id: str, plan_id: str, data: Mapping[str, Any]) -> Progress:
        progress = float(data.get("progress") or 0.0)
        iterations = int(data.get("iterations") or 0)
        done = data.get("completedIterations")
        return cls(
            simulation_id,
            plan_id,
            SimulationStatus(data["status"]),
            progress,
            int(done) if done is not None else round(progress * iterations),
        )


async def _simulation(services: PlanningServices, principal: Principal, simulation_id: str) -> Simulation | None:
    found = await asyncio.to_thread(services.simulations.get_many, principal, [simulation_id])
    return found[0]


async def simulation_progress(
    services: PlanningServices, principal: Principal, broker: EventBroker, simulation_id: str
) -> AsyncIterator[Progress]:
    """The run's story so far (replayed from the outbox), or its state now when it has none yet;
    then each progress event (at least every tenth) and the end (SUCCEEDED, FAILED or CANCELLED),
    after which the stream ends. A run the caller may not see answers as one that does not exist."""
    simulation = await _simulation(services, principal, simulation_id)
    if simulation is None:
        raise not_found("simulation", simulation_id, "simulationId")
    start = await asyncio.to_thread(broker.position_before, simulation.plan_id, simulation_id)
    follow = broker.follow(simulation.plan_id, start)
    try:
        current: Progress | None = None
        if start is None:
            # Nothing recorded yet (QUEUED): its state, read again now that the follow is on.
            simulation = await _simulation(services, principal, simulation_id)
            if simulation is None:
                return
            current = Progress.of(simulation)
            yield current
            if current.finished:
                return
        async for message in follow.messages():
            event = message.event
            if event.kind in MEMBERSHIP_KINDS and not await may_read(services, principal, event.plan_id):
                return
            if event.kind is PlanEventKind.PLAN_DELETED:
                return
            if event.entity_id != simulation_id or event.kind not in RUN_KINDS:
                continue
            update = Progress.from_event(simulation_id, event.plan_id, event.data)
            if current is not None and update.progress < current.progress and not update.finished:
                continue  # an older report than the state already sent
            current = update
            yield current
            if current.finished:
                return
    finally:
        follow.close()

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from planning.documents import PlanDocument
from planning.errors import DomainError, ErrorCode, invalid, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.graph_projection import graph_edge, graph_task
from planning.model import Dependency, ExternalEvent, Task
from planning.model.dag import find_cycle
from planning.model.simulation import (
    DEFAULT_ITERATIONS,
    MAX_ITERATIONS,
    Distribution,
    Simulation,
    SimulationStatus,
)
from planning.ports.graph import GraphEdge, GraphTask
from planning.ports.simulation import Progress, Risk, RiskSimulator, SimulationQueue, SimulationRequest
from planning.principal import Principal
from planning.services.base import Page, ServiceDeps, ordered

# Progress is written at most this often: each write is a transaction.
PROGRESS_INTERVAL_S = 0.5


@dataclass(frozen=True, slots=True)
class RunSimulation:
    plan_id: str
    iterations: int = DEFAULT_ITERATIONS
    seed: int | None = None
    as_of: date | None = None
    shards: int = 1
    distribution: Distribution = Distribution.PERT


class SimulationService:
    """Queues Monte Carlo runs, runs them (called by a background worker), and reads them."""

    def __init__(self, deps: ServiceDeps, simulator: RiskSimulator, queue: SimulationQueue) -> None:
        self._deps = deps
        self._simulator = simulator
        self._queue = queue

    def request(self, cmd: RunSimulation, principal: Principal) -> Simulation:
        """Check that the plan can be simulated, store the run as QUEUED, and hand it to the queue."""
        principal.require_write()
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            plan = uow.plans.get(cmd.plan_id)
            if plan is None:
                raise not_found("plan", cmd.plan_id, "input", "planId")
            simulation = Simulation(
                id=self._deps.ids.new_id(),
                plan_id=plan.id,
                status=SimulationStatus.QUEUED,
                iterations=cmd.iterations,
                seed=cmd.seed if cmd.seed is not None else random.SystemRandom().randrange(2**31),
                shards=cmd.shards,
                distribution=cmd.distribution,
                event_date=plan.event_date,
                as_of=cmd.as_of or self._deps.clock.today(),
                progress=0.0,
                completed_iterations=0,
                error=None,
                result=None,
                requested_by=principal.user_id,
                created_at=now,
                started_at=None,
                completed_at=None,
            )
            self._check_simulable(uow.tasks.for_plan(plan.id), uow.dependencies.for_plan(plan.id))
            uow.simulations.add(simulation)
            uow.commit()
        self._queue.submit(simulation.id)
        return simulation

    @staticmethod
    def _check_simulable(tasks: Sequence[Task], deps: Sequence[Dependency]) -> None:
        if not tasks:
            raise invalid("the plan has no tasks to simulate", "input", "planId")
        for task in tasks:
            if task.scheduling_points is None:
                raise invalid(
                    f"task {task.title!r} has neither an estimate nor durationDays; give it one to simulate",
                    "input",
                    "planId",
                )
        if find_cycle((d.predecessor_id, d.successor_id) for d in deps):
            raise DomainError(ErrorCode.CYCLE, "the plan's dependencies form a cycle", ("input", "planId"))

    def execute(self, simulation_id: str) -> Simulation:
        """Run a queued simulation to the end; failures end it FAILED with the reason."""
        with self._deps.uow() as uow:
            simulation = uow.simulations.get(simulation_id)
            if simulation is None or simulation.status is not SimulationStatus.QUEUED:
                raise not_found("queued simulation", simulation_id)
            plan = uow.plans.get(simulation.plan_id)
            tasks = uow.tasks.for_plan(simulation.plan_id)
            deps = uow.dependencies.for_plan(simulation.plan_id)
            events = uow.external_events.for_plan(simulation.plan_id)
            simulation = simulation.started(self._deps.clock.now())
            uow.simulations.update(simulation)
            uow.outbox.append(self._event(simulation, PlanEventKind.SIMULATION_STARTED))
            uow.commit()
        try:
            if plan is None:
                raise LookupError("the plan was deleted")
            request = SimulationRequest(
                tasks=tuple(graph_task(t) for t in tasks),
                edges=tuple(graph_edge(d) for d in deps),
                calendar=plan.calendar,
                as_of=simulation.as_of,
                event_date=simulation.event_date,
                risks=risks_of(events),
                iterations=simulation.iterations,
                seed=simulation.seed,
                shards=simulation.shards,
                distribution=simulation.distribution,
            )
            result = self._simulator.simulate(request, self._progress_writer(simulation))
        except Exception as exc:  # noqa: BLE001 - whatever stopped the run is its error message
            return self._finish(simulation.failed(f"{type(exc).__name__}: {exc}", self._deps.clock.now()))
        return self._finish(simulation.succeeded(result, self._deps.clock.now()))

    def _progress_writer(self, simulation: Simulation) -> Progress:
        last = [0.0]

        def report(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < PROGRESS_INTERVAL_S:
                return
            last[0] = now
            with self._deps.uow() as uow:
                uow.simulations.update(simulation.advanced(done))
                uow.commit()

        return report

    def _finish(self, simulation: Simulation) -> Simulation:
        kind = (
            PlanEventKind.SIMULATION_COMPLETED
            if simulation.status is SimulationStatus.SUCCEEDED
            else PlanEventKind.SIMULATION_FAILED
        )
        with self._deps.uow() as uow:
            uow.simulations.update(simulation)
            uow.outbox.append(self._event(simulation, kind))
            uow.commit()
        return simulation

    def _event(self, simulation: Simulation, kind: PlanEventKind) -> PlanEvent:
        return PlanEvent(
            simulation.plan_id,
            kind,
            simulation.id,
            self._deps.clock.now(),
            {
                "id": simulation.id,
                "status": simulation.status.value,
                "iterations": simulation.iterations,
                "progress": simulation.progress,
                "onTimeProbability": (simulation.result or {}).get("onTimeProbability"),
                "error": simulation.error,
            },
        )

    def recover(self) -> int:
        """After a restart: runs that were RUNNING died with the process; QUEUED ones go again."""
        with self._deps.uow() as uow:
            stale = uow.simulations.with_status([SimulationStatus.RUNNING])
            queued = uow.simulations.with_status([SimulationStatus.QUEUED])
            now = self._deps.clock.now()
            for simulation in stale:
                failed = simulation.failed("interrupted: the server stopped while it ran", now)
                uow.simulations.update(failed)
                uow.outbox.append(self._event(failed, PlanEventKind.SIMULATION_FAILED))
            uow.commit()
        for simulation in queued:
            self._queue.submit(simulation.id)
        return len(stale) + len(queued)

    def plan_request(self, cmd: RunSimulation) -> tuple[SimulationRequest, dict[str, str]]:
        """What a run of a stored plan would simulate, and its task titles; nothing is stored."""
        with self._deps.uow() as uow:
            plan = uow.plans.get(cmd.plan_id)
            if plan is None:
                raise not_found("plan", cmd.plan_id)
            tasks = uow.tasks.for_plan(plan.id)
            deps = uow.dependencies.for_plan(plan.id)
            events = uow.external_events.for_plan(plan.id)
        self._check_simulable(tasks, deps)
        request = SimulationRequest(
            tasks=tuple(graph_task(t) for t in tasks),
            edges=tuple(graph_edge(d) for d in deps),
            calendar=plan.calendar,
            as_of=cmd.as_of or self._deps.clock.today(),
            event_date=plan.event_date,
            risks=risks_of(events),
            iterations=cmd.iterations,
            seed=cmd.seed if cmd.seed is not None else random.SystemRandom().randrange(2**31),
            shards=cmd.shards,
            distribution=cmd.distribution,
        )
        return request, {t.id: t.title for t in tasks}

    # Reads

    def get_many(self, simulation_ids: Sequence[str]) -> list[Simulation | None]:
        with self._deps.uow() as uow:
            return ordered(simulation_ids, uow.simulations.get_many(simulation_ids))

    def page(self, plan_id: str, after: str | None, limit: int) -> Page[Simulation]:
        with self._deps.uow() as uow:
            return Page.of(uow.simulations.page(plan_id, after, limit + 1), limit)

    def count(self, plan_id: str) -> int:
        with self._deps.uow() as uow:
            return uow.simulations.count(plan_id)

    def latest(self, plan_ids: Sequence[str]) -> list[Simulation | None]:
        with self._deps.uow() as uow:
            found = uow.simulations.latest(plan_ids)
        return [found.get(i) for i in plan_ids]


def risks_of(events: Sequence[ExternalEvent]) -> tuple[Risk, ...]:
    """External events with a delay on some tasks; one without a probability is certain."""
    return tuple(
        Risk(1.0 if e.probability is None else e.probability, e.delay_days, e.affected_task_ids)
        for e in events
        if e.delay_days > 0 and e.affected_task_ids
    )


def document_request(
    doc: PlanDocument,
    *,
    iterations: int,
    seed: int,
    as_of: date,
    shards: int = 1,
    distribution: Distribution = Distribution.PERT,
) -> SimulationRequest:
    """A simulation of a plan document as it stands, task keys serving as ids."""
    tasks = []
    for t in doc.tasks:
        if t.estimate is not None:
            points = (t.estimate.optimistic_days, t.estimate.most_likely_days, t.estimate.pessimistic_days)
        else:
            duration = t.duration_days or 0.0
            points = (duration, duration, duration)
        tasks.append(GraphTask(t.key, "document", t.status.value, t.percent_complete, *points))
    edges = tuple(
        GraphEdge(f"{d.predecessor}->{d.successor}", "document", d.predecessor, d.successor, d.lag_days)
        for d in doc.dependencies
    )
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise invalid(f"iterations must be between 1 and {MAX_ITERATIONS:,}", "iterations")
    return SimulationRequest(
        tasks=tuple(tasks),
        edges=edges,
        calendar=doc.calendar,
        as_of=as_of,
        event_date=doc.event_date,
        risks=(),
        iterations=iterations,
        seed=seed,
        shards=shards,
        distribution=distribution,
    )

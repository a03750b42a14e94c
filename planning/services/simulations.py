from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from planning.access import Caller, Permission, access_of, principal_of, require_in
from planning.commands import CancelSimulation
from planning.documents import PlanDocument
from planning.errors import DomainError, ErrorCode, invalid, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.graph_projection import graph_edge, graph_task
from planning.model import Dependency, ExternalEvent, Plan, Task
from planning.model.dag import find_cycle
from planning.model.simulation import (
    DEFAULT_ITERATIONS,
    MAX_ITERATIONS,
    Distribution,
    Simulation,
    SimulationStatus,
)
from planning.model.task import scheduling_points
from planning.ports.background import Background
from planning.ports.graph import GraphEdge, GraphTask
from planning.ports.simulation import (
    Progress,
    Risk,
    RiskSimulator,
    SimulationQueue,
    SimulationRequest,
    SimulationStopped,
)
from planning.services.base import Page, ServiceDeps, ordered

# Progress is written at most this often: each write is a transaction, and beats the heartbeat.
PROGRESS_INTERVAL_S = 0.5
# A RUNNING run whose heartbeat is older than this died with its worker: recover() fails it.
STALE_AFTER = timedelta(minutes=2)
# While the engine runs, a heartbeat thread beats at least this often, progress reports or not
# (the merge and sensitivity phases after the last report take a while on large runs).
HEARTBEAT_S = 30.0
# A run still QUEUED this long after it was requested may have lost its submission (a store
# error before the claim, a replica that stopped for good): the periodic sweep submits it again.
RESUBMIT_AFTER = timedelta(seconds=60)
# What a run that failed for an unexpected reason tells clients; the details go to the log.
UNEXPECTED_FAILURE = "the simulation failed unexpectedly; the error has been logged"
# Attempts at storing a finished run before leaving it to recover() (its heartbeat goes stale).
FINISH_ATTEMPTS = 3

log = logging.getLogger("planner.simulations")


class _RunLost(Exception):
    """The run is no longer RUNNING in the store: a user cancelled it, its plan was deleted,
    or another process failed it as stale."""


class _EngineValueError(Exception):
    """A ValueError the engine raised about the plan: its message is meant for the user."""


@dataclass(frozen=True, slots=True)
class RunSimulation:
    plan_id: str
    iterations: int = DEFAULT_ITERATIONS
    seed: int | None = None
    as_of: date | None = None
    shards: int = 1
    distribution: Distribution = Distribution.PERT


class SimulationService:
    """Queues Monte Carlo runs, runs them (called by a background worker), and reads them.

    ``request``, ``cancel``, ``plan_request`` and the reads act for a caller and follow the access
    rule (``planning.access``); ``execute``, ``recover``, ``resubmit_queued`` and ``fail_stale``
    are the worker's, a system process that acts for no one and sees every run.
    """

    def __init__(
        self,
        deps: ServiceDeps,
        simulator: RiskSimulator,
        queue: SimulationQueue,
        background: Background,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        stale_after: timedelta = STALE_AFTER,
        resubmit_after: timedelta = RESUBMIT_AFTER,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
        finish_attempts: int = FINISH_ATTEMPTS,
    ) -> None:
        self._deps = deps
        self._simulator = simulator
        self._queue = queue
        self._background = background
        self.heartbeat_s = heartbeat_s
        self.progress_interval_s = progress_interval_s
        self.finish_attempts = finish_attempts
        self.stale_after = stale_after
        self.resubmit_after = resubmit_after

    def request(self, cmd: RunSimulation, caller: Caller) -> Simulation:
        """Check that the plan can be simulated, store the run as QUEUED, and hand it to the queue.

        Editors and owners of the plan (and admins) may.
        """
        principal = principal_of(caller)
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            missing = not_found("plan", cmd.plan_id, "input", "planId")
            require_in(uow, principal, cmd.plan_id, Permission.EDIT, missing)
            plan = uow.plans.get(cmd.plan_id)
            if plan is None:
                raise missing
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

    def execute(self, simulation_id: str, *, should_stop: Callable[[], bool] | None = None) -> Simulation | None:
        """Claim a queued run and take it to the end; failures end it FAILED with the reason.

        Answers None when the run was not this worker's to finish: another worker claimed it
        first (or it is not QUEUED any more: cancelled, or deleted with its plan), ``should_stop``
        asked it to stop (it is QUEUED again, for the next start's recover()), or it stopped being
        RUNNING meanwhile (cancelled, deleted with its plan, or failed as stale by another
        process), which the worker notices at its next progress write and keeps.
        """
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            simulation = uow.simulations.get(simulation_id)
            if simulation is None or simulation.status is not SimulationStatus.QUEUED:
                log.info("simulation %s is not queued any more; skipped", simulation_id)
                return None
            plan = uow.plans.get(simulation.plan_id)
            tasks = uow.tasks.for_plan(simulation.plan_id)
            deps = uow.dependencies.for_plan(simulation.plan_id)
            events = uow.external_events.for_plan(simulation.plan_id)
            simulation = simulation.started(now)
            if not uow.simulations.claim(simulation, now):
                log.info("simulation %s was claimed by another worker; skipped", simulation_id)
                return None
            uow.outbox.append(self._event(simulation, PlanEventKind.SIMULATION_STARTED))
            uow.commit()
        try:
            if plan is None:
                raise DomainError(ErrorCode.NOT_FOUND, "the plan was deleted")
            request = simulation_request(simulation, plan, tasks, deps, events)
            beat = _Heartbeat(self, simulation, self._background.mutex())
            progress = self._progress_writer(simulation, should_stop, beat)
            try:
                with self._background.repeating(self.heartbeat_s, beat.record, name=f"heartbeat-{simulation.id}"):
                    result = self._simulator.simulate(request, progress)
            except ValueError as exc:
                raise _EngineValueError(str(exc)) from exc
            if beat.lost:
                raise _RunLost(simulation.id)
        except SimulationStopped:
            self._requeue(simulation)
            return None
        except _RunLost:
            self._let_go(simulation.id, "the run")
            return None
        except Exception as exc:  # noqa: BLE001 - whatever stopped the run ends it FAILED
            return self._finish(simulation.failed(self._client_error(simulation, exc), self._deps.clock.now()))
        return self._finish(simulation.succeeded(result, self._deps.clock.now()))

    @staticmethod
    def _client_error(simulation: Simulation, exc: Exception) -> str:
        """What clients may read: the domain's and the engine's messages about the plan, else
        a generic message (the details, which may name SQL or hosts, go to the log)."""
        if isinstance(exc, DomainError):
            return exc.message
        if isinstance(exc, _EngineValueError):
            return f"the plan cannot be simulated: {exc}"
        log.error("simulation %s failed unexpectedly", simulation.id, exc_info=exc)
        return UNEXPECTED_FAILURE

    def _progress_writer(
        self, simulation: Simulation, should_stop: Callable[[], bool] | None, beat: _Heartbeat
    ) -> Progress:
        last: list[datetime | None] = [None]

        def report(done: int, total: int) -> None:
            if should_stop is not None and should_stop():
                raise SimulationStopped(simulation.id)
            if beat.lost:
                raise _RunLost(simulation.id)
            now = self._deps.clock.now()
            # A new tenth is always written (it is announced to subscribers); otherwise at most
            # one write every ``progress_interval_s``.
            new_tenth = beat.tenth_of(done) > beat.announced_tenth
            previous = last[0]
            recent = previous is not None and (now - previous).total_seconds() < self.progress_interval_s
            if done < total and recent and not new_tenth:
                return
            last[0] = now
            if not beat.record(done):
                raise _RunLost(simulation.id)

        return report

    def _record_progress(self, simulation: Simulation, done: int, *, announce: bool = False) -> bool | None:
        """Store the progress and beat the heartbeat; False when the run is no longer RUNNING,
        None when the store could not be reached (a missed write must not end the run).

        ``announce`` also records a ``SIMULATION_PROGRESS`` event (a new tenth was reached), in
        the same transaction, for ``onSimulationProgress`` in every process."""
        try:
            with self._deps.uow() as uow:
                advanced = simulation.advanced(done)
                still_running = uow.simulations.record_progress(advanced, self._deps.clock.now())
                if still_running and announce:
                    uow.outbox.append(self._event(advanced, PlanEventKind.SIMULATION_PROGRESS))
                uow.commit()
        except Exception:
            log.warning("could not store the progress of simulation %s", simulation.id, exc_info=True)
            return None
        return still_running

    def _requeue(self, simulation: Simulation) -> None:
        """Put a stopped run back to QUEUED, as it was before a worker claimed it."""
        queued = replace(
            simulation, status=SimulationStatus.QUEUED, started_at=None, progress=0.0, completed_iterations=0
        )
        try:
            with self._deps.uow() as uow:
                requeued = uow.simulations.finish(queued)
                uow.commit()
        except Exception:  # then the stale heartbeat lets recover() deal with it
            log.warning("could not put stopped simulation %s back in the queue", simulation.id, exc_info=True)
            return
        if requeued:
            log.info("simulation %s stopped and queued again", simulation.id)
        else:
            self._let_go(simulation.id, "the stopped run")

    def _finish(self, simulation: Simulation) -> Simulation | None:
        """Store the finished run if it is still RUNNING (not cancelled, deleted with its plan,
        or failed as stale meanwhile: then that end stands and this one is dropped).

        A store that keeps failing leaves the run RUNNING without heartbeats: recover() fails it
        once the heartbeat is stale.
        """
        kind = (
            PlanEventKind.SIMULATION_COMPLETED
            if simulation.status is SimulationStatus.SUCCEEDED
            else PlanEventKind.SIMULATION_FAILED
        )
        for attempt in range(1, self.finish_attempts + 1):
            try:
                with self._deps.uow() as uow:
                    stored = uow.simulations.finish(simulation)
                    if stored:
                        uow.outbox.append(self._event(simulation, kind))
                        uow.commit()
                if not stored:
                    self._let_go(simulation.id, f"its end ({simulation.status.value})")
                    return None
                return simulation
            except Exception:
                if attempt == self.finish_attempts:
                    raise
                log.warning("could not store the end of simulation %s; retrying", simulation.id, exc_info=True)
                self._background.pause(0.5 * attempt)
        return None  # pragma: no cover - the loop returns or raises

    def _let_go(self, simulation_id: str, what: str) -> None:
        """Log why a worker drops ``what`` of a run that is no longer RUNNING in the store.

        A cancelled run and one deleted with its plan are ordinary ends (no warning); a run that
        another process failed as stale is worth one.
        """
        try:
            with self._deps.uow() as uow:
                stored = uow.simulations.get(simulation_id)
        except Exception:  # only the log line depends on it
            log.warning("simulation %s is not RUNNING any more; %s is dropped", simulation_id, what, exc_info=True)
            return
        if stored is None:
            log.info("simulation %s was deleted with its plan; %s is dropped", simulation_id, what)
        elif stored.status is SimulationStatus.CANCELLED:
            log.info("simulation %s was cancelled; %s is dropped", simulation_id, what)
        else:
            log.warning(
                "simulation %s is %s, no longer RUNNING (failed as stale by another process?); %s is dropped",
                simulation_id,
                stored.status.value,
                what,
            )

    def cancel(self, cmd: CancelSimulation, caller: Caller) -> Simulation:
        """End a QUEUED or RUNNING run as CANCELLED; a worker running it stops at its next
        progress write (within ``PROGRESS_INTERVAL_S`` and one block of iterations) and keeps
        that verdict. A run that has ended already is an INVALID_INPUT error. Editors and owners
        of the plan (and admins) may."""
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            missing = not_found("simulation", cmd.simulation_id, "input", "id")
            simulation = uow.simulations.get(cmd.simulation_id)
            if simulation is None:
                raise missing
            require_in(uow, principal_of(caller), simulation.plan_id, Permission.EDIT, missing)
            # Conditional on the stored run not having ended: a worker that finishes it at the
            # same time either wins (then this answers that it ended) or finds it CANCELLED.
            if simulation.finished or not uow.simulations.cancel(simulation.cancelled(now)):
                ended = uow.simulations.get(cmd.simulation_id) or simulation
                raise DomainError(
                    ErrorCode.INVALID_INPUT,
                    f"the simulation has ended already ({ended.status.value}); only a QUEUED or RUNNING one "
                    "can be cancelled",
                    ("input", "id"),
                )
            cancelled = uow.simulations.get(cmd.simulation_id)
            assert cancelled is not None  # written in this transaction
            uow.outbox.append(self._event(cancelled, PlanEventKind.SIMULATION_CANCELLED))
            uow.commit()
        return cancelled

    # A run fanned out over separate workers (``planning.services.simulation_fanout``): claimed
    # here, its shards run elsewhere, its progress and end stored here as a run's always are.

    def stored(self, simulation_id: str) -> Simulation | None:
        """The run as stored, whoever asks (the worker's read, not a caller's)."""
        with self._deps.uow() as uow:
            return uow.simulations.get(simulation_id)

    def claim(self, simulation_id: str) -> Simulation | None:
        """Take a QUEUED run (RUNNING, with its SIMULATION_STARTED event); None when it is not
        the caller's to run (not QUEUED any more, or claimed by another worker first)."""
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            simulation = uow.simulations.get(simulation_id)
            if simulation is None or simulation.status is not SimulationStatus.QUEUED:
                return None
            simulation = simulation.started(now)
            if not uow.simulations.claim(simulation, now):
                return None
            uow.outbox.append(self._event(simulation, PlanEventKind.SIMULATION_STARTED))
            uow.commit()
        return simulation

    def running_request(self, simulation_id: str) -> tuple[Simulation, SimulationRequest] | None:
        """A RUNNING run and what it simulates (its plan read now); None when it is not RUNNING
        any more (cancelled, failed, or deleted with its plan)."""
        with self._deps.uow() as uow:
            simulation = uow.simulations.get(simulation_id)
            if simulation is None or simulation.status is not SimulationStatus.RUNNING:
                return None
            plan = uow.plans.get(simulation.plan_id)
            if plan is None:
                return None
            tasks = uow.tasks.for_plan(simulation.plan_id)
            deps = uow.dependencies.for_plan(simulation.plan_id)
            events = uow.external_events.for_plan(simulation.plan_id)
        request = simulation_request(simulation, plan, tasks, deps, events)
        return simulation, request

    def report_progress(self, simulation: Simulation, done: int, *, announce: bool) -> bool | None:
        """Store ``done`` iterations (and beat the heartbeat); ``announce`` records a
        SIMULATION_PROGRESS event too. False when the run is no longer RUNNING."""
        return self._record_progress(simulation, done, announce=announce)

    def end(self, simulation: Simulation, result: dict[str, Any] | None, error: str | None = None) -> Simulation | None:
        """End a RUNNING run SUCCEEDED with ``result``, or FAILED with ``error`` (a message for
        clients); None when it had ended otherwise meanwhile (that end stands)."""
        now = self._deps.clock.now()
        if error is not None or result is None:
            return self._finish(simulation.failed(error or UNEXPECTED_FAILURE, now))
        return self._finish(simulation.succeeded(result, now))

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
                "completedIterations": simulation.completed_iterations,
                "onTimeProbability": (simulation.result or {}).get("onTimeProbability"),
                "error": simulation.error,
            },
        )

    def recover(self) -> int:
        """After a restart: runs whose worker died (RUNNING, heartbeat older than ``stale_after``)
        end FAILED, QUEUED ones go to the queue again. Runs other processes are running keep
        beating their heartbeat and are left alone; a QUEUED run handed to several queues is
        run by whichever worker claims it first."""
        failed = self.fail_stale()
        with self._deps.uow() as uow:
            queued = uow.simulations.with_status([SimulationStatus.QUEUED])
        for simulation in queued:
            self._queue.submit(simulation.id)
        return failed + len(queued)

    def resubmit_queued(self) -> int:
        """Submit again the runs QUEUED for longer than ``resubmit_after``; how many.

        A run can stay QUEUED with nobody to run it: its worker met a store error before the
        claim, or the replica it was queued on stopped and never came back. Made periodically
        (from any process); the conditional claim runs each run once however often it is
        submitted, and a queue that already holds a run does not take it twice.
        """
        requested_before = self._deps.clock.now() - self.resubmit_after
        with self._deps.uow() as uow:
            queued = uow.simulations.with_status([SimulationStatus.QUEUED])
        waiting = [s for s in queued if s.created_at < requested_before]
        for simulation in waiting:
            self._queue.submit(simulation.id)
        return len(waiting)

    def fail_stale(self) -> int:
        """End FAILED the RUNNING runs whose heartbeat is older than ``stale_after``; how many.

        recover() does this at start; a run whose worker died less than ``stale_after`` before
        that is only caught by a later call (safe to make periodically, from any process). Each
        run ends in a transaction of its own: one holds a run's row lock and the outbox lock
        (taken by its first append) together, in that order, as a worker storing its run's end does.
        """
        now = self._deps.clock.now()
        beaten_before = now - self.stale_after
        with self._deps.uow() as uow:
            stale = uow.simulations.stale_running(beaten_before)
        failed = 0
        for simulation in stale:
            ended = simulation.failed("interrupted: the server stopped while it ran", now)
            with self._deps.uow() as uow:
                if uow.simulations.fail_stale(ended, beaten_before):
                    uow.outbox.append(self._event(ended, PlanEventKind.SIMULATION_FAILED))
                    failed += 1
                    uow.commit()
        return failed

    def plan_request(self, cmd: RunSimulation, caller: Caller) -> tuple[SimulationRequest, dict[str, str]]:
        """What a run of a stored plan would simulate, and its task titles; nothing is stored.
        Whoever may read the plan may."""
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            plan = uow.plans.get(cmd.plan_id)
            if plan is None or not access.can(plan.id):
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

    # Reads: only what the caller may read (``planning.access``); the rest is as if it did not exist.

    def get_many(self, caller: Caller, simulation_ids: Sequence[str]) -> list[Simulation | None]:
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            found = ordered(simulation_ids, uow.simulations.get_many(simulation_ids))
        return access.visible(found, lambda s: s.plan_id)

    def page(self, caller: Caller, plan_id: str, after: str | None, limit: int) -> Page[Simulation]:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return Page((), False)
        with self._deps.uow() as uow:
            return Page.of(uow.simulations.page(plan_id, after, limit + 1), limit)

    def count(self, caller: Caller, plan_id: str) -> int:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return 0
        with self._deps.uow() as uow:
            return uow.simulations.count(plan_id)

    def latest(self, caller: Caller, plan_ids: Sequence[str]) -> list[Simulation | None]:
        readable = access_of(caller, self._deps.uow).readable(plan_ids)
        with self._deps.uow() as uow:
            found = uow.simulations.latest(sorted(readable))
        return [found.get(i) for i in plan_ids]


class _Heartbeat:
    """Beats a running simulation's heartbeat: with each progress write, and (``record`` run by
    ``Background.repeating``) every ``heartbeat_s`` while the engine runs, so that a long phase
    without progress reports (merging shards, sensitivity) does not look like a dead worker.

    ``mutex`` keeps the two writers (the engine's progress and the repeating beat) one at a time.
    """

    def __init__(
        self, service: SimulationService, simulation: Simulation, mutex: AbstractContextManager[object]
    ) -> None:
        self._service = service
        self._simulation = simulation
        self._mutex = mutex
        self._done = 0
        self._lost = False
        #: The last tenth of the iterations announced with a SIMULATION_PROGRESS event.
        self.announced_tenth = 0

    @property
    def lost(self) -> bool:
        """The run is no longer RUNNING in the store (another process failed it as stale)."""
        return self._lost

    def record(self, done: int | None = None) -> bool:
        """Store the progress (the last reported when ``done`` is None); False once the run is lost."""
        with self._mutex:
            if done is not None:
                self._done = max(self._done, done)
            tenth = self.tenth_of(self._done)
            announce = tenth > self.announced_tenth
            still_running = self._service._record_progress(self._simulation, self._done, announce=announce)
            if announce and still_running:
                self.announced_tenth = tenth
            if still_running is False:
                self._lost = True
            return not self._lost

    def tenth_of(self, done: int) -> int:
        """How many whole tenths of the run's iterations ``done`` completes (0 to 10)."""
        return min(10, done * 10 // max(1, self._simulation.iterations))


def risks_of(events: Sequence[ExternalEvent]) -> tuple[Risk, ...]:
    """The events that still count (OPEN: not resolved or withdrawn) with a delay on some tasks;
    one without a probability is certain."""
    return tuple(
        Risk(1.0 if e.probability is None else e.probability, e.delay_days, e.affected_task_ids)
        for e in events
        if e.counts and e.delay_days > 0 and e.affected_task_ids
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
    """A simulation of a plan document as it stands, task keys serving as ids; its OPEN events
    are risks, as a stored plan's are."""
    tasks = []
    for t in doc.tasks:
        # The parser guarantees an estimate or a duration for every task.
        points = scheduling_points(t.estimate, t.duration_days) or (0.0, 0.0, 0.0)
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
        risks=risks_of(doc.open_events()),
        iterations=iterations,
        seed=seed,
        shards=shards,
        distribution=distribution,
    )


def simulation_request(
    simulation: Simulation,
    plan: Plan,
    tasks: Iterable[Task],
    deps: Iterable[Dependency],
    events: Sequence[ExternalEvent],
) -> SimulationRequest:
    """What the engine runs for ``simulation``: the plan's tasks, dependencies and open risks."""
    return SimulationRequest(
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

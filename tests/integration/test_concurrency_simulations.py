"""Simulation runs across workers and processes, on both stores.

Two ``Application`` objects on one database stand for two server processes: a QUEUED run is
claimed by exactly one worker, recover() leaves runs another process is running alone, shutting
down does not wait for queued or running simulations, and failures tell clients only what is
meant for them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from adapters.engine.simulator import EngineSimulator
from adapters.sql import SqlUnitOfWork
from adapters.sql.repositories.simulations import SqlSimulationRepository
from adapters.sql.rows import utc
from adapters.sql.tables import simulations as simulations_table
from planning.errors import DomainError, ErrorCode
from planning.model.simulation import SimulationStatus
from planning.principal import Principal
from planning.services import simulations as simulations_module
from planning.services.simulations import UNEXPECTED_FAILURE, RunSimulation
from tests.integration.graph_reference import RefTask, plan_document

ADMIN = Principal("t", frozenset({"admin"}))
TASKS = [RefTask(f"t{i}", 1 + i % 3) for i in range(4)]
EDGES = [("t0", "t1", 0), ("t1", "t2", 0), ("t0", "t3", 0)]


class FakeSimulator:
    """Reports progress ``steps`` times, ``delay_s`` apart, optionally waiting on ``gate`` first."""

    def __init__(self, steps: int = 4, delay_s: float = 0.0, gate: threading.Event | None = None) -> None:
        self.steps = steps
        self.delay_s = delay_s
        self.gate = gate
        self.started = threading.Event()
        self.calls = 0
        #: Progress reports made: fewer than ``steps`` when the run was stopped.
        self.reported = 0

    def simulate(self, request: Any, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        self.calls += 1
        self.started.set()
        for step in range(1, self.steps + 1):
            if self.gate is not None:
                self.gate.wait(30)
            time.sleep(self.delay_s)
            if progress is not None:
                progress(step * request.iterations // self.steps, request.iterations)
                self.reported += 1
        return {"onTimeProbability": 0.5}


class SwappableSimulator:
    """The engine until a test puts a scripted simulator in its place (``_use``).

    Injected through ``bootstrap(simulator=...)``: the service keeps the one it was given.
    """

    def __init__(self) -> None:
        self.current: Any = EngineSimulator()

    def simulate(self, request: Any, progress: Callable[[int, int], None] | None = None) -> Any:
        return self.current.simulate(request, progress)


_SIMULATORS: dict[int, SwappableSimulator] = {}


def _start(settings: Settings) -> Application:
    """An application ("process") whose simulator the test can swap, writing every progress report."""
    simulator = SwappableSimulator()
    application = bootstrap(settings, simulator=simulator)
    application.services.simulations.progress_interval_s = 0.0
    _SIMULATORS[id(application)] = simulator
    return application


def _use(app: Application, simulator: Any) -> None:
    _SIMULATORS[id(app)].current = simulator


@pytest.fixture
def app(settings: Settings) -> Iterator[Application]:
    application = _start(settings)
    yield application
    application.close()
    del _SIMULATORS[id(application)]


@pytest.fixture
def second(settings: Settings) -> Iterator[Application]:
    """Another process on the same store (and graph)."""
    application = _start(settings)
    yield application
    application.close()
    del _SIMULATORS[id(application)]


def _hold_queue(app: Application) -> None:
    """Runs requested through ``app`` stay QUEUED: its queue's worker does nothing."""
    app.simulation_queue.bind(lambda _simulation_id, *, should_stop: None)


def _plan(app: Application) -> str:
    return app.services.documents.import_document(plan_document("Sim", TASKS, EDGES), ADMIN).id


def _queued(app: Application, plan_id: str, count: int = 1) -> list[str]:
    _hold_queue(app)
    runs = [
        app.services.simulations.request(RunSimulation(plan_id, iterations=100, seed=i), ADMIN) for i in range(count)
    ]
    # Let the do-nothing jobs run, so that the runs are really orphaned before a test rebinds.
    _wait_for(lambda: app.simulation_queue.waiting == 0)
    return [r.id for r in runs]


def _status(app: Application, simulation_id: str) -> SimulationStatus:
    found = app.services.simulations.get_many(ADMIN, [simulation_id])[0]
    assert found is not None
    return found.status


def _events(app: Application, simulation_id: str) -> list[str]:
    """The run's lifecycle events (its SIMULATION_PROGRESS reports left out)."""
    with SqlUnitOfWork(app.engine) as uow:
        return [
            m.event.kind.value
            for m in uow.outbox.read_after(0, 100_000)
            if m.event.entity_id == simulation_id and m.event.kind.value != "SIMULATION_PROGRESS"
        ]


def _set_heartbeat(app: Application, simulation_id: str, at: datetime | None) -> None:
    with app.engine.begin() as conn:
        conn.execute(update(simulations_table).where(simulations_table.c.id == simulation_id).values(heartbeat_at=at))


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# M5: claiming


def test_a_queued_run_is_claimed_by_exactly_one_of_many_workers_in_two_processes(
    app: Application, second: Application
) -> None:
    plan_id = _plan(app)
    run_ids = _queued(app, plan_id, count=6)
    for application in (app, second):
        _use(application, FakeSimulator(steps=2, delay_s=0.01))
    services = [app.services.simulations, second.services.simulations] * 3
    barrier = threading.Barrier(len(services))
    outcomes: list[tuple[str, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(service: Any) -> None:
        try:
            barrier.wait()
            for run_id in run_ids:
                result = service.execute(run_id)
                with lock:
                    outcomes.append((run_id, result is not None))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for run_id in run_ids:
        assert sum(won for rid, won in outcomes if rid == run_id) == 1
        assert _events(app, run_id) == ["SIMULATION_STARTED", "SIMULATION_COMPLETED"]
        assert _status(app, run_id) is SimulationStatus.SUCCEEDED


def test_claim_is_conditional_on_the_run_being_queued(app: Application) -> None:
    plan_id = _plan(app)
    (run_id,) = _queued(app, plan_id)
    now = datetime.now(UTC)
    with SqlUnitOfWork(app.engine) as uow:
        queued = uow.simulations.get(run_id)
        assert queued is not None
        assert uow.simulations.claim(queued.started(now), now)
        assert not uow.simulations.claim(queued.started(now), now)
        uow.commit()
    assert app.services.simulations.execute(run_id) is None


# M5: recover() and heartbeats


def test_recover_in_another_process_leaves_a_live_run_alone(app: Application, second: Application) -> None:
    plan_id = _plan(app)
    gate = threading.Event()
    fake = FakeSimulator(gate=gate)
    _use(app, fake)
    (run_id,) = _queued(app, plan_id)
    worker = threading.Thread(target=app.services.simulations.execute, args=(run_id,))
    worker.start()
    try:
        assert fake.started.wait(10)
        _wait_for(lambda: _status(app, run_id) is SimulationStatus.RUNNING)
        _hold_queue(second)
        # The other process starts while this one runs the simulation: the run is alive.
        assert second.services.simulations.recover() == 0
        assert _status(app, run_id) is SimulationStatus.RUNNING
    finally:
        gate.set()
        worker.join(30)
    assert _status(app, run_id) is SimulationStatus.SUCCEEDED
    assert _events(app, run_id) == ["SIMULATION_STARTED", "SIMULATION_COMPLETED"]


def test_recover_fails_a_run_whose_heartbeat_is_stale_and_its_worker_then_stops(app: Application) -> None:
    plan_id = _plan(app)
    gate = threading.Event()
    fake = FakeSimulator(gate=gate)
    _use(app, fake)
    (run_id,) = _queued(app, plan_id)
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(app.services.simulations.execute(run_id)))
    worker.start()
    try:
        assert fake.started.wait(10)
        # The worker's process hangs (no heartbeat for three minutes); a restart fails the run.
        _set_heartbeat(app, run_id, datetime.now(UTC) - timedelta(minutes=3))
        assert app.services.simulations.recover() == 1
        failed = app.services.simulations.get_many(ADMIN, [run_id])[0]
        assert failed is not None
        assert failed.status is SimulationStatus.FAILED
        assert "interrupted" in (failed.error or "")
    finally:
        gate.set()
        worker.join(30)
    # The worker's next progress write found the run FAILED: it stopped and kept that verdict.
    assert results == [None]
    assert _status(app, run_id) is SimulationStatus.FAILED
    assert _events(app, run_id) == ["SIMULATION_STARTED", "SIMULATION_FAILED"]


def test_progress_writes_beat_the_heartbeat(app: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_id = _plan(app)
    (run_id,) = _queued(app, plan_id)
    _use(app, FakeSimulator(steps=3, delay_s=0.05))
    beats: list[datetime | None] = []
    real = SqlSimulationRepository.record_progress

    def spy(self: SqlSimulationRepository, simulation: Any, heartbeat: datetime) -> bool:
        beats.append(heartbeat)
        return real(self, simulation, heartbeat)

    monkeypatch.setattr(SqlSimulationRepository, "record_progress", spy)
    app.services.simulations.execute(run_id)
    assert len(beats) == 3
    with SqlUnitOfWork(app.engine) as uow:
        stored = (
            uow.connection.execute(simulations_table.select().where(simulations_table.c.id == run_id)).mappings().one()
        )
    assert stored["heartbeat_at"] is not None
    assert abs(utc(stored["heartbeat_at"]) - beats[-1]) < timedelta(seconds=1)


def test_a_run_whose_end_cannot_be_stored_is_failed_by_recover_once_stale(
    app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = _plan(app)
    (run_id,) = _queued(app, plan_id)
    _use(app, FakeSimulator())

    def store_down(self: Any, simulation: Any) -> bool:
        raise ConnectionError("store unreachable")

    monkeypatch.setattr(SqlSimulationRepository, "finish", store_down)
    app.services.simulations.finish_attempts = 2
    with pytest.raises(ConnectionError):
        app.services.simulations.execute(run_id)
    monkeypatch.undo()
    assert _status(app, run_id) is SimulationStatus.RUNNING
    _hold_queue(app)
    # A fresh heartbeat: the run might still be finishing somewhere; left alone.
    assert app.services.simulations.recover() == 0
    _set_heartbeat(app, run_id, datetime.now(UTC) - timedelta(minutes=3))
    assert app.services.simulations.recover() == 1
    assert _status(app, run_id) is SimulationStatus.FAILED


def test_two_processes_recovering_the_same_queued_runs_run_each_once(app: Application, second: Application) -> None:
    plan_id = _plan(app)
    run_ids = _queued(app, plan_id, count=3)
    for application in (app, second):
        _use(application, FakeSimulator(steps=2, delay_s=0.01))
        application.simulation_queue.bind(application.services.simulations.execute)
    assert app.services.simulations.recover() == 3
    second.services.simulations.recover()
    _wait_for(lambda: all(_status(app, r) is SimulationStatus.SUCCEEDED for r in run_ids))
    time.sleep(0.2)
    for run_id in run_ids:
        assert _events(app, run_id) == ["SIMULATION_STARTED", "SIMULATION_COMPLETED"]


# M6: shutting down


def test_shutdown_cancels_queued_runs_and_stops_the_running_one(app: Application, settings: Settings) -> None:
    plan_id = _plan(app)
    slow = FakeSimulator(steps=3000, delay_s=0.02)  # a minute, unless stopped
    _use(app, slow)
    run_ids = [
        app.services.simulations.request(RunSimulation(plan_id, iterations=100, seed=i), ADMIN).id for i in range(3)
    ]
    assert slow.started.wait(10)
    _wait_for(lambda: _status(app, run_ids[0]) is SimulationStatus.RUNNING)
    app.simulation_queue.shutdown(wait=True)
    # The running run was stopped at a progress report, not waited out (a minute of steps).
    assert slow.calls == 1
    assert slow.reported < slow.steps
    # Every run is QUEUED again, the interrupted one without its partial progress.
    for run_id in run_ids:
        run = app.services.simulations.get_many(ADMIN, [run_id])[0]
        assert run is not None
        assert run.status is SimulationStatus.QUEUED
        assert run.progress == 0.0
        assert run.started_at is None
    # The next start runs them all.
    restarted = _start(settings)
    try:
        _use(restarted, FakeSimulator())
        assert restarted.services.simulations.recover() == 3
        _wait_for(lambda: all(_status(restarted, r) is SimulationStatus.SUCCEEDED for r in run_ids))
    finally:
        restarted.close()


def test_a_run_requested_after_shutdown_stays_queued(app: Application) -> None:
    plan_id = _plan(app)
    app.simulation_queue.shutdown(wait=True)
    run = app.services.simulations.request(RunSimulation(plan_id, iterations=100, seed=1), ADMIN)
    time.sleep(0.1)
    assert _status(app, run.id) is SimulationStatus.QUEUED


# M2: what a failed run tells clients


def _fail_with(app: Application, exc: Exception) -> str | None:
    plan_id = _plan(app)
    (run_id,) = _queued(app, plan_id)

    class Broken:
        def simulate(self, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
            raise exc

    _use(app, Broken())
    done = app.services.simulations.execute(run_id)
    assert done is not None
    assert done.status is SimulationStatus.FAILED
    stored = app.services.simulations.get_many(ADMIN, [run_id])[0]
    assert stored is not None
    assert stored.error == done.error
    return done.error


def test_an_unexpected_failure_is_logged_and_clients_get_a_generic_message(
    app: Application, caplog: pytest.LogCaptureFixture
) -> None:
    leak = RuntimeError('(psycopg.OperationalError) connection to server at "10.1.2.3" failed [SQL: SELECT secret]')
    with caplog.at_level(logging.ERROR, logger="planner.simulations"):
        error = _fail_with(app, leak)
    assert error == UNEXPECTED_FAILURE
    assert "10.1.2.3" in caplog.text
    assert "SELECT secret" in caplog.text


def test_a_domain_error_keeps_its_message(app: Application) -> None:
    error = _fail_with(app, DomainError(ErrorCode.CYCLE, "the plan's dependencies form a cycle: a -> b -> a"))
    assert error == "the plan's dependencies form a cycle: a -> b -> a"


def test_the_engines_value_error_about_the_plan_keeps_its_message(app: Application) -> None:
    error = _fail_with(app, ValueError("task 't3': percent_complete must be within 0..100"))
    assert error is not None
    assert "task 't3': percent_complete must be within 0..100" in error


def test_a_value_error_outside_the_engine_is_not_shown(app: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    def bad_request(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("internal detail from building the request")

    monkeypatch.setattr(simulations_module, "risks_of", bad_request)
    error = _fail_with(app, RuntimeError("not reached"))
    assert error == UNEXPECTED_FAILURE


# The heartbeat while the engine is silent, and runs left QUEUED


class SilentTail(FakeSimulator):
    """Reports its last progress at once, then works ``silent_s`` without reporting (a merge)."""

    def __init__(self, silent_s: float) -> None:
        super().__init__(steps=1)
        self.silent_s = silent_s

    def simulate(self, request: Any, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        result = super().simulate(request, progress)
        time.sleep(self.silent_s)
        return result


def test_the_heartbeat_goes_on_while_the_engine_reports_no_progress(app: Application, second: Application) -> None:
    plan_id = _plan(app)
    (run_id,) = _queued(app, plan_id)
    service = app.services.simulations
    service.heartbeat_s = 0.1
    silent = SilentTail(silent_s=1.5)
    _use(app, silent)
    second.services.simulations.stale_after = timedelta(seconds=0.6)
    worker = threading.Thread(target=service.execute, args=(run_id,))
    worker.start()
    try:
        assert silent.started.wait(10)
        for _ in range(5):
            time.sleep(0.25)
            # Another process's sweep, with a short staleness limit: the run is alive.
            assert second.services.simulations.fail_stale() == 0
    finally:
        worker.join(30)
    assert _status(app, run_id) is SimulationStatus.SUCCEEDED
    assert _events(app, run_id) == ["SIMULATION_STARTED", "SIMULATION_COMPLETED"]


def test_a_run_failed_as_stale_during_a_silent_phase_keeps_that_verdict(app: Application) -> None:
    plan_id = _plan(app)
    (run_id,) = _queued(app, plan_id)
    service = app.services.simulations
    # No beat during the test's window: it backdates the heartbeat, then sweeps.
    service.heartbeat_s = 30.0
    silent = SilentTail(silent_s=0.6)
    _use(app, silent)
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(service.execute(run_id)))
    worker.start()
    try:
        assert silent.started.wait(10)
        _wait_for(lambda: _status(app, run_id) is SimulationStatus.RUNNING)
        # The engine's one progress report writes a heartbeat too: let it land before backdating.
        _wait_for(lambda: app.services.simulations.get_many(ADMIN, [run_id])[0].progress == 1.0)
        _set_heartbeat(app, run_id, datetime.now(UTC) - timedelta(minutes=3))
        assert service.fail_stale() == 1
    finally:
        worker.join(30)
    assert results == [None]
    assert _status(app, run_id) is SimulationStatus.FAILED
    assert _events(app, run_id) == ["SIMULATION_STARTED", "SIMULATION_FAILED"]


def test_runs_left_queued_too_long_are_submitted_again(app: Application) -> None:
    plan_id = _plan(app)
    (run_id,) = _queued(app, plan_id)  # its submission went nowhere
    service = app.services.simulations
    _use(app, FakeSimulator())
    app.simulation_queue.bind(service.execute)
    assert service.resubmit_queued() == 0  # requested moments ago: still on its way
    service.resubmit_after = timedelta(0)
    assert service.resubmit_queued() == 1
    _wait_for(lambda: _status(app, run_id) is SimulationStatus.SUCCEEDED)
    assert service.resubmit_queued() == 0
    assert _events(app, run_id) == ["SIMULATION_STARTED", "SIMULATION_COMPLETED"]


def test_the_servers_periodic_sweep_runs_a_run_left_queued(app: Application) -> None:
    from starlette.testclient import TestClient

    from adapters.asgi.app import create_asgi_app

    plan_id = _plan(app)
    (run_id,) = _queued(app, plan_id)
    service = app.services.simulations
    _use(app, FakeSimulator())
    service.resubmit_after = timedelta(seconds=0.2)
    calls: list[str] = []

    def lose_the_first_submission(simulation_id: str, *, should_stop: Callable[[], bool]) -> object:
        calls.append(simulation_id)
        if len(calls) == 1:
            return None  # e.g. a store error before the claim: the run stays QUEUED
        return service.execute(simulation_id, should_stop=should_stop)

    app.simulation_queue.bind(lose_the_first_submission)
    with TestClient(create_asgi_app(app, sweep_interval_s=0.1)):
        _wait_for(lambda: _status(app, run_id) is SimulationStatus.SUCCEEDED)
    assert len(calls) >= 2


def test_a_queue_does_not_hold_the_same_run_twice(app: Application) -> None:
    gate = threading.Event()
    ran: list[str] = []

    def run(simulation_id: str, *, should_stop: Callable[[], bool]) -> object:
        gate.wait(10)
        ran.append(simulation_id)
        return None

    app.simulation_queue.bind(run)
    app.simulation_queue.submit("busy")
    for _ in range(3):
        app.simulation_queue.submit("waiting")
    gate.set()
    _wait_for(lambda: len(ran) >= 2)
    time.sleep(0.1)
    assert ran == ["busy", "waiting"]


def test_submissions_racing_shutdown_never_raise(app: Application) -> None:
    app.simulation_queue.bind(lambda _simulation_id, *, should_stop: None)
    errors: list[BaseException] = []

    def submit_many() -> None:
        try:
            for i in range(2000):
                app.simulation_queue.submit(f"run-{i}")
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            errors.append(exc)

    submitter = threading.Thread(target=submit_many)
    submitter.start()
    time.sleep(0.005)
    app.simulation_queue.shutdown(wait=True)
    submitter.join(30)
    assert errors == []

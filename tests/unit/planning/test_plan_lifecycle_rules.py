"""The domain rules of a plan's life: partial plan updates, event statuses, what an idempotency
key stands for, which events a simulation counts, and cancelled runs."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import pytest

from planning.commands import IngestExternalEvent
from planning.errors import DomainError, ErrorCode, StoreConflict
from planning.model import ExternalEvent, ExternalEventStatus, Plan, Severity, WorkCalendar
from planning.model.membership import PlanRole
from planning.model.simulation import Distribution, Simulation, SimulationStatus
from planning.principal import Principal
from planning.services.base import ServiceDeps
from planning.services.external_events import ExternalEventService
from planning.services.simulations import risks_of

T0 = datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def _plan(**fields: Any) -> Plan:
    base: dict[str, Any] = {
        "id": "p1",
        "name": "Launch",
        "planner_plan_id": "planner-1",
        "event_date": date(2025, 3, 31),
        "calendar": WorkCalendar(frozenset(range(5)), frozenset({date(2025, 12, 25)})),
        "created_at": T0,
        "updated_at": T0,
    }
    return Plan(**{**base, **fields})


# Plan.changed


def test_a_plan_change_touches_only_the_fields_given_and_bumps_the_version() -> None:
    plan = _plan()
    changed = plan.changed({"name": "  Launch v2 "}, at=T1, expected_version=1)
    assert changed.name == "Launch v2"
    assert (changed.event_date, changed.planner_plan_id, changed.calendar) == (
        plan.event_date,
        plan.planner_plan_id,
        plan.calendar,
    )
    assert (changed.version, changed.updated_at, changed.created_at) == (2, T1, T0)


def test_none_clears_the_event_date_and_the_planner_plan_and_an_empty_planner_id_is_none() -> None:
    cleared = _plan().changed({"event_date": None, "planner_plan_id": None}, at=T1, expected_version=None)
    assert (cleared.event_date, cleared.planner_plan_id, cleared.version) == (None, None, 2)
    assert _plan().changed({"planner_plan_id": ""}, at=T1, expected_version=None).planner_plan_id is None


def test_working_days_and_holidays_each_replace_only_their_part_of_the_calendar() -> None:
    plan = _plan()
    days = plan.changed({"working_days": ("MON", "sat")}, at=T1, expected_version=None)
    assert days.calendar == WorkCalendar(frozenset({0, 5}), frozenset({date(2025, 12, 25)}))
    holidays = plan.changed({"holidays": ()}, at=T1, expected_version=None)
    assert holidays.calendar == WorkCalendar(frozenset(range(5)), frozenset())


def test_a_change_that_changes_nothing_answers_the_plan_itself() -> None:
    plan = _plan()
    same = plan.changed({"name": "Launch", "event_date": date(2025, 3, 31)}, at=T1, expected_version=1)
    assert same is plan
    assert plan.changed({}, at=T1, expected_version=None) is plan


def test_a_plan_change_at_another_version_is_stale() -> None:
    with pytest.raises(DomainError) as exc:
        _plan(version=3).changed({"name": "X"}, at=T1, expected_version=2)
    assert exc.value.code is ErrorCode.STALE_VERSION
    assert exc.value.field == ("input", "expectedVersion")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, ("name",)),
        ({"name": "n" * 201}, ("name",)),
        ({"name": "a\x00b"}, ("name",)),
        ({"planner_plan_id": "p" * 101}, ("plannerPlanId",)),
        ({"working_days": ("MON", "FUNDAY")}, ("calendar", "workingDays")),
        ({"working_days": ()}, ("calendar", "workingDays")),
    ],
)
def test_bad_plan_changes_are_input_errors(changes: dict[str, Any], field: tuple[str, ...]) -> None:
    with pytest.raises(DomainError) as exc:
        _plan().changed(changes, at=T1, expected_version=None)
    assert exc.value.code is ErrorCode.INVALID_INPUT
    assert exc.value.field == field


def test_only_updatable_plan_fields_may_change() -> None:
    with pytest.raises(ValueError, match="created_at"):
        _plan().changed({"created_at": T1}, at=T1, expected_version=None)


# ExternalEvent: status and content


def _event(**fields: Any) -> ExternalEvent:
    base: dict[str, Any] = {
        "id": "e1",
        "plan_id": "p1",
        "event_type": "supplier_delay",
        "severity": Severity.HIGH,
        "title": "Parts late",
        "description": "Port congestion",
        "source": "erp",
        "occurred_at": T0,
        "received_at": T0,
        "delay_days": 5.0,
        "probability": 0.5,
        "payload": {"supplier": "ACME", "containers": [1, 2]},
        "affected_task_ids": ("t1", "t2"),
        "idempotency_key": "erp-1",
    }
    return ExternalEvent(**{**base, **fields})


def test_a_status_change_records_who_when_and_why() -> None:
    resolved = _event().with_status(ExternalEventStatus.RESOLVED, at=T1, by="pat@example.com", note="arrived")
    assert (resolved.status, resolved.status_changed_at, resolved.status_changed_by, resolved.status_note) == (
        ExternalEventStatus.RESOLVED,
        T1,
        "pat@example.com",
        "arrived",
    )
    assert not resolved.counts
    assert _event().counts
    assert not _event().with_status(ExternalEventStatus.WITHDRAWN, at=T1, by="x", note=None).counts
    blank = _event().with_status(ExternalEventStatus.WITHDRAWN, at=T1, by="x", note="   ")
    assert blank.status_note is None


def test_setting_the_status_an_event_has_changes_nothing() -> None:
    resolved = _event().with_status(ExternalEventStatus.RESOLVED, at=T0, by="pat@example.com", note="arrived")
    assert resolved.with_status(ExternalEventStatus.RESOLVED, at=T1, by="other", note="new note") is resolved


def test_a_status_note_is_bounded() -> None:
    with pytest.raises(DomainError) as exc:
        _event().with_status(ExternalEventStatus.RESOLVED, at=T1, by="x", note="n" * 2001)
    assert exc.value.code is ErrorCode.INVALID_INPUT
    assert exc.value.field == ("note",)


def test_same_content_ignores_ids_receipt_status_key_and_task_order() -> None:
    event = _event()
    other = _event(
        id="e2",
        received_at=T1,
        idempotency_key="another",
        affected_task_ids=("t2", "t1"),
        payload={"containers": [1.0, 2], "supplier": "ACME"},
    ).with_status(ExternalEventStatus.RESOLVED, at=T1, by="x", note=None)
    assert event.same_content(other)
    assert other.same_content(event)


@pytest.mark.parametrize(
    "change",
    [
        {"event_type": "strike"},
        {"severity": Severity.LOW},
        {"title": "Parts very late"},
        {"description": None},
        {"source": "email"},
        {"delay_days": 6.0},
        {"probability": None},
        {"payload": {"supplier": "ACME", "containers": [1, 2, 3]}},
        {"payload": {"supplier": "ACME", "containers": [True, 2]}},
        {"payload": None},
        {"affected_task_ids": ("t1",)},
        {"occurred_at": T1},
    ],
)
def test_same_content_sees_every_difference_in_content(change: dict[str, Any]) -> None:
    assert not _event().same_content(_event(**change))


def test_occurred_at_is_content_only_when_compared() -> None:
    assert _event().same_content(_event(occurred_at=T1), compare_occurred_at=False)
    assert not _event().same_content(_event(title="Other"), compare_occurred_at=False)


# The simulation counts open events only


def test_only_open_events_with_a_delay_on_tasks_are_risks() -> None:
    open_certain = _event(id="a", probability=None)
    open_risk = _event(id="b", probability=0.25, delay_days=2.0, affected_task_ids=("t3",))
    resolved = _event(id="c").with_status(ExternalEventStatus.RESOLVED, at=T1, by="x", note=None)
    withdrawn = _event(id="d").with_status(ExternalEventStatus.WITHDRAWN, at=T1, by="x", note=None)
    no_delay = _event(id="e", delay_days=0.0)
    no_tasks = _event(id="f", affected_task_ids=())
    risks = risks_of([open_certain, resolved, open_risk, withdrawn, no_delay, no_tasks])
    assert [(r.probability, r.delay_days, r.task_ids) for r in risks] == [
        (1.0, 5.0, ("t1", "t2")),
        (0.25, 2.0, ("t3",)),
    ]
    reopened = resolved.with_status(ExternalEventStatus.OPEN, at=T1, by="x", note=None)
    assert len(risks_of([reopened])) == 1


# Cancelled runs


def test_a_cancelled_run_has_finished_with_the_progress_it_had() -> None:
    running = Simulation(
        id="s1",
        plan_id="p1",
        status=SimulationStatus.QUEUED,
        iterations=1000,
        seed=1,
        shards=1,
        distribution=Distribution.PERT,
        event_date=None,
        as_of=date(2025, 2, 1),
        progress=0.0,
        completed_iterations=0,
        error=None,
        result=None,
        requested_by="x",
        created_at=T0,
        started_at=None,
        completed_at=None,
    ).started(T0)
    assert not running.finished
    cancelled = running.advanced(400).cancelled(T1)
    assert cancelled.status is SimulationStatus.CANCELLED
    assert cancelled.finished
    assert (cancelled.completed_iterations, cancelled.progress, cancelled.completed_at) == (400, 0.4, T1)
    assert cancelled.result is None


# The race path of ingest: the key was taken between the check and the commit


class _Store:
    """What the fake units of work share: one plan, and the event another request stored."""

    def __init__(self, stored: ExternalEvent) -> None:
        self.stored = stored
        self.commits = 0
        self.appended: list[Any] = []


class _Plans:
    def get(self, plan_id: str) -> Plan | None:
        return _plan(id=plan_id)


class _Tasks:
    def get_many(self, task_ids: Any) -> list[Any]:
        from planning.model import Task, TaskStatus

        return [
            Task.new(id=t, plan_id="p1", at=T0, title=t, status=TaskStatus.NOT_STARTED, percent_complete=0)
            for t in task_ids
        ]


class _Events:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def find_by_idempotency_key(self, plan_id: str, key: str) -> ExternalEvent | None:
        # Nothing stored yet when the request checks; there once its commit lost the race.
        return self.store.stored if self.store.commits else None

    def add(self, event: ExternalEvent) -> None:
        pass


class _Members:
    """The writer edits plan p1, and nothing else."""

    def role_of(self, plan_id: str, user_id: str) -> PlanRole | None:
        return PlanRole.EDITOR if (plan_id, user_id) == ("p1", WRITER.user_id) else None

    def roles_of(self, user_id: str, plan_ids: Any) -> dict[str, PlanRole]:
        return {p: role for p in plan_ids if (role := self.role_of(p, user_id)) is not None}


class _Outbox:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def append(self, event: Any) -> None:
        self.store.appended.append(event)


class _RacingUnitOfWork:
    def __init__(self, store: _Store) -> None:
        self.store = store
        self.plans = _Plans()
        self.tasks = _Tasks()
        self.external_events = _Events(store)
        self.members = _Members()
        self.outbox = _Outbox(store)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def commit(self) -> None:
        self.store.commits += 1
        raise StoreConflict("duplicate key value violates unique constraint uq_external_events_idempotency")

    def rollback(self) -> None:
        pass


class _Clock:
    def now(self) -> datetime:
        return T1

    def today(self) -> date:
        return T1.date()


class _Ids:
    def __init__(self) -> None:
        self.count = itertools.count()

    def new_id(self) -> str:
        return f"id-{next(self.count):04d}"


def _racing_service(stored: ExternalEvent) -> ExternalEventService:
    store = _Store(stored)
    deps = ServiceDeps(uow=lambda: _RacingUnitOfWork(store), clock=_Clock(), ids=_Ids())
    return ExternalEventService(deps)


def _cmd(**fields: Any) -> IngestExternalEvent:
    base: dict[str, Any] = {
        "plan_id": "p1",
        "event_type": "supplier_delay",
        "severity": Severity.HIGH,
        "title": "Parts late",
        "description": "Port congestion",
        "source": "erp",
        "delay_days": 5.0,
        "probability": 0.5,
        "payload": {"supplier": "ACME", "containers": [1, 2]},
        "affected_task_ids": ("t1", "t2"),
        "idempotency_key": "erp-1",
    }
    return IngestExternalEvent(**{**base, **fields})


WRITER = Principal("w@example.com", frozenset({"planner"}))


def test_losing_the_race_with_the_same_content_answers_the_stored_event() -> None:
    stored = _event(id="winner")
    assert _racing_service(stored).ingest(_cmd(title="  Parts late "), WRITER) is stored


def test_losing_the_race_with_other_content_is_a_conflict() -> None:
    with pytest.raises(DomainError) as exc:
        _racing_service(_event(id="winner")).ingest(_cmd(delay_days=9.0), WRITER)
    assert exc.value.code is ErrorCode.CONFLICT
    assert exc.value.field == ("input", "idempotencyKey")


def test_losing_the_race_compares_occurred_at_only_when_given() -> None:
    stored = _event(id="winner", occurred_at=T0)
    assert _racing_service(stored).ingest(_cmd(occurred_at=None), WRITER) is stored
    assert _racing_service(stored).ingest(_cmd(occurred_at=T0), WRITER) is stored
    with pytest.raises(DomainError) as exc:
        _racing_service(stored).ingest(_cmd(occurred_at=T0 - timedelta(days=1)), WRITER)
    assert exc.value.code is ErrorCode.CONFLICT

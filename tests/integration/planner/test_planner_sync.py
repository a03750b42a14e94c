"""The Planner sync end to end in process: the real Graph client, over HTTP, against the fake
Graph; the real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from adapters.bootstrap import Application
from adapters.locks import process_lock
from adapters.msgraph import RetryPolicy
from adapters.sql import SqlUnitOfWork
from planning.commands import AddDependency, CreatePlan, UpdateTask
from planning.errors import DomainError, ErrorCode
from planning.model import Plan, Task, TaskStatus, ThreePointEstimate
from planning.model.membership import ActivityKind
from planning.principal import Principal
from planning.services.planner_sync import PlannerSyncService, lock_name
from tests.fake_graph import FakeGraphServer, Fault
from tests.integration.planner.conftest import PLANNER_PLAN, START, USERS, Sleeps, service_with_sleep
from tests.integration.sql.conftest import kinds_after, last_position

OWNER = Principal("olive@example.com", frozenset({"planner"}))
OUTSIDER = Principal("oscar@example.com", frozenset({"planner"}))

TASK_KINDS = {"TASK_CREATED", "TASK_UPDATED", "TASK_DELETED", "DEPENDENCY_REMOVED"}


def _linked_plan(app: Application) -> Plan:
    return app.services.plans.create(CreatePlan(name="Launch", planner_plan_id=PLANNER_PLAN), OWNER)


def _service(app: Application) -> PlannerSyncService:
    assert app.services.planner_sync is not None
    return app.services.planner_sync


def _by_planner_id(app: Application, plan_id: str) -> dict[str, Task]:
    return {t.planner_task_id: t for t in app.services.tasks.for_plan(OWNER, plan_id) if t.planner_task_id}


def test_first_sync_then_nothing_then_exactly_the_changes(sync_app: Application, fake: FakeGraphServer) -> None:
    app = sync_app
    ids = fake.state.add_plan(PLANNER_PLAN, 250, list(USERS), START)
    plan = _linked_plan(app)

    before = last_position(app)
    report = _service(app).sync(plan.id, OWNER)

    assert (report.pages, report.created, report.updated, report.deleted) == (3, 250, 0, 0)
    tasks = _by_planner_id(app, plan.id)
    assert len(tasks) == 250
    first = tasks[ids[0]]
    assert first.title == "Task 0"
    assert first.assignees == ("person1@contoso.com", "person2@contoso.com")
    assert (first.start_date, first.due_date) == (START, START + timedelta(days=5))
    assert (first.status, first.percent_complete) == (TaskStatus.NOT_STARTED, 0)
    assert (tasks[ids[1]].status, tasks[ids[2]].status) == (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED)
    kinds = Counter(kind for kind, _ in kinds_after(app, before))
    assert kinds == Counter({"TASK_CREATED": 250, "PLANNER_SYNC_STARTED": 1, "PLANNER_SYNC_COMPLETED": 1})
    # Each assignee's address was asked for once: the adapter caches them.
    assert fake.state.count("/users/") == len(USERS)

    # Local work Planner knows nothing of: an estimate, a duration and dependencies.
    estimate = ThreePointEstimate(2.0, 3.0, 5.0)
    kept = app.services.tasks.update(UpdateTask(tasks[ids[5]].id, {"estimate": estimate, "duration_days": 3.0}), OWNER)
    app.services.dependencies.add(AddDependency(tasks[ids[5]].id, tasks[ids[6]].id), OWNER)
    doomed_edge = app.services.dependencies.add(AddDependency(tasks[ids[7]].id, tasks[ids[8]].id), OWNER)

    before = last_position(app)
    again = _service(app).sync(plan.id, OWNER)
    assert (again.created, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 250)
    assert [kind for kind, _ in kinds_after(app, before)] == ["PLANNER_SYNC_STARTED", "PLANNER_SYNC_COMPLETED"]
    assert {t.id: t.version for t in _by_planner_id(app, plan.id).values()} == {
        t.id: (kept.version if t.id == kept.id else t.version) for t in tasks.values()
    }

    # Planner changes three tasks (one of them the estimated one) and deletes one.
    fake.state.change(PLANNER_PLAN, ids[5], title="Task 5, renamed")
    fake.state.change(PLANNER_PLAN, ids[120], percentComplete=100)
    # Midnight of 1 March in Paris, as Planner stores it.
    fake.state.change(PLANNER_PLAN, ids[249], dueDateTime="2027-02-28T23:00:00Z")
    fake.state.delete(PLANNER_PLAN, ids[8])
    before = last_position(app)
    third = _service(app).sync(plan.id, OWNER)

    assert (third.created, third.updated, third.deleted, third.unchanged) == (0, 3, 1, 246)
    events = kinds_after(app, before)
    task_events = [(k, e) for k, e in events if k in TASK_KINDS]
    assert sorted(task_events) == sorted(
        [
            ("TASK_UPDATED", tasks[ids[5]].id),
            ("TASK_UPDATED", tasks[ids[120]].id),
            ("TASK_UPDATED", tasks[ids[249]].id),
            ("DEPENDENCY_REMOVED", doomed_edge.id),
            ("TASK_DELETED", tasks[ids[8]].id),
        ]
    )
    now = _by_planner_id(app, plan.id)
    assert len(now) == 249
    assert ids[8] not in now
    assert app.services.plans.task_counts(OWNER, [plan.id]) == [249]  # the plan's kept count followed
    assert now[ids[5]].title == "Task 5, renamed"
    assert (now[ids[5]].estimate, now[ids[5]].duration_days) == (estimate, 3.0)
    assert (now[ids[120]].status, now[ids[120]].percent_complete) == (TaskStatus.COMPLETED, 100)
    assert now[ids[249]].due_date.isoformat() == "2027-03-01"  # type: ignore[union-attr]
    edges = {(d.predecessor_id, d.successor_id) for d in app.services.dependencies.for_plans(OWNER, [plan.id])}
    assert edges == {(tasks[ids[5]].id, tasks[ids[6]].id)}
    # The deletion is on the plan's record.
    activity = app.services.members.activity(OWNER, plan.id, None, 10).items
    deleted = [a for a in activity if a.kind is ActivityKind.PLANNER_TASK_DELETED]
    assert [(a.subject, a.before["title"] if a.before else None) for a in deleted] == [(tasks[ids[8]].id, "Task 8")]

    state = _service(app).states(OWNER, [plan.id])[0]
    assert state is not None
    assert state.last_error is None
    assert (state.updated, state.deleted, state.unchanged) == (3, 1, 246)


def test_throttling_is_waited_out(sync_app: Application, fake: FakeGraphServer) -> None:
    app = sync_app
    fake.state.page_size = 20
    fake.state.add_plan(PLANNER_PLAN, 30, list(USERS), START)
    plan = _linked_plan(app)
    fake.state.script(
        f"/planner/plans/{PLANNER_PLAN}/tasks",
        Fault(429, "7"),
        Fault(429, "3"),
        Fault(503, "2"),
        Fault(503, None),  # no Retry-After: exponential back-off with jitter
    )
    fake.state.script("/users/u2", Fault(429, "1"))
    sleeps = Sleeps()

    report = service_with_sleep(app, fake, sleeps, RetryPolicy(base_s=1.0)).sync(plan.id, OWNER)

    assert (report.pages, report.created) == (2, 30)
    assert sleeps[:3] == [7.0, 3.0, 2.0]
    assert 4.0 <= sleeps[3] <= 8.0  # the fourth retry: between half and all of 1 s * 2**3
    assert sleeps[4:] == [1.0]
    assert len(app.services.tasks.for_plan(OWNER, plan.id)) == 30


def test_throttling_past_the_budget_fails_cleanly_and_is_recorded(sync_app: Application, fake: FakeGraphServer) -> None:
    app = sync_app
    fake.state.add_plan(PLANNER_PLAN, 10, list(USERS), START)
    plan = _linked_plan(app)
    fake.state.break_path(f"/planner/plans/{PLANNER_PLAN}/tasks", 503)
    sleeps = Sleeps()
    service = service_with_sleep(app, fake, sleeps, RetryPolicy(max_attempts=4, base_s=2.0, max_backoff_s=5.0))

    with pytest.raises(DomainError) as failed:
        service.sync(plan.id, OWNER)

    assert failed.value.code is ErrorCode.UNAVAILABLE
    assert "after 4 attempts" in failed.value.message
    assert len(sleeps) == 3
    assert all(0 < s <= 5.0 for s in sleeps)
    state = service.states(OWNER, [plan.id])[0]
    assert state is not None
    assert state.last_error is not None
    assert "503" in state.last_error
    assert state.last_succeeded_at is None


def test_a_crash_mid_page_leaves_whole_pages_and_the_next_sync_completes(
    sync_app: Application, fake: FakeGraphServer
) -> None:
    app = sync_app
    fake.state.page_size = 10
    ids = fake.state.add_plan(PLANNER_PLAN, 25, list(USERS), START)
    # A task in the middle of the second page is assigned to someone whose lookup fails.
    fake.state.add_user("u-late", "late@contoso.com")
    late = {"u-late": {"@odata.type": "#microsoft.graph.plannerAssignment"}}
    fake.state.change(PLANNER_PLAN, ids[15], assignments=late)
    fake.state.break_path("/users/u-late", 500)
    plan = _linked_plan(app)
    service = service_with_sleep(app, fake, Sleeps(), RetryPolicy(max_attempts=2))

    with pytest.raises(DomainError):
        service.sync(plan.id, OWNER)

    # The first page is in, none of the second.
    stored = _by_planner_id(app, plan.id)
    assert sorted(stored) == ids[:10]
    state = service.states(OWNER, [plan.id])[0]
    assert state is not None
    assert state.last_error is not None

    fake.state.mend()
    before = last_position(app)
    report = service.sync(plan.id, OWNER)
    assert (report.created, report.unchanged) == (15, 10)
    assert len(_by_planner_id(app, plan.id)) == 25
    assert _by_planner_id(app, plan.id)[ids[15]].assignees == ("late@contoso.com",)
    assert Counter(k for k, _ in kinds_after(app, before))["TASK_CREATED"] == 15
    state = service.states(OWNER, [plan.id])[0]
    assert state is not None
    assert state.last_error is None
    assert state.last_succeeded_at is not None


def test_planner_wins_a_conflict_and_the_local_value_is_kept_in_the_activity(
    sync_app: Application, fake: FakeGraphServer
) -> None:
    app = sync_app
    ids = fake.state.add_plan(PLANNER_PLAN, 3, list(USERS), START)
    plan = _linked_plan(app)
    _service(app).sync(plan.id, OWNER)
    task = _by_planner_id(app, plan.id)[ids[1]]

    # A local edit of a Planner-owned field is allowed, and stands while Planner's task is unchanged.
    app.services.tasks.update(UpdateTask(task.id, {"title": "Local title", "percent_complete": 70}), OWNER)
    _service(app).sync(plan.id, OWNER)
    assert _by_planner_id(app, plan.id)[ids[1]].title == "Local title"

    fake.state.change(PLANNER_PLAN, ids[1], title="Planner title")
    _service(app).sync(plan.id, OWNER)

    synced = _by_planner_id(app, plan.id)[ids[1]]
    assert (synced.title, synced.percent_complete) == ("Planner title", 50)
    overwrites = [
        a
        for a in app.services.members.activity(OWNER, plan.id, None, 20).items
        if a.kind is ActivityKind.PLANNER_OVERWRITE
    ]
    assert [(a.subject, a.actor, a.before, a.after) for a in overwrites] == [
        (
            task.id,
            "microsoft-planner",
            {"title": "Local title", "percent_complete": 70},
            {"title": "Planner title", "percent_complete": 50},
        )
    ]


def test_two_syncs_of_one_plan_never_run_at_once(sync_app: Application, fake: FakeGraphServer) -> None:
    app = sync_app
    fake.state.add_plan(PLANNER_PLAN, 3, list(USERS), START)
    plan = _linked_plan(app)
    held = process_lock(app.engine, lock_name(plan.id))
    assert held.acquire()
    try:
        with pytest.raises(DomainError) as busy:
            _service(app).sync(plan.id, OWNER)
        assert busy.value.code is ErrorCode.CONFLICT
        assert fake.state.count("/planner/") == 0
    finally:
        held.release()
    assert _service(app).sync(plan.id, OWNER).created == 3


def test_only_editors_sync_and_only_linked_plans(sync_app: Application, fake: FakeGraphServer) -> None:
    app = sync_app
    fake.state.add_plan(PLANNER_PLAN, 3, list(USERS), START)
    plan = _linked_plan(app)
    unlinked = app.services.plans.create(CreatePlan(name="Local only"), OWNER)

    with pytest.raises(DomainError) as hidden:
        _service(app).sync(plan.id, OUTSIDER)
    assert hidden.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as not_linked:
        _service(app).sync(unlinked.id, OWNER)
    assert not_linked.value.code is ErrorCode.INVALID_INPUT
    assert fake.state.count("/planner/") == 0
    with SqlUnitOfWork(app.engine) as uow:
        assert uow.planner_sync.linked_plans() == [plan.id]

"""Dependency rules, versions, deletes and the outbox events every command appends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.bootstrap import Application
from adapters.sql import SqlUnitOfWork
from planning.commands import (
    AddDependency,
    AddPlanMember,
    CreatePlan,
    CreateTask,
    DeleteTask,
    RemoveDependency,
    UpdateTask,
)
from planning.errors import DomainError, ErrorCode
from planning.events import PlanEvent, PlanEventKind
from planning.model import Plan, Task, TaskStatus
from planning.model.membership import PlanRole
from planning.ports import TaskFilter
from tests.integration.sql.conftest import ADMIN, PLANNER, VIEWER, kinds_after, last_position, outbox_after


def make_plan(app: Application, *titles: str) -> tuple[Plan, list[Task]]:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    tasks = [app.services.tasks.create(CreateTask(plan.id, t, duration_days=1), PLANNER) for t in titles]
    return plan, tasks


def test_create_plan_task_and_dependency_append_their_events_in_order(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    a = app.services.tasks.create(CreateTask(plan.id, "A", duration_days=1), PLANNER)
    b = app.services.tasks.create(CreateTask(plan.id, "B", duration_days=1, depends_on=(a.id, a.id)), PLANNER)
    [dep_ab] = app.services.dependencies.for_plans(ADMIN, [plan.id])
    c = app.services.tasks.create(CreateTask(plan.id, "C", duration_days=1), PLANNER)
    dep_bc = app.services.dependencies.add(AddDependency(b.id, c.id), PLANNER)
    messages = outbox_after(app, 0)
    owner = messages[1]  # whoever creates a plan owns it: its first member, in the same transaction
    assert [(m.event.kind.value, m.event.entity_id) for m in messages] == [
        ("PLAN_CREATED", plan.id),
        ("MEMBER_ADDED", owner.event.entity_id),
        ("TASK_CREATED", a.id),
        ("TASK_CREATED", b.id),
        ("DEPENDENCY_ADDED", dep_ab.id),
        ("TASK_CREATED", c.id),
        ("DEPENDENCY_ADDED", dep_bc.id),
    ]
    positions = [m.position for m in messages]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert all(m.event.plan_id == plan.id for m in messages)
    assert owner.event.data == {
        "userId": PLANNER.user_id,
        "actor": PLANNER.user_id,
        "before": None,
        "after": {"userId": PLANNER.user_id, "role": "OWNER"},
    }
    assert messages[3].event.data["title"] == "B"
    assert messages[6].event.data == {
        "id": dep_bc.id,
        "planId": plan.id,
        "predecessorId": b.id,
        "successorId": c.id,
        "type": "FINISH_TO_START",
        "lagDays": 0.0,
    }
    assert messages[0].event.occurred_at.tzinfo is not None
    assert (dep_ab.predecessor_id, dep_ab.successor_id) == (a.id, b.id)


def test_update_and_remove_append_one_event_each(app: Application) -> None:
    _, (a, b) = make_plan(app, "A", "B")
    dep = app.services.dependencies.add(AddDependency(a.id, b.id), PLANNER)
    start = last_position(app)
    updated = app.services.tasks.update(UpdateTask(a.id, {"percent_complete": 100}), PLANNER)
    removed = app.services.dependencies.remove(RemoveDependency(dep.id), PLANNER)
    assert removed == dep
    messages = outbox_after(app, start)
    assert [(m.event.kind.value, m.event.entity_id) for m in messages] == [
        ("TASK_UPDATED", a.id),
        ("DEPENDENCY_REMOVED", dep.id),
    ]
    assert messages[0].event.data["status"] == "COMPLETED"
    assert messages[0].event.data["version"] == updated.version == 2
    assert app.services.dependencies.get(ADMIN, dep.id) is None


@pytest.mark.parametrize(
    ("edges", "new_edge", "code"),
    [
        ([("A", "B"), ("B", "C")], ("C", "A"), ErrorCode.CYCLE),
        ([("A", "B")], ("B", "A"), ErrorCode.CYCLE),
        ([], ("A", "A"), ErrorCode.SELF_DEPENDENCY),
        ([("A", "B")], ("A", "B"), ErrorCode.DUPLICATE),
    ],
)
def test_dependency_rules(
    app: Application, edges: list[tuple[str, str]], new_edge: tuple[str, str], code: ErrorCode
) -> None:
    plan, tasks = make_plan(app, "A", "B", "C")
    by_title = {t.title: t for t in tasks}
    for pred, succ in edges:
        app.services.dependencies.add(AddDependency(by_title[pred].id, by_title[succ].id), PLANNER)
    before = last_position(app)
    with pytest.raises(DomainError) as exc:
        app.services.dependencies.add(AddDependency(by_title[new_edge[0]].id, by_title[new_edge[1]].id), PLANNER)
    assert exc.value.code is code
    assert len(app.services.dependencies.for_plans(ADMIN, [plan.id])) == len(edges)
    assert last_position(app) == before
    if code is ErrorCode.CYCLE:
        assert "'A'" in exc.value.message
        assert "'C'" in exc.value.message or len(edges) == 1


def test_cycle_message_shows_the_loop(app: Application) -> None:
    _, (a, b, c) = make_plan(app, "A", "B", "C")
    app.services.dependencies.add(AddDependency(a.id, b.id), PLANNER)
    app.services.dependencies.add(AddDependency(b.id, c.id), PLANNER)
    with pytest.raises(DomainError) as exc:
        app.services.dependencies.add(AddDependency(c.id, a.id), PLANNER)
    assert "'A' -> 'B' -> 'C' -> 'A'" in exc.value.message


def test_cross_plan_dependency_is_rejected(app: Application) -> None:
    _, (a,) = make_plan(app, "A")
    other, (x,) = make_plan(app, "X")
    before = last_position(app)
    with pytest.raises(DomainError) as exc:
        app.services.dependencies.add(AddDependency(a.id, x.id), PLANNER)
    assert exc.value.code is ErrorCode.CROSS_PLAN
    with pytest.raises(DomainError) as exc:
        app.services.tasks.create(CreateTask(other.id, "Y", duration_days=1, depends_on=(a.id,)), PLANNER)
    assert exc.value.code is ErrorCode.CROSS_PLAN
    assert last_position(app) == before
    assert app.services.tasks.count(ADMIN, other.id, TaskFilter()) == 1


def test_unknown_task_in_dependency_is_not_found(app: Application) -> None:
    _, (a,) = make_plan(app, "A")
    with pytest.raises(DomainError) as exc:
        app.services.dependencies.add(AddDependency(a.id, "00000000-0000-0000-0000-000000000000"), PLANNER)
    assert exc.value.code is ErrorCode.NOT_FOUND
    assert exc.value.field == ("input", "successorId")


def test_create_task_with_unknown_depends_on_leaves_nothing(app: Application) -> None:
    plan, (a,) = make_plan(app, "A")
    before = last_position(app)
    with pytest.raises(DomainError) as exc:
        app.services.tasks.create(
            CreateTask(plan.id, "B", duration_days=1, depends_on=(a.id, "00000000-0000-0000-0000-000000000000")),
            PLANNER,
        )
    assert exc.value.code is ErrorCode.NOT_FOUND
    assert exc.value.field == ("input", "dependsOn")
    assert app.services.tasks.for_plan(ADMIN, plan.id) == [a]
    assert app.services.dependencies.for_plans(ADMIN, [plan.id]) == []
    assert last_position(app) == before


def test_invalid_task_or_unknown_plan_appends_nothing(app: Application) -> None:
    plan, _ = make_plan(app)
    before = last_position(app)
    with pytest.raises(DomainError) as exc:
        app.services.tasks.create(CreateTask(plan.id, "B", status=TaskStatus.COMPLETED, percent_complete=50), PLANNER)
    assert exc.value.code is ErrorCode.INVALID_INPUT
    with pytest.raises(DomainError) as exc:
        app.services.tasks.create(CreateTask("no-such-plan", "B"), PLANNER)
    assert exc.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as exc:
        # A viewer who is no member of the plan cannot know it exists.
        app.services.tasks.create(CreateTask(plan.id, "B"), VIEWER)
    assert exc.value.code is ErrorCode.NOT_FOUND
    app.services.members.add(AddPlanMember(plan.id, VIEWER.user_id, PlanRole.VIEWER), PLANNER)
    before = last_position(app)
    with pytest.raises(DomainError) as exc:
        app.services.tasks.create(CreateTask(plan.id, "B"), VIEWER)
    assert exc.value.code is ErrorCode.FORBIDDEN
    assert last_position(app) == before
    assert app.services.tasks.for_plan(ADMIN, plan.id) == []


def test_expected_version_mismatch_is_stale(app: Application) -> None:
    _, (a,) = make_plan(app, "A")
    app.services.tasks.update(UpdateTask(a.id, {"title": "A2"}, expected_version=1), PLANNER)
    before = last_position(app)
    with pytest.raises(DomainError) as exc:
        app.services.tasks.update(UpdateTask(a.id, {"title": "A3"}, expected_version=1), PLANNER)
    assert exc.value.code is ErrorCode.STALE_VERSION
    with pytest.raises(DomainError) as exc:
        app.services.tasks.delete(DeleteTask(a.id, expected_version=1), PLANNER)
    assert exc.value.code is ErrorCode.STALE_VERSION
    [stored] = app.services.tasks.get_many(ADMIN, [a.id])
    assert stored is not None
    assert (stored.title, stored.version) == ("A2", 2)
    assert last_position(app) == before


def _updated(task: Task) -> PlanEvent:
    """The event a service appends with a task's change (the unit of work refuses one without)."""
    return PlanEvent(task.plan_id, PlanEventKind.TASK_UPDATED, task.id, datetime.now(UTC), {})


def test_concurrent_update_at_the_store_loses_the_second_writer(app: Application) -> None:
    _, (a,) = make_plan(app, "A")
    if app.engine.dialect.name == "postgresql":
        # Two open transactions both read version 1; the first commits, the second then updates.
        first, second = SqlUnitOfWork(app.engine), SqlUnitOfWork(app.engine)
        with first, second:
            seen_first, seen_second = first.tasks.get(a.id), second.tasks.get(a.id)
            assert seen_first is not None
            assert seen_second is not None
            assert seen_first.version == seen_second.version == 1
            assert first.tasks.update(replace(seen_first, title="first", version=2))
            first.outbox.append(_updated(a))
            first.commit()
            assert not second.tasks.update(replace(seen_second, title="second", version=2))
            second.commit()
    else:
        # SQLite units of work are serialised (BEGIN IMMEDIATE): both read version 1 in turn.
        with SqlUnitOfWork(app.engine) as reader:
            seen = reader.tasks.get(a.id)
        assert seen is not None
        assert seen.version == 1
        with SqlUnitOfWork(app.engine) as first:
            assert first.tasks.update(replace(seen, title="first", version=2))
            first.outbox.append(_updated(a))
            first.commit()
        with SqlUnitOfWork(app.engine) as second:
            assert not second.tasks.update(replace(seen, title="second", version=2))
            second.commit()
    [stored] = app.services.tasks.get_many(ADMIN, [a.id])
    assert stored is not None
    assert (stored.title, stored.version) == ("first", 2)


def test_uncommitted_unit_of_work_rolls_back(app: Application) -> None:
    _, (a,) = make_plan(app, "A")
    with SqlUnitOfWork(app.engine) as uow:
        seen = uow.tasks.get(a.id)
        assert seen is not None
        assert uow.tasks.update(replace(seen, title="lost", version=2))
    [stored] = app.services.tasks.get_many(ADMIN, [a.id])
    assert stored == a


def test_delete_task_removes_its_dependencies_and_records_events(app: Application) -> None:
    plan, (a, b, c, d) = make_plan(app, "A", "B", "C", "D")
    ab = app.services.dependencies.add(AddDependency(a.id, b.id), PLANNER)
    bc = app.services.dependencies.add(AddDependency(b.id, c.id), PLANNER)
    cd = app.services.dependencies.add(AddDependency(c.id, d.id), PLANNER)
    before = last_position(app)
    deleted = app.services.tasks.delete(DeleteTask(b.id, expected_version=1), PLANNER)
    assert deleted == b
    assert kinds_after(app, before) == [
        ("DEPENDENCY_REMOVED", ab.id),
        ("DEPENDENCY_REMOVED", bc.id),
        ("TASK_DELETED", b.id),
    ]
    assert app.services.dependencies.for_plans(ADMIN, [plan.id]) == [cd]
    assert app.services.tasks.get_many(ADMIN, [b.id]) == [None]
    assert [t.id for t in app.services.tasks.for_plan(ADMIN, plan.id)] == [a.id, c.id, d.id]
    # A dependency removed with its task is gone for good; adding D -> A closes no cycle.
    app.services.dependencies.add(AddDependency(d.id, a.id), PLANNER)


def test_delete_of_unknown_task_is_not_found(app: Application) -> None:
    with pytest.raises(DomainError) as exc:
        app.services.tasks.delete(DeleteTask("nope"), PLANNER)
    assert exc.value.code is ErrorCode.NOT_FOUND
    assert last_position(app) == 0


def test_outbox_checkpoints(app: Application) -> None:
    make_plan(app, "A")
    with SqlUnitOfWork(app.engine) as uow:
        assert uow.outbox.checkpoint("test-consumer") == 0
        uow.outbox.save_checkpoint("test-consumer", 2)
        uow.outbox.save_checkpoint("mail", 1)
        uow.commit()
    with SqlUnitOfWork(app.engine) as uow:
        assert (uow.outbox.checkpoint("test-consumer"), uow.outbox.checkpoint("mail")) == (2, 1)
        uow.outbox.save_checkpoint("test-consumer", 5)
        uow.commit()
    with SqlUnitOfWork(app.engine) as uow:
        assert (uow.outbox.checkpoint("test-consumer"), uow.outbox.checkpoint("mail")) == (5, 1)
        uow.outbox.save_checkpoint("test-consumer", 9)  # not committed
    with SqlUnitOfWork(app.engine) as uow:
        assert uow.outbox.checkpoint("test-consumer") == 5
        assert uow.outbox.checkpoint("unknown") == 0


def test_outbox_read_after_pages(app: Application) -> None:
    make_plan(app, "A", "B", "C")
    everything = outbox_after(app, 0)
    assert len(everything) == 5  # the plan, its owner, three tasks
    with SqlUnitOfWork(app.engine) as uow:
        first = uow.outbox.read_after(0, 2)
        rest = uow.outbox.read_after(first[-1].position, 10)
        assert uow.outbox.last_position() == everything[-1].position
    assert first + rest == everything
    assert outbox_after(app, everything[-1].position) == []

"""The optimisation agent on a stored plan (SQLite and PostgreSQL): propose, approve, reject."""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import AGENT_TRIGGER_LOCK, Application
from adapters.locks import process_lock
from planning.commands import AddPlanMember, CreatePlan, CreateTask, IngestExternalEvent, UpdateTask
from planning.errors import DomainError, ErrorCode
from planning.model import Plan, Severity, Task, ThreePointEstimate
from planning.model.action import ActionStatus, ActionType, ProposedAction
from planning.model.membership import ActivityKind, PlanRole
from planning.principal import Principal
from planning.services.agent_trigger import AgentTrigger
from tests.integration.sql.conftest import ADMIN, PLANNER, kinds_after, last_position

DEMO = Path(__file__).resolve().parents[3] / "adapters" / "demo" / "launch_readiness.json"
EDDIE = Principal("eddie@example.com", frozenset({"planner"}))
VERA = Principal("vera@example.com", frozenset({"planner"}))


def _demo(app: Application) -> tuple[Plan, dict[str, Task], list[str]]:
    """The demo plan moved to this week, its tasks by id, and its open critical path."""
    plan = app.services.documents.import_document(json.loads(DEMO.read_text()), PLANNER, rebase_to=date.today())
    tasks = {t.id: t for t in app.services.tasks.for_plan(PLANNER, plan.id)}
    graph = app.services.graph.plan_graph(PLANNER, plan.id)
    schedule = app.services.graph.schedule(plan, graph)
    critical = [t for t in schedule.critical_path if tasks[t].status.value != "COMPLETED"]
    return plan, tasks, critical


def _delay(app: Application, plan_id: str, task_id: str, days: float = 10.0) -> str:
    cmd = IngestExternalEvent(
        plan_id, "supplier_delay", Severity.HIGH, "Supplier slips", delay_days=days, affected_task_ids=(task_id,)
    )
    return app.services.external_events.ingest(cmd, PLANNER).id


def _applied_as_parameters(action: ProposedAction, tasks: dict[str, Task], app: Application) -> None:
    """Every value the parameters say ``to`` is now the plan's, and nothing else moved."""
    params = action.parameters
    now = {t.id: t for t in app.services.tasks.for_plan(PLANNER, action.plan_id)}
    if action.action_type is ActionType.SHIFT_DATES:
        for entry in params["tasks"]:
            task = now[entry["taskId"]]
            assert task.start_date is not None
            assert task.due_date is not None
            assert (task.start_date.isoformat(), task.due_date.isoformat()) == (
                entry["startDate"]["to"],
                entry["dueDate"]["to"],
            )
            assert task.version == tasks[task.id].version + 1
        moved = {e["taskId"] for e in params["tasks"]}
    elif action.action_type is ActionType.CRASH_DURATION:
        task = now[params["taskId"]]
        to = params["estimate"]["to"]
        assert task.estimate == ThreePointEstimate(to["optimisticDays"], to["mostLikelyDays"], to["pessimisticDays"])
        assert to["mostLikelyDays"] == round(params["estimate"]["from"]["mostLikelyDays"] * 0.8, 2)
        moved = {task.id}
    elif action.action_type is ActionType.REASSIGN:
        task = now[params["taskId"]]
        assert list(task.assignees) == params["assignees"]["to"]
        moved = {task.id}
    else:
        deps = app.services.dependencies.for_plans(PLANNER, [action.plan_id])
        link = [
            d for d in deps if (d.predecessor_id, d.successor_id) == (params["predecessorId"], params["successorId"])
        ]
        assert [d.lag_days for d in link] == [params["lagDays"]["to"]]
        assert link[0].id != params["dependencyId"]
        moved = set()
    for task_id, task in now.items():
        if task_id not in moved:
            assert task == tasks[task_id]


def test_demo_event_gets_ranked_proposals_that_apply_exactly(app: Application) -> None:
    plan, _tasks, critical = _demo(app)
    event_id = _delay(app, plan.id, critical[0])
    event = app.services.external_events.get_many(PLANNER, [event_id])[0]
    assert event is not None
    assert app.services.graph.event_impact(PLANNER, event).critical_path_delay_days == 10.0

    mark = last_position(app)
    proposals = app.services.actions.propose(event_id, PLANNER)
    types = {a.action_type for a in proposals}
    assert len(types) >= 2
    # The demo's event gets four of the five types (ADD_BUFFER needs a successor with slack: below).
    assert types >= {ActionType.SHIFT_DATES, ActionType.CRASH_DURATION, ActionType.FAST_TRACK, ActionType.REASSIGN}
    assert [a.rank for a in proposals] == list(range(1, len(proposals) + 1))
    gains = [a.expected_impact.gain for a in proposals]
    assert all(g >= 0 for g in gains)
    assert gains == sorted(gains, reverse=True)
    for action in proposals:
        assert action.status is ActionStatus.PENDING
        assert f"{action.expected_impact.on_time_probability_before:.1%}" in action.rationale
    crash = next(a for a in proposals if a.action_type is ActionType.CRASH_DURATION)
    assert crash.expected_impact.finish_date_delta_days < 0
    assert kinds_after(app, mark) == [("ACTION_PROPOSED", a.id) for a in proposals]

    # Each type the demo gets, approved on a fresh copy of the proposals, changes what it says.
    for kind in sorted(types - {ActionType.ADD_BUFFER}):
        fresh = app.services.actions.propose(event_id, PLANNER)
        action = next(a for a in fresh if a.action_type is kind)
        before = {t.id: t for t in app.services.tasks.for_plan(PLANNER, plan.id)}
        mark = last_position(app)
        applied = app.services.actions.approve(action.id, PLANNER)
        assert (applied.status, applied.decided_by) == (ActionStatus.APPLIED, PLANNER.user_id)
        assert applied.decided_at is not None
        _applied_as_parameters(applied, before, app)
        kinds = [k for k, _ in kinds_after(app, mark)]
        assert kinds[0] == "ACTION_APPROVED"
        assert kinds[-1] == "ACTION_APPLIED"
        assert set(kinds[1:-1]) <= {"TASK_UPDATED", "DEPENDENCY_REMOVED", "DEPENDENCY_ADDED"}
        assert kinds[1:-1]
        with pytest.raises(DomainError) as again:
            app.services.actions.approve(action.id, PLANNER)
        assert again.value.code is ErrorCode.ALREADY_DECIDED

    # Running again replaced the pending proposals, never the decided ones.
    applied_count = app.services.actions.count(PLANNER, plan.id, ActionStatus.APPLIED)
    assert applied_count == len(types - {ActionType.ADD_BUFFER})
    pending = app.services.actions.page(PLANNER, plan.id, ActionStatus.PENDING, None, 100).items
    assert {a.external_event_id for a in pending} == {event_id}
    assert len(pending) == app.services.actions.count(PLANNER, plan.id, ActionStatus.PENDING)

    entries = app.services.members.activity(PLANNER, plan.id, None, 500).items
    kinds_seen = {e.kind for e in entries}
    assert {ActivityKind.ACTION_PROPOSED, ActivityKind.ACTION_APPROVED, ActivityKind.ACTION_APPLIED} <= kinds_seen
    changes = [e for e in entries if e.kind is ActivityKind.ACTION_CHANGE]
    assert changes
    assert all(e.actor == PLANNER.user_id and e.before != e.after for e in changes)


def _small_plan(app: Application) -> tuple[Plan, dict[str, Task]]:
    """a -> b -> c on the critical path, a -> side with slack; a buffer fits before side."""
    plan = app.services.plans.create(
        CreatePlan("Small", event_date=date.today().replace(year=date.today().year + 1)), PLANNER
    )
    made: dict[str, Task] = {}
    for key, days, deps in (("a", 5.0, ()), ("b", 5.0, ("a",)), ("c", 20.0, ("b",)), ("side", 2.0, ("a",))):
        made[key] = app.services.tasks.create(
            CreateTask(
                plan.id,
                key,
                estimate=ThreePointEstimate(days * 0.8, days, days * 1.5),
                assignees=(f"{key}@example.com",),
                depends_on=tuple(made[d].id for d in deps),
            ),
            PLANNER,
        )
    return plan, made


def test_add_buffer_is_proposed_and_applied_on_a_link_with_slack(app: Application) -> None:
    plan, made = _small_plan(app)
    event_id = _delay(app, plan.id, made["a"].id, 3.0)
    proposals = app.services.actions.propose(event_id, PLANNER)
    buffer = next(a for a in proposals if a.action_type is ActionType.ADD_BUFFER)
    assert (buffer.parameters["predecessorId"], buffer.parameters["successorId"]) == (made["a"].id, made["side"].id)
    assert buffer.parameters["lagDays"] == {"from": 0.0, "to": 3.0}
    assert buffer.expected_impact.gain == 0
    before = {t.id: t for t in app.services.tasks.for_plan(PLANNER, plan.id)}
    _applied_as_parameters(app.services.actions.approve(buffer.id, PLANNER), before, app)


def test_a_changed_task_refuses_the_approval_by_name_and_reject_keeps_a_reason(app: Application) -> None:
    plan, made = _small_plan(app)
    event_id = _delay(app, plan.id, made["a"].id, 3.0)
    proposals = app.services.actions.propose(event_id, PLANNER)
    crash = next(a for a in proposals if a.action_type is ActionType.CRASH_DURATION)
    touched = app.services.tasks.get_many(PLANNER, [crash.parameters["taskId"]])[0]
    assert touched is not None
    app.services.tasks.update(UpdateTask(touched.id, {"title": "Renamed"}), PLANNER)
    with pytest.raises(DomainError) as refused:
        app.services.actions.approve(crash.id, PLANNER)
    assert refused.value.code is ErrorCode.STALE_VERSION
    assert "'Renamed'" in refused.value.message
    assert app.services.actions.get_many(PLANNER, [crash.id])[0].status is ActionStatus.PENDING  # type: ignore[union-attr]

    rejected = app.services.actions.reject(crash.id, "  we cannot add people  ", PLANNER)
    assert (rejected.status, rejected.decision_note) == (ActionStatus.REJECTED, "we cannot add people")
    with pytest.raises(DomainError) as again:
        app.services.actions.reject(crash.id, None, PLANNER)
    assert again.value.code is ErrorCode.ALREADY_DECIDED
    # Rerunning the agent keeps the rejected action.
    app.services.actions.propose(event_id, PLANNER)
    assert app.services.actions.get_many(PLANNER, [crash.id])[0] == rejected


def test_deciding_needs_the_editor_role(app: Application) -> None:
    plan, made = _small_plan(app)
    event_id = _delay(app, plan.id, made["a"].id, 3.0)
    action = app.services.actions.propose(event_id, PLANNER)[0]
    app.services.members.add(AddPlanMember(plan.id, VERA.user_id, PlanRole.VIEWER), PLANNER)
    for decide in (
        lambda: app.services.actions.approve(action.id, VERA),
        lambda: app.services.actions.reject(action.id, "no", VERA),
        lambda: app.services.actions.propose(event_id, VERA),
    ):
        with pytest.raises(DomainError) as refused:
            decide()
        assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(DomainError) as hidden:
        app.services.actions.approve(action.id, EDDIE)
    assert hidden.value.code is ErrorCode.NOT_FOUND
    app.services.members.add(AddPlanMember(plan.id, EDDIE.user_id, PlanRole.EDITOR), PLANNER)
    assert app.services.actions.approve(action.id, EDDIE).decided_by == EDDIE.user_id


def test_four_concurrent_approvals_apply_the_action_once(app: Application) -> None:
    plan, made = _small_plan(app)
    event_id = _delay(app, plan.id, made["a"].id, 3.0)
    action = next(
        a for a in app.services.actions.propose(event_id, PLANNER) if a.action_type is ActionType.CRASH_DURATION
    )
    task_id = action.parameters["taskId"]
    version = made[next(k for k, t in made.items() if t.id == task_id)].version
    start = threading.Barrier(4)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def approve() -> None:
        start.wait()
        try:
            result: Any = app.services.actions.approve(action.id, ADMIN)
        except DomainError as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(str(getattr(o, "status", o)) for o in outcomes) == ["ALREADY_DECIDED"] * 3 + ["APPLIED"]
    task = app.services.tasks.get_many(ADMIN, [task_id])[0]
    assert task is not None
    assert task.version == version + 1


def test_the_trigger_proposes_for_each_new_event_once_even_after_a_restart(app: Application) -> None:
    plan, made = _small_plan(app)
    trigger = AgentTrigger(app.services.deps.uow, app.services.actions, process_lock(app.engine, AGENT_TRIGGER_LOCK))
    assert trigger.catch_up().handled == 0  # no events yet
    first = _delay(app, plan.id, made["a"].id, 3.0)
    second = _delay(app, plan.id, made["b"].id, 2.0)
    # A "new process": a trigger of its own picks up from the checkpoint in the store.
    again = AgentTrigger(app.services.deps.uow, app.services.actions, process_lock(app.engine, AGENT_TRIGGER_LOCK))
    progress = again.catch_up()
    assert progress.handled == 2
    pending = app.services.actions.page(ADMIN, plan.id, ActionStatus.PENDING, None, 100).items
    assert {a.external_event_id for a in pending} == {first, second}
    assert trigger.catch_up().handled == 0
    assert app.services.actions.page(ADMIN, plan.id, None, None, 100).items == pending

"""Keyset pages in creation order and the task filters."""

from __future__ import annotations

import pytest

from adapters.bootstrap import Application
from planning.commands import CreatePlan, CreateTask, IngestExternalEvent
from planning.model import Severity, TaskStatus
from planning.ports import TaskFilter
from tests.integration.sql.conftest import ADMIN, PLANNER


def test_task_pages_follow_creation_order(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    other = app.services.plans.create(CreatePlan("Other"), PLANNER)
    created = []
    for i in range(7):
        created.append(app.services.tasks.create(CreateTask(plan.id, f"T{i}", duration_days=1), PLANNER).id)
        app.services.tasks.create(CreateTask(other.id, f"O{i}", duration_days=1), PLANNER)
    seen: list[str] = []
    after = None
    flags = []
    while True:
        page = app.services.tasks.page(ADMIN, plan.id, TaskFilter(), after, 3)
        seen.extend(t.id for t in page.items)
        flags.append(page.has_next_page)
        if not page.has_next_page:
            break
        after = page.items[-1].id
    assert seen == created
    assert flags == [True, True, False]
    assert [len(p) for p in (seen[:3], seen[3:6], seen[6:])] == [3, 3, 1]


def test_exact_fit_page_has_no_next_page(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    for i in range(4):
        app.services.tasks.create(CreateTask(plan.id, f"T{i}", duration_days=1), PLANNER)
    assert not app.services.tasks.page(ADMIN, plan.id, TaskFilter(), None, 4).has_next_page
    assert app.services.tasks.page(ADMIN, plan.id, TaskFilter(), None, 3).has_next_page
    last = app.services.tasks.page(ADMIN, plan.id, TaskFilter(), None, 4).items[-1].id
    empty = app.services.tasks.page(ADMIN, plan.id, TaskFilter(), last, 4)
    assert empty.items == ()
    assert not empty.has_next_page


def test_plan_and_event_pages_follow_creation_order(app: Application) -> None:
    plans = [app.services.plans.create(CreatePlan(f"P{i}"), PLANNER).id for i in range(5)]
    first = app.services.plans.page(ADMIN, None, 2)
    second = app.services.plans.page(ADMIN, first.items[-1].id, 2)
    third = app.services.plans.page(ADMIN, second.items[-1].id, 2)
    assert [p.id for p in (*first.items, *second.items, *third.items)] == plans
    assert (first.has_next_page, second.has_next_page, third.has_next_page) == (True, True, False)
    events = [
        app.services.external_events.ingest(IngestExternalEvent(plans[0], "t", Severity.LOW, f"e{i}"), PLANNER).id
        for i in range(3)
    ]
    page = app.services.external_events.page(ADMIN, plans[0], None, 2)
    rest = app.services.external_events.page(ADMIN, plans[0], page.items[-1].id, 2)
    assert [e.id for e in (*page.items, *rest.items)] == events
    assert (page.has_next_page, rest.has_next_page) == (True, False)


@pytest.fixture
def filtered_plan(app: Application) -> tuple[str, dict[str, str]]:
    plan = app.services.plans.create(CreatePlan("P"), PLANNER)
    specs = {
        "done": ("Rent 100% of chairs", TaskStatus.COMPLETED, ("Ann@Example.com",)),
        "doing": ("Print_posters", TaskStatus.IN_PROGRESS, ("bob@example.com", "ann@example.com")),
        "todo": ("Print posters", TaskStatus.NOT_STARTED, ()),
        "plain": ("Rent 100 chairs", TaskStatus.NOT_STARTED, ("carl@example.com",)),
    }
    ids = {}
    for name, (title, status, assignees) in specs.items():
        task = app.services.tasks.create(
            CreateTask(plan.id, title, status=status, duration_days=1, assignees=assignees), PLANNER
        )
        ids[name] = task.id
    other = app.services.plans.create(CreatePlan("Other"), PLANNER)
    decoy = CreateTask(other.id, "Print_posters", duration_days=1, assignees=("ann@example.com",))
    app.services.tasks.create(decoy, PLANNER)
    return plan.id, ids


@pytest.mark.parametrize(
    ("task_filter", "expected"),
    [
        (TaskFilter(), ["done", "doing", "todo", "plain"]),
        (TaskFilter(statuses=(TaskStatus.NOT_STARTED,)), ["todo", "plain"]),
        (TaskFilter(statuses=(TaskStatus.COMPLETED, TaskStatus.IN_PROGRESS)), ["done", "doing"]),
        (TaskFilter(assignee="ANN@example.COM"), ["done", "doing"]),
        (TaskFilter(assignee="ann"), []),
        (TaskFilter(title_contains="100%"), ["done"]),
        (TaskFilter(title_contains="_"), ["doing"]),
        (TaskFilter(title_contains="t_p"), ["doing"]),
        (TaskFilter(title_contains="%"), ["done"]),
        (TaskFilter(title_contains="PRINT"), ["doing", "todo"]),
        (TaskFilter(title_contains="rent 100"), ["done", "plain"]),
        (TaskFilter(statuses=(TaskStatus.IN_PROGRESS,), assignee="ann@example.com", title_contains="post"), ["doing"]),
        (TaskFilter(statuses=(TaskStatus.NOT_STARTED,), assignee="ann@example.com"), []),
    ],
)
def test_task_filters(
    app: Application, filtered_plan: tuple[str, dict[str, str]], task_filter: TaskFilter, expected: list[str]
) -> None:
    plan_id, ids = filtered_plan
    page = app.services.tasks.page(ADMIN, plan_id, task_filter, None, 50)
    assert [t.id for t in page.items] == [ids[name] for name in expected]
    assert app.services.tasks.count(ADMIN, plan_id, task_filter) == len(expected)


def test_filtered_paging_has_next_page(app: Application, filtered_plan: tuple[str, dict[str, str]]) -> None:
    plan_id, ids = filtered_plan
    task_filter = TaskFilter(statuses=(TaskStatus.NOT_STARTED,))
    first = app.services.tasks.page(ADMIN, plan_id, task_filter, None, 1)
    assert [t.id for t in first.items] == [ids["todo"]]
    assert first.has_next_page
    second = app.services.tasks.page(ADMIN, plan_id, task_filter, first.items[-1].id, 1)
    assert [t.id for t in second.items] == [ids["plain"]]
    assert not second.has_next_page

"""PlanTasks reads its page with a fixed number of SQL statements, whatever the plan's size; the
page's dependencies and their far-end tasks are prefetched with it (issue 14)."""

from __future__ import annotations

import time
from typing import Any

from planning.principal import Principal
from resolvers.ids import to_global_id
from tests.graphql_client import GraphQL, operation

PLANS = operation("plans.graphql")
ADMIN = Principal("test", frozenset({"admin"}))


def _plan(app, name: str, size: int) -> str:
    """A chain of ``size`` tasks, with a second edge from every third task to the one two ahead."""
    tasks = [{"key": f"t{i}", "title": f"Task {i}", "durationDays": 1} for i in range(size)]
    deps = [{"predecessor": f"t{i}", "successor": f"t{i + 1}"} for i in range(size - 1)]
    deps += [{"predecessor": f"t{i}", "successor": f"t{i + 2}"} for i in range(0, size - 2, 3)]
    plan = app.services.documents.import_document({"name": name, "tasks": tasks, "dependencies": deps}, ADMIN)
    return to_global_id("Plan", plan.id)


def _settle(app) -> None:
    # The projection of the imports runs in the background; its statements are not the query's.
    deadline = time.monotonic() + 60
    while app.projector.pending() and time.monotonic() < deadline:
        time.sleep(0.05)


def _read_by_size(app, count_statements, sizes: tuple[int, ...], ask) -> dict[int, tuple[Any, int]]:
    """For a plan of each size (``_plan``): what ``ask(plan_id)`` answered and the statements it cost."""
    plans = {size: _plan(app, f"{size} tasks", size) for size in sizes}
    _settle(app)
    found = {}
    for size, plan_id in plans.items():
        counter = count_statements()
        found[size] = (ask(plan_id), counter.count)
    return found


def test_plan_tasks_issues_the_same_statements_for_5_and_200_tasks(client, app, count_statements) -> None:
    gql = GraphQL(client)
    read = _read_by_size(
        app, count_statements, (5, 200), lambda plan_id: gql(PLANS, {"planId": plan_id, "first": 200}, "PlanTasks")
    )
    for size, (data, _statements) in read.items():
        nodes = [e["node"] for e in data["plan"]["tasks"]["edges"]]
        assert len(nodes) == size
        assert [t["title"] for t in nodes[3]["dependsOn"]] == ["Task 2"]
        assert [t["title"] for t in nodes[3]["dependents"]] == ["Task 4", "Task 5"][: size - 4]
    assert read[5][1] == read[200][1]


def test_a_page_prefetches_its_neighbours_beyond_the_page(client, app) -> None:
    """The first page's last task is waited for by a task of the next page: that far-end task is read
    with the page, and the answers equal those of TaskDetail (which loads neighbours one by one)."""
    gql = GraphQL(client)
    plan_id = _plan(app, "paged", 12)
    _settle(app)
    first = gql(PLANS, {"planId": plan_id, "first": 6}, "PlanTasks")["plan"]["tasks"]
    last = first["edges"][-1]["node"]
    assert last["title"] == "Task 5"
    assert [t["title"] for t in last["dependents"]] == ["Task 6"]
    assert [t["title"] for t in last["dependsOn"]] == ["Task 4", "Task 3"]
    detail = gql(PLANS, {"id": last["id"]}, "TaskDetail")["node"]
    assert [t["title"] for t in detail["dependents"]] == ["Task 6"]
    assert [t["title"] for t in detail["dependsOn"]] == ["Task 4", "Task 3"]


def test_each_parent_is_written_as_json_and_read_back_once_per_request(app) -> None:
    """A schema built with the check on (the test suite's servers) hands its resolvers their parents
    through the AppSync codec (issue 12), once per parent object per request, however many of its
    fields have resolvers."""
    import asyncio

    from planning.model import Plan, Task
    from schema.root import build_schema

    plan_id = _plan(app, "codec", 7)
    context = app.context(ADMIN)
    result = asyncio.run(
        build_schema(parents_as_json=True).execute(
            PLANS, {"planId": plan_id, "first": 7}, context, operation_name="PlanTasks"
        )
    )
    assert not result.errors
    converted = {id(before): after for before, after in context.parents.values() if before is not after}
    assert sorted(type(v).__name__ for v in converted.values()) == ["Plan"] + ["Task"] * 7
    for before, after in context.parents.values():
        if before is not after:
            assert isinstance(after, Plan | Task)
            assert after == before  # equal, yet rebuilt from its JSON


def test_a_serving_schema_hands_resolvers_the_parents_themselves(app) -> None:
    """Without the check (a serving process), no parent is round-tripped: the answer is the same."""
    import asyncio

    from schema.root import build_schema

    plan_id = _plan(app, "direct", 7)
    answers = []
    for check in (False, True):
        context = app.context(ADMIN)
        result = asyncio.run(
            build_schema(parents_as_json=check).execute(
                PLANS, {"planId": plan_id, "first": 7}, context, operation_name="PlanTasks"
            )
        )
        assert not result.errors
        assert bool(context.parents) is check
        answers.append(result.data)
    assert answers[0] == answers[1]


GRAPH = operation("graph.graphql")


def test_a_query_reads_in_one_transaction_and_a_mutation_commits_in_its_own(client, app) -> None:
    """Every read of a query (the plan, its page, the neighbours, the count, the forecast's
    inputs) is made in one read-only transaction; a mutation then still commits."""
    from sqlalchemy import event

    gql = GraphQL(client)
    plan_id = _plan(app, "one transaction", 12)
    _settle(app)
    begun: list[str] = []

    def on_begin(_conn) -> None:
        import threading

        if threading.current_thread().name != "graph-projection":
            begun.append("begin")

    event.listen(app.engine, "begin", on_begin)
    try:
        for document, variables, name in (
            (PLANS, {"planId": plan_id, "first": 12}, "PlanTasks"),
            (GRAPH, {"planId": plan_id}, "CriticalPath"),
            (PLANS, {"first": 10}, "PlanList"),
        ):
            begun.clear()
            gql(document, variables, name)
            assert begun == ["begin"], name
        task_id = gql(PLANS, {"planId": plan_id, "first": 1}, "PlanTasks")["plan"]["tasks"]["edges"][0]["node"]["id"]
        updated = gql(PLANS, {"input": {"id": task_id, "title": "Renamed in a mutation"}}, "UpdateTask")
        assert updated["updateTask"]["userErrors"] == []
    finally:
        event.remove(app.engine, "begin", on_begin)
    titles = [
        e["node"]["title"] for e in gql(PLANS, {"planId": plan_id, "first": 1}, "PlanTasks")["plan"]["tasks"]["edges"]
    ]
    assert titles == ["Renamed in a mutation"]


REACH = """query Reach($planId: ID!) {
  plan(id: $planId) {
    criticalPath { tasks { title } }
    tasks(first: 30) { edges { node { title upstream(maxDepth: 3) { title } downstream(maxDepth: 1) { title } } } }
  }
}"""


def test_every_task_s_reach_and_the_critical_path_cost_the_same_statements_at_any_size(
    client, app, count_statements
) -> None:
    """Lists of tasks (a critical path, each task's upstream and downstream) are read together:
    one read for all of them, whatever the number of tasks (resolvers.loaders.TaskListLoader)."""
    gql = GraphQL(client)
    read = _read_by_size(app, count_statements, (5, 30), lambda plan_id: gql(REACH, {"planId": plan_id}, "Reach"))
    for size, (data, _statements) in read.items():
        plan = data["plan"]
        nodes = {e["node"]["title"]: e["node"] for e in plan["tasks"]["edges"]}
        assert [t["title"] for t in plan["criticalPath"]["tasks"]] == [f"Task {i}" for i in range(size)]
        assert sorted(t["title"] for t in nodes["Task 3"]["upstream"]) == ["Task 0", "Task 1", "Task 2"]
        assert [t["title"] for t in nodes[f"Task {size - 1}"]["downstream"]] == []
        assert {t["title"] for t in nodes["Task 0"]["downstream"]} == {"Task 1", "Task 2"}
    assert read[5][1] == read[30][1]


def test_a_first_page_holding_the_whole_list_is_its_own_total_count(client, app) -> None:
    """totalCount of a first page with no next page is the page's length: no count is read."""
    from sqlalchemy import event

    gql = GraphQL(client)
    plan_id = _plan(app, "counted", 6)
    _settle(app)
    counts: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:
        if "count(" in statement.lower():
            counts.append(statement)

    event.listen(app.engine, "before_cursor_execute", note)
    try:
        whole = gql(PLANS, {"planId": plan_id, "first": 6}, "PlanTasks")["plan"]["tasks"]
        assert (whole["totalCount"], whole["pageInfo"]["hasNextPage"], counts) == (6, False, [])
        part = gql(PLANS, {"planId": plan_id, "first": 4}, "PlanTasks")["plan"]["tasks"]
        assert (part["totalCount"], part["pageInfo"]["hasNextPage"], len(counts)) == (6, True, 1)
        after = part["pageInfo"]["endCursor"]
        rest = gql(PLANS, {"planId": plan_id, "first": 4, "after": after}, "PlanTasks")["plan"]["tasks"]
        assert (rest["totalCount"], len(rest["edges"]), len(counts)) == (6, 2, 2)  # a later page counts
    finally:
        event.remove(app.engine, "before_cursor_execute", note)


def test_the_critical_path_of_an_unchanged_plan_reads_its_tasks_once(client, app) -> None:
    """CriticalPath takes its tasks from the plan's task list kept since the plan's last change
    (``TaskService.tasks_of_plan``): a second read issues no statement on ``tasks``, and asks for
    the plan's last change once for the graph and the list alike; a renamed task is read afresh."""
    from sqlalchemy import event

    gql = GraphQL(client)
    plan_id = _plan(app, "kept", 8)
    _settle(app)
    statements: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:
        import threading

        if threading.current_thread().name != "graph-projection":
            statements.append(statement)

    def path_titles() -> list[str]:
        return [t["title"] for t in gql(GRAPH, {"planId": plan_id}, "CriticalPath")["plan"]["criticalPath"]["tasks"]]

    assert path_titles() == [f"Task {i}" for i in range(8)]
    event.listen(app.engine, "before_cursor_execute", note)
    try:
        assert path_titles() == [f"Task {i}" for i in range(8)]
        assert [s for s in statements if "FROM tasks" in s] == []
        assert len([s for s in statements if "max(outbox.position)" in s]) == 1
        task_id = gql(PLANS, {"planId": plan_id, "first": 1}, "PlanTasks")["plan"]["tasks"]["edges"][0]["node"]["id"]
        updated = gql(PLANS, {"input": {"id": task_id, "title": "Renamed"}}, "UpdateTask")
        assert updated["updateTask"]["userErrors"] == []
        _settle(app)
        assert path_titles() == ["Renamed"] + [f"Task {i}" for i in range(1, 8)]
    finally:
        event.remove(app.engine, "before_cursor_execute", note)

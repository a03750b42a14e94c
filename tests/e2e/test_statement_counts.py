"""DataLoaders keep the SQL statements of a query independent of how many rows it returns."""

from __future__ import annotations

import time

from tests.graphql_client import GraphQL, operation

PLANS = operation("plans.graphql")


def _plan_with_chain(app, name: str, size: int) -> str:
    from resolvers.ids import to_global_id

    tasks = [
        {"key": f"t{i}", "title": f"Task {i}", "durationDays": 1, "assignees": [f"p{i % 3}@example.com"]}
        for i in range(size)
    ]
    deps = [{"predecessor": f"t{i}", "successor": f"t{i + 1}"} for i in range(size - 1)]
    from planning.principal import Principal

    plan = app.services.documents.import_document(
        {"name": name, "tasks": tasks, "dependencies": deps}, Principal("test", frozenset({"admin"}))
    )
    return to_global_id("Plan", plan.id)


def test_plan_tasks_costs_the_same_statements_for_10_and_500_tasks(client, app, count_statements) -> None:
    gql = GraphQL(client)
    small = _plan_with_chain(app, "small", 10)
    large = _plan_with_chain(app, "large", 500)
    counts = {}
    for plan_id, size in ((small, 10), (large, 500)):
        # The projection of the imports (a machine under load finishes it in the background) is
        # not the query's: let it end before counting.
        deadline = time.monotonic() + 60
        while app.projector.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        counter = count_statements()
        data = gql(PLANS, {"planId": plan_id, "first": 500}, "PlanTasks")
        counts[size] = counter.count
        edges = data["plan"]["tasks"]["edges"]
        assert len(edges) == size
        assert edges[1]["node"]["dependsOn"][0]["title"] == "Task 0"
        assert edges[0]["node"]["dependents"][0]["title"] == "Task 1"
    assert counts[10] == counts[500]
    # plan, task page (rows + assignees), total count, dependencies; SQLite adds a BEGIN to each read.
    assert counts[10] <= 10

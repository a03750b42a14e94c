"""Every operation of the frontend contract for plans, tasks and external events, executed."""

from __future__ import annotations

import json

import pytest
from graphql import build_schema, parse, validate

from schema.export import SCHEMA_DIR
from tests.graphql_client import OPERATIONS, GraphQL, operation

PLANS = operation("plans.graphql")
EVENTS = operation("events.graphql")


@pytest.mark.parametrize("file", ["plans.graphql", "events.graphql", "subscriptions.graphql"])
def test_contract_operations_validate_against_the_committed_schema(file: str) -> None:
    schema = build_schema((SCHEMA_DIR / "schema.graphql").read_text())
    errors = validate(schema, parse((OPERATIONS / file).read_text()))
    assert errors == []


def _create_plan(gql: GraphQL, name: str = "Launch", event_date: str = "2025-03-31") -> str:
    data = gql(PLANS, {"input": {"name": name, "eventDate": event_date, "plannerPlanId": None}}, "CreatePlan")
    payload = data["createPlan"]
    assert payload["userErrors"] == []
    assert payload["plan"]["name"] == name
    assert payload["plan"]["eventDate"] == event_date
    return payload["plan"]["id"]


def _create_task(gql: GraphQL, plan_id: str, title: str, **extra: object) -> dict:
    data = gql(PLANS, {"input": {"planId": plan_id, "title": title, **extra}}, "CreateTask")
    assert data["createTask"]["userErrors"] == []
    return data["createTask"]["task"]


def test_plans_and_tasks_operations(client) -> None:
    gql = GraphQL(client)
    plan_id = _create_plan(gql)
    design = _create_task(
        gql,
        plan_id,
        "Design",
        status="COMPLETED",
        startDate="2025-01-06",
        dueDate="2025-01-17",
        estimate={"optimisticDays": 8, "mostLikelyDays": 10, "pessimisticDays": 15},
        assignees=["ana@example.com", "bo@example.com"],
        plannerTaskId="planner-1",
    )
    assert design["status"] == "COMPLETED"
    assert design["percentComplete"] == 100
    assert design["estimate"] == {"optimisticDays": 8.0, "mostLikelyDays": 10.0, "pessimisticDays": 15.0}
    assert design["assignees"] == ["ana@example.com", "bo@example.com"]
    assert design["plannerTaskId"] == "planner-1"
    assert design["version"] == 1
    assert design["updatedAt"].endswith("Z")
    build = _create_task(gql, plan_id, "Build", durationDays=5, dependsOn=[design["id"]])
    assert build["dependsOn"] == [{"id": design["id"]}]
    assert build["status"] == "NOT_STARTED"
    assert build["durationDays"] == 5.0

    dep_data = gql(PLANS, {"planId": plan_id}, "PlanDependencies")["plan"]["dependencies"]
    assert len(dep_data) == 1
    assert dep_data[0]["predecessor"]["id"] == design["id"]
    assert dep_data[0]["successor"]["id"] == build["id"]
    assert dep_data[0]["type"] == "FINISH_TO_START"
    assert dep_data[0]["lagDays"] == 0.0

    test = _create_task(gql, plan_id, "Test", durationDays=3)
    added = gql(
        PLANS, {"input": {"predecessorId": build["id"], "successorId": test["id"], "lagDays": 2}}, "AddDependency"
    )["addDependency"]
    assert added["userErrors"] == []
    assert added["dependency"]["lagDays"] == 2.0
    assert added["dependency"]["predecessor"]["id"] == build["id"]

    listed = gql(PLANS, {"planId": plan_id}, "PlanTasks")["plan"]
    assert listed["name"] == "Launch"
    assert listed["tasks"]["totalCount"] == 3
    nodes = [edge["node"] for edge in listed["tasks"]["edges"]]
    assert [n["title"] for n in nodes] == ["Design", "Build", "Test"]
    assert nodes[1]["dependsOn"] == [{"id": design["id"], "title": "Design"}]
    assert nodes[1]["dependents"] == [{"id": test["id"], "title": "Test"}]
    assert nodes[0]["dependents"] == [{"id": build["id"], "title": "Build"}]

    updated = gql(PLANS, {"input": {"id": build["id"], "expectedVersion": 1, "percentComplete": 40}}, "UpdateTask")[
        "updateTask"
    ]
    assert updated["userErrors"] == []
    assert updated["task"]["status"] == "IN_PROGRESS"
    assert updated["task"]["version"] == 2

    detail = gql(PLANS, {"id": build["id"]}, "TaskDetail")["node"]
    assert detail["title"] == "Build"
    assert detail["plan"] == {"id": plan_id, "name": "Launch"}
    assert detail["dependsOn"] == [{"id": design["id"], "title": "Design", "status": "COMPLETED"}]
    assert detail["dependents"] == [{"id": test["id"], "title": "Test", "status": "NOT_STARTED"}]
    assert detail["externalEvents"] == []
    assert detail["percentComplete"] == 40

    removed = gql(PLANS, {"input": {"id": added["dependency"]["id"]}}, "RemoveDependency")["removeDependency"]
    assert removed == {"removedDependencyId": added["dependency"]["id"], "userErrors": []}
    assert gql(PLANS, {"id": test["id"]}, "TaskDetail")["node"]["dependsOn"] == []

    deleted = gql(PLANS, {"input": {"id": design["id"]}}, "DeleteTask")["deleteTask"]
    assert deleted == {"deletedTaskId": design["id"], "userErrors": []}
    assert gql(PLANS, {"id": design["id"]}, "TaskDetail")["node"] is None
    assert gql(PLANS, {"planId": plan_id}, "PlanDependencies")["plan"]["dependencies"] == []

    plans = gql(PLANS, {}, "PlanList")["plans"]
    assert [e["node"]["name"] for e in plans["edges"]] == ["Launch"]
    assert plans["edges"][0]["node"]["taskCount"] == 2
    assert plans["pageInfo"]["hasNextPage"] is False


def test_events_operations(client) -> None:
    gql = GraphQL(client)
    plan_id = _create_plan(gql)
    task = _create_task(gql, plan_id, "Receive parts", durationDays=4)
    event_input = {
        "planId": plan_id,
        "eventType": "supplier_delay",
        "severity": "HIGH",
        "title": "Supplier ships late",
        "description": "Port congestion",
        "source": "supplier-portal",
        "occurredAt": "2025-02-05T10:30:00+01:00",
        "delayDays": 5,
        "payload": json.dumps({"supplier": "ACME", "containers": [1, 2]}),
        "affectedTaskIds": [task["id"]],
        "idempotencyKey": "acme-2025-02-05",
    }
    first = gql(EVENTS, {"input": event_input}, "IngestExternalEvent")["ingestExternalEvent"]
    assert first["userErrors"] == []
    assert first["externalEvent"]["severity"] == "HIGH"
    assert first["externalEvent"]["delayDays"] == 5.0
    assert first["externalEvent"]["affectedTasks"] == [{"id": task["id"]}]
    again = gql(EVENTS, {"input": event_input}, "IngestExternalEvent")["ingestExternalEvent"]
    assert again["externalEvent"]["id"] == first["externalEvent"]["id"]

    events = gql(EVENTS, {"planId": plan_id}, "PlanEvents")["plan"]["externalEvents"]
    assert events["totalCount"] == 1
    node = events["edges"][0]["node"]
    assert node["occurredAt"] == "2025-02-05T09:30:00Z"
    assert node["receivedAt"].endswith("Z")
    assert json.loads(node["payload"]) == {"supplier": "ACME", "containers": [1, 2]}
    assert node["affectedTasks"] == [{"id": task["id"], "title": "Receive parts"}]
    assert node["description"] == "Port congestion"
    assert node["source"] == "supplier-portal"

    detail = gql(PLANS, {"id": task["id"]}, "TaskDetail")["node"]
    assert detail["externalEvents"] == [{"id": node["id"], "title": "Supplier ships late", "severity": "HIGH"}]


def test_cursor_paging_walks_every_task_once(client) -> None:
    gql = GraphQL(client)
    plan_id = _create_plan(gql)
    titles = [f"Task {i:02d}" for i in range(7)]
    for title in titles:
        _create_task(gql, plan_id, title, durationDays=1)
    seen, after, pages = [], None, 0
    while True:
        page = gql(PLANS, {"planId": plan_id, "first": 3, "after": after}, "PlanTasks")["plan"]["tasks"]
        pages += 1
        assert page["totalCount"] == 7
        seen += [e["node"]["title"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert seen == titles
    assert pages == 3


def test_plan_list_pages(client) -> None:
    gql = GraphQL(client)
    for name in ("A", "B", "C"):
        _create_plan(gql, name)
    first = gql(PLANS, {"first": 2}, "PlanList")["plans"]
    assert [e["node"]["name"] for e in first["edges"]] == ["A", "B"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = gql(PLANS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, "PlanList")["plans"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["C"]
    assert rest["pageInfo"]["hasNextPage"] is False


def test_task_filter(client) -> None:
    gql = GraphQL(client)
    plan_id = _create_plan(gql)
    _create_task(gql, plan_id, "Write docs", durationDays=1, assignees=["Ana@example.com"])
    _create_task(gql, plan_id, "Ship 100% of parts", durationDays=1, status="COMPLETED")
    _create_task(gql, plan_id, "Write tests", durationDays=1, percentComplete=30)

    def titles(task_filter: dict) -> list[str]:
        tasks = gql(PLANS, {"planId": plan_id, "filter": task_filter}, "PlanTasks")["plan"]["tasks"]
        assert tasks["totalCount"] == len(tasks["edges"])
        return [e["node"]["title"] for e in tasks["edges"]]

    assert titles({"status": ["COMPLETED"]}) == ["Ship 100% of parts"]
    assert titles({"status": ["NOT_STARTED", "IN_PROGRESS"]}) == ["Write docs", "Write tests"]
    assert titles({"assignee": "ana@example.com"}) == ["Write docs"]
    assert titles({"titleContains": "write"}) == ["Write docs", "Write tests"]
    assert titles({"titleContains": "100%"}) == ["Ship 100% of parts"]
    assert titles({"titleContains": "write", "status": ["IN_PROGRESS"]}) == ["Write tests"]

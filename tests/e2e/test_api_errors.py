"""Expected failures answer with codes; malformed requests answer clearly; nothing answers 5xx."""

from __future__ import annotations

import json

import pytest

from tests.graphql_client import GraphQL, add_member, operation

PLANS = operation("plans.graphql")
EVENTS = operation("events.graphql")


@pytest.fixture
def gql(client) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def plan_id(gql: GraphQL) -> str:
    return gql(PLANS, {"input": {"name": "Launch", "eventDate": "2025-03-31"}}, "CreatePlan")["createPlan"]["plan"][
        "id"
    ]


def _task(gql: GraphQL, plan_id: str, title: str, **extra: object) -> str:
    data = gql(PLANS, {"input": {"planId": plan_id, "title": title, "durationDays": 2} | extra}, "CreateTask")
    assert data["createTask"]["userErrors"] == []
    return data["createTask"]["task"]["id"]


def _errors(payload: dict) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def test_cycle_is_refused_with_code_cycle(gql: GraphQL, plan_id: str) -> None:
    a = _task(gql, plan_id, "A")
    b = _task(gql, plan_id, "B", dependsOn=[a])
    c = _task(gql, plan_id, "C", dependsOn=[b])
    payload = gql(PLANS, {"input": {"predecessorId": c, "successorId": a}}, "AddDependency")["addDependency"]
    assert payload["dependency"] is None
    assert _errors(payload) == [("CYCLE", ["input"])]
    assert "'A' -> 'B' -> 'C' -> 'A'" in payload["userErrors"][0]["message"]


@pytest.mark.parametrize(
    ("case", "code"),
    [("self", "SELF_DEPENDENCY"), ("duplicate", "DUPLICATE"), ("cross_plan", "CROSS_PLAN"), ("missing", "NOT_FOUND")],
)
def test_bad_dependencies_are_user_errors(gql: GraphQL, plan_id: str, case: str, code: str) -> None:
    a = _task(gql, plan_id, "A")
    b = _task(gql, plan_id, "B", dependsOn=[a])
    other_plan = gql(PLANS, {"input": {"name": "Other"}}, "CreatePlan")["createPlan"]["plan"]["id"]
    foreign = _task(gql, other_plan, "Foreign")
    deleted = _task(gql, plan_id, "Gone")
    gql(PLANS, {"input": {"id": deleted}}, "DeleteTask")
    pred, succ = {
        "self": (a, a),
        "duplicate": (a, b),
        "cross_plan": (foreign, a),
        "missing": (deleted, a),
    }[case]
    payload = gql(PLANS, {"input": {"predecessorId": pred, "successorId": succ}}, "AddDependency")["addDependency"]
    assert payload["dependency"] is None
    assert [e["code"] for e in payload["userErrors"]] == [code]


def test_stale_version(gql: GraphQL, plan_id: str) -> None:
    task = _task(gql, plan_id, "A")
    ok = gql(PLANS, {"input": {"id": task, "expectedVersion": 1, "title": "A2"}}, "UpdateTask")["updateTask"]
    assert ok["task"]["version"] == 2
    stale = gql(PLANS, {"input": {"id": task, "expectedVersion": 1, "title": "A3"}}, "UpdateTask")["updateTask"]
    assert stale["task"] is None
    assert _errors(stale) == [("STALE_VERSION", ["input", "expectedVersion"])]
    detail = gql(PLANS, {"id": task}, "TaskDetail")["node"]
    assert (detail["title"], detail["version"]) == ("A2", 2)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"percentComplete": 150}, ["input", "percentComplete"]),
        ({"percentComplete": -1}, ["input", "percentComplete"]),
        ({"status": "COMPLETED", "percentComplete": 50}, ["input", "percentComplete"]),
        ({"startDate": "2025-03-10", "dueDate": "2025-03-01"}, ["input", "startDate"]),
        ({"estimate": {"optimisticDays": 5, "mostLikelyDays": 3, "pessimisticDays": 8}}, ["input", "estimate"]),
        ({"estimate": {"optimisticDays": 0, "mostLikelyDays": 3, "pessimisticDays": 8}}, ["input", "estimate"]),
        ({"title": "   "}, ["input", "title"]),
        ({"durationDays": -2}, ["input", "durationDays"]),
    ],
)
def test_invalid_task_changes_are_user_errors(gql: GraphQL, plan_id: str, changes: dict, field: list[str]) -> None:
    task = _task(gql, plan_id, "A")
    payload = gql(PLANS, {"input": {"id": task, **changes}}, "UpdateTask")["updateTask"]
    assert payload["task"] is None
    assert _errors(payload) == [("INVALID_INPUT", field)]
    assert gql(PLANS, {"id": task}, "TaskDetail")["node"]["version"] == 1


def test_a_plan_that_does_not_exist(gql: GraphQL, plan_id: str) -> None:
    missing_plan = "UGxhbjowMDAwMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA"
    created = gql(PLANS, {"input": {"planId": missing_plan, "title": "X"}}, "CreateTask")["createTask"]
    assert _errors(created) == [("NOT_FOUND", ["input", "planId"])]
    event = gql(
        EVENTS,
        {"input": {"planId": missing_plan, "eventType": "strike", "severity": "LOW", "title": "Strike"}},
        "IngestExternalEvent",
    )["ingestExternalEvent"]
    assert _errors(event) == [("NOT_FOUND", ["input", "planId"])]
    assert gql(PLANS, {"planId": missing_plan}, "PlanTasks")["plan"] is None


def test_an_id_of_the_wrong_type_is_a_user_error(gql: GraphQL, plan_id: str) -> None:
    task = _task(gql, plan_id, "A")
    payload = gql(PLANS, {"input": {"planId": task, "title": "X"}}, "CreateTask")["createTask"]
    assert _errors(payload) == [("INVALID_INPUT", ["input", "planId"])]
    garbage = gql(PLANS, {"input": {"planId": "not-an-id", "title": "X"}}, "CreateTask")["createTask"]
    assert _errors(garbage) == [("INVALID_INPUT", ["input", "planId"])]


def test_affected_tasks_must_belong_to_the_plan(gql: GraphQL, plan_id: str) -> None:
    other_plan = gql(PLANS, {"input": {"name": "Other"}}, "CreatePlan")["createPlan"]["plan"]["id"]
    foreign = _task(gql, other_plan, "Foreign")
    payload = gql(
        EVENTS,
        {
            "input": {
                "planId": plan_id,
                "eventType": "supplier_delay",
                "severity": "CRITICAL",
                "title": "Late",
                "affectedTaskIds": [foreign],
            }
        },
        "IngestExternalEvent",
    )["ingestExternalEvent"]
    assert _errors(payload) == [("CROSS_PLAN", ["input", "affectedTaskIds"])]
    assert gql(EVENTS, {"planId": plan_id}, "PlanEvents")["plan"]["externalEvents"]["totalCount"] == 0


def test_viewers_may_read_but_not_write(gql: GraphQL, plan_id: str) -> None:
    """A plan's VIEWER reads it and changes nothing, an EDITOR changes its tasks; whoever is no
    member sees nothing of it, whatever its groups (tests/e2e/test_access_matrix.py has it all)."""
    viewer = gql.as_("viewer", "vera@example.com")
    planner = gql.as_("planner", "pat@example.com")
    create = {"input": {"planId": plan_id, "title": "X", "durationDays": 1}}
    assert viewer(PLANS, {"planId": plan_id}, "PlanTasks")["plan"] is None
    assert [e["code"] for e in planner(PLANS, create, "CreateTask")["createTask"]["userErrors"]] == ["NOT_FOUND"]
    add_member(gql, plan_id, "vera@example.com", "VIEWER")
    add_member(gql, plan_id, "pat@example.com", "EDITOR")
    payload = viewer(PLANS, create, "CreateTask")["createTask"]
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert viewer(PLANS, {"planId": plan_id}, "PlanTasks")["plan"]["tasks"]["totalCount"] == 0
    created = planner(PLANS, create, "CreateTask")
    assert created["createTask"]["userErrors"] == []
    assert viewer(PLANS, {"planId": plan_id}, "PlanTasks")["plan"]["tasks"]["totalCount"] == 1


@pytest.mark.parametrize(
    ("query", "variables", "fragment"),
    [
        ("{ plans { edges { node { nme } } } }", {}, "Cannot query field 'nme'"),
        ("{ plans { edges ", {}, "Syntax Error"),
        (
            "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id } } }",
            {"i": {"name": "X", "eventDate": "31/03/2025"}},
            "AWSDate",
        ),
        (
            "mutation($i: IngestExternalEventInput!) { ingestExternalEvent(input: $i) { externalEvent { id } } }",
            {"i": {"planId": "x", "eventType": "a", "severity": "LOW", "title": "t", "payload": "{oops"}},
            "AWSJSON",
        ),
        (
            "mutation($i: IngestExternalEventInput!) { ingestExternalEvent(input: $i) { externalEvent { id } } }",
            {"i": {"planId": "x", "eventType": "a", "severity": "LOW", "title": "t", "occurredAt": "2025-02-05T10:30"}},
            "AWSDateTime",
        ),
        ("{ plans(first: 100000) { totalCount } }", {}, "first must be between 0 and 500"),
        ('{ plans(after: "@@@") { totalCount } }', {}, "not a cursor"),
        ('{ node(id: "garbage") { id } }', {}, "not an id of this API"),
        ("{ " + " ".join(f"a{i}: plans {{ totalCount }}" for i in range(40)) + " }", {}, "aliases"),
        ("{ plans { " + "totalCount " * 4100 + "} }", {}, "token"),
        (
            "{ plans { edges { node { tasks { edges { node { dependsOn { dependsOn { dependsOn { dependsOn "
            "{ dependsOn { dependsOn { dependsOn { id } } } } } } } } } } } } } }",
            {},
            "exceeds maximum operation depth",
        ),
    ],
)
def test_malformed_requests_get_clear_errors_never_5xx(client, query: str, variables: dict, fragment: str) -> None:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code < 500
    errors = response.json()["errors"]
    assert any(fragment in e["message"] for e in errors), errors


def test_non_json_body_is_a_client_error(client) -> None:
    response = client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500


def test_a_fault_is_masked_and_logged(client, app, monkeypatch) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(app.services.plans, "page", explode)
    response = client.post("/graphql", json={"query": "{ plans { totalCount } }"})
    assert response.status_code == 200
    message = response.json()["errors"][0]["message"]
    assert message == "Internal error; it has been logged."
    assert "hunter2" not in response.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"plannerTaskId": "p" * 101}, ["input", "plannerTaskId"]),
        ({"assignees": ["a" * 321]}, ["input", "assignees"]),
        ({"assignees": [f"p{i}@example.com" for i in range(51)]}, ["input", "assignees"]),
        ({"title": "nul\x00byte"}, ["input", "title"]),
        ({"title": "t" * 501}, ["input", "title"]),
        ({"durationDays": 1e15}, ["input", "durationDays"]),
        ({"estimate": {"optimisticDays": 1, "mostLikelyDays": 2, "pessimisticDays": 1e9}}, ["input", "estimate"]),
    ],
)
def test_values_beyond_the_limits_are_user_errors_on_every_store(
    gql: GraphQL, plan_id: str, changes: dict, field: list[str]
) -> None:
    task = _task(gql, plan_id, "A")
    payload = gql(PLANS, {"input": {"id": task, **changes}}, "UpdateTask")["updateTask"]
    assert _errors(payload) == [("INVALID_INPUT", field)]


def test_dependency_lag_is_bounded(gql: GraphQL, plan_id: str) -> None:
    a, b = _task(gql, plan_id, "A"), _task(gql, plan_id, "B")
    payload = gql(PLANS, {"input": {"predecessorId": a, "successorId": b, "lagDays": -1e9}}, "AddDependency")
    assert _errors(payload["addDependency"]) == [("INVALID_INPUT", ["input", "lagDays"])]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"eventType": "e" * 101}, ["input", "eventType"]),
        ({"source": "s" * 201}, ["input", "source"]),
        ({"idempotencyKey": "k" * 201}, ["input", "idempotencyKey"]),
        ({"delayDays": 1e12}, ["input", "delayDays"]),
        ({"probability": 1.5}, ["input", "probability"]),
        ({"payload": json.dumps({"blob": "x" * 70_000})}, ["input", "payload"]),
    ],
)
def test_event_values_beyond_the_limits_are_user_errors(
    gql: GraphQL, plan_id: str, extra: dict, field: list[str]
) -> None:
    payload = gql(
        EVENTS,
        {"input": {"planId": plan_id, "eventType": "strike", "severity": "LOW", "title": "Strike", **extra}},
        "IngestExternalEvent",
    )["ingestExternalEvent"]
    assert _errors(payload) == [("INVALID_INPUT", field)]


def test_nan_is_not_json(client, plan_id: str) -> None:
    response = client.post(
        "/graphql",
        json={
            "query": EVENTS,
            "operationName": "IngestExternalEvent",
            "variables": {
                "input": {"planId": plan_id, "eventType": "x", "severity": "LOW", "title": "t", "payload": "NaN"}
            },
        },
    )
    assert response.status_code < 500
    assert "NaN" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("value", ["hello", "[1,2]", ["a", 1, None], {"nested": {"list": [1.5, True]}}, 7])
def test_awsjson_payloads_round_trip_exactly(gql: GraphQL, plan_id: str, value: object) -> None:
    """A JSON string value stays a string: the payload is decoded once, at the edge."""
    created = gql(
        EVENTS,
        {
            "input": {
                "planId": plan_id,
                "eventType": "x",
                "severity": "LOW",
                "title": "t",
                "payload": json.dumps(value),
            }
        },
        "IngestExternalEvent",
    )["ingestExternalEvent"]
    assert created["userErrors"] == []
    events = gql(EVENTS, {"planId": plan_id}, "PlanEvents")["plan"]["externalEvents"]["edges"]
    assert json.loads(events[-1]["node"]["payload"]) == value


def _post_escaped(client, query: str, name: str, variables: dict) -> dict:
    """Send JSON as ASCII escapes, so that a lone surrogate (which httpx cannot encode) travels."""
    body = json.dumps({"query": query, "operationName": name, "variables": variables}).encode()
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500
    return response.json()


def test_text_that_is_not_valid_unicode_is_a_user_error(client, plan_id: str) -> None:
    lone = chr(0xD800)
    created = _post_escaped(
        client, PLANS, "CreateTask", {"input": {"planId": plan_id, "title": f"broken {lone}", "durationDays": 1}}
    )
    assert _errors(created["data"]["createTask"]) == [("INVALID_INPUT", ["input", "title"])]
    payload = json.dumps({"k": lone})  # JSON text with the escape \ud800 in it
    event = _post_escaped(
        client,
        EVENTS,
        "IngestExternalEvent",
        {"input": {"planId": plan_id, "eventType": "x", "severity": "LOW", "title": "t", "payload": payload}},
    )
    assert _errors(event["data"]["ingestExternalEvent"]) == [("INVALID_INPUT", ["input", "payload"])]


def test_a_plan_too_long_for_the_calendar_is_a_clear_error(gql: GraphQL) -> None:
    long_plan = gql(PLANS, {"input": {"name": "Centuries", "calendar": {"workingDays": ["MON"]}}}, "CreatePlan")[
        "createPlan"
    ]["plan"]["id"]
    previous = None
    for i in range(6):
        extra = {"dependsOn": [previous]} if previous else {}
        previous = _task(gql, long_plan, f"Age {i}", durationDays=100_000, **extra)
    answer = gql.raw(operation("graph.graphql"), {"planId": long_plan}, "CriticalPath")
    assert "too long to schedule" in answer["errors"][0]["message"]

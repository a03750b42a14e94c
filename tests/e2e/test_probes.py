"""The probes of issue 8, and graphql-cop's, sent as they were sent: each is refused, or answered
correctly. How long each takes is reported by `make probe` (bench/probe.py), never asserted here.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from planning.ports.graph import DependencyGraph
from resolvers.ids import to_global_id
from tests.graph_doubles import SwitchableGraph
from tests.graphql_client import GraphQL, operation

PLANS = operation("plans.graphql")
EVENTS = operation("events.graphql")
LONE = chr(0xD800)
INGEST = """
mutation($input: IngestExternalEventInput!) {
  ingestExternalEvent(input: $input) {
    externalEvent { id title payload impact { criticalPathDelayDays probability } }
    userErrors { field message code }
  }
}
"""
TASKS_FILTERED = """
query($id: ID!, $filter: TaskFilter) {
  plan(id: $id) { tasks(filter: $filter) { totalCount edges { node { id } } } }
}
"""
#: The 30-alias request of the issue: every task of a plan with its graph fields, 30 times over.
COSTLY_ALIAS = (
    'a{i}: plan(id: "{plan}") {{ tasks(first: 500) {{ edges {{ node {{ riskScore slackDays upstream {{ id }} '
    "downstream {{ id }} dependsOn {{ id }} dependents {{ id }} }} }} }} }}"
)


@pytest.fixture
def gql(client: TestClient) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def plan(gql: GraphQL) -> dict[str, Any]:
    """A plan of three tasks in a chain: its id and its tasks' ids."""
    plan_id = gql(PLANS, {"input": {"name": "Probed", "eventDate": "2030-03-29"}}, "CreatePlan")["createPlan"]["plan"][
        "id"
    ]
    tasks: list[str] = []
    for title in ("Design", "Build", "Ship"):
        created = gql(
            PLANS,
            {"input": {"planId": plan_id, "title": title, "durationDays": 2, "dependsOn": tasks[-1:]}},
            "CreateTask",
        )["createTask"]
        assert created["userErrors"] == []
        tasks.append(created["task"]["id"])
    return {"id": plan_id, "tasks": tasks}


def post(client: TestClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Post a request as ASCII JSON (so that a lone surrogate travels); never a 5xx."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text
    answer: dict[str, Any] = response.json()
    assert "Internal error" not in response.text, answer
    return answer


def codes(answer: dict[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in answer.get("errors") or []]


def refused(answer: dict[str, Any], code: str, *fragments: str) -> str:
    """The answer is one refusal with ``code``, whose message says each of ``fragments``."""
    assert answer.get("data") is None, answer
    assert codes(answer) == [code], answer
    message: str = answer["errors"][0]["message"]
    for fragment in fragments:
        assert fragment in message, message
    return message


# The requests under "Why" -------------------------------------------------------------------


def test_a_document_of_990_fields_is_refused_before_validation(client: TestClient) -> None:
    """20 KB inside the token limit: refused by its field count, not by validating it."""
    query = "{" + " plans { totalCount }" * 990 + "}"
    assert 19_000 < len(query) < 21_000
    refused(post(client, query), "QUERY_TOO_COMPLEX", "1,980 field selections", "at most 300")


def test_eight_such_requests_at_once_leave_healthz_answering(client: TestClient) -> None:
    """Each is refused: by its field count, or shed at once (503) when the server is at its bound
    of requests in flight; /healthz answers meanwhile."""
    query = "{" + " plans { totalCount }" * 990 + "}"
    answers: list[Any] = []

    def send() -> None:
        answers.append(client.post("/graphql", json={"query": query}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    health = client.get("/healthz")
    for thread in threads:
        thread.join()
    assert health.status_code == 200
    assert len(answers) == 8
    for response in answers:
        if response.status_code == 503:
            assert response.headers["retry-after"]
            continue
        assert response.status_code == 200
        refused(response.json(), "QUERY_TOO_COMPLEX", "field selections")
    assert any(response.status_code == 200 for response in answers)


def test_duplicated_graph_fields_are_refused(client: TestClient, plan: dict[str, Any]) -> None:
    many = '{ plan(id: "PLAN_ID") {'.replace("PLAN_ID", plan["id"]) + " criticalPath { durationDays }" * 500 + " } }"
    refused(post(client, many), "QUERY_TOO_COMPLEX", "1,001 field selections")
    six = '{ plan(id: "PLAN_ID") {'.replace("PLAN_ID", plan["id"]) + " criticalPath { durationDays }" * 6 + " } }"
    refused(post(client, six), "QUERY_TOO_COMPLEX", "'criticalPath' is selected 6 times", "at most 5")
    twice = post(client, six.replace(" criticalPath { durationDays }" * 4, ""))
    assert twice["data"]["plan"]["criticalPath"]["durationDays"] > 0


def test_thirty_aliases_of_a_plans_graph_are_refused_by_their_cost(client: TestClient, plan: dict[str, Any]) -> None:
    thirty = "{ " + " ".join(COSTLY_ALIAS.format(i=i, plan=plan["id"]) for i in range(30)) + " }"
    refused(post(client, thirty), "QUERY_TOO_COMPLEX", "420 field selections")
    # Fewer aliases keep the field bound, and not the cost limit; nor does one alone.
    for aliases in (10, 1):
        query = "{ " + " ".join(COSTLY_ALIAS.format(i=i, plan=plan["id"]) for i in range(aliases)) + " }"
        refused(post(client, query), "QUERY_TOO_COSTLY", "more than the limit of 25,000")
    answer = post(client, query)
    message = refused(answer, "QUERY_TOO_COSTLY", "more than the limit of 25,000")
    cost = answer["extensions"]["cost"]
    assert cost["limit"] == 25_000
    assert cost["requested"] > cost["limit"]
    assert "actual" not in cost  # nothing ran
    assert f"{cost['requested']:,}" in message
    assert answer["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": cost["requested"],
        "limit": 25_000,
    }


def test_an_admitted_query_reports_its_cost(client: TestClient, plan: dict[str, Any]) -> None:
    """The requested cost bounds what ran; the actual one counts what was answered."""
    query = (
        '{ plan(id: "PLAN_ID") { tasks(first: 10) { totalCount edges { node { title slackDays '
        "dependsOn { id } } } } } }"
    ).replace("PLAN_ID", plan["id"])
    answer = post(client, query)
    assert len(answer["data"]["plan"]["tasks"]["edges"]) == 3
    cost = answer["extensions"]["cost"]
    assert cost["limit"] == 25_000
    assert 0 < cost["actual"] < cost["requested"] <= cost["limit"]
    # The same fields for a page of 100: more requested, the same answered.
    bigger = post(client, query.replace("first: 10", "first: 100"))["extensions"]["cost"]
    assert bigger["requested"] > cost["requested"]
    assert bigger["actual"] == cost["actual"]


def test_a_json_payload_nested_950_deep_is_refused_with_its_path(gql: GraphQL, plan: dict[str, Any]) -> None:
    payload = "[" * 950 + "]" * 950
    answer = gql.raw(INGEST, {"input": _event(plan, payload=payload)})
    assert answer["data"] is None
    (error,) = answer["errors"]
    assert "payload" in error["message"]
    assert "nested more than 32 levels deep" in error["message"]
    assert _event_count(gql, plan) == 0
    # 32 levels are fine, 33 are not.
    ok = gql(INGEST, {"input": _event(plan, payload="[" * 32 + "]" * 32)})["ingestExternalEvent"]
    assert ok["userErrors"] == []
    assert (
        "nested more than 32"
        in gql.raw(INGEST, {"input": _event(plan, payload="[" * 33 + "]" * 33)})["errors"][0]["message"]
    )


def test_lists_nested_700_deep_are_refused_cleanly(client: TestClient, plan: dict[str, Any]) -> None:
    deep: Any = "a@example.com"
    for _ in range(700):
        deep = [deep]
    mutation = "mutation($input: UpdateTaskInput!) { updateTask(input: $input) { task { id } } }"
    answer = post(client, mutation, {"input": {"id": plan["tasks"][0], "assignees": deep}})
    assert answer.get("data") is None
    assert answer["errors"], answer
    nested = "[" * 700 + '"a"' + "]" * 700
    literal = f'{{ plan(id: "{plan["id"]}") {{ tasks(filter: {{assignee: {nested}}}) {{ totalCount }} }} }}'
    assert post(client, literal)["errors"]
    payload = json.dumps(deep)
    assert (
        "nested more than 32" in post(client, INGEST, {"input": _event(plan, payload=payload)})["errors"][0]["message"]
    )


def test_a_deep_payload_stored_before_the_bound_still_reads(
    gql: GraphQL, app: Application, plan: dict[str, Any]
) -> None:
    """Stored data is never refused when read: written straight to the store, 950 deep."""
    event = gql(INGEST, {"input": _event(plan, payload="{}")})["ingestExternalEvent"]["externalEvent"]
    deep = "[" * 950 + "]" * 950
    value = "CAST(:payload AS JSONB)" if app.engine.dialect.name == "postgresql" else ":payload"
    with app.engine.begin() as conn:
        changed = conn.execute(
            text(f"UPDATE external_events SET payload = {value} WHERE title = :title"),
            {"payload": deep, "title": "Strike"},
        )
    assert changed.rowcount == 1
    answer = gql("query($id: ID!) { node(id: $id) { ... on ExternalEvent { id payload } } }", {"id": event["id"]})
    assert answer["node"]["payload"] == deep
    listed = gql(EVENTS, {"planId": plan["id"]}, "PlanEvents")["plan"]["externalEvents"]["edges"]
    assert [e["node"]["payload"] for e in listed] == [deep]


@pytest.mark.parametrize("bad", [LONE, "nul\x00byte"], ids=["lone surrogate", "NUL"])
def test_an_idempotency_key_that_is_not_text_is_a_user_error(
    client: TestClient, gql: GraphQL, plan: dict[str, Any], bad: str
) -> None:
    answer = post(client, INGEST, {"input": _event(plan, idempotencyKey=f"key-{bad}")})
    payload = answer["data"]["ingestExternalEvent"]
    assert payload["externalEvent"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_INPUT", ["input", "idempotencyKey"])]
    assert _event_count(gql, plan) == 0


@pytest.mark.parametrize("field", ["titleContains", "assignee"])
@pytest.mark.parametrize("bad", [LONE, "nul\x00byte"], ids=["lone surrogate", "NUL"])
def test_a_filter_that_is_not_text_is_a_bad_request(
    client: TestClient, plan: dict[str, Any], field: str, bad: str
) -> None:
    answer = post(client, TASKS_FILTERED, {"id": plan["id"], "filter": {field: f"x{bad}"}})
    assert answer["data"]["plan"] is None
    assert codes(answer) == ["BAD_REQUEST"]
    assert f"filter.{field}" in answer["errors"][0]["message"]
    fine = post(client, TASKS_FILTERED, {"id": plan["id"], "filter": {field: "Bui"}})
    assert fine["data"]["plan"]["tasks"]["totalCount"] == (1 if field == "titleContains" else 0)


@pytest.mark.parametrize("bad", [LONE, "\x00"], ids=["lone surrogate", "NUL"])
def test_every_text_input_refuses_what_cannot_be_stored(client: TestClient, plan: dict[str, Any], bad: str) -> None:
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        ("CreateTask", {"planId": plan["id"], "title": "T", "assignees": [f"a{bad}@example.com"]}, ["assignees"]),
        ("CreateTask", {"planId": plan["id"], "title": "T", "plannerTaskId": f"p{bad}"}, ["plannerTaskId"]),
        ("UpdateTask", {"id": plan["tasks"][0], "title": f"t{bad}"}, ["title"]),
        ("CreatePlan", {"name": "P", "plannerPlanId": f"p{bad}"}, ["plannerPlanId"]),
        ("CreatePlan", {"name": "P", "calendar": {"workingDays": [f"MON{bad}"]}}, ["calendar"]),
    ]
    for name, data, field in cases:
        body = json.dumps({"query": PLANS, "operationName": name, "variables": {"input": data}}).encode()
        response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        answer = response.json()
        payload = next(iter(answer["data"].values()))
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_INPUT", ["input", *field])], (
            name,
            answer,
        )


def test_ids_and_cursors_that_decode_to_nul_are_refused(client: TestClient) -> None:
    """A global id or cursor is base64: what it decodes to is input too, held to the same rule."""
    task = to_global_id("Task", "\x00x")
    read = post(client, "query($id: ID!) { node(id: $id) { id } }", {"id": task})
    assert codes(read) == ["BAD_REQUEST"]
    assert "is not an id of this API" in read["errors"][0]["message"]
    mutation = 'mutation($id: ID!) { updateTask(input: {id: $id, title: "x"}) { userErrors { code field } } }'
    written = post(client, mutation, {"id": task})["data"]["updateTask"]["userErrors"]
    assert written == [{"code": "INVALID_INPUT", "field": ["input", "id"]}]
    cursor = base64.urlsafe_b64encode(b"cursor:\x00a").decode()
    paged = post(client, "query($after: String) { plans(after: $after) { totalCount } }", {"after": cursor})
    assert codes(paged) == ["BAD_REQUEST"]
    assert "is not a cursor of this list" in paged["errors"][0]["message"]


@pytest.fixture
def switchable(settings: Settings) -> Iterator[tuple[GraphQL, SwitchableGraph]]:
    """A server whose dependency graph a test can take down."""
    doubles: list[SwitchableGraph] = []

    def wrap(real: DependencyGraph) -> SwitchableGraph:
        doubles.append(SwitchableGraph(real))
        return doubles[-1]

    app = bootstrap(settings, wrap_graph=wrap)
    try:
        with TestClient(create_asgi_app(app), raise_server_exceptions=False) as client:
            (double,) = doubles
            yield GraphQL(client), double
    finally:
        for double in doubles:
            double.down = False
        app.close()


def test_an_ingested_event_answers_even_when_its_impact_cannot(
    switchable: tuple[GraphQL, SwitchableGraph],
) -> None:
    """Committed means answered: the graph down, the event is stored and answered; its impact is
    null with UNAVAILABLE on that field alone; sending it again with the key changes nothing."""
    gql, double = switchable
    plan_id = gql(PLANS, {"input": {"name": "Down"}}, "CreatePlan")["createPlan"]["plan"]["id"]
    double.down = True
    data = {"planId": plan_id, "eventType": "strike", "severity": "HIGH", "title": "Strike", "idempotencyKey": "k1"}
    first = gql.raw(INGEST, {"input": data})
    event = first["data"]["ingestExternalEvent"]["externalEvent"]
    assert event["id"]
    assert event["title"] == "Strike"
    assert event["impact"] is None
    assert first["data"]["ingestExternalEvent"]["userErrors"] == []
    (error,) = first["errors"]
    assert error["path"] == ["ingestExternalEvent", "externalEvent", "impact"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    again = gql.raw(INGEST, {"input": data})["data"]["ingestExternalEvent"]["externalEvent"]
    assert again["id"] == event["id"]
    double.down = False
    listed = gql(EVENTS, {"planId": plan_id}, "PlanEvents")["plan"]["externalEvents"]
    assert listed["totalCount"] == 1


def test_a_created_task_answers_even_when_its_graph_fields_cannot(
    switchable: tuple[GraphQL, SwitchableGraph],
) -> None:
    gql, double = switchable
    plan_id = gql(PLANS, {"input": {"name": "Down"}}, "CreatePlan")["createPlan"]["plan"]["id"]
    double.down = True
    mutation = """
    mutation($input: CreateTaskInput!) {
      createTask(input: $input) {
        task { id title upstream { id } downstream { id } slackDays plan { name criticalPath { durationDays } } }
        userErrors { code }
      }
    }
    """
    answer = gql.raw(mutation, {"input": {"planId": plan_id, "title": "Written", "durationDays": 1}})
    task = answer["data"]["createTask"]["task"]
    assert task["id"]
    assert task["title"] == "Written"
    assert (task["upstream"], task["downstream"], task["slackDays"]) == (None, None, None)
    assert task["plan"] == {"name": "Down", "criticalPath": None}
    paths = {tuple(e["path"][2:]) for e in answer["errors"]}
    assert paths == {("upstream",), ("downstream",), ("slackDays",), ("plan", "criticalPath")}
    assert set(codes(answer)) == {"UNAVAILABLE"}
    double.down = False
    titles = gql(PLANS, {"planId": plan_id}, "PlanTasks")["plan"]["tasks"]["edges"]
    assert [edge["node"]["title"] for edge in titles] == ["Written"]


def test_no_message_echoes_more_than_about_100_characters_of_the_request(
    client: TestClient, plan: dict[str, Any]
) -> None:
    huge = "x" * 200_000
    requests: list[tuple[str, dict[str, Any]]] = [
        (f'{{ plan(id: "{plan["id"]}") {{ {huge} }} }}', {}),  # an unknown field's name
        (f'{{ plan(id: "{huge}") {{ id }} }}', {}),  # a literal id
        ("query($id: ID!) { node(id: $id) { id } }", {"id": huge}),
        ('{ plans(after: "HUGE") { totalCount } }'.replace("HUGE", huge), {}),
        ("query($f: Int) { plans(first: $f) { totalCount } }", {"f": huge}),
        ('{ plans(first: [[["HUGE"]]]) { totalCount } }'.replace("HUGE", huge), {}),
        (f'{{ plan(id: "{plan["id"]}") {{ tasks(filter: {{status: [{"X" * 200_000}]}}) {{ totalCount }} }} }}', {}),
        (PLANS, {"input": {"planId": plan["id"], "title": "t", "startDate": huge}}),
        (INGEST, {"input": _event(plan, payload=huge)}),
        (INGEST, {"input": _event(plan, occurredAt=huge)}),
        (INGEST, {"input": {**_event(plan), "planId": huge}}),
        (INGEST, {"input": _event(plan, affectedTaskIds=[huge])}),
        (INGEST, {"input": _event(plan, severity=huge)}),
        ("{ " + huge + " }", {}),
        ("{ plans { totalCount } } " + huge, {}),
    ]
    for query, variables in requests:
        body: dict[str, Any] = {"query": query, "variables": variables}
        if query == PLANS:
            body["operationName"] = "CreateTask"
        response = client.post("/graphql", json=body)
        assert response.status_code < 500
        answer = response.json()
        messages = [e["message"] for e in answer.get("errors") or []]
        messages += [
            e["message"]
            for payload in (answer.get("data") or {}).values()
            if isinstance(payload, dict)
            for e in payload.get("userErrors") or []
        ]
        assert messages, (query[:80], answer)
        for message in messages:
            assert len(message) <= 400, message[:200]
            longest = max((len(m) for m in re.findall(r"x+|X+", message)), default=0)
            assert longest <= 100, message[:200]


# graphql-cop's probes -------------------------------------------------------------------------


def test_alias_overloading_is_refused(client: TestClient) -> None:
    query = "query cop { " + " ".join(f"alias{i}:__typename" for i in range(101)) + " }"
    answer = post(client, query)
    assert answer.get("data") is None
    assert any("aliases" in e["message"] for e in answer["errors"]), answer


def test_batched_queries_are_refused(client: TestClient) -> None:
    response = client.post("/graphql", json=[{"query": "query cop { __typename }"}] * 10)
    assert 400 <= response.status_code < 500
    assert "__typename" not in response.text


def test_field_duplication_is_refused(client: TestClient) -> None:
    refused(post(client, "query cop { " + "__typename " * 500 + "}"), "QUERY_TOO_COMPLEX", "500 field selections")
    refused(post(client, "query cop { " + "__typename " * 50 + "}"), "QUERY_TOO_COMPLEX", "'__typename' is selected 50")


def test_directive_overloading_is_refused(client: TestClient) -> None:
    answer = post(client, "query cop { __typename " + "@aa" * 10 + " }")
    assert answer.get("data") is None
    assert all("Unknown directive" in e["message"] for e in answer["errors"])
    many = "query cop { __typename " + "@include(if: true)" * 60 + " }"
    refused(post(client, many), "QUERY_TOO_COMPLEX", "60 directives")


def test_circular_fragments_are_refused(client: TestClient) -> None:
    query = "query cop { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    refused(post(client, query), "QUERY_TOO_COMPLEX", "spreads itself")


def test_circular_introspection_is_refused(client: TestClient) -> None:
    query = "query cop { __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    refused(post(client, query), "QUERY_TOO_COMPLEX", "Introspection reads each type's members once")
    through_interfaces = '{ __type(name: "Task") { interfaces { possibleTypes { fields { name } } } } }'
    refused(post(client, through_interfaces), "QUERY_TOO_COMPLEX", "Introspection")


def test_graphiqls_introspection_is_admitted_in_development(client: TestClient) -> None:
    from graphql import get_introspection_query

    answer = post(client, get_introspection_query(descriptions=True))
    names = {t["name"] for t in answer["data"]["__schema"]["types"]}
    assert {"Plan", "Task", "ExternalEvent"} <= names
    assert answer["extensions"]["cost"]["requested"] > 0


def test_deep_recursion_is_refused(client: TestClient, plan: dict[str, Any]) -> None:
    query = (
        f'{{ plan(id: "{plan["id"]}") {{ tasks {{ edges {{ node {{ {"dependsOn { " * 20} id {"} " * 20} }} }} }} }} }}'
    )
    refused(post(client, query), "QUERY_TOO_COMPLEX", "exceeds maximum operation depth of 12")
    nested = "{ a " + "{ a " * 300 + "}" * 301
    assert "Syntax Error" in post(client, nested)["errors"][0]["message"]


def test_a_token_flood_is_refused(client: TestClient) -> None:
    answer = post(client, "query cop { plans { " + "totalCount " * 10_000 + "} }")
    assert answer.get("data") is None
    assert "token" in answer["errors"][0]["message"].lower()


def test_a_mutation_over_get_is_refused(client: TestClient, gql: GraphQL) -> None:
    response = client.get(
        "/graphql", params={"query": 'mutation cop { createPlan(input: {name: "CSRF"}) { plan { id } } }'}
    )
    assert 400 <= response.status_code < 500
    assert _plan_names(gql) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            "application/x-www-form-urlencoded",
            "query=mutation%20cop%20%7B%20createPlan(input%3A%20%7Bname%3A%20%22CSRF%22%7D)"
            "%20%7B%20plan%20%7B%20id%20%7D%20%7D%20%7D",
        ),
        ("text/plain", 'mutation cop { createPlan(input: {name: "CSRF"}) { plan { id } } }'),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n'
            'mutation { createPlan(input: {name: "CSRF"}) { plan { id } } }\r\n--x--\r\n',
        ),
    ],
)
def test_a_form_encoded_mutation_is_refused(client: TestClient, gql: GraphQL, content_type: str, body: str) -> None:
    """A cross-site form can send these without a preflight; none may change anything."""
    response = client.post("/graphql", content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500
    assert _plan_names(gql) == []


def test_errors_carry_no_trace_or_debug_information(client: TestClient, app: Application, monkeypatch) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("secret stack detail")

    monkeypatch.setattr(app.services.plans, "page", explode)
    for query in ("{ plans { totalCount } }", "query cop { __typename {}", "{ nope }"):
        response = client.post("/graphql", json={"query": query})
        assert response.status_code < 500
        body = response.text.lower()
        for leak in ("traceback", "stacktrace", "exception", "secret stack detail", 'file "', ".py"):
            assert leak not in body, (query, body)
        for error in response.json()["errors"]:
            assert set(error.get("extensions") or {}) <= {"code", "cost", "limit"}
    tracing = client.post("/graphql", json={"query": "{ __typename }"}).json()
    assert set(tracing.get("extensions") or {}) == {"cost"}


def _event(plan: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"planId": plan["id"], "eventType": "strike", "severity": "LOW", "title": "Strike", **extra}


def _event_count(gql: GraphQL, plan: dict[str, Any]) -> int:
    return gql(EVENTS, {"planId": plan["id"]}, "PlanEvents")["plan"]["externalEvents"]["totalCount"]


def _plan_names(gql: GraphQL) -> list[str]:
    return [e["node"]["name"] for e in gql("{ plans { edges { node { name } } } }")["plans"]["edges"]]


@pytest.fixture
def production(settings: Settings, tmp_path: Any) -> Iterator[TestClient]:
    """A production server, signed in as a planner with a token of a test user pool."""
    from tests.signing import CLIENT_ID, POOL_ID, TestIssuer

    pool = TestIssuer()
    env = {
        "PLANNER_ENV": "production",
        "PLANNER_DATABASE_URL": settings.database_url,
        "PLANNER_GRAPH_URL": settings.graph_url,
        "PLANNER_COGNITO_USER_POOL_ID": POOL_ID,
        "PLANNER_AUTH_AUDIENCE": CLIENT_ID,
        "PLANNER_AUTH_JWKS_URL": str(pool.write_jwks(tmp_path / "jwks.json")),
    }
    app = bootstrap(Settings.from_env(env))
    try:
        with TestClient(create_asgi_app(app), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {pool.id_token('pat', ['planner'])}"
            yield client
    finally:
        app.close()


def test_production_refuses_introspection_and_suggestions(production: TestClient) -> None:
    for query in ("query cop { __schema { types { name } } }", '{ __type(name: "Plan") { name } }'):
        answer = post(production, query)
        assert answer.get("data") is None
        assert "introspection" in answer["errors"][0]["message"].lower()
    typo = post(production, "{ plans { edges { node { nme } } } }")
    assert "Did you mean" not in typo["errors"][0]["message"]
    page = production.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in page.text.lower()

"""The AppSync Lambda handler, driven by the saved AppSync events in ``tests/events/``.

The local server and the handler share one store and graph: a plan made through the local
server is read through the handler, and each answer is compared with the local server's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from adapters.appsync import handler as appsync
from adapters.appsync.runtime import LambdaRuntime
from adapters.bootstrap import Application
from adapters.config import Settings
from planning.principal import Principal
from resolvers.codec import HIDDEN_KEY
from resolvers.ids import to_global_id
from resolvers.registry import resolve
from tests.conftest import StatementCounter
from tests.graphql_client import GraphQL
from tests.lambda_context import LambdaContext, saved_event

ANA = Principal("ana@example.com", frozenset({"planner"}))
ANA_HEADERS = {"X-Planner-User": "ana@example.com", "X-Planner-Groups": "planner"}

LOCAL_PLAN = """query($id: ID!) {
  plan(id: $id) {
    id name eventDate
    tasks(first: 50) { totalCount edges { node { id title slackDays dependsOn { id title } } } }
  }
}"""


@pytest.fixture
def runtime(app: Application, settings: Settings) -> Iterator[LambdaRuntime]:
    built = LambdaRuntime(settings=settings)
    appsync.use_runtime(built)
    yield built
    appsync.use_runtime(None)
    built.close()


def _make_plan(app: Application, chain: int = 3) -> str:
    """A plan of ana's: ``chain`` tasks, each waiting for all before it. Its global id."""
    ctx = app.context(ANA)

    async def build() -> str:
        created = await resolve(
            ctx, "Mutation", "createPlan", None, {"input": {"name": "Launch", "eventDate": "2030-06-01"}}
        )
        plan_id = to_global_id("Plan", created.plan.id)
        done: list[str] = []
        for n in range(chain):
            task = await resolve(
                ctx,
                "Mutation",
                "createTask",
                None,
                {"input": {"planId": plan_id, "title": f"Step {n}", "durationDays": 2, "dependsOn": list(done)}},
            )
            assert task.user_errors == []
            done.append(to_global_id("Task", task.task.id))
        return plan_id

    return asyncio.run(build())


def _invoke(event: Any) -> Any:
    return appsync.handler(event, LambdaContext())


def _batch(name: str, sources: list[Any], **info: Any) -> list[dict[str, Any]]:
    template = saved_event(name)[0]
    events = []
    for source in sources:
        event = dict(template, source=source)
        event["info"] = dict(template["info"], **info)
        events.append(event)
    return events


def _ids(sources: list[Any], type_name: str) -> list[str]:
    return _invoke(_batch("batch_task_depends_on_cognito.json", sources, parentTypeName=type_name, fieldName="id"))


def test_plan_then_its_tasks_then_a_batch_of_depends_on_answer_what_the_local_server_does(
    app: Application, runtime: LambdaRuntime, client: Any
) -> None:
    plan_id = _make_plan(app)
    local = GraphQL(client, ANA_HEADERS)(LOCAL_PLAN, {"id": plan_id})["plan"]

    query = dict(saved_event("invoke_query_plan_cognito.json"), arguments={"id": plan_id})
    plan = _invoke(query)
    assert (plan["__typename"], plan["name"], plan["eventDate"]) == ("Plan", "Launch", "2030-06-01")
    assert plan[HIDDEN_KEY]["type"] == "Plan"
    assert _ids([plan], "Plan") == [local["id"]]

    [page] = _invoke(_batch("batch_plan_tasks_cognito.json", [plan]))
    assert page["totalCount"] == local["tasks"]["totalCount"] == 3
    tasks = [edge["node"] for edge in page["edges"]]
    assert _ids(tasks, "Task") == [e["node"]["id"] for e in local["tasks"]["edges"]]
    assert [t["title"] for t in tasks] == [e["node"]["title"] for e in local["tasks"]["edges"]]

    depends_on = _invoke(_batch("batch_task_depends_on_cognito.json", tasks))
    assert len(depends_on) == len(tasks)  # one answer per event, in order
    answered = [[(i, t["title"]) for i, t in zip(_ids(found, "Task"), found, strict=True)] for found in depends_on]
    assert answered == [[(d["id"], d["title"]) for d in e["node"]["dependsOn"]] for e in local["tasks"]["edges"]]
    assert [[title for _, title in found] for found in answered] == [[], ["Step 0"], ["Step 0", "Step 1"]]

    slack = _invoke(_batch("batch_task_depends_on_cognito.json", tasks, fieldName="slackDays"))
    assert slack == [e["node"]["slackDays"] for e in local["tasks"]["edges"]]


def test_a_batch_of_depends_on_costs_the_same_statements_at_any_size(app: Application, runtime: LambdaRuntime) -> None:
    plan = _invoke(dict(saved_event("invoke_query_plan_cognito.json"), arguments={"id": _make_plan(app, chain=12)}))
    [page] = _invoke(_batch("batch_plan_tasks_cognito.json", [plan]))
    tasks = [edge["node"] for edge in page["edges"]]
    counts = []
    for sources in (tasks[:2], tasks):
        counter = StatementCounter()
        sa_event.listen(runtime.engine, "before_cursor_execute", counter)
        try:
            answers = _invoke(_batch("batch_task_depends_on_cognito.json", sources))
        finally:
            sa_event.remove(runtime.engine, "before_cursor_execute", counter)
        assert [len(a) for a in answers] == list(range(len(sources)))
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_an_invocation_of_a_query_field_reads_in_one_transaction_and_a_mutation_writes(
    app: Application, runtime: LambdaRuntime
) -> None:
    plan = _invoke(dict(saved_event("invoke_query_plan_cognito.json"), arguments={"id": _make_plan(app, chain=6)}))
    begun: list[object] = []

    def on_begin(conn: object) -> None:
        begun.append(conn)

    sa_event.listen(runtime.engine, "begin", on_begin)
    try:
        [page] = _invoke(_batch("batch_plan_tasks_cognito.json", [plan]))  # the page and its count
        assert len(begun) == 1
        tasks = [edge["node"] for edge in page["edges"]]
        begun.clear()
        _invoke(_batch("batch_task_depends_on_cognito.json", tasks, fieldName="slackDays"))  # plan, graph, forecast
        assert len(begun) == 1
    finally:
        sa_event.remove(runtime.engine, "begin", on_begin)
    created = _invoke(
        dict(
            saved_event("invoke_query_plan_cognito.json"),
            info={"parentTypeName": "Mutation", "fieldName": "createTask", "selectionSetList": ["task", "task/id"]},
            arguments={"input": {"planId": _ids([plan], "Plan")[0], "title": "Written", "durationDays": 1}},
        )
    )
    assert created["userErrors"] == []


def test_a_strangers_cognito_identity_sees_no_plan(app: Application, runtime: LambdaRuntime) -> None:
    plan_id = _make_plan(app)
    stranger = dict(saved_event("invoke_query_plan_cognito_stranger.json"), arguments={"id": plan_id})
    assert _invoke(stranger) is None
    plans = dict(stranger, arguments={})
    plans["info"] = dict(stranger["info"], fieldName="plans", selectionSetList=["totalCount", "edges"])
    listed = _invoke(plans)
    assert (listed["edges"], listed["totalCount"]) == ([], 0)


def test_an_iam_identity_is_its_role_with_no_groups(runtime: LambdaRuntime) -> None:
    me = _invoke(saved_event("invoke_query_me_iam.json"))
    assert me["id"] == "arn:aws:sts::123456789012:assumed-role/planner-publisher/planner-publisher-fn"
    assert me["groups"] == []


def test_a_cognito_identity_is_the_principal_the_local_server_makes(app: Application, runtime: LambdaRuntime) -> None:
    event = saved_event("invoke_query_plan_cognito.json")
    event["info"] = dict(event["info"], fieldName="me")
    me = _invoke(dict(event, arguments={}))
    assert (me["id"], me["groups"]) == ("ana@example.com", ["planner"])


def test_a_bad_argument_is_the_clients_error_and_a_failed_batch_item_answers_null(runtime: LambdaRuntime) -> None:
    query = dict(saved_event("invoke_query_plan_cognito.json"), arguments={"id": "not an id"})
    with pytest.raises(Exception, match="is not an id of this API"):
        _invoke(query)
    broken = _batch("batch_task_depends_on_cognito.json", [{"_domain": {"type": "Nope"}}])
    assert _invoke(broken) == [None]


def _subscribe(name: str, field: str, arguments: dict[str, Any]) -> Any:
    event = dict(saved_event("invoke_subscription_on_plan_event_cognito.json"), arguments=arguments)
    event["identity"] = saved_event(name)["identity"]
    event["info"] = dict(event["info"], fieldName=field, variables=arguments)
    return _invoke(event)


def test_a_member_may_subscribe_to_her_plan_and_a_stranger_may_not(app: Application, runtime: LambdaRuntime) -> None:
    plan_id = _make_plan(app)
    assert _subscribe("invoke_query_plan_cognito.json", "onPlanEvent", {"planId": plan_id}) is None
    with pytest.raises(Exception, match="no plan has the id given in planId"):
        _subscribe("invoke_query_plan_cognito_stranger.json", "onPlanEvent", {"planId": plan_id})


def test_resuming_with_after_is_refused_on_appsync_with_a_reason(app: Application, runtime: LambdaRuntime) -> None:
    plan_id = _make_plan(app)
    with pytest.raises(Exception, match="served by the local server only"):
        _subscribe("invoke_query_plan_cognito.json", "onPlanEvent", {"planId": plan_id, "after": 3})


def test_a_stranger_may_not_follow_a_members_simulation(app: Application, runtime: LambdaRuntime) -> None:
    plan_id = _make_plan(app)
    ctx = app.context(ANA)
    ran = asyncio.run(
        resolve(ctx, "Mutation", "runSimulation", None, {"input": {"planId": plan_id, "iterations": 100, "seed": 1}})
    )
    assert ran.user_errors == []
    simulation_id = to_global_id("Simulation", ran.simulation.id)
    arguments = {"simulationId": simulation_id}
    assert _subscribe("invoke_query_plan_cognito.json", "onSimulationProgress", arguments) is None
    with pytest.raises(Exception, match="no simulation has the id given in simulationId"):
        _subscribe("invoke_query_plan_cognito_stranger.json", "onSimulationProgress", arguments)

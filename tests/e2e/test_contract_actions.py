"""The frontend contract's actions.graphql, validated and executed: propose, list, approve, reject."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from graphql import build_schema, parse, validate

from adapters.bootstrap import Application
from planning.commands import IngestExternalEvent
from planning.model import Severity
from planning.principal import Principal
from resolvers.ids import to_global_id
from schema.export import SCHEMA_DIR
from tests.graphql_client import OPERATIONS, GraphQL, operation

ACTIONS = operation("actions.graphql")
DEMO = Path(__file__).resolve().parents[2] / "adapters" / "demo" / "launch_readiness.json"
SETUP = Principal("tester@example.com", frozenset({"admin"}))


def test_actions_operations_validate_against_the_committed_schema() -> None:
    schema = build_schema((SCHEMA_DIR / "schema.graphql").read_text())
    assert validate(schema, parse((OPERATIONS / "actions.graphql").read_text())) == []


def _event(app: Application) -> tuple[str, str, str]:
    """The demo plan with an event delaying its first open critical task by 10 days."""
    plan = app.services.documents.import_document(json.loads(DEMO.read_text()), SETUP, rebase_to=date.today())
    graph = app.services.graph.plan_graph(SETUP, plan.id)
    tasks = {t.id: t for t in app.services.tasks.for_plan(SETUP, plan.id)}
    critical = [
        t for t in app.services.graph.schedule(plan, graph).critical_path if tasks[t].status.value != "COMPLETED"
    ]
    cmd = IngestExternalEvent(
        plan.id, "supplier_delay", Severity.HIGH, "Slip", delay_days=10, affected_task_ids=(critical[0],)
    )
    event = app.services.external_events.ingest(cmd, SETUP)
    return to_global_id("Plan", plan.id), to_global_id("ExternalEvent", event.id), to_global_id("Task", critical[0])


def test_actions_operations_execute(app: Application, client) -> None:
    gql = GraphQL(client)
    plan_id, event_id, task_id = _event(app)

    proposed = gql(ACTIONS, {"input": {"externalEventId": event_id}}, "ProposeActions")["proposeActions"]
    assert proposed["userErrors"] == []
    actions = proposed["actions"]
    assert len({a["actionType"] for a in actions}) >= 2
    for action in actions:
        assert action["status"] == "PENDING"
        assert action["externalEvent"] == {"id": event_id, "title": "Slip"}
        impact = action["expectedImpact"]
        assert impact["onTimeProbabilityAfter"] >= impact["onTimeProbabilityBefore"]
        assert action["decidedAt"] is None
        assert action["decidedBy"] is None
        assert isinstance(json.loads(action["parameters"]), dict)  # AWSJSON: a string holding JSON
    crash = next(a for a in actions if a["actionType"] == "CRASH_DURATION")
    assert json.loads(crash["parameters"])["taskId"] == crash["task"]["id"]

    listed = gql(ACTIONS, {"planId": plan_id, "status": "PENDING", "first": 2}, "PlanActions")["plan"]
    page = listed["proposedActions"]
    assert page["totalCount"] == len(actions)
    assert [e["node"]["id"] for e in page["edges"]] == [a["id"] for a in actions][:2]  # made best first
    assert page["pageInfo"]["hasNextPage"] is (len(actions) > 2)

    approved = gql(ACTIONS, {"input": {"id": crash["id"]}}, "ApproveAction")["approveAction"]
    assert approved["userErrors"] == []
    assert approved["action"]["status"] == "APPLIED"
    assert approved["action"]["decidedBy"] == "tester@example.com"
    again = gql(ACTIONS, {"input": {"id": crash["id"]}}, "ApproveAction")["approveAction"]
    assert again["action"] is None
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_DECIDED"]

    other = next(a for a in actions if a["id"] != crash["id"])
    rejected = gql(ACTIONS, {"input": {"id": other["id"], "reason": "not now"}}, "RejectAction")["rejectAction"]
    assert rejected["userErrors"] == []
    assert rejected["action"]["status"] == "REJECTED"

    applied = gql(ACTIONS, {"planId": plan_id, "status": "APPLIED"}, "PlanActions")["plan"]["proposedActions"]
    assert [e["node"]["id"] for e in applied["edges"]] == [crash["id"]]
    node = gql("query($id: ID!) { node(id: $id) { ... on ProposedAction { status rank } } }", {"id": crash["id"]})
    assert node["node"]["status"] == "APPLIED"
    missing = gql(ACTIONS, {"input": {"externalEventId": plan_id}}, "ProposeActions")["proposeActions"]
    assert [e["code"] for e in missing["userErrors"]] == ["INVALID_INPUT"]
    assert any(a["task"] and a["task"]["id"] == task_id for a in actions)  # the delayed task is acted on

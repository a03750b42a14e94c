"""A server runs the agent for every ingested event in the background, through the outbox."""

from __future__ import annotations

import time
from dataclasses import replace

from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import bootstrap
from adapters.config import Settings
from tests.graphql_client import ADMIN_HEADERS, GraphQL, operation

EVENTS = operation("events.graphql")
PLANS = operation("plans.graphql")
PENDING = "query($id: ID!) { plan(id: $id) { proposedActions(status: PENDING) { totalCount } } }"


def _pending(gql: GraphQL, plan_id: str, wait_s: float = 30.0) -> int:
    """The plan's pending proposals, once the background run has made some (or ``wait_s`` ran out)."""
    deadline = time.monotonic() + wait_s
    while True:
        count = int(gql(PENDING, {"id": plan_id})["plan"]["proposedActions"]["totalCount"])
        if count or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def test_an_ingested_event_gets_proposals_without_being_asked(settings: Settings) -> None:
    app = bootstrap(replace(settings, agent_background=True))
    with TestClient(create_asgi_app(app), raise_server_exceptions=False, headers=ADMIN_HEADERS) as client:
        gql = GraphQL(client)
        plan = gql(PLANS, {"input": {"name": "Launch", "eventDate": "2031-03-31"}}, "CreatePlan")["createPlan"]["plan"]
        first = gql(PLANS, {"input": {"planId": plan["id"], "title": "Build", "durationDays": 5}}, "CreateTask")
        task = first["createTask"]["task"]["id"]
        second = {"planId": plan["id"], "title": "Ship", "durationDays": 3, "dependsOn": [task]}
        assert gql(PLANS, {"input": second}, "CreateTask")["createTask"]["userErrors"] == []
        assert _pending(gql, plan["id"], wait_s=0) == 0
        event = {
            "planId": plan["id"],
            "eventType": "supplier_delay",
            "severity": "HIGH",
            "title": "Late parts",
            "delayDays": 4,
            "affectedTaskIds": [task],
        }
        assert gql(EVENTS, {"input": event}, "IngestExternalEvent")["ingestExternalEvent"]["userErrors"] == []
        assert _pending(gql, plan["id"]) > 0

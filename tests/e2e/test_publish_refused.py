"""The IAM-only publish mutations are the backend's on AppSync; the local server refuses them."""

from __future__ import annotations

from tests.graphql_client import GraphQL

PUBLISH_PLAN_EVENT = """mutation($i: PublishPlanEventInput!) {
  publishPlanEvent(input: $i) { planId kind entityId occurredAt data position }
}"""
PUBLISH_PROGRESS = """mutation($i: PublishSimulationProgressInput!) {
  publishSimulationProgress(input: $i) { simulationId planId status progress completedIterations }
}"""
PLAN_EVENT = {
    "planId": "UGxhbjox",
    "kind": "TASK_CREATED",
    "entityId": "VGFzazox",
    "occurredAt": "2025-02-05T10:30:00Z",
    "data": "{}",
    "position": 1,
}
PROGRESS = {
    "simulationId": "U2ltdWxhdGlvbjox",
    "planId": "UGxhbjox",
    "status": "RUNNING",
    "progress": 0.5,
    "completedIterations": 500,
}


def test_every_caller_is_refused_and_nothing_is_published(client) -> None:
    gql = GraphQL(client)
    callers = [gql, gql.as_("planner"), gql.as_("viewer"), GraphQL(client, {})]
    for caller in callers:
        for query, variables, field in (
            (PUBLISH_PLAN_EVENT, PLAN_EVENT, "publishPlanEvent"),
            (PUBLISH_PROGRESS, PROGRESS, "publishSimulationProgress"),
        ):
            result = caller.raw(query, {"i": variables})
            assert result["data"] == {field: None}
            (error,) = result["errors"]
            assert error["extensions"]["code"] == "FORBIDDEN"
            assert error["path"] == [field]
            assert "only the backend publishes" in error["message"]

"""What the publisher Lambda does: a committed outbox message, as EventBridge delivered it, sent
to AppSync's IAM-only publish mutations with a SigV4-signed request (botocore's signer).

``onPlanEvent`` receives every event but a run's progress; ``onSimulationProgress`` receives a
run's start, progress and end. AppSync pushes to subscribers exactly the fields a publish
mutation selects, so each selects every field of its type.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from adapters.events.eventbridge import message_from_detail
from planning.events import OutboxMessage
from resolvers import live_events
from schema.scalars import serialize_aws_datetime, serialize_aws_json
from subscriptions.plan_events import PROGRESS_KINDS
from subscriptions.simulation_progress import RUN_KINDS, Progress

PUBLISH_PLAN_EVENT = """mutation PublishPlanEvent($input: PublishPlanEventInput!) {
  publishPlanEvent(input: $input) { planId kind entityId occurredAt data position }
}"""
PUBLISH_SIMULATION_PROGRESS = """mutation PublishSimulationProgress($input: PublishSimulationProgressInput!) {
  publishSimulationProgress(input: $input) { simulationId planId status progress completedIterations }
}"""
#: The signing name of AppSync in SigV4.
SIGNING_SERVICE = "appsync"


class PublishFailed(RuntimeError):
    """AppSync did not take the publication; the Lambda fails so that EventBridge retries it
    (and keeps it in the dead-letter queue when it keeps failing)."""


@dataclass(frozen=True, slots=True)
class Publication:
    query: str
    variables: dict[str, Any]

    def body(self) -> bytes:
        return json.dumps({"query": self.query, "variables": self.variables}, separators=(",", ":")).encode()


def plan_event_input(message: OutboxMessage) -> dict[str, Any]:
    event = message.event
    return {
        "planId": live_events.plan_id(event.plan_id),
        "kind": event.kind.value,
        "entityId": live_events.entity_id(event.kind, event.entity_id),
        "occurredAt": serialize_aws_datetime(event.occurred_at),
        "data": serialize_aws_json(live_events.event_data(event.kind, event.data)),
        "position": message.position,
    }


def simulation_progress_input(message: OutboxMessage) -> dict[str, Any]:
    event = message.event
    update = Progress.from_event(event.entity_id, event.plan_id, event.data)
    return {
        "simulationId": live_events.simulation_id(update.simulation_id),
        "planId": live_events.plan_id(update.plan_id),
        "status": update.status.value,
        "progress": update.progress,
        "completedIterations": update.completed_iterations,
    }


def publications(message: OutboxMessage) -> list[Publication]:
    """What one committed message publishes: a plan event, a run's progress, or both."""
    kind = message.event.kind
    out = []
    if kind not in PROGRESS_KINDS:
        out.append(Publication(PUBLISH_PLAN_EVENT, {"input": plan_event_input(message)}))
    if kind in RUN_KINDS:
        out.append(Publication(PUBLISH_SIMULATION_PROGRESS, {"input": simulation_progress_input(message)}))
    return out


def publications_of_eventbridge(event: Mapping[str, Any]) -> list[Publication]:
    """The publications of an EventBridge event whose detail is an outbox message."""
    return publications(message_from_detail(event["detail"]))


def signed_request(url: str, body: bytes, credentials: Credentials, region: str) -> AWSRequest:
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, SIGNING_SERVICE, region).add_auth(request)
    return request


class AppSyncPublisher:
    """Posts publications to AppSync's GraphQL endpoint, each signed anew (credentials refresh)."""

    def __init__(
        self,
        url: str,
        region: str,
        credentials: Callable[[], Credentials],
        http: httpx.Client,
    ) -> None:
        self._url = url
        self._region = region
        self._credentials = credentials
        self._http = http

    def publish(self, publication: Publication) -> dict[str, Any]:
        body = publication.body()
        request = signed_request(self._url, body, self._credentials(), self._region)
        response = self._http.post(self._url, content=body, headers=dict(request.headers.items()))
        if response.status_code != 200:
            raise PublishFailed(f"AppSync answered HTTP {response.status_code}: {response.text[:500]}")
        answer: dict[str, Any] = response.json()
        if answer.get("errors"):
            raise PublishFailed(f"AppSync refused the publication: {json.dumps(answer['errors'])[:500]}")
        return answer

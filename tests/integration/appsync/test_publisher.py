"""The publisher posts the publish mutations to a local HTTP endpoint that checks, as AppSync
does, the SigV4 signature (recomputed with botocore) and the body."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from adapters.appsync.publishing import PublishFailed
from resolvers.ids import to_global_id
from tests.lambda_context import LambdaContext, saved_event

KEY, SECRET, REGION = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-1"


def signature_is_valid(url: str, headers: dict[str, str], body: bytes) -> bool:
    """Recompute the request's SigV4 signature over the headers it says it signed."""
    authorization = headers["authorization"]
    algorithm, _, rest = authorization.partition(" ")
    parts = dict(p.strip().split("=", 1) for p in rest.split(","))
    signed = parts["SignedHeaders"].split(";")
    scope = parts["Credential"].split("/")
    if algorithm != "AWS4-HMAC-SHA256" or scope[0] != KEY or scope[2:] != [REGION, "appsync", "aws4_request"]:
        return False
    request = AWSRequest(method="POST", url=url, data=body, headers={h: headers[h] for h in signed})
    request.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(KEY, SECRET), "appsync", REGION)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    return bool(expected == parts["Signature"])


class FakeAppSync:
    """Records each request, answers as AppSync does: ``errors`` when the signature is wrong."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answer_errors = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = signature_is_valid(outer.url, headers, body)
                outer.received.append({"headers": headers, "body": json.loads(body), "valid": valid})
                if not valid or outer.answer_errors:
                    answer: dict[str, Any] = {"data": None, "errors": [{"errorType": "UnauthorizedException"}]}
                else:
                    answer = {"data": {"ok": True}}
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/graphql"


@pytest.fixture
def appsync(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAppSync]:
    fake = FakeAppSync()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PLANNER_APPSYNC_URL", fake.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    thread.join()


def test_a_task_event_is_published_to_on_plan_event_signed(appsync: FakeAppSync) -> None:
    from adapters.appsync import publisher

    answer = publisher.handler(saved_event("eventbridge_task_created.json"), LambdaContext())

    assert answer == {"published": 1}
    (request,) = appsync.received
    assert request["valid"]
    body = request["body"]
    assert "publishPlanEvent(input: $input)" in body["query"]
    assert "planId kind entityId occurredAt data position" in body["query"]
    plan = to_global_id("Plan", "01JKPLAN0000000000000000001")
    task = to_global_id("Task", "01JKTASK0000000000000000007")
    assert body["variables"]["input"] == {
        "planId": plan,
        "kind": "TASK_CREATED",
        "entityId": task,
        "occurredAt": "2025-02-05T10:30:00Z",
        "data": json.dumps(
            {"id": task, "planId": plan, "status": "NOT_STARTED", "title": "Design"}, separators=(",", ":")
        ),
        "position": 42,
    }


def test_a_finished_run_goes_to_both_subscriptions(appsync: FakeAppSync) -> None:
    from adapters.appsync import publisher

    assert publisher.handler(saved_event("eventbridge_simulation_completed.json"), LambdaContext()) == {"published": 2}
    plan_event, progress = (r["body"] for r in appsync.received)
    assert all(r["valid"] for r in appsync.received)
    assert plan_event["variables"]["input"]["kind"] == "SIMULATION_COMPLETED"
    assert "publishSimulationProgress(input: $input)" in progress["query"]
    assert progress["variables"]["input"] == {
        "simulationId": to_global_id("Simulation", "01JKSIM00000000000000000003"),
        "planId": to_global_id("Plan", "01JKPLAN0000000000000000001"),
        "status": "SUCCEEDED",
        "progress": 1.0,
        "completedIterations": 10000,
    }


def test_the_check_refuses_a_body_changed_after_signing(appsync: FakeAppSync) -> None:
    from adapters.appsync.publishing import signed_request

    request = signed_request(appsync.url, b'{"query":"a"}', Credentials(KEY, SECRET), REGION)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = appsync.url.split("/")[2]
    assert signature_is_valid(appsync.url, headers, b'{"query":"a"}')
    assert not signature_is_valid(appsync.url, headers, b'{"query":"b"}')


def test_a_refused_publication_fails_the_invocation_for_eventbridge_to_retry(appsync: FakeAppSync) -> None:
    from adapters.appsync import publisher

    appsync.answer_errors = True
    with pytest.raises(PublishFailed, match="UnauthorizedException"):
        publisher.handler(saved_event("eventbridge_task_created.json"), LambdaContext())


def test_an_event_of_another_source_publishes_nothing(appsync: FakeAppSync) -> None:
    from adapters.appsync import publisher

    event = {**saved_event("eventbridge_task_created.json"), "source": "aws.events"}
    assert publisher.handler(event, LambdaContext()) == {"published": 0}
    assert appsync.received == []

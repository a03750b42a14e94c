"""The Graph client alone (no store) against the fake Graph: MSAL's client-credentials flow over
HTTPS, paging, throttling, and secrets kept out of logs and messages."""

from __future__ import annotations

import logging
import random
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.msgraph import GraphHttp, GraphPlanner, MsalTokens, RetryPolicy, StaticToken
from adapters.msgraph.auth import secret_from_secrets_manager
from adapters.msgraph.http import retry_after_s
from planning.ports.planner import PlannerUnavailable
from tests.fake_graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    TOKEN,
    FakeGraphServer,
    FakeGraphState,
    Fault,
)
from tests.integration.planner.conftest import PLANNER_PLAN, START, USERS, Sleeps


def _msal(server: FakeGraphServer, cert: Path, secret: str = CLIENT_SECRET) -> MsalTokens:
    return MsalTokens(
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_secret=secret,
        scope="https://graph.microsoft.com/.default",
        authority_host=server.origin,
        verify=str(cert),
    )


def _planner(server: FakeGraphServer, tokens: MsalTokens | StaticToken, cert: Path | None = None) -> GraphPlanner:
    import httpx

    client = httpx.Client(verify=ssl.create_default_context(cafile=str(cert))) if cert else None
    return GraphPlanner(GraphHttp(server.url, tokens, client=client, sleep=Sleeps(), rng=random.Random(1)))


def test_msal_client_credentials_then_pages_of_tasks(
    https_fake: FakeGraphServer, tls: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    planner = _planner(https_fake, _msal(https_fake, tls[0]), tls[0])

    pages = list(planner.task_pages(PLANNER_PLAN))

    assert [len(p) for p in pages] == [4, 4, 2]
    first = pages[0][0]
    assert (first.title, first.percent_complete, first.assignee_ids) == ("Task 0", 0, ("u1", "u2"))
    assert first.start == datetime(2027, 1, 4, tzinfo=UTC)
    assert first.etag.startswith('W/"')
    # One token for every call: MSAL caches it.
    assert https_fake.state.tokens_issued == 1
    assert planner.user_email("u3") == "person3@contoso.com"
    assert planner.user_email("nobody") is None
    assert set(planner.buckets(PLANNER_PLAN).values()) == {"To do", "Doing"}
    assert planner.task_details(first.id)["description"] == f"Details of {first.id}"
    assert https_fake.state.tokens_issued == 1
    assert CLIENT_SECRET not in caplog.text
    assert TOKEN not in caplog.text


def test_a_wrong_secret_is_reported_without_the_secret(https_fake: FakeGraphServer, tls: tuple[Path, Path]) -> None:
    wrong = "not-the-secret-" + "x" * 8
    planner = _planner(https_fake, _msal(https_fake, tls[0], secret=wrong), tls[0])

    with pytest.raises(PlannerUnavailable) as refused:
        list(planner.task_pages(PLANNER_PLAN))

    assert "invalid_client" in str(refused.value)
    assert wrong not in str(refused.value)
    assert CLIENT_SECRET not in repr(_msal(https_fake, tls[0]))


def test_a_missing_plan_and_a_refused_token_are_clean_errors() -> None:
    state = FakeGraphState()
    with FakeGraphServer(state) as server:
        with pytest.raises(PlannerUnavailable, match="not found"):
            list(_planner(server, StaticToken(TOKEN)).task_pages("no-such-plan"))
        with pytest.raises(PlannerUnavailable, match="HTTP 401") as refused:
            list(_planner(server, StaticToken("stale-token")).task_pages("no-such-plan"))
        assert "stale-token" not in str(refused.value)


def test_a_next_link_to_another_host_is_not_followed() -> None:
    """Following it would hand our bearer token to whoever the link names."""
    state = FakeGraphState()
    with FakeGraphServer(state) as server:
        http = GraphHttp(server.url, StaticToken(TOKEN), sleep=Sleeps())
        with pytest.raises(PlannerUnavailable, match="outside"):
            http.get_json("http://evil.example/v1.0/planner/plans/x/tasks")
        assert state.requests == []


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s("12", now) == 12.0
    assert retry_after_s("Tue, 01 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_s("Tue, 01 Dec 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_s("soon", now) is None
    assert retry_after_s(None, now) is None


def test_back_off_is_bounded_and_jittered() -> None:
    policy = RetryPolicy(base_s=1.0, max_backoff_s=30.0)
    rng = random.Random(3)
    waits = [policy.backoff(n, rng) for n in range(10)]
    for n, wait in enumerate(waits):
        ceiling = min(30.0, 2.0**n)
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) == len(waits)


def test_retry_after_is_capped_by_the_policy() -> None:
    state = FakeGraphState()
    state.add_plan(PLANNER_PLAN, 2, list(USERS), START)
    state.script(f"/planner/plans/{PLANNER_PLAN}/tasks", Fault(429, "86400"))
    sleeps = Sleeps()
    with FakeGraphServer(state) as server:
        http = GraphHttp(server.url, StaticToken(TOKEN), policy=RetryPolicy(max_retry_after_s=60.0), sleep=sleeps)
        pages = list(GraphPlanner(http).task_pages(PLANNER_PLAN))
    assert [len(p) for p in pages] == [2]
    assert sleeps == [60.0]


def test_the_client_secret_can_come_from_secrets_manager(
    https_fake: FakeGraphServer, tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import boto3
    from moto import mock_aws

    for name, value in (
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("secretsmanager").create_secret(
            Name="planner/msgraph", SecretString=json.dumps({"client_secret": CLIENT_SECRET})
        )
        tokens = MsalTokens(
            tenant_id=TENANT,
            client_id=CLIENT_ID,
            client_secret=secret_from_secrets_manager("planner/msgraph"),
            scope="https://graph.microsoft.com/.default",
            authority_host=https_fake.origin,
            verify=str(tls[0]),
        )
        assert _planner(https_fake, tokens, tls[0]).user_email("u1") == "person1@contoso.com"
        with pytest.raises(PlannerUnavailable, match="Secrets Manager") as missing:
            secret_from_secrets_manager("planner/none")()
    assert https_fake.state.tokens_issued == 1
    assert CLIENT_SECRET not in str(missing.value)

"""The Planner sync against a fake Microsoft Graph served over HTTP on localhost."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from adapters.locks import process_lock
from adapters.msgraph import GraphHttp, GraphPlanner, RetryPolicy, StaticToken
from planning.services.planner_sync import PlannerSyncService
from tests.fake_graph import TOKEN, FakeGraphServer, FakeGraphState, self_signed

PLANNER_PLAN = "xqQg5FS2LkCp935s-FIFm2QAFkHM"
USERS = {f"u{i}": f"person{i}@contoso.com" for i in range(1, 6)}
START = date(2027, 1, 4)


@pytest.fixture
def fake() -> Iterator[FakeGraphServer]:
    state = FakeGraphState(page_size=100)
    for user_id, mail in USERS.items():
        state.add_user(user_id, mail)
    with FakeGraphServer(state) as server:
        yield server


@pytest.fixture
def sync_app(settings: Settings, fake: FakeGraphServer) -> Iterator[Application]:
    """The application as a server runs it, with Microsoft Graph at the fake (a ready token)."""
    application = bootstrap(replace(settings, msgraph_url=fake.url, msgraph_token=TOKEN))
    yield application
    application.close()


class Sleeps(list[float]):
    """An injected sleep: remembers each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def service_with_sleep(
    app: Application, fake: FakeGraphServer, sleeps: Sleeps, policy: RetryPolicy | None = None
) -> PlannerSyncService:
    """A sync service whose Graph client sleeps through ``sleeps`` (and a seeded jitter)."""
    http = GraphHttp(fake.url, StaticToken(TOKEN), policy=policy, sleep=sleeps, rng=random.Random(7))
    return PlannerSyncService(app.services.deps, GraphPlanner(http), lambda name: process_lock(app.engine, name))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fake's TLS certificate and key: MSAL talks to an authority over HTTPS only."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_fake(tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraphServer]:
    """The fake Graph over HTTPS with a 10-task plan in pages of 4."""
    # requests (under MSAL) lets these variables override the CA bundle it is given.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    state = FakeGraphState(page_size=4)
    for user_id, mail in USERS.items():
        state.add_user(user_id, mail)
    state.add_plan(PLANNER_PLAN, 10, list(USERS), START)
    with FakeGraphServer(state, certfile=tls[0], keyfile=tls[1]) as server:
        yield server

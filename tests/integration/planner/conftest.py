"""The Planner sync against a fake Microsoft Graph served over HTTP on localhost."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from adapters.locks import process_lock
from adapters.msgraph import GraphHttp, GraphPlanner, RetryPolicy, StaticToken
from planning.services.planner_sync import PlannerSyncService
from tests.fake_graph import TOKEN, FakeGraphServer, FakeGraphState

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

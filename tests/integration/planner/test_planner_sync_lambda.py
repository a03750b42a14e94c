"""The scheduled Planner sync as a Lambda: every linked plan synced from the fake Graph."""

from __future__ import annotations

import pytest

from adapters.bootstrap import Application
from adapters.config import Settings
from planning.commands import CreatePlan
from planning.principal import Principal
from tests.fake_graph import TOKEN, FakeGraphServer
from tests.integration.planner.conftest import PLANNER_PLAN, START, USERS
from tests.lambda_context import LambdaContext, saved_event

OWNER = Principal("olive@example.com", frozenset({"planner"}))


def test_the_function_syncs_every_linked_plan(
    sync_app: Application, settings: Settings, fake: FakeGraphServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.appsync import planner_sync

    fake.state.add_plan(PLANNER_PLAN, 12, list(USERS), START)
    linked = sync_app.services.plans.create(CreatePlan(name="Launch", planner_plan_id=PLANNER_PLAN), OWNER)
    sync_app.services.plans.create(CreatePlan(name="Local only"), OWNER)
    for name, value in {
        "PLANNER_DATABASE_URL": settings.database_url,
        "PLANNER_GRAPH_URL": settings.graph_url,
        "PLANNER_MSGRAPH_URL": fake.url,
        "PLANNER_MSGRAPH_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(name, value)

    answer = planner_sync.handler(saved_event("scheduled.json"), LambdaContext())

    assert answer == {"plans": {linked.id: "created 12, updated 0, deleted 0, unchanged 0"}}
    again = planner_sync.handler(saved_event("scheduled.json"), LambdaContext())
    assert again == {"plans": {linked.id: "created 0, updated 0, deleted 0, unchanged 12"}}

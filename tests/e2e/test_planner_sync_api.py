"""The Planner sync as users reach it: ``syncPlannerPlan`` and ``Plan.plannerSync`` over HTTP, and
``planner sync PLAN_ID``; Microsoft Graph is the fake one, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import bootstrap
from adapters.cli import main
from adapters.config import Settings
from tests.fake_graph import TOKEN, FakeGraphServer, FakeGraphState
from tests.graphql_client import GraphQL

PLANNER_PLAN = "rPWMLzwGlk2jdMoiIWCsOGQAHl4Z"
OWNER = {"x-planner-user": "olive@example.com", "x-planner-groups": "planner"}

CREATE = """mutation($name: String!, $planner: String) {
  createPlan(input: {name: $name, plannerPlanId: $planner}) { plan { id } userErrors { code message } }
}"""
SYNC = """mutation($id: ID!) {
  syncPlannerPlan(input: {planId: $id}) {
    plan { id taskCount }
    report { pages created updated deleted unchanged }
    userErrors { code field message }
  }
}"""
STATE = """query($id: ID!) {
  plan(id: $id) {
    plannerSync { lastStartedAt lastSucceededAt lastError created updated deleted unchanged }
    tasks(first: 20) { edges { node { title plannerTaskId assignees startDate dueDate status } } }
  }
}"""


@pytest.fixture
def fake() -> Iterator[FakeGraphServer]:
    state = FakeGraphState(page_size=5)
    state.add_user("u1", "ann@contoso.com")
    state.add_user("u2", None)  # no mailbox: the user principal name stands in
    state.add_plan(PLANNER_PLAN, 12, ["u1", "u2"], date(2027, 2, 1))
    with FakeGraphServer(state) as server:
        yield server


@pytest.fixture
def api(settings: Settings, fake: FakeGraphServer) -> Iterator[GraphQL]:
    app = bootstrap(replace(settings, msgraph_url=fake.url, msgraph_token=TOKEN))
    with TestClient(create_asgi_app(app), raise_server_exceptions=False) as client:
        yield GraphQL(client, OWNER)


def test_sync_through_the_api_and_read_its_state(api: GraphQL) -> None:
    plan_id = api(CREATE, {"name": "Launch", "planner": PLANNER_PLAN})["createPlan"]["plan"]["id"]
    assert api(STATE, {"id": plan_id})["plan"]["plannerSync"] is None

    synced = api(SYNC, {"id": plan_id})["syncPlannerPlan"]
    assert synced["userErrors"] == []
    assert synced["report"] == {"pages": 3, "created": 12, "updated": 0, "deleted": 0, "unchanged": 0}
    assert synced["plan"]["taskCount"] == 12

    again = api(SYNC, {"id": plan_id})["syncPlannerPlan"]
    assert again["report"] == {"pages": 3, "created": 0, "updated": 0, "deleted": 0, "unchanged": 12}
    plan = api(STATE, {"id": plan_id})["plan"]
    state = plan["plannerSync"]
    assert state["lastError"] is None
    assert state["lastSucceededAt"] >= state["lastStartedAt"]
    assert (state["created"], state["unchanged"]) == (0, 12)
    first = plan["tasks"]["edges"][0]["node"]
    assert first == {
        "title": "Task 0",
        "plannerTaskId": f"{PLANNER_PLAN}-t0000",
        "assignees": ["ann@contoso.com", "u2@contoso.onmicrosoft.com"],
        "startDate": "2027-02-01",
        "dueDate": "2027-02-06",
        "status": "NOT_STARTED",
    }


def test_who_may_sync_and_what(api: GraphQL) -> None:
    plan_id = api(CREATE, {"name": "Launch", "planner": PLANNER_PLAN})["createPlan"]["plan"]["id"]
    local_id = api(CREATE, {"name": "Local"})["createPlan"]["plan"]["id"]

    stranger = GraphQL(api.client, {"x-planner-user": "sam@example.com", "x-planner-groups": "planner"})
    hidden = stranger(SYNC, {"id": plan_id})["syncPlannerPlan"]
    assert [e["code"] for e in hidden["userErrors"]] == ["NOT_FOUND"]

    not_linked = api(SYNC, {"id": local_id})["syncPlannerPlan"]
    assert [(e["code"], e["field"]) for e in not_linked["userErrors"]] == [("INVALID_INPUT", ["input", "planId"])]


def test_without_graph_settings_a_sync_says_what_to_set(settings: Settings) -> None:
    app = bootstrap(settings)
    with TestClient(create_asgi_app(app), raise_server_exceptions=False) as client:
        api = GraphQL(client, OWNER)
        plan_id = api(CREATE, {"name": "Launch", "planner": PLANNER_PLAN})["createPlan"]["plan"]["id"]
        errors = api(SYNC, {"id": plan_id})["syncPlannerPlan"]["userErrors"]
    assert [e["code"] for e in errors] == ["UNAVAILABLE"]
    assert "PLANNER_MSGRAPH_TENANT_ID" in errors[0]["message"]


def test_the_cli_syncs_a_plan(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path, fake: FakeGraphServer, capsys
) -> None:
    monkeypatch.setenv("PLANNER_DATABASE_URL", database_url)
    monkeypatch.setenv("PLANNER_GRAPH_URL", f"gremlite:{tmp_path}/graph.db")
    monkeypatch.setenv("PLANNER_MSGRAPH_URL", fake.url)
    monkeypatch.setenv("PLANNER_MSGRAPH_TOKEN", TOKEN)
    app = bootstrap(Settings.from_env())
    from adapters.cli import CLI_PRINCIPAL
    from planning.commands import CreatePlan

    plan = app.services.plans.create(CreatePlan(name="Launch", planner_plan_id=PLANNER_PLAN), CLI_PRINCIPAL)
    app.close()

    assert main(["sync", plan.id]) == 0
    assert (
        capsys.readouterr().out.strip().splitlines()[-1]
        == "synced 3 pages: created 12, updated 0, deleted 0, unchanged 0"
    )
    assert main(["sync", "no-such-plan"]) == 1
    assert "no plan has the id no-such-plan" in capsys.readouterr().err

    fake.state.break_path(f"/planner/plans/{PLANNER_PLAN}/tasks", 403)
    assert main(["sync", plan.id]) == 1
    err = capsys.readouterr().err
    assert "HTTP 403" in err
    assert TOKEN not in err


def test_graph_settings_are_checked_and_secrets_kept_out_of_repr() -> None:
    env = {
        "PLANNER_MSGRAPH_TENANT_ID": "t",
        "PLANNER_MSGRAPH_CLIENT_ID": "c",
        "PLANNER_MSGRAPH_CLIENT_SECRET": "very-secret",
        "PLANNER_PLANNER_SYNC_INTERVAL_S": "300",
    }
    settings = Settings.from_env(env)
    assert settings.msgraph_url == "https://graph.microsoft.com/v1.0"
    assert settings.planner_sync_interval_s == 300.0
    assert "very-secret" not in repr(settings)
    assert Settings.from_env({}).planner_sync_interval_s == 0.0
    on_aws = {
        "PLANNER_MSGRAPH_TENANT_ID": "t",
        "PLANNER_MSGRAPH_CLIENT_ID": "c",
        "PLANNER_MSGRAPH_CLIENT_SECRET_ARN": "s",
    }
    assert Settings.from_env(on_aws).msgraph_client_secret_arn == "s"
    for bad, message in (
        ({"PLANNER_MSGRAPH_URL": "https://graph.microsoft.com/beta"}, "v1.0"),
        ({"PLANNER_MSGRAPH_CLIENT_ID": "c"}, "go together"),
        ({"PLANNER_MSGRAPH_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}, "go together"),
        ({"PLANNER_PLANNER_SYNC_INTERVAL_S": "2"}, "between 10 and 86400"),
        ({"PLANNER_PLANNER_SYNC_INTERVAL_S": "often"}, "number of seconds"),
    ):
        with pytest.raises(ValueError, match=message):
            Settings.from_env(bad)


def test_the_server_syncs_linked_plans_on_its_schedule(settings: Settings, fake: FakeGraphServer) -> None:
    """With PLANNER_PLANNER_SYNC_INTERVAL_S set, the server syncs every linked plan at start and
    then at each interval; a plan whose Planner plan is gone fails alone, recorded."""
    import time

    from adapters.sql import SqlUnitOfWork
    from planning.commands import CreatePlan
    from planning.principal import Principal

    setup = bootstrap(settings)
    admin = Principal("ada@example.com", frozenset({"admin"}))
    linked = setup.services.plans.create(CreatePlan(name="Launch", planner_plan_id=PLANNER_PLAN), admin)
    gone = setup.services.plans.create(CreatePlan(name="Old", planner_plan_id="deleted-in-planner"), admin)
    setup.close()

    app = bootstrap(replace(settings, msgraph_url=fake.url, msgraph_token=TOKEN, planner_sync_interval_s=600))
    with TestClient(create_asgi_app(app), raise_server_exceptions=False):
        deadline = time.monotonic() + 60
        while True:
            with SqlUnitOfWork(app.engine) as uow:
                states = uow.planner_sync.states([linked.id, gone.id])
            done = states.get(linked.id) and states[linked.id].last_succeeded_at and states.get(gone.id)
            if (done and states[gone.id].last_error) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert states[linked.id].created == 12
    assert states[gone.id].last_error is not None
    assert "not found" in states[gone.id].last_error

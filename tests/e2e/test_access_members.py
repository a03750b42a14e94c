"""Plan membership through the API and the CLI: the member mutations' rules (the last owner
stays), the record of access (who, when, before, after), and ``planner import --owner``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import Application, bootstrap
from adapters.cli import demo_document, main
from adapters.config import Settings
from adapters.sql import SqlUnitOfWork
from tests.graphql_client import GraphQL, operation

PLANS = operation("plans.graphql")
OLIVE = ("olive@example.com", "planner")
OTTO = ("otto@example.com", "planner")
EDDIE = ("eddie@example.com", "planner")
STAN = ("stan@example.com", "planner")

FIELDS = "plan { id myRole } member { userId role addedAt addedBy } userErrors { field message code }"
ADD = f"mutation($i: AddPlanMemberInput!) {{ addPlanMember(input: $i) {{ {FIELDS} }} }}"
UPDATE = f"mutation($i: UpdatePlanMemberInput!) {{ updatePlanMember(input: $i) {{ {FIELDS} }} }}"
REMOVE = f"mutation($i: RemovePlanMemberInput!) {{ removePlanMember(input: $i) {{ {FIELDS} }} }}"
MY_ROLE = "query($id: ID!) { plan(id: $id) { myRole } }"
ACCESS = """query($id: ID!, $first: Int, $after: String) {
  plan(id: $id) {
    id
    myRole
    members { userId role addedAt addedBy }
    activity(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id occurredAt actor kind subject before after } }
    }
  }
}"""


def _as(client: TestClient, who: tuple[str, str]) -> GraphQL:
    return GraphQL(client).as_(who[1], who[0])


def _codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


@pytest.fixture
def olive(client: TestClient) -> GraphQL:
    return _as(client, OLIVE)


@pytest.fixture
def plan_id(olive: GraphQL) -> str:
    payload = olive(PLANS, {"input": {"name": "Launch"}}, "CreatePlan")["createPlan"]
    assert payload["userErrors"] == []
    return str(payload["plan"]["id"])


def test_owners_add_change_and_remove_members_and_the_last_owner_stays(
    client: TestClient, olive: GraphQL, plan_id: str
) -> None:
    eddie = _as(client, EDDIE)
    assert eddie(MY_ROLE, {"id": plan_id})["plan"] is None

    added = olive(ADD, {"i": {"planId": plan_id, "userId": "  eddie@example.com ", "role": "VIEWER"}})
    added = added["addPlanMember"]
    assert added["userErrors"] == []
    assert added["member"]["userId"] == "eddie@example.com"  # trimmed
    assert (added["member"]["role"], added["member"]["addedBy"]) == ("VIEWER", "olive@example.com")
    assert added["plan"] == {"id": plan_id, "myRole": "OWNER"}
    assert eddie(MY_ROLE, {"id": plan_id})["plan"]["myRole"] == "VIEWER"

    again = olive(ADD, {"i": {"planId": plan_id, "userId": "eddie@example.com", "role": "EDITOR"}})["addPlanMember"]
    assert _codes(again) == [("DUPLICATE", ["input", "userId"])]
    assert "updatePlanMember" in again["userErrors"][0]["message"]

    promoted = olive(UPDATE, {"i": {"planId": plan_id, "userId": "eddie@example.com", "role": "EDITOR"}})
    assert promoted["updatePlanMember"]["member"]["role"] == "EDITOR"
    # An editor changes tasks, not members.
    refused = eddie(ADD, {"i": {"planId": plan_id, "userId": "stan@example.com", "role": "OWNER"}})["addPlanMember"]
    assert _codes(refused) == [("FORBIDDEN", None)]

    # The only owner may neither step down nor leave.
    demote = {"i": {"planId": plan_id, "userId": "olive@example.com", "role": "EDITOR"}}
    last = olive(UPDATE, demote)["updatePlanMember"]
    assert _codes(last) == [("INVALID_INPUT", ["input", "role"])]
    assert "at least one OWNER" in last["userErrors"][0]["message"]
    leave = {"i": {"planId": plan_id, "userId": "olive@example.com"}}
    assert _codes(olive(REMOVE, leave)["removePlanMember"]) == [("INVALID_INPUT", ["input", "userId"])]

    # With a second owner, the first may leave, and then sees nothing of the plan.
    olive(ADD, {"i": {"planId": plan_id, "userId": "otto@example.com", "role": "OWNER"}})
    left = olive(REMOVE, leave)["removePlanMember"]
    assert left["userErrors"] == []
    assert left["member"]["role"] == "OWNER"  # as it was
    assert left["plan"] is None  # no longer hers to see
    assert olive(ACCESS, {"id": plan_id})["plan"] is None
    assert olive("{ plans { totalCount } }")["plans"]["totalCount"] == 0
    otto = _as(client, OTTO)
    assert [m["userId"] for m in otto(ACCESS, {"id": plan_id})["plan"]["members"]] == [
        "eddie@example.com",
        "otto@example.com",
    ]
    assert _codes(otto(UPDATE, {"i": {**demote["i"], "userId": "otto@example.com"}})["updatePlanMember"]) == [
        ("INVALID_INPUT", ["input", "role"])
    ]


def test_member_mutations_refuse_bad_input_with_user_errors(olive: GraphQL, plan_id: str) -> None:
    missing_user = {"i": {"planId": plan_id, "userId": "nobody@example.com", "role": "EDITOR"}}
    assert _codes(olive(UPDATE, missing_user)["updatePlanMember"]) == [("NOT_FOUND", ["input", "userId"])]
    remove = {"i": {"planId": plan_id, "userId": "nobody@example.com"}}
    assert _codes(olive(REMOVE, remove)["removePlanMember"]) == [("NOT_FOUND", ["input", "userId"])]
    for user in ("   ", "x" * 321, "nul\x00byte"):
        payload = olive(ADD, {"i": {"planId": plan_id, "userId": user, "role": "VIEWER"}})["addPlanMember"]
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_INPUT"], user
        assert payload["userErrors"][0]["field"] == ["input", "userId"]
    not_a_plan = olive(ADD, {"i": {"planId": "nope", "userId": "a@example.com", "role": "VIEWER"}})["addPlanMember"]
    assert _codes(not_a_plan) == [("INVALID_INPUT", ["input", "planId"])]
    missing_plan = "UGxhbjowMDAwMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA"
    payload = olive(ADD, {"i": {"planId": missing_plan, "userId": "a@example.com", "role": "VIEWER"}})
    assert _codes(payload["addPlanMember"]) == [("NOT_FOUND", ["input", "planId"])]
    bad_role = olive.raw(ADD, {"i": {"planId": plan_id, "userId": "a@example.com", "role": "BOSS"}})
    assert bad_role["errors"]
    assert [m["userId"] for m in olive(ACCESS, {"id": plan_id})["plan"]["members"]] == ["olive@example.com"]


def test_every_membership_change_is_kept_with_who_when_before_and_after(
    client: TestClient, app: Application, olive: GraphQL, plan_id: str
) -> None:
    started = datetime.now(UTC)
    admin = GraphQL(client)  # tester@example.com, group admin
    olive(ADD, {"i": {"planId": plan_id, "userId": "eddie@example.com", "role": "VIEWER"}})
    admin(UPDATE, {"i": {"planId": plan_id, "userId": "eddie@example.com", "role": "EDITOR"}})
    # Its present role changes nothing, and records nothing.
    olive(UPDATE, {"i": {"planId": plan_id, "userId": "eddie@example.com", "role": "EDITOR"}})
    olive(REMOVE, {"i": {"planId": plan_id, "userId": "eddie@example.com"}})

    log = olive(ACCESS, {"id": plan_id})["plan"]["activity"]
    assert log["totalCount"] == 4
    entries = [e["node"] for e in log["edges"]]
    assert [(e["kind"], e["actor"], e["subject"]) for e in entries] == [
        ("MEMBER_REMOVED", "olive@example.com", "eddie@example.com"),
        ("MEMBER_UPDATED", "tester@example.com", "eddie@example.com"),
        ("MEMBER_ADDED", "olive@example.com", "eddie@example.com"),
        ("MEMBER_ADDED", "olive@example.com", "olive@example.com"),  # the creator, as the first owner
    ]
    states = [(_json(e["before"]), _json(e["after"])) for e in entries]
    assert states == [
        ({"userId": "eddie@example.com", "role": "EDITOR"}, None),
        ({"userId": "eddie@example.com", "role": "VIEWER"}, {"userId": "eddie@example.com", "role": "EDITOR"}),
        (None, {"userId": "eddie@example.com", "role": "VIEWER"}),
        (None, {"userId": "olive@example.com", "role": "OWNER"}),
    ]
    times = [datetime.fromisoformat(e["occurredAt"].replace("Z", "+00:00")) for e in entries]
    assert all(e["occurredAt"].endswith("Z") for e in entries)
    assert times == sorted(times, reverse=True)
    assert all(t >= started.replace(microsecond=0) for t in times[:3])
    assert len({e["id"] for e in entries}) == 4

    # Paged newest first, as every connection: first and after.
    page = olive(ACCESS, {"id": plan_id, "first": 3})["plan"]["activity"]
    assert [e["node"]["id"] for e in page["edges"]] == [e["id"] for e in entries[:3]]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = olive(ACCESS, {"id": plan_id, "first": 3, "after": page["pageInfo"]["endCursor"]})["plan"]["activity"]
    assert [e["node"]["id"] for e in rest["edges"]] == [entries[3]["id"]]
    assert rest["pageInfo"]["hasNextPage"] is False

    # Each change is announced in the outbox too, in its own transaction, for live updates.
    with SqlUnitOfWork(app.engine) as uow:
        messages = [m.event for m in uow.outbox.read_after(0, 1000) if m.event.kind.value.startswith("MEMBER_")]
    assert [(m.kind.value, m.data["userId"], m.data["actor"]) for m in messages] == [
        ("MEMBER_ADDED", "olive@example.com", "olive@example.com"),
        ("MEMBER_ADDED", "eddie@example.com", "olive@example.com"),
        ("MEMBER_UPDATED", "eddie@example.com", "tester@example.com"),
        ("MEMBER_REMOVED", "eddie@example.com", "olive@example.com"),
    ]
    assert messages[2].data["before"] == {"userId": "eddie@example.com", "role": "VIEWER"}


def test_only_owners_and_admins_read_the_activity(client: TestClient, olive: GraphQL, plan_id: str) -> None:
    olive(ADD, {"i": {"planId": plan_id, "userId": "eddie@example.com", "role": "EDITOR"}})
    answer = _as(client, EDDIE).raw(ACCESS, {"id": plan_id})
    assert answer["data"]["plan"]["members"]  # the rest of the plan answers
    assert answer["data"]["plan"]["activity"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in answer["errors"]] == [(["plan", "activity"], "FORBIDDEN")]
    assert GraphQL(client)(ACCESS, {"id": plan_id})["plan"]["activity"]["totalCount"] == 2


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


# planner import --owner


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("PLANNER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PLANNER_GRAPH_URL", settings.graph_url)
    monkeypatch.setenv("PLANNER_DATA_DIR", settings.data_dir or "")
    return settings


@pytest.fixture
def served(cli_env: Settings) -> Iterator[Any]:
    """A server on the store the CLI wrote, opened once the CLI is done (``start()``)."""
    opened: list[Any] = []

    def start() -> TestClient:
        app = bootstrap(cli_env)
        client = TestClient(create_asgi_app(app), raise_server_exceptions=False)
        client.__enter__()
        opened.append((app, client))
        return client

    yield start
    for app, client in opened:
        client.__exit__(None, None, None)
        app.close()


def test_import_owner_names_the_plans_owner_and_without_it_only_admins_see_it(
    served: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "plan.json"
    doc = demo_document()
    source.write_text(json.dumps(doc))
    assert main(["import", str(source), "--owner", "olive@example.com"]) == 0
    owned = capsys.readouterr().out.strip().split(" as ")[-1]
    source.write_text(json.dumps({**doc, "name": "Nobody's"}))
    assert main(["import", str(source)]) == 0
    unowned = capsys.readouterr().out.strip().split(" as ")[-1]
    assert main(["import", str(source), "--owner", "  "]) == 1
    assert "owner must not be empty" in capsys.readouterr().err

    client = served()
    olive = _as(client, OLIVE)
    assert {e["node"]["id"] for e in olive("{ plans { edges { node { id } } } }")["plans"]["edges"]} == {owned}
    plan = olive(ACCESS, {"id": owned})["plan"]
    assert plan["myRole"] == "OWNER"
    assert [(m["userId"], m["role"], m["addedBy"]) for m in plan["members"]] == [("olive@example.com", "OWNER", "cli")]
    [entry] = [e["node"] for e in plan["activity"]["edges"]]
    assert (entry["kind"], entry["actor"], entry["subject"]) == ("MEMBER_ADDED", "cli", "olive@example.com")
    assert olive(ACCESS, {"id": unowned})["plan"] is None
    assert _as(client, STAN)("{ plans { totalCount } }")["plans"]["totalCount"] == 0

    admin = GraphQL(client)
    listed = {e["node"]["id"] for e in admin("{ plans { edges { node { id } } } }")["plans"]["edges"]}
    assert listed == {owned, unowned}
    nobody = admin(ACCESS, {"id": unowned})["plan"]
    assert (nobody["members"], nobody["myRole"], nobody["activity"]["totalCount"]) == ([], None, 0)


def test_import_help_says_the_cli_acts_as_a_local_administrator(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--owner USER" in text
    assert "local administrator" in text
    assert "only admins see it" in text


def test_a_request_that_changes_members_reads_them_afresh(olive: GraphQL, plan_id: str) -> None:
    """Two mutations in one request: the second answers the roles as the first left them."""
    both = """mutation($plan: ID!) {
      a: addPlanMember(input: {planId: $plan, userId: "otto@example.com", role: OWNER}) {
        plan { myRole members { userId role } } userErrors { code }
      }
      b: updatePlanMember(input: {planId: $plan, userId: "olive@example.com", role: EDITOR}) {
        plan { myRole members { userId role } } userErrors { code }
      }
    }"""
    data = olive(both, {"plan": plan_id})
    assert data["a"]["plan"]["myRole"] == "OWNER"
    assert data["b"]["userErrors"] == []
    assert data["b"]["plan"]["myRole"] == "EDITOR"
    assert data["b"]["plan"]["members"] == [
        {"userId": "olive@example.com", "role": "EDITOR"},
        {"userId": "otto@example.com", "role": "OWNER"},
    ]

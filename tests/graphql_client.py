"""A small client for the API under test: run an operation, get its data or its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

OPERATIONS = Path(__file__).resolve().parents[1] / "schema" / "operations"
#: Who a test is unless it says otherwise: development trusts identity headers, and a request
#: without credentials is an anonymous caller who may see and change nothing.
ADMIN_HEADERS = {"X-Planner-User": "tester@example.com", "X-Planner-Groups": "admin"}


def operation(file: str) -> str:
    return (OPERATIONS / file).read_text(encoding="utf-8")


class GraphQL:
    def __init__(self, client: TestClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = dict(ADMIN_HEADERS) if headers is None else headers

    def raw(self, query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> Any:
        body: dict[str, Any] = {"query": query, "variables": variables or {}}
        if name:
            body["operationName"] = name
        response = self.client.post("/graphql", json=body, headers=self.headers)
        assert response.status_code < 500, response.text
        return response.json()

    def __call__(self, query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> Any:
        result = self.raw(query, variables, name)
        assert not result.get("errors"), result["errors"]
        return result["data"]

    def as_(self, groups: str, user: str = "someone@example.com") -> GraphQL:
        return GraphQL(self.client, {"x-planner-user": user, "x-planner-groups": groups})


ADD_MEMBER = """mutation($i: AddPlanMemberInput!) {
  addPlanMember(input: $i) { userErrors { field message code } }
}"""


def add_member(gql: GraphQL, plan_id: str, user: str = "someone@example.com", role: str = "VIEWER") -> None:
    """Make ``user`` a member of the plan in ``role`` (OWNER, EDITOR, VIEWER), as ``gql``'s caller."""
    errors = gql(ADD_MEMBER, {"i": {"planId": plan_id, "userId": user, "role": role}})["addPlanMember"]["userErrors"]
    assert errors == [], errors

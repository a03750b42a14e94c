"""The local server's settings: GraphiQL and introspection in development only, health checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import bootstrap
from adapters.config import Settings

INTROSPECTION = "{ __schema { queryType { name } } }"


def _production(settings: Settings, **extra: str) -> Settings:
    env = {
        "PLANNER_ENV": "production",
        "PLANNER_DATABASE_URL": settings.database_url,
        "PLANNER_GRAPH_URL": settings.graph_url,
        # Asked for, and ignored: production never trusts identity headers.
        "PLANNER_IDENTITY_HEADERS": "1",
        **extra,
    }
    return Settings.from_env(env)


@pytest.fixture
def production_client(settings: Settings) -> Iterator[TestClient]:
    app = bootstrap(_production(settings))
    with TestClient(create_asgi_app(app)) as client:
        yield client
    app.close()


def test_development_serves_graphiql_and_introspection(client) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    result = client.post("/graphql", json={"query": INTROSPECTION}).json()
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"
    suggestion = client.post("/graphql", json={"query": "{ plans { edges { node { nme } } } }"}).json()
    assert "Did you mean 'name'" in suggestion["errors"][0]["message"]


def test_production_turns_off_graphiql_introspection_and_suggestions(production_client: TestClient) -> None:
    page = production_client.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    result = production_client.post("/graphql", json={"query": INTROSPECTION}).json()
    assert result.get("data") is None
    assert "introspection" in result["errors"][0]["message"].lower()
    suggestion = production_client.post("/graphql", json={"query": "{ plans { edges { node { nme } } } }"}).json()
    assert "Did you mean" not in suggestion["errors"][0]["message"]


MUTATION = 'mutation { createPlan(input: {name: "P"}) { userErrors { code } plan { name } } }'


def test_production_callers_are_read_only_viewers_whatever_their_headers_say(production_client: TestClient) -> None:
    anonymous = production_client.post("/graphql", json={"query": MUTATION}).json()["data"]["createPlan"]
    assert anonymous["userErrors"] == [{"code": "FORBIDDEN"}]
    claimed = production_client.post(
        "/graphql", json={"query": MUTATION}, headers={"x-planner-user": "eve", "x-planner-groups": "admin"}
    ).json()["data"]["createPlan"]
    assert claimed["userErrors"] == [{"code": "FORBIDDEN"}]


def test_production_operators_may_grant_the_default_caller_a_group(settings: Settings) -> None:
    app = bootstrap(_production(settings, PLANNER_DEV_GROUPS="planner"))
    with TestClient(create_asgi_app(app)) as client:
        created = client.post("/graphql", json={"query": MUTATION}).json()["data"]["createPlan"]
    app.close()
    assert created["plan"] == {"name": "P"}


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="development or production"):
        Settings.from_env({"PLANNER_ENV": "prod"})
    assert Settings.from_env({"PLANNER_ENV": " Production "}).production is True


def test_healthz(client, app) -> None:
    response = client.get("/healthz")
    assert response.json() == {"status": "ok", "database": "up"}
    assert response.headers["x-request-id"]


def test_healthz_reports_a_dead_database(settings: Settings) -> None:
    app = bootstrap(settings)
    with TestClient(create_asgi_app(app)) as client:
        app.engine.dispose()
        app.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/gone")  # nothing listens on port 1
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"

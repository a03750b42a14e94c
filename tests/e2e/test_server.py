"""The local server's settings: GraphiQL and introspection in development only, health checks.

Production requires a bearer token (tests/e2e/test_identity.py holds the token rules); here it
is a valid one from a test Cognito user pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import bootstrap
from adapters.config import Settings
from tests.signing import CLIENT_ID, POOL_ID, TestIssuer

POOL = TestIssuer()
INTROSPECTION = "{ __schema { queryType { name } } }"


def _production(settings: Settings, jwks: Path, **extra: str) -> Settings:
    env = {
        "PLANNER_ENV": "production",
        "PLANNER_DATABASE_URL": settings.database_url,
        "PLANNER_GRAPH_URL": settings.graph_url,
        # Asked for, and ignored: production never trusts identity headers.
        "PLANNER_IDENTITY_HEADERS": "1",
        "PLANNER_COGNITO_USER_POOL_ID": POOL_ID,
        "PLANNER_AUTH_AUDIENCE": CLIENT_ID,
        "PLANNER_AUTH_JWKS_URL": str(jwks),
        **extra,
    }
    return Settings.from_env(env)


@pytest.fixture
def production_app(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """A production server and a client without credentials."""
    app = bootstrap(_production(settings, POOL.write_jwks(tmp_path / "jwks.json")))
    with TestClient(create_asgi_app(app)) as client:
        yield client
    app.close()


@pytest.fixture
def production_client(production_app: TestClient) -> TestClient:
    """The production server's client, signed in as a planner."""
    production_app.headers["Authorization"] = f"Bearer {POOL.id_token('pat', ['planner'])}"
    return production_app


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
    assert page.status_code != 401
    assert "graphiql" not in page.text.lower()
    result = production_client.post("/graphql", json={"query": INTROSPECTION}).json()
    assert result.get("data") is None
    assert "introspection" in result["errors"][0]["message"].lower()
    suggestion = production_client.post("/graphql", json={"query": "{ plans { edges { node { nme } } } }"}).json()
    assert "Did you mean" not in suggestion["errors"][0]["message"]


MUTATION = 'mutation { createPlan(input: {name: "P"}) { userErrors { code } plan { name } } }'


def test_production_callers_without_a_token_get_401_whatever_their_headers_say(production_app: TestClient) -> None:
    for headers in ({}, {"x-planner-user": "eve", "x-planner-groups": "admin"}):
        response = production_app.post("/graphql", json={"query": MUTATION}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
        assert response.headers["www-authenticate"].startswith("Bearer")
    page = production_app.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 401


def test_production_callers_do_what_their_token_allows(production_app: TestClient) -> None:
    def create(token: str) -> dict:
        response = production_app.post("/graphql", json={"query": MUTATION}, headers={"Authorization": token})
        assert response.status_code == 200, response.text
        return response.json()["data"]["createPlan"]

    assert create(f"Bearer {POOL.id_token('val', ['viewer'])}")["userErrors"] == [{"code": "FORBIDDEN"}]
    assert create(f"Bearer {POOL.access_token('pat', ['planner'])}")["plan"] == {"name": "P"}


def test_production_refuses_to_start_without_a_token_issuer(settings: Settings) -> None:
    env = {"PLANNER_ENV": "production", "PLANNER_DATABASE_URL": settings.database_url}
    app = bootstrap(Settings.from_env({**env, "PLANNER_GRAPH_URL": settings.graph_url}))
    try:
        with pytest.raises(ValueError, match="production needs a token issuer"):
            create_asgi_app(app)
    finally:
        app.close()


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="development or production"):
        Settings.from_env({"PLANNER_ENV": "prod"})
    assert Settings.from_env({"PLANNER_ENV": " Production "}).production is True


def test_healthz(client, app) -> None:
    response = client.get("/healthz")
    assert response.json() == {"status": "ok", "database": "up"}
    assert response.headers["x-request-id"]


def test_healthz_needs_no_token_in_production(production_app: TestClient) -> None:
    response = production_app.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_reports_a_dead_database(settings: Settings) -> None:
    app = bootstrap(settings)
    with TestClient(create_asgi_app(app)) as client:
        app.engine.dispose()
        app.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/gone")  # nothing listens on port 1
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"

"""The local server's settings: GraphiQL and introspection in development only, health checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import bootstrap
from adapters.config import Settings

INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.fixture
def production_client(settings: Settings) -> Iterator[TestClient]:
    app = bootstrap(replace(settings, production=True, identity_headers=False))
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


def test_production_ignores_identity_headers(production_client: TestClient) -> None:
    mutation = 'mutation { createPlan(input: {name: "P"}) { userErrors { code } plan { name } } }'
    as_viewer = production_client.post("/graphql", json={"query": mutation}, headers={"x-planner-groups": "viewer"})
    assert as_viewer.json()["data"]["createPlan"]["plan"] == {"name": "P"}


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

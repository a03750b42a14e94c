"""Verified identity through the API: bearer tokens in production (else 401), and in development
local tokens from `planner token issue`, identity headers when allowed, else an anonymous caller.

Who a request is shows in what it may do (a viewer's createPlan answers FORBIDDEN) and in whom
the API records: `ExternalEvent.statusChangedBy` names the caller who resolved an event.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import bootstrap
from adapters.cli import main
from adapters.config import Settings
from adapters.identity import LOCAL_CLIENT_ID, LOCAL_ISSUER
from tests.signing import CLIENT_ID, ISSUER, POOL_ID, TestIssuer, unsigned

POOL = TestIssuer()
CREATE = 'mutation { createPlan(input: {name: "Launch"}) { plan { id } userErrors { code message } } }'
INGEST = """mutation($planId: ID!) {
  ingestExternalEvent(input: {planId: $planId, eventType: "probe", severity: LOW, title: "Who am I"}) {
    externalEvent { id } userErrors { code message } } }"""
RESOLVE = """mutation($id: ID!) {
  resolveExternalEvent(input: {id: $id, status: WITHDRAWN}) {
    externalEvent { statusChangedBy } userErrors { code } } }"""


def post(client: TestClient, query: str, variables: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    return client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def data(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    result: dict[str, Any] = body["data"]
    return result


def who(client: TestClient, **headers: str) -> str:
    """The user id the API records for a caller who may create plans (as statusChangedBy)."""
    created = data(post(client, CREATE, **headers))["createPlan"]
    assert created["userErrors"] == [], created
    ingested = data(post(client, INGEST, {"planId": created["plan"]["id"]}, **headers))["ingestExternalEvent"]
    assert ingested["userErrors"] == [], ingested
    resolved = data(post(client, RESOLVE, {"id": ingested["externalEvent"]["id"]}, **headers))
    return str(resolved["resolveExternalEvent"]["externalEvent"]["statusChangedBy"])


def forbidden(client: TestClient, **headers: str) -> bool:
    created = data(post(client, CREATE, **headers))["createPlan"]
    return [e["code"] for e in created["userErrors"]] == ["FORBIDDEN"]


def refused(response: httpx.Response, message: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert message in body["errors"][0]["message"]
    assert "data" not in body
    assert response.headers["www-authenticate"].startswith('Bearer realm="planner"')


def serve(settings: Settings) -> Iterator[TestClient]:
    app = bootstrap(settings)
    with TestClient(create_asgi_app(app)) as client:
        yield client
    app.close()


# --- production -------------------------------------------------------------------------------


@pytest.fixture
def production(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """A production server that trusts the test user pool; its client sends nothing by itself."""
    env = {
        "PLANNER_ENV": "production",
        "PLANNER_DATABASE_URL": settings.database_url,
        "PLANNER_GRAPH_URL": settings.graph_url,
        "PLANNER_IDENTITY_HEADERS": "1",  # asked for, never honoured in production
        "PLANNER_COGNITO_USER_POOL_ID": POOL_ID,
        "PLANNER_AUTH_AUDIENCE": CLIENT_ID,
        "PLANNER_AUTH_JWKS_URL": str(POOL.write_jwks(tmp_path / "jwks.json")),
    }
    yield from serve(Settings.from_env(env))


def test_production_without_a_token_is_401(production: TestClient) -> None:
    response = post(production, CREATE)
    refused(response, "bearer token is required")
    assert "error=" not in response.headers["www-authenticate"]
    refused(post(production, CREATE, **{"X-Planner-User": "eve", "X-Planner-Groups": "admin"}), "token is required")
    refused(post(production, "{ plans { totalCount } }", Authorization="   "), "token is required")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (TestIssuer("forger").sign(POOL.id_claims("eve", ["admin"]), kid=POOL.kid), "signature does not verify"),
        (TestIssuer("forger").id_token("eve", ["admin"]), "not signed by a key of its issuer"),
        (TestIssuer("pool", issuer="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other").id_token(), "issuer"),
        (POOL.id_token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"), "issuer is not trusted"),
        (POOL.id_token(aud="another-app-client"), "issued to another client"),
        (POOL.access_token(client_id="another-app-client"), "issued to another client"),
        (POOL.id_token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), "expired"),
        (POOL.id_token(token_use="refresh"), "is not accepted"),
        (unsigned(POOL.id_claims("eve", ["admin"]), POOL.kid), "algorithm is not accepted"),
        ("not-a-token", "not a well-formed JWT"),
    ],
    ids=[
        "wrong-signature",
        "unknown-key",
        "other-pool",
        "wrong-issuer",
        "wrong-audience",
        "wrong-client-id",
        "expired",
        "wrong-token-use",
        "alg-none",
        "garbage",
    ],
)
def test_production_refuses_a_bad_token_with_401(production: TestClient, token: str, message: str) -> None:
    response = post(production, CREATE, Authorization=f"Bearer {token}")
    refused(response, message)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert token[:20] not in response.text  # nothing sent is repeated back


def test_production_accepts_cognito_id_and_access_tokens(production: TestClient) -> None:
    planner_id = POOL.id_token("alice", ["planner"])
    assert who(production, Authorization=f"Bearer {planner_id}") == "alice"
    # As AppSync's Cognito mode takes it: the bare token, without "Bearer".
    admin_access = POOL.access_token("bob", ["admin"])
    assert who(production, Authorization=admin_access) == "bob"
    viewer = POOL.id_token("val", ["viewer"])
    assert forbidden(production, Authorization=f"Bearer {viewer}")
    no_groups = POOL.id_claims("nobody")
    del no_groups["cognito:groups"]
    assert forbidden(production, Authorization=f"Bearer {POOL.sign(no_groups)}")


def test_production_never_reads_headers_beside_a_token(production: TestClient) -> None:
    viewer = POOL.id_token("val", ["viewer"])
    assert forbidden(
        production, Authorization=f"Bearer {viewer}", **{"X-Planner-User": "eve", "X-Planner-Groups": "admin"}
    )


def test_production_serves_no_local_jwks_and_health_without_a_token(production: TestClient) -> None:
    assert production.get("/.well-known/jwks.json").status_code == 404
    assert production.get("/healthz").status_code == 200


def test_unreadable_signing_keys_answer_503_not_401(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-jwks.json"
    production = dataclasses.replace(
        settings,
        production=True,
        identity_headers=False,
        auth_issuer=ISSUER,
        auth_jwks_url=str(missing),
        auth_audience=(CLIENT_ID,),
        auth_token_use=("id", "access"),
    )
    for client in serve(production):
        response = post(client, CREATE, Authorization=f"Bearer {POOL.id_token()}")
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"] == {"code": "UNAVAILABLE"}
        assert response.headers["retry-after"]
        POOL.write_jwks(missing)
        assert who(client, Authorization=f"Bearer {POOL.id_token('alice', ['planner'])}") == "alice"


# --- development ------------------------------------------------------------------------------


@pytest.fixture
def development(settings: Settings) -> Iterator[TestClient]:
    """A development server (identity headers trusted, as by default); its client sends nothing."""
    assert not settings.production
    yield from serve(settings)


def issue(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], settings: Settings, *args: str) -> str:
    """`planner token issue ARGS` with the server's data folder: its standard output."""
    monkeypatch.setenv("PLANNER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PLANNER_DATA_DIR", str(settings.local_data_dir))
    capsys.readouterr()
    assert main(["token", "issue", *args]) == 0
    return capsys.readouterr().out


def test_development_without_credentials_is_anonymous_not_admin(development: TestClient) -> None:
    assert forbidden(development)
    page = development.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200  # a newcomer still gets GraphiQL, to paste a token into
    assert "graphiql" in page.text.lower()


def test_development_honours_identity_headers(development: TestClient) -> None:
    assert who(development, **{"X-Planner-User": "pat@example.com", "X-Planner-Groups": "planner"}) == "pat@example.com"
    # A user header without a groups header is in no group: not an admin.
    assert forbidden(development, **{"X-Planner-User": "pat@example.com"})
    refused(post(development, CREATE, **{"X-Planner-Groups": "admin"}), "needs x-planner-user")


def test_development_ignores_identity_headers_when_turned_off(settings: Settings) -> None:
    for client in serve(dataclasses.replace(settings, identity_headers=False)):
        assert forbidden(client, **{"X-Planner-User": "eve", "X-Planner-Groups": "admin"})


def test_a_token_from_the_cli_is_accepted_by_the_development_server(
    development: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issue(monkeypatch, capsys, settings, "--user", "alice@example.com", "--groups", "planner")
    lines = out.splitlines()
    assert len(lines) == 1, out  # the token alone on standard output
    token = lines[0]
    assert token.count(".") == 2
    assert who(development, Authorization=f"Bearer {token}") == "alice@example.com"
    assert who(development, Authorization=token) == "alice@example.com"
    # A valid token wins over identity headers; an invalid one is refused, never anonymous.
    viewer = issue(monkeypatch, capsys, settings, "--user", "val@example.com", "--groups", "viewer").strip()
    assert forbidden(
        development, Authorization=f"Bearer {viewer}", **{"X-Planner-User": "e", "X-Planner-Groups": "admin"}
    )
    refused(post(development, CREATE, Authorization=f"Bearer {token[:-4]}AAAA"), "signature does not verify")


def test_the_development_jwks_verifies_the_cli_token(
    development: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = issue(monkeypatch, capsys, settings, "--user", "alice@example.com", "--groups", "admin,planner").strip()
    response = development.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = jwt.PyJWKSet.from_dict(response.json())
    key = keys[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=LOCAL_CLIENT_ID, issuer=LOCAL_ISSUER)
    assert claims["cognito:username"] == "alice@example.com"
    assert claims["cognito:groups"] == ["admin", "planner"]
    assert claims["token_use"] == "id"


def test_a_token_of_another_data_folder_is_refused(
    development: TestClient,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    elsewhere = dataclasses.replace(settings, data_dir=str(tmp_path / "another-machine"))
    token = issue(monkeypatch, capsys, elsewhere, "--user", "eve", "--groups", "admin").strip()
    refused(post(development, CREATE, Authorization=f"Bearer {token}"), "not signed by a key of its issuer")


def test_the_token_lifetime_is_honoured(
    development: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    long = issue(monkeypatch, capsys, settings, "--user", "alice", "--groups", "planner", "--ttl", "2h").strip()
    claims = jwt.decode(long, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 7200
    short = issue(monkeypatch, capsys, settings, "--user", "alice", "--groups", "planner", "--ttl", "1s").strip()
    claims = jwt.decode(short, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 1
    deadline = time.monotonic() + 30
    while (response := post(development, CREATE, Authorization=f"Bearer {short}")).status_code != 401:
        assert time.monotonic() < deadline, "a 1-second token still works after 30 s"
        time.sleep(0.2)
    refused(response, "expired")
    assert who(development, Authorization=f"Bearer {long}") == "alice"


def test_token_issue_refuses_bad_arguments_and_production(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLANNER_DATA_DIR", str(settings.local_data_dir))
    for args, message in (
        (["--user", "a", "--groups", "planer"], "unknown group 'planer'"),
        (["--user", "a", "--ttl", "forever"], "--ttl takes a number"),
        (["--user", " "], "user name must be 1 to 320"),
    ):
        capsys.readouterr()
        assert main(["token", "issue", *args]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert message in captured.err
    monkeypatch.setenv("PLANNER_ENV", "production")
    assert main(["token", "issue", "--user", "a"]) == 1
    assert "production server never trusts" in capsys.readouterr().err


# --- make run, as the README says -------------------------------------------------------------


def test_make_run_and_the_readme_token_command_give_an_authenticated_request(database_url: str, tmp_path: Path) -> None:
    """`planner serve --demo` (what `make run` runs) and the README's `planner token issue` on one
    data folder: the token's requests are the admin's, requests without one are anonymous."""
    env = {
        **os.environ,
        "PLANNER_DATABASE_URL": database_url,
        "PLANNER_GRAPH_URL": f"gremlite:{tmp_path}/graph.db",
        "PLANNER_DATA_DIR": str(tmp_path / "data"),
        "PLANNER_LOG_JSON": "1",
    }
    for name in ("PLANNER_ENV", "PLANNER_IDENTITY_HEADERS", "PLANNER_AUTH_ISSUER", "PLANNER_COGNITO_USER_POOL_ID"):
        env.pop(name, None)
    planner = [sys.executable, "-m", "adapters.cli"]
    port = free_port()
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen([*planner, "serve", "--demo", "--port", str(port)], env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(server, url, tmp_path / "server.log")
            readme = readme_token_command()
            token = subprocess.run(
                [*planner, *readme], env=env, capture_output=True, text=True, timeout=120, check=True
            ).stdout.strip()
            headers = {"Authorization": f"Bearer {token}"}
            plans = httpx.post(
                f"{url}/graphql", json={"query": "{ plans { edges { node { name } } } }"}, headers=headers, timeout=60
            )
            assert plans.status_code == 200, plans.text
            names = [e["node"]["name"] for e in plans.json()["data"]["plans"]["edges"]]
            assert names == ["Aurora 2 product launch readiness"]
            created = httpx.post(f"{url}/graphql", json={"query": CREATE}, headers=headers, timeout=60).json()
            assert created["data"]["createPlan"]["userErrors"] == []
            anonymous = httpx.post(f"{url}/graphql", json={"query": CREATE}, timeout=60).json()
            assert [e["code"] for e in anonymous["data"]["createPlan"]["userErrors"]] == ["FORBIDDEN"]
            jwks = httpx.get(f"{url}/.well-known/jwks.json", timeout=10).json()
            assert jwt.get_unverified_header(token)["kid"] in {k["kid"] for k in jwks["keys"]}
        finally:
            server.terminate()
            server.wait(30)
    assert "planner token issue" in (tmp_path / "server.log").read_text()  # serve says how to get a token


def readme_token_command() -> list[str]:
    """The README's token command, as a newcomer copies it: `.venv/bin/planner token issue …`."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    lines = [line.strip() for line in readme.splitlines() if line.strip().startswith(".venv/bin/planner token issue")]
    assert lines, "the README shows no `.venv/bin/planner token issue` command"
    words = lines[0].split("#")[0].split()
    return words[1:]  # without `.venv/bin/planner`: run with this interpreter


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)

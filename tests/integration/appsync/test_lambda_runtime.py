"""The functions' shared runtime: no migration, thread or connection at import; the migrate
function is the one that migrates; RDS IAM tokens are made per connection."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import create_engine, event

from adapters.sql.iam_auth import use_iam_auth
from tests.lambda_context import LambdaContext, saved_event

HANDLERS = (
    "adapters.appsync.handler",
    "adapters.appsync.publisher",
    "adapters.appsync.outbox_relay",
    "adapters.appsync.simulation_worker",
    "adapters.appsync.simulation_shard",
    "adapters.appsync.simulation_merge",
    "adapters.appsync.migrate",
    "adapters.appsync.planner_sync",
)


def test_importing_the_handlers_starts_no_thread_and_touches_no_database(tmp_path: Any) -> None:
    database = tmp_path / "never.db"
    code = (
        "import threading, importlib\n"
        f"for name in {HANDLERS!r}:\n"
        "    assert callable(importlib.import_module(name).handler), name\n"
        "print(threading.active_count())\n"
    )
    env = {"PLANNER_DATABASE_URL": f"sqlite:///{database}", "PATH": "/usr/bin:/bin", "AWS_REGION": "eu-west-1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=".")
    assert out.stdout.strip() == "1"
    assert not database.exists()


def test_the_migrate_function_brings_a_new_database_to_the_head(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.appsync import migrate

    monkeypatch.setenv("PLANNER_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    monkeypatch.setenv("PLANNER_GRAPH_URL", f"gremlite:{tmp_path}/graph.db")
    first = migrate.handler(saved_event("scheduled.json"), LambdaContext())
    assert first["from"] is None
    assert first["to"] == "0011"
    assert migrate.handler(saved_event("scheduled.json"), LambdaContext()) == {"from": "0011", "to": "0011"}


class TokenMaker:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def generate_db_auth_token(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        return f"token-{len(self.calls)}"


def test_each_new_connection_gets_a_fresh_iam_token() -> None:
    engine = create_engine("postgresql+psycopg://planner@proxy.example.com:5432/planner", pool_size=1)
    tokens = TokenMaker()
    use_iam_auth(engine, tokens, "eu-west-1")
    seen: list[str] = []

    # The DBAPI connect is what would reach the network: the test stands in for it, after the token.
    @event.listens_for(engine, "do_connect", retval=True)
    def _capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> Any:
        seen.append(cparams["password"])
        raise ConnectionRefusedError("no database in this test")

    for _ in range(2):
        with pytest.raises(Exception, match="no database in this test"):
            engine.connect()
    assert seen == ["token-1", "token-2"]
    assert (
        tokens.calls
        == [{"DBHostname": "proxy.example.com", "Port": 5432, "DBUsername": "planner", "Region": "eu-west-1"}] * 2
    )

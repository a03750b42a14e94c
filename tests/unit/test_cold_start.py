"""Cold start: `planner --help`, `import adapters.cli` and `import adapters.asgi.app` load none of
the heavy libraries; the code paths that use them import them (README "Benchmarks").

Each check runs in a fresh interpreter and reads its ``sys.modules``: deterministic, no timing
(speed is measured by ``make bench``, bench/cold_start.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Libraries that cost tenths of a second each to import; top-level package names.
HEAVY = (
    "alembic",
    "boto3",
    "gremlin_python",
    "gremlite",
    "graphql",
    "httpx",
    "msal",
    "networkx",
    "numpy",
    "prometheus_client",
    "sqlalchemy",
    "strawberry",
    "structlog",
)

PROBE = """
import json, sys
{code}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def heavy_modules_after(code: str) -> list[str]:
    """The heavy libraries a fresh interpreter holds after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["simulate", "--help"], ["subscribe", "--help"], ["db", "--help"]],
    ids=" ".join,
)
def test_planner_help_imports_no_heavy_library(argv: list[str]) -> None:
    code = f"""
import contextlib, io
from adapters.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main({argv!r})
    except SystemExit:
        pass
assert "usage: planner" in out.getvalue(), out.getvalue()
"""
    assert heavy_modules_after(code) == []


@pytest.mark.parametrize("module", ["adapters.cli", "adapters.asgi.app", "adapters.config", "adapters.sql.defaults"])
def test_importing_an_entry_module_imports_no_heavy_library(module: str) -> None:
    assert heavy_modules_after(f"import {module}") == []


def test_the_probe_sees_a_heavy_library_when_a_code_path_uses_it() -> None:
    # adapters.sql re-exports lazily (PEP 562): the first use imports SQLAlchemy and Alembic.
    loaded = heavy_modules_after("import adapters.sql\nadapters.sql.upgrade")
    assert {"sqlalchemy", "alembic"} <= set(loaded)


def test_the_lazy_re_exports_are_the_modules_objects() -> None:
    import adapters.sql
    from adapters.sql.engine import create_store_engine
    from adapters.sql.migrate import upgrade
    from adapters.sql.unit_of_work import SqlUnitOfWork

    assert adapters.sql.create_store_engine is create_store_engine
    assert adapters.sql.upgrade is upgrade
    assert adapters.sql.SqlUnitOfWork is SqlUnitOfWork
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = adapters.sql.nothing  # type: ignore[attr-defined]


def test_importing_the_appsync_handler_leaves_the_resolvers_and_the_stores_to_the_first_event() -> None:
    """The Lambda's cold start: Powertools only (it brings botocore); the resolvers, Strawberry's
    DataLoader, SQLAlchemy and the graph come with the first event."""
    assert heavy_modules_after("import adapters.appsync.handler") == []

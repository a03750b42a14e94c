"""Bench: the contract's reads in process, beside graphql-core executing the same document over dicts.

For ``PlanTasks`` (a plan of ``--tasks`` tasks, each after the previous one and one more edge
back, all on one page), ``PlanList`` (``--plans`` plans) and ``CriticalPath`` (that plan), it
prints our time (the real schema, resolvers and services, on SQLite and, when
``PLANNER_BENCH_POSTGRES_URL`` or ``PLANNER_TEST_POSTGRES_URL`` names a PostgreSQL server, on a
fresh database of it), graphql-core's time over plain dicts shaped like the answer (the same
document on the SDL with the default resolvers: the baseline), their ratio, the SQL statements and
transactions one request issues, and the cost of the parents' JSON round trip that the test
suite's servers add (``schema.direct_resolvers``; a serving process does not). The fastest of
``--repeat`` runs after a warm-up; graphql-core is timed both executing a document parsed
beforehand and through ``graphql_sync`` (parse, validate, execute).
Asserts nothing.

    .venv/bin/python bench/graphql_bench.py [--tasks 500] [--plans 100] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import structlog  # noqa: E402
from graphql import ExecutionResult, execute, graphql_sync, parse  # noqa: E402
from graphql import build_schema as build_sdl_schema  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from adapters.asgi.read_transaction import OneReadTransaction  # noqa: E402
from adapters.bootstrap import Application, bootstrap  # noqa: E402
from adapters.config import Settings  # noqa: E402
from adapters.sql.tables import metadata  # noqa: E402
from planning.principal import Principal  # noqa: E402
from resolvers.ids import to_global_id  # noqa: E402
from schema.root import build_schema  # noqa: E402

OPERATIONS = REPO / "schema" / "operations"
DOCUMENT = (OPERATIONS / "plans.graphql").read_text(encoding="utf-8") + (OPERATIONS / "graph.graphql").read_text(
    encoding="utf-8"
)
ADMIN = Principal("bench@example.com", frozenset({"admin"}))


class Statements:
    """Counts SQL statements (or transactions begun) of this thread and the resolvers' worker
    threads, not the projection's."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        if threading.current_thread().name != "graph-projection":
            self.count += 1


def seed(app: Application, tasks: int, plans: int) -> str:
    rows = [
        {"key": f"t{i}", "title": f"Task {i}", "durationDays": 1 + i % 4, "assignees": [f"p{i % 3}@example.com"]}
        for i in range(tasks)
    ]
    deps = [{"predecessor": f"t{i}", "successor": f"t{i + 1}"} for i in range(tasks - 1)]
    deps += [{"predecessor": f"t{i}", "successor": f"t{i + 2}"} for i in range(0, tasks - 2, 3)]
    big = app.services.documents.import_document({"name": "bench", "tasks": rows, "dependencies": deps}, ADMIN)
    for i in range(plans - 1):
        app.services.documents.import_document({"name": f"plan {i}", "tasks": [], "dependencies": []}, ADMIN)
    deadline = time.monotonic() + 120
    while app.projector.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    if app.engine.dialect.name == "postgresql":
        # As after any bulk load (and as autovacuum does within a minute): statistics, without
        # which the planner reads a plan's whole outbox history for its last change.
        with app.engine.connect() as conn:
            for table in metadata.sorted_tables:
                conn.exec_driver_sql(f'ANALYZE "{table.name}"')
            conn.commit()
    return to_global_id("Plan", big.id)


def time_it(run: Callable[[], Any], repeat: int) -> float:
    """The fastest of ``repeat`` runs after a warm-up: on a shared machine, the least disturbed."""
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return min(samples)


def bench_store(label: str, settings: Settings, args: argparse.Namespace) -> None:
    app = bootstrap(settings)
    try:
        plan_id = seed(app, args.tasks, args.plans)
        # As the server builds it: a query's reads in one transaction (adapters.sql.shared_reads).
        schema = build_schema(extra_extensions=[lambda: OneReadTransaction(app)])
        baseline_schema = build_sdl_schema(schema.as_str(), assume_valid_sdl=True)
        # The baseline only executes: the document is parsed (and valid) once, beforehand.
        document = parse(DOCUMENT)

        cases = (
            ("PlanTasks", {"planId": plan_id, "first": args.tasks}, args.tasks),
            ("PlanList", {"first": args.plans}, args.plans),
            ("CriticalPath", {"planId": plan_id}, args.tasks),
        )
        loop = asyncio.new_event_loop()
        try:
            for name, variables, size in cases:

                def ours(name: str = name, variables: dict[str, Any] = variables) -> Any:
                    result = loop.run_until_complete(
                        schema.execute(
                            DOCUMENT,
                            variable_values=variables,
                            operation_name=name,
                            context_value=app.context(ADMIN),
                        )
                    )
                    if result.errors:
                        raise RuntimeError(f"{name}: {result.errors}")
                    return result.data

                data = ours()
                counter, begins = Statements(), Statements()
                event.listen(app.engine, "before_cursor_execute", counter)
                event.listen(app.engine, "begin", begins)
                ours()
                event.remove(app.engine, "before_cursor_execute", counter)
                event.remove(app.engine, "begin", begins)

                def baseline(name: str = name, variables: dict[str, Any] = variables, data: Any = data) -> Any:
                    result = execute(
                        baseline_schema, document, root_value=data, variable_values=variables, operation_name=name
                    )
                    if not isinstance(result, ExecutionResult) or result.errors:
                        raise RuntimeError(f"baseline {name}: {result}")
                    return result.data

                def whole(name: str = name, variables: dict[str, Any] = variables, data: Any = data) -> Any:
                    return graphql_sync(
                        baseline_schema, DOCUMENT, root_value=data, variable_values=variables, operation_name=name
                    ).data

                ours_s = time_it(ours, args.repeat)
                base_s = time_it(baseline, args.repeat)
                whole_s = time_it(whole, args.repeat)
                print(
                    f"{label:10} {name:12} ({size:4} rows): ours {ours_s * 1000:7.1f} ms | graphql-core over dicts: "
                    f"execute {base_s * 1000:6.1f} ms, ratio {ours_s / base_s:5.2f}x; parse+validate+execute "
                    f"{whole_s * 1000:6.1f} ms, ratio {ours_s / whole_s:5.2f}x | {counter.count} SQL statements in "
                    f"{begins.count} transaction(s)",
                    flush=True,
                )
        finally:
            loop.close()
        round_trip_cost(app, plan_id, args.tasks)
    finally:
        app.close()


def round_trip_cost(app: Application, plan_id: str, tasks: int) -> None:
    """What the parents' JSON round trip (``resolvers.codec.round_trip``), the test suite's check,
    would cost on one page of tasks."""
    from planning.ports import TaskFilter
    from resolvers.codec import round_trip
    from resolvers.ids import parse_global_id

    access = app.services.access(ADMIN)
    page = app.services.tasks.page(access, parse_global_id(plan_id)[1], TaskFilter(), None, tasks)
    started = time.perf_counter()
    for task in page.items:
        round_trip(task)
    spent = time.perf_counter() - started
    print(
        f"{'':10} parents as JSON (the tests' check, off when serving): "
        f"{len(page.items)} tasks round-tripped once each in {spent * 1000:.1f} ms"
    )


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    name = f"planner_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--store", choices=("all", "sqlite", "postgresql"), default="all")
    args = parser.parse_args()
    # The projection's debug lines are not the bench's output.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        common = {"graph_url": f"gremlite:{tmp}/graph.db", "data_dir": tmp, "agent_background": False}
        if args.store in ("all", "sqlite"):
            bench_store("sqlite", Settings(database_url=f"sqlite:///{tmp}/planner.db", **common), args)
        server = os.environ.get("PLANNER_BENCH_POSTGRES_URL") or os.environ.get("PLANNER_TEST_POSTGRES_URL")
        if args.store in ("all", "postgresql"):
            if not server:
                print("postgresql: skipped (set PLANNER_BENCH_POSTGRES_URL or PLANNER_TEST_POSTGRES_URL)")
                return
            with postgres_database(server) as url:
                common["graph_url"] = f"gremlite:{tmp}/graph-pg.db"
                bench_store("postgresql", Settings(database_url=url, **common), args)


if __name__ == "__main__":
    main()

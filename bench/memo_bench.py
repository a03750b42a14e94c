"""Bench: a 2,000-task plan's critical path, asked once and asked again with nothing changed.

Imports the plan into a temporary SQLite store and gremlite graph through the services (as
`planner import` does), then times the graph read and schedule behind `criticalPath`: the
first ask (graph traversal + CPM) is the baseline, the repeated ask is served from the
process's memo (PLANNER_GRAPH_MEMO_SIZE). Prints; asserts nothing.

    .venv/bin/python bench/memo_bench.py [--tasks N] [--repeats R]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from adapters.bootstrap import bootstrap
from adapters.config import Settings
from planning.principal import Principal

ADMIN = Principal("bench", frozenset({"admin"}))


def plan_document(n_tasks: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    tasks = [{"key": f"t{i:05d}", "title": f"Task {i}", "durationDays": rng.randint(1, 10)} for i in range(n_tasks)]
    deps = {(f"t{rng.randrange(max(0, i - 50), i):05d}", f"t{i:05d}") for i in range(1, n_tasks) for _ in range(3)}
    return {
        "name": "memo bench",
        "tasks": tasks,
        "dependencies": [{"predecessor": p, "successor": s} for p, s in sorted(deps)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", graph_url=f"gremlite:{tmp}/graph.db", data_dir=tmp
        )
        app = bootstrap(settings)
        try:
            plan = app.services.documents.import_document(plan_document(args.tasks, seed=7), ADMIN)
            app.projection.catch_up_to(app.projector.outbox_end(), 300.0)
            queries = app.services.graph

            def critical_path_s() -> float:
                started = time.perf_counter()
                graph = queries.plan_graph(ADMIN, plan.id)
                queries.schedule(plan, graph, queries.forecast_delays_of(ADMIN, plan.id))
                return time.perf_counter() - started

            first = critical_path_s()
            again = statistics.median(critical_path_s() for _ in range(args.repeats))
        finally:
            app.close()
    print(f"criticalPath of a {args.tasks}-task plan: first ask {first * 1000:.0f} ms (baseline)")
    median = f"{again * 1000:.1f} ms (median of {args.repeats})"
    print(f"  asked again, nothing changed: {median}, ratio {again / first:.3f}")


if __name__ == "__main__":
    main()

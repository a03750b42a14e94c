"""Bench: how many round trips and how long ``plan_graph`` takes on a 2,000-task plan.

Builds a 2,000-task, ~6,000-edge plan (each task depends on up to three earlier ones, so the
graph is a DAG) in a temporary gremlite file, then reads it back. Prints; asserts nothing.

    .venv/bin/python bench/graph_bench.py [--tasks N] [--fan-in K] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from adapters.graph import open_graph
from planning.ports.graph import GraphEdge, GraphTask


def build_plan(n_tasks: int, fan_in: int, seed: int) -> tuple[list[GraphTask], list[GraphEdge]]:
    rng = random.Random(seed)
    tasks = [
        GraphTask(
            task_id=f"task-{i:05d}",
            plan_id="bench-plan",
            status=rng.choice(["NOT_STARTED", "IN_PROGRESS", "DONE"]),
            percent_complete=rng.randint(0, 100),
            optimistic_days=float(rng.randint(1, 5)),
            most_likely_days=float(rng.randint(5, 10)),
            pessimistic_days=float(rng.randint(10, 20)),
        )
        for i in range(n_tasks)
    ]
    edges = [
        GraphEdge(
            dependency_id=f"dep-{i:05d}-{j:05d}",
            plan_id="bench-plan",
            predecessor_id=tasks[j].task_id,
            successor_id=tasks[i].task_id,
            lag_days=float(rng.randint(0, 2)),
        )
        for i in range(1, n_tasks)
        for j in rng.sample(range(i), min(i, fan_in))
    ]
    return tasks, edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--fan-in", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    tasks, edges = build_plan(args.tasks, args.fan_in, args.seed)
    with tempfile.TemporaryDirectory() as tmp, open_graph(f"gremlite://{Path(tmp) / 'bench.db'}") as graph:
        started = time.perf_counter()
        graph.bulk_load(tasks, edges)
        load_s = time.perf_counter() - started
        load_trips = graph.round_trips
        print(f"bulk_load: {len(tasks)} tasks, {len(edges)} edges in {load_s:.2f}s, {load_trips} round trips")

        before = graph.round_trips
        started = time.perf_counter()
        plan = graph.plan_graph("bench-plan")
        read_s = time.perf_counter() - started
        trips = graph.round_trips - before
        print(
            f"plan_graph: {len(plan.tasks)} tasks, {len(plan.edges)} edges in {read_s * 1000:.0f} ms, "
            f"{trips} round trips"
        )


if __name__ == "__main__":
    main()

"""Bench: loading a 2,000-task plan into the graph, batched and element by element, and reading it.

Builds a 2,000-task, ~6,000-edge plan (each task depends on up to three earlier ones, so the
graph is a DAG) and ``bulk_load``s it into a temporary gremlite file twice in the same run: with
one element per traversal (the baseline) and with the default batch (``DEFAULT_BATCH_SIZE``
elements per traversal, what a rebuild, an import's projection or a Planner sync writes with).
Prints the round trips (counted), the wall time and the CPU time of each (CPU time moves less
with the load of a shared machine), then reads the plan back. Prints; asserts nothing.

    .venv/bin/python bench/graph_bench.py [--tasks N] [--fan-in K] [--seed S] [--batch B]
        [--skip-baseline]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import tempfile
import time
from pathlib import Path

from adapters.graph import open_graph
from adapters.graph.traversals import DEFAULT_BATCH_SIZE
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


def timed_load(path: Path, tasks: list[GraphTask], edges: list[GraphEdge], batch_size: int) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and round trips of one ``bulk_load`` into a new file."""
    with open_graph(f"gremlite://{path}", batch_size=batch_size) as graph:
        wall, cpu = time.perf_counter(), time.process_time()
        graph.bulk_load(tasks, edges)
        return time.perf_counter() - wall, time.process_time() - cpu, graph.round_trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--fan-in", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--skip-baseline", action="store_true", help="leave out the element-by-element load")
    args = parser.parse_args()

    tasks, edges = build_plan(args.tasks, args.fan_in, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        load_s, load_cpu, load_trips = timed_load(Path(tmp) / "batched.db", tasks, edges, args.batch)
        expected = math.ceil(len(tasks) / args.batch) + math.ceil(len(edges) / args.batch)
        print(
            f"bulk_load, {args.batch} elements per traversal: {len(tasks)} tasks, {len(edges)} edges in "
            f"{load_s:.2f} s (CPU {load_cpu:.2f} s), {load_trips} round trips (ceil(n/batch) = {expected})"
        )
        if not args.skip_baseline:
            base_s, base_cpu, base_trips = timed_load(Path(tmp) / "one_by_one.db", tasks, edges, 1)
            print(
                f"bulk_load, one element per traversal (baseline): {base_s:.2f} s (CPU {base_cpu:.2f} s), "
                f"{base_trips} round trips; ratio baseline/batched: time {base_s / load_s:.1f}x, "
                f"CPU {base_cpu / load_cpu:.1f}x, round trips {base_trips / load_trips:.0f}x "
                f"(load average {os.getloadavg()[0]:.1f})"
            )
        with open_graph(f"gremlite://{Path(tmp) / 'batched.db'}") as graph:
            started = time.perf_counter()
            plan = graph.plan_graph("bench-plan")
            read_s = time.perf_counter() - started
            print(
                f"plan_graph: {len(plan.tasks)} tasks, {len(plan.edges)} edges in {read_s * 1000:.0f} ms, "
                f"{graph.round_trips} round trips"
            )


if __name__ == "__main__":
    main()

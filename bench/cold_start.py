"""Bench: cold start. How long a fresh interpreter takes to import the server and the Lambda
handler, to print `planner --help`, and to build a serving app, beside two baselines measured in
the same rounds: an empty interpreter (`python -c pass`) and one importing the heavy libraries
the server uses (`import strawberry, sqlalchemy, numpy`).

Each round runs every command once, one after the other, so that the machine's load moves all
figures alike; a figure is the median of the rounds (the fastest in brackets). Targets (issue 14):
`import adapters.asgi.app` and the Lambda handler's import under 1.0 s, `planner --help` under
0.3 s. "Build an app" (settings, stores, schema and routes on a temporary SQLite store, as a
`planner serve` worker does before it answers) has no target: it shows what a first request
still waits for. Prints; asserts nothing.

    .venv/bin/python bench/cold_start.py [--rounds N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: The AppSync Lambda's handler module (infra/cdk/planner_infra/settings.py, API_HANDLER); timed
#: when this tree has it.
LAMBDA_HANDLER_MODULE = "adapters.appsync.handler"
BUILD_APP = "from adapters.asgi.app import create_app_from_env\ncreate_app_from_env()"


@dataclass(frozen=True)
class Case:
    label: str
    argv: list[str]
    target_s: float | None = None


def cases(python: str, planner: str) -> tuple[Case, Case, list[Case]]:
    empty = Case("python -c pass (baseline)", [python, "-c", "pass"])
    libraries = "import strawberry, sqlalchemy, numpy"
    heavy = Case(f"{libraries} (baseline)", [python, "-c", libraries])
    measured = [Case("import adapters.asgi.app", [python, "-c", "import adapters.asgi.app"], 1.0)]
    if _has_module(LAMBDA_HANDLER_MODULE):
        measured.append(Case(f"import {LAMBDA_HANDLER_MODULE}", [python, "-c", f"import {LAMBDA_HANDLER_MODULE}"], 1.0))
    measured.append(Case("planner --help", [planner, "--help"], 0.3))
    measured.append(Case("build an app (create_app_from_env, SQLite)", [python, "-c", BUILD_APP]))
    return empty, heavy, measured


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def wall_time(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    python = sys.executable
    planner = str(Path(python).with_name("planner"))
    empty, heavy, measured = cases(python, planner)
    everything = [empty, heavy, *measured]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PLANNER_DATABASE_URL": f"sqlite:///{tmp}/planner.db",
            "PLANNER_GRAPH_URL": f"gremlite:{tmp}/graph.db",
            "PLANNER_DATA_DIR": tmp,
        }
        for case in everything:  # warm the file cache; the first build also migrates the new store
            wall_time(case.argv, env)
        times: dict[str, list[float]] = {case.label: [] for case in everything}
        for _ in range(args.rounds):
            for case in everything:
                times[case.label].append(wall_time(case.argv, env))

    median = {label: statistics.median(values) for label, values in times.items()}
    print(f"cold start: median of {args.rounds} rounds [fastest], each round runs every command once")
    width = max(len(case.label) for case in everything)
    for case in (empty, heavy):
        print(f"  {case.label:<{width}}  {median[case.label]:6.3f} s [{min(times[case.label]):.3f}]")
    for case in measured:
        seconds = median[case.label]
        line = f"  {case.label:<{width}}  {seconds:6.3f} s [{min(times[case.label]):.3f}]"
        line += f"  {seconds / median[heavy.label]:5.2f}x the heavy import"
        line += f", {seconds - median[empty.label]:+.3f} s over an empty interpreter"
        if case.target_s is not None:
            verdict = "met" if seconds < case.target_s else "NOT met"
            line += f"; target < {case.target_s} s: {verdict}"
        print(line)
    if not _has_module(LAMBDA_HANDLER_MODULE):
        print(f"  ({LAMBDA_HANDLER_MODULE} is not in this tree yet: its import is not timed)")


if __name__ == "__main__":
    main()

"""`make bench`: every benchmark, one after the other; each prints its ratios against a baseline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = (
    "cpm_bench.py",
    "engine_bench.py",
    "graph_bench.py",
    "memo_bench.py",
    "agent_bench.py",
    "cold_start.py",
    "graphql_bench.py",
)


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / name)])
    return failed


if __name__ == "__main__":
    sys.exit(main())

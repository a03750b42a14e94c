"""How long importing the AppSync Lambda handler takes: a cold start's share before the first event.

Each run imports ``adapters.appsync.handler`` in a fresh interpreter (nothing cached in the
process), and reports the median of the runs against the 1.0 s budget (issue 12). Measured,
never asserted.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
BUDGET_S = 1.0
PROBE = "import time; t = time.perf_counter(); import adapters.appsync.handler; print(time.perf_counter() - t)"


def main() -> None:
    times = []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    median = statistics.median(times)
    print(f"handler import: median {median:.3f} s over {RUNS} runs (best {min(times):.3f} s); budget {BUDGET_S:.1f} s")
    print(f"ratio to budget: {median / BUDGET_S:.2f}")


if __name__ == "__main__":
    main()

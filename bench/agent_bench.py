"""Optimisation agent benchmark: proposals for an event on the demo plan (prints; never asserts).

Target: under 2 s from reading the plan to ranked proposals (issue 11), the candidates sharing
one set of sampled durations (``simulation.whatif``).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

from adapters.engine.scheduler import EngineScheduler
from adapters.engine.variant_scorer import EngineVariantScorer
from planning.documents import parse_document
from planning.model import ExternalEvent, Severity
from planning.services.agent import OptimisationAgent, document_input

DEMO = Path(__file__).resolve().parents[1] / "adapters" / "demo" / "launch_readiness.json"
REPEATS = 5


def main() -> None:
    doc = parse_document(json.loads(DEMO.read_text(encoding="utf-8")))
    agent = OptimisationAgent(EngineScheduler(), EngineVariantScorer())
    at = datetime.now(UTC)
    probe = document_input(doc, _event("task-001", at), as_of=doc.as_of or date.today(), at=at)
    critical = agent.run(probe).schedule_after
    assert critical is not None
    key = next(k for k in critical.critical_path if not critical.timings[k].done)
    inp = document_input(doc, _event(key, at), as_of=doc.as_of or date.today(), at=at)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run = agent.run(inp)
        times.append(time.perf_counter() - start)
    print(
        f"agent on the demo plan ({len(doc.tasks)} tasks), event delaying {key} 10 days: "
        f"{len(run.proposals)} proposals of {run.candidates} candidates, {run.iterations} iterations each"
    )
    print(
        f"proposals ready in {min(times):.3f} s (best of {REPEATS}; median {sorted(times)[REPEATS // 2]:.3f} s; "
        "target < 2 s)"
    )


def _event(key: str, at: datetime) -> ExternalEvent:
    return ExternalEvent(
        id="bench-event",
        plan_id="document",
        event_type="supplier_delay",
        severity=Severity.HIGH,
        title="bench",
        description=None,
        source=None,
        occurred_at=at,
        received_at=at,
        delay_days=10.0,
        probability=None,
        payload=None,
        affected_task_ids=(key,),
        idempotency_key=None,
    )


if __name__ == "__main__":
    main()

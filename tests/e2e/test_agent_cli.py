"""`planner simulate FILE --event task-key:DAYS[:PROBABILITY]`: the agent's proposals for a what-if."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.cli import demo_document, main


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(demo_document()))
    return path


def _critical_key(demo_file: Path, capsys) -> str:
    assert main(["simulate", str(demo_file), "--iterations", "500", "--seed", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    done = {t["key"] for t in demo_document()["tasks"] if t.get("status") == "COMPLETED"}
    shares = {k: v for k, v in out["taskCriticality"].items() if k not in done}
    return max(shares, key=lambda k: (shares[k], k))


def test_ranked_proposals_with_their_numbers(demo_file: Path, capsys) -> None:
    key = _critical_key(demo_file, capsys)
    argv = ["simulate", str(demo_file), "--iterations", "500", "--seed", "1", "--event", f"{key}:10", "--json"]
    assert main(argv) == 0
    what_if = json.loads(capsys.readouterr().out)["whatIf"]
    assert what_if["criticalPathDelayDays"] == 10.0
    proposals = what_if["proposals"]
    assert len({p["actionType"] for p in proposals}) >= 2
    assert [p["rank"] for p in proposals] == list(range(1, len(proposals) + 1))
    for p in proposals:
        impact = p["expectedImpact"]
        assert impact["onTimeProbabilityAfter"] >= impact["onTimeProbabilityBefore"]
        assert impact["onTimeProbabilityBefore"] == what_if["onTimeProbability"]

    assert main(["simulate", str(demo_file), "--iterations", "500", "--event", f"{key}:10:0.5"]) == 0
    text = capsys.readouterr().out
    assert "Proposals, best first" in text
    assert " 1. " in text


@pytest.mark.parametrize(
    ("spec", "message"),
    [("nope:3", "no task with key 'nope'"), ("task-001", "expected TASK_KEY:DAYS"), ("task-001:x", "must be numbers")],
)
def test_bad_events_get_one_clear_line(demo_file: Path, capsys, spec: str, message: str) -> None:
    assert main(["simulate", str(demo_file), "--iterations", "100", "--event", spec]) == 1
    err = capsys.readouterr().err
    assert err.startswith("planner: ")
    assert message in err

"""`planner simulate` on a plan document and on a stored plan."""

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


def _json(capsys, *argv: str) -> dict:
    assert main(["simulate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_output_for_machines(demo_file: Path, capsys) -> None:
    out = _json(capsys, str(demo_file), "--iterations", "2000", "--seed", "4")
    for key in ("onTimeProbability", "p50FinishDate", "p80FinishDate", "p90FinishDate", "meanFinishDate"):
        assert key in out
    assert out["iterations"] == 2000
    assert out["seed"] == 4
    assert out["asOf"] == demo_document()["asOf"]
    assert out["eventDate"] == demo_document()["eventDate"]
    assert sum(b["count"] for b in out["histogram"]) == 2000
    assert out["cumulative"][-1]["probability"] == pytest.approx(1.0)
    assert set(out["taskCriticality"]) == {t["key"] for t in demo_document()["tasks"]}
    assert 0.15 < out["onTimeProbability"] < 0.65


def test_shards_and_seeds(demo_file: Path, capsys) -> None:
    one = _json(capsys, str(demo_file), "--iterations", "1500", "--seed", "8")
    sharded = _json(capsys, str(demo_file), "--iterations", "1500", "--seed", "8", "--shards", "4")
    assert one == sharded
    other = _json(capsys, str(demo_file), "--iterations", "1500", "--seed", "9")
    assert other["histogram"] != one["histogram"]


def test_as_of_later_means_less_time(demo_file: Path, capsys) -> None:
    early = _json(capsys, str(demo_file), "--iterations", "1000", "--seed", "1")
    late = _json(capsys, str(demo_file), "--iterations", "1000", "--seed", "1", "--as-of", "2025-03-03")
    assert late["p50FinishDate"] > early["p50FinishDate"]
    assert late["onTimeProbability"] < early["onTimeProbability"]


def test_readable_summary_and_plot(demo_file: Path, tmp_path: Path, capsys) -> None:
    png = tmp_path / "risk.png"
    assert main(["simulate", str(demo_file), "--iterations", "1000", "--seed", "2", "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "Ready by 2025-04-01:" in text
    assert "P80" in text
    assert "Launch go/no-go review" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


def test_a_stored_plan_by_id(capsys, monkeypatch, database_url: str, tmp_path: Path, demo_file: Path) -> None:
    monkeypatch.setenv("PLANNER_DATABASE_URL", database_url)
    monkeypatch.setenv("PLANNER_GRAPH_URL", f"gremlite:{tmp_path}/graph.db")
    assert main(["import", str(demo_file)]) == 0
    plan_id = capsys.readouterr().out.strip().split(" as ")[-1]
    stored = _json(capsys, plan_id, "--iterations", "1000", "--seed", "3", "--as-of", "2025-02-03")
    from_file = _json(capsys, str(demo_file), "--iterations", "1000", "--seed", "3", "--as-of", "2025-02-03")
    assert stored["onTimeProbability"] == from_file["onTimeProbability"]
    assert stored["p80FinishDate"] == from_file["p80FinishDate"]
    assert stored["plan"] == "Aurora 2 product launch readiness"


def test_bad_input_gets_one_clean_line(tmp_path: Path, demo_file: Path, capsys) -> None:
    assert main(["simulate", str(tmp_path / "nope.json")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["simulate", str(demo_file), "--iterations", "0"]) == 1
    assert "--iterations" in capsys.readouterr().err
    doc = demo_document()
    doc["dependencies"].append({"predecessor": doc["tasks"][-1]["key"], "successor": doc["tasks"][0]["key"]})
    cyclic = tmp_path / "cyclic.json"
    cyclic.write_text(json.dumps(doc))
    assert main(["simulate", str(cyclic)]) == 1
    err = capsys.readouterr().err
    assert "cycle" in err
    assert len(err.strip().splitlines()) == 1

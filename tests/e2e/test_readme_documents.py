"""Every plan document the README shows imports, as it is written there."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from planning.principal import Principal

README = Path(__file__).resolve().parents[2] / "README.md"
ADMIN = Principal("readme", frozenset({"admin"}))


def readme_blocks() -> list[str]:
    """The README's ```json blocks that look like a plan document (they mention "tasks")."""
    blocks = re.findall(r"^```json[ \t]*\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    return [block for block in blocks if '"tasks"' in block]


def readme_documents() -> list[dict[str, Any]]:
    documents = []
    for block in readme_blocks():
        parsed = json.loads(block)  # a plan document in the README must be valid JSON
        assert isinstance(parsed, dict), block
        documents.append(parsed)
    return documents


def test_the_readme_shows_a_plan_document() -> None:
    documents = readme_documents()
    assert documents, "no ```json block with a plan document found in README.md"
    shown = {key for doc in documents for key in doc}
    assert {"name", "calendar", "tasks", "dependencies", "events"} <= shown


@pytest.mark.parametrize("index", range(len(readme_blocks())))
def test_each_readme_document_imports(app, index: int) -> None:
    raw = readme_documents()[index]
    plan = app.services.documents.import_document(raw, ADMIN)
    assert plan.name == raw["name"].strip()
    assert len(app.services.tasks.for_plan(ADMIN, plan.id)) == len(raw["tasks"])
    assert len(app.services.dependencies.for_plans(ADMIN, [plan.id])) == len(raw.get("dependencies", []))
    assert app.services.external_events.count(ADMIN, plan.id) == len(raw.get("events", []))
    exported = app.services.documents.export_document(ADMIN, plan.id)
    assert len(exported["events"]) == len(raw.get("events", []))

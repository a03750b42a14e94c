from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graph_factories import RawCounts

from adapters.graph import GremlinDependencyGraph, open_graph


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "graph" / "plan.db"


@pytest.fixture
def graph(db_path: Path) -> Iterator[GremlinDependencyGraph]:
    handle = open_graph(f"gremlite://{db_path}")
    yield handle.graph
    handle.close()


@pytest.fixture
def raw(db_path: Path) -> RawCounts:
    return RawCounts(db_path)

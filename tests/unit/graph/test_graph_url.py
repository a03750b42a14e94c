"""PLANNER_GRAPH_URL parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.graph import GremlinDependencyGraph, open_graph, parse_graph_url


def test_gremlite_absolute_path() -> None:
    parsed = parse_graph_url("gremlite:///var/lib/planner/graph.db")
    assert parsed.kind == "gremlite"
    assert parsed.path == Path("/var/lib/planner/graph.db")


def test_gremlite_relative_path_is_relative_to_cwd() -> None:
    parsed = parse_graph_url("gremlite:.planner/graph.db", cwd=Path("/work/x"))
    assert parsed.path == Path("/work/x/.planner/graph.db")


def test_gremlite_percent_escapes_are_decoded() -> None:
    assert parse_graph_url("gremlite:///tmp/my%20graph.db").path == Path("/tmp/my graph.db")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gremlite://.planner/graph.db", "host part"),
        ("gremlite:///", "names no file"),
        ("gremlite:", "names no file"),
        ("gremlite:///tmp/g.db?x=1", "no query"),
        ("http://host:8182/gremlin", "unsupported graph URL scheme 'http'"),
        ("neptune://host", "unsupported graph URL scheme"),
        ("/tmp/graph.db", "unsupported graph URL scheme ''"),
        ("wss:///gremlin", "no host"),
        ("wss://host:notaport/gremlin", "bad port"),
        ("", "empty"),
    ],
)
def test_bad_urls_are_clear_value_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_graph_url(url)


def test_neptune_url() -> None:
    parsed = parse_graph_url("wss://db.cluster-x.us-east-1.neptune.amazonaws.com:8182/gremlin")
    assert parsed.kind == "neptune"
    assert parsed.url == "wss://db.cluster-x.us-east-1.neptune.amazonaws.com:8182/gremlin"


def test_neptune_url_without_path_gets_gremlin() -> None:
    assert parse_graph_url("wss://host:8182").url == "wss://host:8182/gremlin"


def test_plain_ws_is_an_unsigned_gremlin_server() -> None:
    assert parse_graph_url("ws://localhost:8182/gremlin").kind == "gremlin-server"


def test_open_graph_without_url_or_env_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLANNER_GRAPH_URL", raising=False)
    with pytest.raises(ValueError, match="PLANNER_GRAPH_URL"):
        open_graph()


def test_open_graph_for_neptune_connects_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    handle = open_graph("wss://db.cluster-x.us-east-1.neptune.amazonaws.com:8182/gremlin")
    assert isinstance(handle.graph, GremlinDependencyGraph)
    assert handle.executor.connects == 0
    assert handle.graph.round_trips == 0
    handle.close()

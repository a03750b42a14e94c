"""Opening the dependency graph named by ``PLANNER_GRAPH_URL``.

URL forms:

* ``gremlite:///abs/path/graph.db``: embedded gremlite graph, absolute path (three slashes:
  empty host, then the absolute path).
* ``gremlite:relative/path/graph.db``: embedded graph, path relative to the current directory
  (no slashes after the colon), e.g. ``gremlite:.planner/graph.db``.
  ``gremlite://x/...`` (a host part) is rejected: it is ambiguous between the two.
* ``wss://host:8182/gremlin``: Neptune, handshake signed with IAM SigV4 (region from the
  ``region`` argument, AWS_REGION, AWS_DEFAULT_REGION, or the Neptune host name).
* ``ws://host:8182/gremlin``: an unsigned Gremlin server (e.g. a local TinkerPop Gremlin
  Server for manual testing); not Neptune, which only speaks TLS.

Parent directories of a gremlite file are created. Percent-escapes in paths are decoded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

from .remotes import GremliteRemote, neptune_connector
from .resilience import RetryingExecutor, RetryPolicy
from .traversals import DEFAULT_BATCH_SIZE, GremlinDependencyGraph

if TYPE_CHECKING:
    from .neptune_auth import NeptuneIamSigner

ENV_VAR = "PLANNER_GRAPH_URL"

_FORMS = (
    "gremlite:///absolute/path/graph.db, gremlite:relative/path/graph.db, "
    "wss://neptune-host:8182/gremlin (IAM-signed) or ws://host:8182/gremlin (unsigned)"
)

Kind = Literal["gremlite", "neptune", "gremlin-server"]


@dataclass(frozen=True, slots=True)
class GraphUrl:
    kind: Kind
    #: the gremlite file (absolute), for kind ``gremlite``
    path: Path | None = None
    #: the websocket URL, for the server kinds
    url: str | None = None


def parse_graph_url(url: str, *, cwd: Path | None = None) -> GraphUrl:
    """Parse a graph URL (see the module docstring); anything else is a ``ValueError``."""
    if not url or not url.strip():
        raise ValueError(f"empty graph URL; expected one of: {_FORMS}")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "gremlite":
        if parts.netloc:
            raise ValueError(
                f"gremlite URL {url!r} has a host part; write gremlite:///abs/path.db "
                "for an absolute path or gremlite:rel/path.db for a relative one"
            )
        raw = unquote(parts.path)
        if not raw or raw.endswith("/"):
            raise ValueError(f"gremlite URL {url!r} names no file; expected one of: {_FORMS}")
        if parts.query or parts.fragment:
            raise ValueError(f"gremlite URL {url!r} takes no query or fragment")
        path = Path(raw)
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        return GraphUrl(kind="gremlite", path=path)
    if scheme in ("wss", "ws"):
        if not parts.hostname:
            raise ValueError(f"graph URL {url!r} has no host; expected one of: {_FORMS}")
        try:
            parts.port  # noqa: B018 - validates the port
        except ValueError as exc:
            raise ValueError(f"graph URL {url!r} has a bad port") from exc
        normalized = url.strip() if parts.path else url.strip().rstrip("/") + "/gremlin"
        return GraphUrl(kind="neptune" if scheme == "wss" else "gremlin-server", url=normalized)
    raise ValueError(f"unsupported graph URL scheme {parts.scheme!r} in {url!r}; expected one of: {_FORMS}")


@dataclass
class GraphHandle:
    """An open graph and the means to close it; also a context manager."""

    graph: GremlinDependencyGraph
    location: GraphUrl
    executor: RetryingExecutor = field(repr=False)

    def close(self) -> None:
        self.graph.close()

    def __enter__(self) -> GremlinDependencyGraph:
        return self.graph

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_graph(
    url: str | None = None,
    *,
    region: str | None = None,
    policy: RetryPolicy | None = None,
    signer: NeptuneIamSigner | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> GraphHandle:
    """Open the graph at ``url`` (default: ``$PLANNER_GRAPH_URL``).

    Nothing is connected until the first traversal; a Neptune handshake is signed then, and
    again at every reconnect. ``signer`` overrides the default (botocore credential chain,
    ``region``).
    """
    if url is None:
        url = os.environ.get(ENV_VAR)
        if not url:
            raise ValueError(f"{ENV_VAR} is not set; expected one of: {_FORMS}")
    location = parse_graph_url(url)
    if location.kind == "gremlite":
        assert location.path is not None
        gremlite_path = location.path

        def connect() -> GremliteRemote:
            return GremliteRemote(gremlite_path)

        executor = RetryingExecutor(connect, policy)
    else:
        assert location.url is not None
        if location.kind == "neptune":
            # botocore is imported for a Neptune graph only, not by a local server (cold start).
            from .neptune_auth import NeptuneIamSigner

            signer = signer or NeptuneIamSigner(region=region)
        executor = RetryingExecutor(neptune_connector(location.url, signer), policy)
    graph = GremlinDependencyGraph(executor, batch_size=batch_size)
    return GraphHandle(graph=graph, location=location, executor=executor)

"""The dependency graph adapter: Amazon Neptune in AWS, an embedded gremlite graph locally.

Public API:

* :func:`open_graph` (``PLANNER_GRAPH_URL`` forms in :mod:`.connection`) -> :class:`GraphHandle`
* :class:`GremlinDependencyGraph`, the ``planning.ports.graph.DependencyGraph`` implementation
* :class:`RetryPolicy`, :class:`RetryingExecutor`, :class:`NeptuneIamSigner`
* :class:`MissingEndpointError`
"""

from typing import TYPE_CHECKING, Any

from .connection import ENV_VAR, GraphHandle, GraphUrl, open_graph, parse_graph_url
from .errors import MissingEndpointError
from .resilience import RetryingExecutor, RetryPolicy
from .traversals import GremlinDependencyGraph

if TYPE_CHECKING:
    from .neptune_auth import NeptuneIamSigner

__all__ = [
    "ENV_VAR",
    "GraphHandle",
    "GraphUrl",
    "GremlinDependencyGraph",
    "MissingEndpointError",
    "NeptuneIamSigner",
    "RetryPolicy",
    "RetryingExecutor",
    "open_graph",
    "parse_graph_url",
]


def __getattr__(name: str) -> Any:
    """PEP 562: the Neptune signer (and botocore behind it) is imported on first use, so a local
    server with an embedded graph never loads it (cold start)."""
    if name == "NeptuneIamSigner":
        from .neptune_auth import NeptuneIamSigner

        return NeptuneIamSigner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

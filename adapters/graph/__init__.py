"""The dependency graph adapter: Amazon Neptune in AWS, an embedded gremlite graph locally.

Public API:

* :func:`open_graph` (``PLANNER_GRAPH_URL`` forms in :mod:`.connection`) -> :class:`GraphHandle`
* :class:`GremlinDependencyGraph`, the ``planning.ports.graph.DependencyGraph`` implementation
* :class:`RetryPolicy`, :class:`RetryingExecutor`, :class:`NeptuneIamSigner`
* :class:`MissingEndpointError`
"""

from .connection import ENV_VAR, GraphHandle, GraphUrl, open_graph, parse_graph_url
from .errors import MissingEndpointError
from .neptune_auth import NeptuneIamSigner
from .resilience import RetryingExecutor, RetryPolicy
from .traversals import GremlinDependencyGraph

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

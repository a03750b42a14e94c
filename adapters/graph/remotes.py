"""The two kinds of live graph connection behind gremlinpython's RemoteConnection interface.

* :class:`GremliteRemote`: the embedded graph, a SQLite file through ``gremlite.SQLiteConnection``.
  SQLite transactions are committed after every traversal, so one traversal is one transaction,
  as on Neptune.
* :class:`DriverRemote`: a Gremlin server over a websocket (Neptune, or a local Gremlin Server),
  one ``DriverRemoteConnection`` with a pool of one connection. Neptune runs each request in its
  own transaction, so commit/rollback are no-ops (``DriverRemoteConnection.commit`` would send a
  session transaction op, which a sessionless request must not do).

``neptune_connector`` returns the ``connect`` callable for :class:`~.resilience.RetryingExecutor`:
it signs the handshake headers anew every time it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversalSource
from gremlite import SQLiteConnection

if TYPE_CHECKING:
    # An annotation only: botocore (behind the signer) loads when a Neptune graph is opened.
    from .neptune_auth import NeptuneIamSigner


class GremliteRemote:
    """An embedded gremlite graph stored in one SQLite file (parent directories are created)."""

    def __init__(self, path: Path, *, lock_timeout_s: float = 5.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connection = SQLiteConnection(str(path), timeout=lock_timeout_s)
        self._g = traversal().with_remote(self._connection)

    @property
    def g(self) -> GraphTraversalSource:
        return self._g

    def commit(self) -> None:
        self._connection.commit()

    def rollback(self) -> None:
        self._connection.rollback()

    def close(self) -> None:
        self._connection.close()


DriverFactory = Callable[[str, Mapping[str, str] | None], Any]


def _driver(url: str, headers: Mapping[str, str] | None) -> DriverRemoteConnection:
    # pool_size=1: gremlinpython opens pooled websockets lazily, each with the headers given
    # here; a second socket opened minutes later would present an expired signature.
    return DriverRemoteConnection(url, "g", headers=dict(headers) if headers else None, pool_size=1)


class DriverRemote:
    """A websocket connection to a Gremlin server (Neptune or Gremlin Server)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._g = traversal().with_remote(connection)

    @property
    def g(self) -> GraphTraversalSource:
        return self._g

    def commit(self) -> None:
        """Each request is its own transaction on the server."""

    def rollback(self) -> None:
        """Nothing to undo: a failed request was rolled back by the server."""

    def close(self) -> None:
        self._connection.close()


def neptune_connector(
    url: str, signer: NeptuneIamSigner | None, driver_factory: DriverFactory = _driver
) -> Callable[[], DriverRemote]:
    """A ``connect`` callable that signs the handshake (if ``signer``) each time it is called."""

    def connect() -> DriverRemote:
        headers = signer.headers(url) if signer is not None else None
        return DriverRemote(driver_factory(url, headers))

    return connect

"""A query's reads share one transaction (``adapters.sql.shared_reads``); mutations get their own."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from adapters.asgi.live import LiveRequestContext
from adapters.bootstrap import Application


class OneReadTransaction(SchemaExtension):
    """Runs the execution of a query operation sent over HTTP inside the application's
    shared-reads scope. An operation on a websocket shares its socket's context, and so its
    DataLoaders, with the socket's other operations: a batch one of them starts could outlive
    the other's scope, so those read in units of work of their own."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def on_execute(self) -> Iterator[None]:
        if self.execution_context.operation_type is not OperationType.QUERY or isinstance(
            self.execution_context.context, LiveRequestContext
        ):
            yield
            return
        with self._app.shared_reads():
            yield

"""A query's reads share one transaction (``adapters.sql.shared_reads``); mutations get their own."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from adapters.bootstrap import Application


class OneReadTransaction(SchemaExtension):
    """Runs the execution of a query operation inside the application's shared-reads scope."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def on_execute(self) -> Iterator[None]:
        if self.execution_context.operation_type is not OperationType.QUERY:
            yield
            return
        with self._app.shared_reads():
            yield

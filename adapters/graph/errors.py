"""Errors the graph adapter raises besides the driver's own."""

from __future__ import annotations

from collections.abc import Iterable

from planning.ports.graph import MissingVertex


class MissingEndpointError(MissingVertex):
    """A ``depends_on`` edge was written while one of its task vertices is absent.

    Upsert the tasks first (``bulk_load`` does). The other edges of the batch, whose vertices
    exist, are written; re-running the whole write is safe (it is idempotent).
    """

    def __init__(self, dependency_ids: Iterable[str], missing_task_ids: Iterable[str]) -> None:
        self.dependency_ids = tuple(dependency_ids)
        self.missing_task_ids = tuple(sorted(set(missing_task_ids)))
        super().__init__(
            f"dependencies {list(self.dependency_ids)} need task vertices that do not exist: "
            f"{list(self.missing_task_ids)}"
        )

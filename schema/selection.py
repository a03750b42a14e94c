"""What a field's selection asks for, below it: lets a parent prefetch what its children will need."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry.types.nodes import SelectedField


def selects_any(info: strawberry.Info, names: Iterable[str]) -> bool:
    """Whether a field named in ``names`` is selected anywhere below the current field (through
    fragments, at any depth): an over-approximation is fine, a prefetch is never an answer."""
    wanted = frozenset(names)
    pending = list(info.selected_fields)
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField) and selection.name in wanted:
            return True
        pending.extend(selection.selections)
    return False

"""A shared memo for answers that are expensive to compute and valid as long as their key is."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Protocol


class Memo(Protocol):
    """Keeps values by key, bounded by their total ``weight``; safe to share between threads.

    A key must name everything the value depends on (for a plan's graph: the plan's last
    projected change), so that a stale entry is simply never asked for again.
    """

    def get(self, key: Hashable) -> Any | None: ...

    def put(self, key: Hashable, value: Any, weight: int = 1) -> None: ...

    def clear(self) -> None: ...


class NoMemo:
    """Remembers nothing: every answer is computed afresh."""

    def get(self, key: Hashable) -> Any | None:
        return None

    def put(self, key: Hashable, value: Any, weight: int = 1) -> None:
        return None

    def clear(self) -> None:
        return None

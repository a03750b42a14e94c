from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> date: ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique id whose string order follows creation order (keyset paging relies on it)."""
        ...

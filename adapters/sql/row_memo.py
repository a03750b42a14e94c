"""Domain objects remembered by the values of the row they were made from.

Making a ``Task`` from its row (enum, estimate, UTC datetimes, the model's own checks) costs more
than reading the row: about 5 µs a task, 2.4 ms for a page or a critical path of 500, on every
read of an unchanged plan (``bench/graphql_bench.py``). The conversion is a pure function of the
row's values (and, for a task, its assignees), and the objects are frozen, so the object made once
is the right answer for any row with the same values, in any request and any thread: a changed
task has another version and ``updated_at``, hence another key, and can never be answered by an
old object. Nothing is invalidated because nothing can go stale; the memo only bounds its size.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

#: Objects a memo holds at most; when full it starts again (a plan's read refills it at once).
DEFAULT_LIMIT = 20_000


class RowMemo(Generic[T]):
    """``make(key)`` for a hashable ``key`` made of a row's values, made once per distinct key.

    Safe across threads without a lock: a race makes the same object twice, and either is right.
    """

    def __init__(self, make: Callable[..., T], limit: int = DEFAULT_LIMIT) -> None:
        self._make = make
        self._limit = limit
        self._known: dict[Hashable, T] = {}

    def __call__(self, key: Hashable, *args: object) -> T:
        """The object ``make(*args)`` for ``key``, the values ``args`` are made of."""
        try:
            known = self._known.get(key)
        except TypeError:  # a value that cannot be a key (a JSON column): made, not remembered
            return self._make(*args)
        if known is not None:
            return known
        made = self._make(*args)
        if len(self._known) >= self._limit:
            self._known.clear()
        self._known[key] = made
        return made

    def __len__(self) -> int:
        return len(self._known)

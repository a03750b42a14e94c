"""Background work for services that must keep something alive while they wait on another call.

The domain says what to do and how often; an adapter owns the threads, locks and sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol


class Background(Protocol):
    def repeating(self, interval_s: float, tick: Callable[[], bool], *, name: str) -> AbstractContextManager[None]:
        """While the block runs, call ``tick`` every ``interval_s`` seconds from another worker,
        until it answers False. The block's exit waits for a tick under way to end."""
        ...

    def mutex(self) -> AbstractContextManager[object]:
        """A new lock: one holder at a time, across the workers ``repeating`` starts."""
        ...

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` on the calling worker (a back-off before a retry)."""
        ...

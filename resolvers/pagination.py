from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from planning.model.limits import storable_problem
from planning.services.base import MAX_PAGE_SIZE
from resolvers.errors import BadRequest

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Edge(Generic[T]):
    cursor: str
    node: T


@dataclass(frozen=True, slots=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool
    start_cursor: str | None


@dataclass(frozen=True, slots=True)
class Connection(Generic[T]):
    """A page of a list, with ``total_count`` computed only when a client asks for it."""

    edges: list[Edge[T]]
    page_info: PageInfo
    count: Callable[[], Awaitable[int]]

    async def total_count(self) -> int:
        return await self.count()


@lru_cache(maxsize=16_384)
def encode_cursor(key: str) -> str:
    """Remembered: a page of a hundred plans or tasks writes a hundred cursors on every read."""
    return base64.urlsafe_b64encode(f"cursor:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest(f"after: {cursor!r} is not a cursor of this list") from None
    prefix, sep, key = decoded.partition(":")
    if prefix != "cursor" or not sep or not key or storable_problem(key):
        raise BadRequest(f"after: {cursor!r} is not a cursor of this list")
    return key


def page_size(args: dict[str, Any], default: int) -> int:
    first = args.get("first")
    if first is None:
        return default
    if isinstance(first, bool) or not isinstance(first, int) or not 0 <= first <= MAX_PAGE_SIZE:
        raise BadRequest(f"first must be between 0 and {MAX_PAGE_SIZE}, got {first!r}")
    return first


def connection(
    items: Sequence[Any], has_next_page: bool, count: Callable[[], Awaitable[int]], *, after: str | None
) -> Connection[Any]:
    """A page read after the cursor ``after``; ``count`` counts the whole list if a client asks.
    A first page with nothing after it is the whole list: its length is the count, read from no
    statement."""
    if after is None and not has_next_page:
        count = _counted(len(items))
    edges = [Edge(encode_cursor(item.id), item) for item in items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next_page,
            end_cursor=edges[-1].cursor if edges else None,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
        ),
        count=count,
    )


def _counted(length: int) -> Callable[[], Awaitable[int]]:
    async def count() -> int:
        return length

    return count


async def paged_connection(
    args: dict[str, Any],
    default: int,
    fetch: Callable[[str | None, int], Any],
    count: Callable[[], int],
) -> Connection[Any]:
    """Read one keyset page in a worker thread; count the whole list only if asked."""
    import asyncio

    limit, after = page_size(args, default), decode_cursor(args.get("after"))
    page = await asyncio.to_thread(fetch, after, limit)

    async def total() -> int:
        return await asyncio.to_thread(count)

    return connection(page.items, page.has_next_page, total, after=after)

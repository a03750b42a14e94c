from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from planning.ports import Clock, IdGenerator, UnitOfWorkFactory

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class ServiceDeps:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator


class HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One keyset page; ``items`` are in id order, ``has_next_page`` says whether more follow."""

    items: tuple[T, ...]
    has_next_page: bool

    @classmethod
    def of(cls, fetched: Sequence[T], limit: int) -> Page[T]:
        """Build from ``limit + 1`` fetched rows: the extra row only proves a next page exists."""
        return cls(tuple(fetched[:limit]), len(fetched) > limit)


def ordered(ids: Sequence[str], found: Sequence[T]) -> list[T | None]:
    """``found`` rearranged to match ``ids``, None where an id matched nothing."""
    by_id = {item.id: item for item in found}
    return [by_id.get(i) for i in ids]

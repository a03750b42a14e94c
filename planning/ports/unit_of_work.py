from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from planning.ports.planner import PlannerSyncRepository
from planning.ports.repositories import (
    ActionRepository,
    ActivityLog,
    DependencyRepository,
    ExternalEventRepository,
    MemberRepository,
    Outbox,
    PlanRepository,
    SimulationRepository,
    TaskRepository,
)


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without ``commit()`` rolls everything back."""

    plans: PlanRepository
    tasks: TaskRepository
    dependencies: DependencyRepository
    external_events: ExternalEventRepository
    simulations: SimulationRepository
    members: MemberRepository
    activity: ActivityLog
    outbox: Outbox
    actions: ActionRepository
    planner_sync: PlannerSyncRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]

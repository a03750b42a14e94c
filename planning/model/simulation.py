from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from planning.errors import invalid

MAX_ITERATIONS = 1_000_000
MAX_SHARDS = 64
DEFAULT_ITERATIONS = 10_000


class SimulationStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Distribution(StrEnum):
    PERT = "PERT"
    TRIANGULAR = "TRIANGULAR"
    UNIFORM = "UNIFORM"


@dataclass(frozen=True, slots=True)
class Simulation:
    """A Monte Carlo run of a plan; ``result`` is the engine's JSON report once it succeeded."""

    id: str
    plan_id: str
    status: SimulationStatus
    iterations: int
    seed: int
    shards: int
    distribution: Distribution
    event_date: date | None
    as_of: date
    progress: float
    completed_iterations: int
    error: str | None
    result: dict[str, Any] | None
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    def __post_init__(self) -> None:
        if isinstance(self.iterations, bool) or not 1 <= self.iterations <= MAX_ITERATIONS:
            raise invalid(f"iterations must be between 1 and {MAX_ITERATIONS:,}, got {self.iterations}", "iterations")
        if not 1 <= self.shards <= min(MAX_SHARDS, self.iterations):
            raise invalid(f"shards must be between 1 and {MAX_SHARDS} and at most the iterations", "shards")
        if not 0 <= self.seed < 2**31:
            raise invalid("seed must be between 0 and 2147483647", "seed")

    @property
    def finished(self) -> bool:
        return self.status in (SimulationStatus.SUCCEEDED, SimulationStatus.FAILED, SimulationStatus.CANCELLED)

    def started(self, at: datetime) -> Simulation:
        return replace(self, status=SimulationStatus.RUNNING, started_at=at, progress=0.0, completed_iterations=0)

    def advanced(self, completed: int) -> Simulation:
        return replace(self, completed_iterations=completed, progress=min(completed / self.iterations, 1.0))

    def succeeded(self, result: dict[str, Any], at: datetime) -> Simulation:
        return replace(
            self,
            status=SimulationStatus.SUCCEEDED,
            result=result,
            progress=1.0,
            completed_iterations=self.iterations,
            completed_at=at,
        )

    def failed(self, error: str, at: datetime) -> Simulation:
        return replace(self, status=SimulationStatus.FAILED, error=error, completed_at=at)

    def cancelled(self, at: datetime) -> Simulation:
        """The run, cancelled by a user: it ends with the progress it had, and no result."""
        return replace(self, status=SimulationStatus.CANCELLED, completed_at=at)

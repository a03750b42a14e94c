from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from planning.model import WorkCalendar
from planning.model.simulation import Distribution
from planning.ports.graph import GraphEdge, GraphTask


@dataclass(frozen=True, slots=True)
class Risk:
    """An external event as the simulation sees it: in ``probability`` of futures, a delay."""

    probability: float
    delay_days: float
    task_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SimulationRequest:
    tasks: tuple[GraphTask, ...]
    edges: tuple[GraphEdge, ...]
    calendar: WorkCalendar
    as_of: date
    event_date: date | None
    risks: tuple[Risk, ...]
    iterations: int
    seed: int
    shards: int
    distribution: Distribution


Progress = Callable[[int, int], None]
"""Called with (iterations done, iterations in all) as a run goes; it may raise to stop the run
(SimulationStopped, for one), and the simulator lets what it raises propagate."""


class SimulationStopped(Exception):
    """Raised by a progress callback to stop a run early (the worker is shutting down)."""


class RiskSimulator(Protocol):
    def simulate(self, request: SimulationRequest, progress: Progress | None = None) -> dict[str, Any]:
        """Run the Monte Carlo simulation; answer its JSON report (camelCase keys, ISO dates)."""
        ...


class SimulationQueue(Protocol):
    """Runs queued simulations in the background: a thread pool locally, Lambda on AWS."""

    def submit(self, simulation_id: str) -> None: ...

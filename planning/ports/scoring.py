"""Scoring what-if variants of a plan by simulation, on common random numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from planning.model import WorkCalendar
from planning.ports.graph import GraphEdge, GraphTask
from planning.ports.simulation import Risk


@dataclass(frozen=True, slots=True)
class PlanVariant:
    """What differs from the plan: a task's three points (optimistic, most likely, pessimistic,
    for its whole work, as ``Task.scheduling_points``) by task id, and lags by (predecessor id,
    successor id). Empty: the plan itself."""

    estimates: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    lags: Mapping[tuple[str, str], float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VariantScore:
    on_time_probability: float
    mean_finish_days: float


@dataclass(frozen=True, slots=True)
class ScoringRequest:
    """The plan (with its risks) and the variants to compare with it; ``target_date`` is the
    date whose on-time probability is scored."""

    tasks: tuple[GraphTask, ...]
    edges: tuple[GraphEdge, ...]
    calendar: WorkCalendar
    as_of: date
    target_date: date
    risks: tuple[Risk, ...]
    variants: tuple[PlanVariant, ...]
    iterations: int
    seed: int


class VariantScorer(Protocol):
    def score(self, request: ScoringRequest) -> tuple[VariantScore, list[VariantScore]]:
        """The plan's score and each variant's, in order, all on the same random draws: each
        task's draws depend on the seed and the task's id only, so a variant that changes
        nothing scores exactly as the plan does."""
        ...

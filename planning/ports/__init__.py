"""What the domain needs from the outside world, as Protocols that adapters implement."""

from planning.ports.clock import Clock, IdGenerator
from planning.ports.graph import DependencyGraph, GraphEdge, GraphTask, GraphUnavailable, MissingVertex, PlanGraph
from planning.ports.repositories import (
    ActivityLog,
    DependencyRepository,
    ExternalEventRepository,
    MemberRepository,
    Outbox,
    PlanRepository,
    TaskFilter,
    TaskRepository,
)
from planning.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "ActivityLog",
    "Clock",
    "DependencyGraph",
    "DependencyRepository",
    "ExternalEventRepository",
    "GraphEdge",
    "GraphTask",
    "GraphUnavailable",
    "IdGenerator",
    "MemberRepository",
    "MissingVertex",
    "Outbox",
    "PlanGraph",
    "PlanRepository",
    "TaskFilter",
    "TaskRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]

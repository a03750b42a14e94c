"""Pure scheduling engine: calendar, CPM and Monte Carlo schedule risk.

numpy + networkx only; no I/O.  The date-level API in :mod:`simulation.plan`
is what the rest of the application uses.
"""

from simulation.calendar import WorkCalendar
from simulation.cpm import CpmResult, critical_path_method
from simulation.montecarlo import (
    RiskSpec,
    ShardResult,
    SimulationModel,
    SimulationResult,
    merge_shards,
    run_shard,
    simulate,
)
from simulation.network import CycleError, Network
from simulation.plan import (
    CalendarInput,
    DependencyInput,
    PlanInput,
    PlanSchedule,
    RiskInput,
    SimulationReport,
    TaskInput,
    TaskSchedule,
    build_model,
    merge_plan_shards,
    run_plan_shard,
    schedule_plan,
    simulate_plan,
)

__all__ = [
    "CalendarInput",
    "CpmResult",
    "CycleError",
    "DependencyInput",
    "Network",
    "PlanInput",
    "PlanSchedule",
    "RiskInput",
    "RiskSpec",
    "ShardResult",
    "SimulationModel",
    "SimulationReport",
    "SimulationResult",
    "TaskInput",
    "TaskSchedule",
    "WorkCalendar",
    "build_model",
    "critical_path_method",
    "merge_plan_shards",
    "merge_shards",
    "run_plan_shard",
    "run_shard",
    "schedule_plan",
    "simulate",
    "simulate_plan",
]

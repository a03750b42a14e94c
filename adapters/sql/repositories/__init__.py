from adapters.sql.repositories.actions import SqlActionRepository
from adapters.sql.repositories.dependencies import SqlDependencyRepository
from adapters.sql.repositories.external_events import SqlExternalEventRepository
from adapters.sql.repositories.members import SqlActivityLog, SqlMemberRepository
from adapters.sql.repositories.outbox import SqlOutbox
from adapters.sql.repositories.plans import SqlPlanRepository
from adapters.sql.repositories.simulations import SqlSimulationRepository
from adapters.sql.repositories.tasks import SqlTaskRepository

__all__ = [
    "SqlActionRepository",
    "SqlActivityLog",
    "SqlDependencyRepository",
    "SqlExternalEventRepository",
    "SqlMemberRepository",
    "SqlOutbox",
    "SqlPlanRepository",
    "SqlSimulationRepository",
    "SqlTaskRepository",
]

import strawberry

from planning.model import DependencyType as DomainDependencyType
from planning.model import ExternalEventStatus as DomainExternalEventStatus
from planning.model import Severity as DomainSeverity
from planning.model import TaskStatus as DomainTaskStatus

TaskStatus = strawberry.enum(DomainTaskStatus, name="TaskStatus")
DependencyType = strawberry.enum(DomainDependencyType, name="DependencyType")
Severity = strawberry.enum(DomainSeverity, name="Severity")
ExternalEventStatus = strawberry.enum(
    DomainExternalEventStatus,
    name="ExternalEventStatus",
    description="Only OPEN events count in forecasts and simulations; RESOLVED and WITHDRAWN ones are kept as history.",
)

import strawberry

from planning.model import DependencyType as DomainDependencyType
from planning.model import Severity as DomainSeverity
from planning.model import TaskStatus as DomainTaskStatus

TaskStatus = strawberry.enum(DomainTaskStatus, name="TaskStatus")
DependencyType = strawberry.enum(DomainDependencyType, name="DependencyType")
Severity = strawberry.enum(DomainSeverity, name="Severity")

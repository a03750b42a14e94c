from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class DependencyType(StrEnum):
    FINISH_TO_START = "FINISH_TO_START"


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class ExternalEventStatus(StrEnum):
    """An event counts in forecasts and simulations while OPEN; the others keep its history."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"
    WITHDRAWN = "WITHDRAWN"

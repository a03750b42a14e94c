"""``publishPlanEvent`` / ``publishSimulationProgress``: for the backend's IAM role on AppSync only.

AppSync resolves them on a NONE data source (they never reach a resolver there). Anywhere else,
whoever calls them is refused: live updates come from the committed outbox, never from a client.
"""

from __future__ import annotations

from typing import Any

from planning.errors import DomainError, ErrorCode
from resolvers.context import RequestContext

REFUSAL = (
    "only the backend publishes live updates (through AWS AppSync with IAM credentials); "
    "subscriptions follow the committed changes"
)


def refuse_publish(context: RequestContext, parent: object, args: dict[str, Any]) -> None:
    raise DomainError(ErrorCode.FORBIDDEN, REFUSAL, ("input",))


async def publish_plan_event(context: RequestContext, parent: object, args: dict[str, Any]) -> Any:
    refuse_publish(context, parent, args)


async def publish_simulation_progress(context: RequestContext, parent: object, args: dict[str, Any]) -> Any:
    refuse_publish(context, parent, args)

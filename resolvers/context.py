from __future__ import annotations

from dataclasses import dataclass, field

from planning.principal import Principal
from planning.services.registry import PlanningServices
from resolvers.loaders import Loaders


@dataclass
class RequestContext:
    """What every resolver gets: the services, who is asking, and this request's DataLoaders."""

    services: PlanningServices
    principal: Principal
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.services)

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planning.access import Access
from planning.principal import Principal
from planning.services.registry import PlanningServices
from resolvers.loaders import Loaders


@dataclass
class RequestContext:
    """What every resolver gets: the services, who is asking, and this request's DataLoaders.

    ``access`` is the caller's ``Access`` for this request: every service call is made with it,
    so that the access rule (``planning.access``) reads the caller's roles once per plan.
    """

    services: PlanningServices
    principal: Principal
    access: Access = field(init=False)
    loaders: Loaders = field(init=False)
    #: Parents written as their JSON and read back, by ``id()`` (``schema.direct_resolvers``): once per request.
    parents: dict[int, tuple[Any, Any]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.access = self.services.access(self.principal)
        self.loaders = Loaders(self.services, self.access)

"""The composition root: settings in, a wired application out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from adapters.config import Settings
from adapters.identity import HeaderIdentity
from adapters.sql import SqlUnitOfWork, create_store_engine, upgrade
from adapters.system import SystemClock, TimeOrderedIds
from planning.principal import Principal
from planning.services.base import ServiceDeps
from planning.services.registry import PlanningServices
from resolvers.context import RequestContext


@dataclass
class Application:
    settings: Settings
    engine: Engine
    services: PlanningServices
    identity: HeaderIdentity

    def context(self, principal: Principal) -> RequestContext:
        return RequestContext(services=self.services, principal=principal)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings, *, migrate: bool = True) -> Application:
    engine = create_store_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    deps = ServiceDeps(uow=lambda: SqlUnitOfWork(engine), clock=SystemClock(), ids=TimeOrderedIds())
    identity = HeaderIdentity(
        Principal(settings.dev_user, frozenset(settings.dev_groups)), trust_headers=settings.identity_headers
    )
    return Application(settings=settings, engine=engine, services=PlanningServices.build(deps), identity=identity)

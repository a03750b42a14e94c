"""Settings, read once from the environment (all prefixed PLANNER_)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.sql.engine import DEFAULT_DATABASE_URL

DEFAULT_GRAPH_URL = "gremlite:.planner/graph.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    graph_url: str = DEFAULT_GRAPH_URL
    production: bool = False
    dev_user: str = "developer@localhost"
    dev_groups: tuple[str, ...] = ("admin",)
    identity_headers: bool = True
    log_json: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        production = env.get("PLANNER_ENV", "development").lower() == "production"
        return cls(
            database_url=env.get("PLANNER_DATABASE_URL", DEFAULT_DATABASE_URL),
            graph_url=env.get("PLANNER_GRAPH_URL", DEFAULT_GRAPH_URL),
            production=production,
            dev_user=env.get("PLANNER_DEV_USER", "developer@localhost"),
            dev_groups=tuple(g.strip() for g in env.get("PLANNER_DEV_GROUPS", "admin").split(",") if g.strip()),
            identity_headers=_flag(env.get("PLANNER_IDENTITY_HEADERS"), default=not production),
            log_json=_flag(env.get("PLANNER_LOG_JSON"), default=production),
        )


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}

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
    #: How long a graph question waits for the projection to apply the plan's last change
    #: before answering UNAVAILABLE.
    graph_wait_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment.

        In production identity headers are never trusted, and a request that names nobody is a
        read-only ``viewer`` unless ``PLANNER_DEV_GROUPS`` says otherwise.
        """
        env = os.environ if env is None else env
        mode = env.get("PLANNER_ENV", "development").strip().lower()
        if mode not in {"development", "production"}:
            raise ValueError(f"PLANNER_ENV must be development or production, not {mode!r}")
        production = mode == "production"
        default_groups = "viewer" if production else "admin"
        return cls(
            database_url=env.get("PLANNER_DATABASE_URL", DEFAULT_DATABASE_URL),
            graph_url=env.get("PLANNER_GRAPH_URL", DEFAULT_GRAPH_URL),
            production=production,
            dev_user=env.get("PLANNER_DEV_USER", "anonymous" if production else "developer@localhost"),
            dev_groups=tuple(
                g.strip().lower() for g in env.get("PLANNER_DEV_GROUPS", default_groups).split(",") if g.strip()
            ),
            identity_headers=not production and _flag(env.get("PLANNER_IDENTITY_HEADERS"), default=True),
            log_json=_flag(env.get("PLANNER_LOG_JSON"), default=production),
            graph_wait_s=_seconds(env, "PLANNER_GRAPH_WAIT_S", 5.0),
        )


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 <= value <= 600:
        raise ValueError(f"{name} must be between 0 and 600 seconds, not {raw!r}")
    return value

"""What the constructs share: where the repository is, the Lambda handler strings, the stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
APPSYNC_SCHEMA = REPO_ROOT / "schema" / "appsync.graphql"
#: The nested fields the resolvers compute (generated from resolvers/registry.py with the schema).
NESTED_RESOLVERS = REPO_ROOT / "schema" / "resolvers.json"

#: Lambda handler strings: modules importable from the repository root (the code asset).
API_HANDLER = "adapters.appsync.handler.handler"
PUBLISHER_HANDLER = "adapters.appsync.publisher.handler"
SIMULATION_WORKER_HANDLER = "adapters.appsync.simulation_worker.handler"
SIMULATION_SHARD_HANDLER = "adapters.appsync.simulation_shard.handler"
SIMULATION_MERGE_HANDLER = "adapters.appsync.simulation_merge.handler"
MIGRATE_HANDLER = "adapters.appsync.migrate.handler"
OUTBOX_RELAY_HANDLER = "adapters.appsync.outbox_relay.handler"
PLANNER_SYNC_HANDLER = "adapters.appsync.planner_sync.handler"

#: The EventBridge source the outbox relay puts the domain events under.
EVENT_SOURCE = "planner"
#: The PostgreSQL user the functions connect as through RDS Proxy (IAM auth) and the database.
DATABASE_USER = "planner"
DATABASE_NAME = "planner"

#: Nothing under these goes into the Lambda code asset (gitignore syntax, from the repository root).
CODE_EXCLUDES = (
    ".git",
    "/.ci/",
    "/.github/",
    ".venv/",
    "node_modules/",
    "cdk.out/",
    "__pycache__/",
    "*.py[cod]",
    ".mypy_cache/",
    ".ruff_cache/",
    ".pytest_cache/",
    ".hypothesis/",
    ".import_linter_cache/",
    ".planner/",
    "*.db",
    "*.db-*",
    "*.egg-info/",
    "/tests/",
    "/infra/",
    "/bench/",
    "/scripts/",
    "/build/",
    "/dist/",
)


@dataclass(frozen=True)
class Stage:
    """A deployment stage; ``production`` hides the schema from introspection and keeps data on delete."""

    name: str = "production"

    @property
    def production(self) -> bool:
        return self.name == "production"

"""Where the shards of a fanned-out run leave their results for the merge (table
``simulation_shard_results``): ``planning.services.simulation_fanout.ShardResults`` on SQL."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from adapters.sql.tables import simulation_shard_results as table


class SqlShardResults:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put(self, simulation_id: str, shard_index: int, result: dict[str, Any]) -> None:
        """Store a shard's result; a shard run again (a retried invocation) replaces its own."""
        text = json.dumps(result, separators=(",", ":"))
        with self._engine.begin() as conn:
            conn.execute(
                delete(table).where(table.c.simulation_id == simulation_id, table.c.shard_index == shard_index)
            )
            conn.execute(insert(table).values(simulation_id=simulation_id, shard_index=shard_index, result=text))

    def get_all(self, simulation_id: str) -> list[dict[str, Any]]:
        query = select(table.c.result).where(table.c.simulation_id == simulation_id).order_by(table.c.shard_index)
        with self._engine.connect() as conn:
            return [json.loads(row) for row in conn.scalars(query)]

    def delete(self, simulation_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(table).where(table.c.simulation_id == simulation_id))

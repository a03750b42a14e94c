from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from adapters.sql.one_of import one_of
from adapters.sql.rows import utc
from adapters.sql.tables import simulations
from planning.model.simulation import Distribution, Simulation, SimulationStatus


def _values(sim: Simulation) -> dict[str, Any]:
    return {
        "id": sim.id,
        "plan_id": sim.plan_id,
        "status": sim.status.value,
        "iterations": sim.iterations,
        "seed": sim.seed,
        "shards": sim.shards,
        "distribution": sim.distribution.value,
        "event_date": sim.event_date,
        "as_of": sim.as_of,
        "progress": sim.progress,
        "completed_iterations": sim.completed_iterations,
        "error": sim.error,
        "result": sim.result,
        "requested_by": sim.requested_by,
        "created_at": utc(sim.created_at),
        "started_at": utc(sim.started_at) if sim.started_at else None,
        "completed_at": utc(sim.completed_at) if sim.completed_at else None,
    }


def _from_row(row: Mapping[str, Any]) -> Simulation:
    return Simulation(
        id=row["id"],
        plan_id=row["plan_id"],
        status=SimulationStatus(row["status"]),
        iterations=row["iterations"],
        seed=row["seed"],
        shards=row["shards"],
        distribution=Distribution(row["distribution"]),
        event_date=row["event_date"],
        as_of=row["as_of"],
        progress=row["progress"],
        completed_iterations=row["completed_iterations"],
        error=row["error"],
        result=row["result"],
        requested_by=row["requested_by"],
        created_at=utc(row["created_at"]),
        started_at=utc(row["started_at"]) if row["started_at"] else None,
        completed_at=utc(row["completed_at"]) if row["completed_at"] else None,
    )


class SqlSimulationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, simulation: Simulation) -> None:
        self._conn.execute(simulations.insert().values(_values(simulation)))

    def get(self, simulation_id: str) -> Simulation | None:
        row = self._conn.execute(select(simulations).where(simulations.c.id == simulation_id)).mappings().first()
        return _from_row(row) if row else None

    def get_many(self, simulation_ids: Sequence[str]) -> list[Simulation]:
        if not simulation_ids:
            return []
        query = select(simulations).where(one_of(self._conn, simulations.c.id, simulation_ids))
        return [_from_row(r) for r in self._conn.execute(query).mappings()]

    def update(self, simulation: Simulation) -> None:
        self._conn.execute(update(simulations).where(simulations.c.id == simulation.id).values(_values(simulation)))

    def page(self, plan_id: str, after: str | None, limit: int) -> list[Simulation]:
        query = (
            select(simulations).where(simulations.c.plan_id == plan_id).order_by(simulations.c.id.desc()).limit(limit)
        )
        if after is not None:
            query = query.where(simulations.c.id < after)
        return [_from_row(r) for r in self._conn.execute(query).mappings()]

    def count(self, plan_id: str) -> int:
        query = select(func.count()).select_from(simulations).where(simulations.c.plan_id == plan_id)
        return int(self._conn.execute(query).scalar_one())

    def latest(self, plan_ids: Sequence[str]) -> dict[str, Simulation]:
        if not plan_ids:
            return {}
        newest = (
            select(simulations.c.plan_id, func.max(simulations.c.id).label("id"))
            .where(one_of(self._conn, simulations.c.plan_id, plan_ids))
            .group_by(simulations.c.plan_id)
            .subquery()
        )
        query = select(simulations).join(newest, simulations.c.id == newest.c.id)
        return {r["plan_id"]: _from_row(r) for r in self._conn.execute(query).mappings()}

    def with_status(self, statuses: Sequence[SimulationStatus]) -> list[Simulation]:
        query = (
            select(simulations).where(simulations.c.status.in_([s.value for s in statuses])).order_by(simulations.c.id)
        )
        return [_from_row(r) for r in self._conn.execute(query).mappings()]

    def _update_if(self, simulation_id: str, statuses: Sequence[SimulationStatus], values: dict[str, Any]) -> bool:
        """Write ``values`` if the stored run has one of ``statuses``: every status change is
        conditional, so a run that ended (CANCELLED, FAILED as stale) is never overwritten."""
        result = self._conn.execute(
            update(simulations)
            .where(simulations.c.id == simulation_id, simulations.c.status.in_([s.value for s in statuses]))
            .values(values)
        )
        return result.rowcount == 1

    def claim(self, simulation: Simulation, heartbeat: datetime) -> bool:
        return self._update_if(
            simulation.id, [SimulationStatus.QUEUED], {**_values(simulation), "heartbeat_at": utc(heartbeat)}
        )

    def record_progress(self, simulation: Simulation, heartbeat: datetime) -> bool:
        return self._update_if(
            simulation.id,
            [SimulationStatus.RUNNING],
            {
                "progress": simulation.progress,
                "completed_iterations": simulation.completed_iterations,
                "heartbeat_at": utc(heartbeat),
            },
        )

    def finish(self, simulation: Simulation) -> bool:
        return self._update_if(simulation.id, [SimulationStatus.RUNNING], _values(simulation))

    def cancel(self, simulation: Simulation) -> bool:
        return self._update_if(
            simulation.id,
            [SimulationStatus.QUEUED, SimulationStatus.RUNNING],
            {
                "status": simulation.status.value,
                "completed_at": utc(simulation.completed_at) if simulation.completed_at else None,
            },
        )

    def _stale(self, beaten_before: datetime) -> Any:
        return or_(simulations.c.heartbeat_at.is_(None), simulations.c.heartbeat_at < utc(beaten_before))

    def stale_running(self, beaten_before: datetime) -> list[Simulation]:
        query = (
            select(simulations)
            .where(simulations.c.status == SimulationStatus.RUNNING.value, self._stale(beaten_before))
            .order_by(simulations.c.id)
        )
        return [_from_row(r) for r in self._conn.execute(query).mappings()]

    def fail_stale(self, simulation: Simulation, beaten_before: datetime) -> bool:
        result = self._conn.execute(
            update(simulations)
            .where(
                simulations.c.id == simulation.id,
                simulations.c.status == SimulationStatus.RUNNING.value,
                self._stale(beaten_before),
            )
            .values(_values(simulation))
        )
        return result.rowcount == 1

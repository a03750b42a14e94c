from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select, update

from adapters.sql.one_of import one_of
from adapters.sql.rows import utc
from adapters.sql.tables import proposed_actions as actions
from planning.model.action import ActionStatus, ActionType, ExpectedImpact, ProposedAction


def _action(row: Mapping[str, Any]) -> ProposedAction:
    return ProposedAction(
        id=row["id"],
        plan_id=row["plan_id"],
        external_event_id=row["external_event_id"],
        task_id=row["task_id"],
        action_type=ActionType(row["action_type"]),
        status=ActionStatus(row["status"]),
        rationale=row["rationale"],
        parameters=dict(row["parameters"] or {}),
        expected_impact=ExpectedImpact.from_json(row["expected_impact"] or {}),
        created_at=utc(row["created_at"]),
        rank=int(row["rank"]),
        task_versions={str(k): int(v) for k, v in (row["task_versions"] or {}).items()},
        decided_at=utc(row["decided_at"]) if row["decided_at"] else None,
        decided_by=row["decided_by"],
        decision_note=row["decision_note"],
    )


class SqlActionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, action: ProposedAction) -> None:
        self._conn.execute(
            actions.insert().values(
                id=action.id,
                plan_id=action.plan_id,
                task_id=action.task_id,
                external_event_id=action.external_event_id,
                action_type=action.action_type.value,
                status=action.status.value,
                rationale=action.rationale,
                parameters=action.parameters,
                expected_impact=action.expected_impact.to_json(),
                created_at=utc(action.created_at),
                decided_at=utc(action.decided_at) if action.decided_at else None,
                decided_by=action.decided_by,
                rank=action.rank,
                task_versions=action.task_versions,
                decision_note=action.decision_note,
            )
        )

    def _load(self, query: Select[Any]) -> list[ProposedAction]:
        return [_action(r) for r in self._conn.execute(query).mappings()]

    def get(self, action_id: str) -> ProposedAction | None:
        found = self._load(select(actions).where(actions.c.id == action_id))
        return found[0] if found else None

    def get_many(self, action_ids: Sequence[str]) -> list[ProposedAction]:
        if not action_ids:
            return []
        return self._load(select(actions).where(one_of(self._conn, actions.c.id, action_ids)))

    def pending_for_event(self, external_event_id: str) -> list[ProposedAction]:
        query = (
            select(actions)
            .where(
                actions.c.external_event_id == external_event_id,
                actions.c.status == ActionStatus.PENDING.value,
            )
            .order_by(actions.c.id)
        )
        return self._load(query)

    def delete(self, action_ids: Sequence[str]) -> None:
        if action_ids:
            self._conn.execute(delete(actions).where(actions.c.id.in_(list(action_ids))))

    def decide(self, action: ProposedAction) -> bool:
        result = self._conn.execute(
            update(actions)
            .where(actions.c.id == action.id, actions.c.status == ActionStatus.PENDING.value)
            .values(
                status=action.status.value,
                decided_at=utc(action.decided_at) if action.decided_at else None,
                decided_by=action.decided_by,
                decision_note=action.decision_note,
            )
        )
        return result.rowcount == 1

    def _of_plan(self, plan_id: str, status: ActionStatus | None) -> list[Any]:
        where = [actions.c.plan_id == plan_id]
        if status is not None:
            where.append(actions.c.status == status.value)
        return where

    def page(self, plan_id: str, status: ActionStatus | None, after: str | None, limit: int) -> list[ProposedAction]:
        query = select(actions).where(*self._of_plan(plan_id, status)).order_by(actions.c.id).limit(limit)
        if after is not None:
            query = query.where(actions.c.id > after)
        return self._load(query)

    def count(self, plan_id: str, status: ActionStatus | None) -> int:
        query = select(func.count()).select_from(actions).where(*self._of_plan(plan_id, status))
        return int(self._conn.execute(query).scalar_one())

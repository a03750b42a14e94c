from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from adapters.sql.one_of import one_of
from adapters.sql.rows import utc
from adapters.sql.tables import plan_activity, plan_members
from planning.model.membership import ActivityEntry, ActivityKind, PlanMember, PlanRole


def _member(row: Mapping[str, Any]) -> PlanMember:
    return PlanMember(
        plan_id=row["plan_id"],
        user_id=row["user_id"],
        role=PlanRole(row["role"]),
        added_at=utc(row["added_at"]),
        added_by=row["added_by"],
    )


class SqlMemberRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, member: PlanMember) -> None:
        self._conn.execute(
            plan_members.insert().values(
                plan_id=member.plan_id,
                user_id=member.user_id,
                role=member.role.value,
                added_at=utc(member.added_at),
                added_by=member.added_by,
            )
        )

    def get(self, plan_id: str, user_id: str) -> PlanMember | None:
        row = (
            self._conn.execute(
                select(plan_members).where(plan_members.c.plan_id == plan_id, plan_members.c.user_id == user_id)
            )
            .mappings()
            .first()
        )
        return _member(row) if row else None

    def role_of(self, plan_id: str, user_id: str) -> PlanRole | None:
        role = self._conn.execute(
            select(plan_members.c.role).where(plan_members.c.plan_id == plan_id, plan_members.c.user_id == user_id)
        ).scalar_one_or_none()
        return PlanRole(role) if role is not None else None

    def roles_of(self, user_id: str, plan_ids: Sequence[str]) -> dict[str, PlanRole]:
        if not plan_ids:
            return {}
        query = select(plan_members.c.plan_id, plan_members.c.role).where(
            plan_members.c.user_id == user_id, one_of(self._conn, plan_members.c.plan_id, plan_ids)
        )
        return {plan_id: PlanRole(role) for plan_id, role in self._conn.execute(query)}

    def for_plans(self, plan_ids: Sequence[str]) -> list[PlanMember]:
        if not plan_ids:
            return []
        query = (
            select(plan_members)
            .where(one_of(self._conn, plan_members.c.plan_id, plan_ids))
            .order_by(plan_members.c.plan_id, plan_members.c.added_at, plan_members.c.user_id)
        )
        return [_member(r) for r in self._conn.execute(query).mappings()]

    def set_role(self, plan_id: str, user_id: str, role: PlanRole) -> bool:
        result = self._conn.execute(
            update(plan_members)
            .where(plan_members.c.plan_id == plan_id, plan_members.c.user_id == user_id)
            .values(role=role.value)
        )
        return result.rowcount == 1

    def remove(self, plan_id: str, user_id: str) -> bool:
        result = self._conn.execute(
            delete(plan_members).where(plan_members.c.plan_id == plan_id, plan_members.c.user_id == user_id)
        )
        return result.rowcount == 1

    def count_role(self, plan_id: str, role: PlanRole) -> int:
        query = (
            select(func.count())
            .select_from(plan_members)
            .where(plan_members.c.plan_id == plan_id, plan_members.c.role == role.value)
        )
        return int(self._conn.execute(query).scalar_one())


def _entry(row: Mapping[str, Any]) -> ActivityEntry:
    return ActivityEntry(
        id=row["id"],
        plan_id=row["plan_id"],
        occurred_at=utc(row["occurred_at"]),
        actor=row["actor"],
        kind=ActivityKind(row["kind"]),
        subject=row["subject"],
        before=row["before"],
        after=row["after"],
    )


class SqlActivityLog:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def append(self, entry: ActivityEntry) -> None:
        self._conn.execute(
            plan_activity.insert().values(
                id=entry.id,
                plan_id=entry.plan_id,
                occurred_at=utc(entry.occurred_at),
                actor=entry.actor,
                kind=entry.kind.value,
                subject=entry.subject,
                before=entry.before,
                after=entry.after,
            )
        )

    def page(self, plan_id: str, after: str | None, limit: int) -> list[ActivityEntry]:
        query = (
            select(plan_activity)
            .where(plan_activity.c.plan_id == plan_id)
            .order_by(plan_activity.c.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(plan_activity.c.id < after)
        return [_entry(r) for r in self._conn.execute(query).mappings()]

    def count(self, plan_id: str) -> int:
        query = select(func.count()).select_from(plan_activity).where(plan_activity.c.plan_id == plan_id)
        return int(self._conn.execute(query).scalar_one())

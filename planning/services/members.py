"""Plan membership: who may see and change a plan (``planning.access``), and the record of it.

Every change of a membership is kept in the plan's record of access (who, when, before and
after) and announced in the outbox (``MEMBER_*``), in the transaction of the change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from planning.access import Caller, Permission, access_of, forget, principal_of, require_in
from planning.commands import AddPlanMember, RemovePlanMember, UpdatePlanMember
from planning.errors import DomainError, ErrorCode, invalid, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.model.membership import ActivityEntry, ActivityKind, PlanMember, PlanRole, clean_user_id
from planning.ports import IdGenerator, UnitOfWork
from planning.principal import Principal
from planning.services.base import Page, ServiceDeps

_EVENT_OF = {
    ActivityKind.MEMBER_ADDED: PlanEventKind.MEMBER_ADDED,
    ActivityKind.MEMBER_UPDATED: PlanEventKind.MEMBER_UPDATED,
    ActivityKind.MEMBER_REMOVED: PlanEventKind.MEMBER_REMOVED,
}

LAST_OWNER = "a plan keeps at least one OWNER: make another member OWNER first"


def record(
    uow: UnitOfWork,
    ids: IdGenerator,
    *,
    plan_id: str,
    actor: str,
    kind: ActivityKind,
    subject: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime,
) -> ActivityEntry:
    """Keep a change in the plan's record; a change of access is also announced in the outbox
    (``MEMBER_*``). The Planner sync's entries are not: their changes carry their own events."""
    entry = ActivityEntry(
        id=ids.new_id(),
        plan_id=plan_id,
        occurred_at=at,
        actor=actor,
        kind=kind,
        subject=subject,
        before=before,
        after=after,
    )
    uow.activity.append(entry)
    if kind not in _EVENT_OF:
        return entry
    uow.outbox.append(
        PlanEvent(
            plan_id,
            _EVENT_OF[kind],
            entry.id,
            at,
            {"userId": subject, "actor": actor, "before": before, "after": after},
        )
    )
    return entry


def enrol_owner(uow: UnitOfWork, ids: IdGenerator, *, plan_id: str, user_id: str, by: str, at: datetime) -> PlanMember:
    """Make ``user_id`` the first OWNER of a plan being created (in its transaction)."""
    member = PlanMember(plan_id, clean_user_id(user_id, "owner"), PlanRole.OWNER, at, by)
    uow.members.add(member)
    record(
        uow,
        ids,
        plan_id=plan_id,
        actor=by,
        kind=ActivityKind.MEMBER_ADDED,
        subject=member.user_id,
        before=None,
        after=member.snapshot(),
        at=at,
    )
    return member


class MemberService:
    """Owners (and admins) add, change and remove a plan's members; the last OWNER stays."""

    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    def add(self, cmd: AddPlanMember, caller: Caller) -> PlanMember:
        principal = principal_of(caller)
        user_id = clean_user_id(cmd.user_id, "input", "userId")
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            self._managed(uow, principal, cmd.plan_id)
            existing = uow.members.get(cmd.plan_id, user_id)
            if existing is not None:
                raise DomainError(
                    ErrorCode.DUPLICATE,
                    f"{user_id} is a member already ({existing.role.value}); updatePlanMember changes a role",
                    ("input", "userId"),
                )
            member = PlanMember(cmd.plan_id, user_id, cmd.role, now, principal.user_id)
            uow.members.add(member)
            self._record(
                uow,
                principal,
                cmd.plan_id,
                ActivityKind.MEMBER_ADDED,
                subject=user_id,
                before=None,
                after=member,
                at=now,
            )
            uow.commit()
        forget(caller, cmd.plan_id)
        return member

    def update(self, cmd: UpdatePlanMember, caller: Caller) -> PlanMember:
        """Change a member's role; its present role changes nothing (and records nothing)."""
        principal = principal_of(caller)
        user_id = clean_user_id(cmd.user_id, "input", "userId")
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            self._managed(uow, principal, cmd.plan_id)
            member = self._member(uow, cmd.plan_id, user_id)
            if member.role is cmd.role:
                return member
            if member.role is PlanRole.OWNER:
                self._keep_an_owner(uow, cmd.plan_id, ("input", "role"))
            changed = PlanMember(member.plan_id, member.user_id, cmd.role, member.added_at, member.added_by)
            uow.members.set_role(cmd.plan_id, user_id, cmd.role)
            self._record(
                uow,
                principal,
                cmd.plan_id,
                ActivityKind.MEMBER_UPDATED,
                subject=user_id,
                before=member,
                after=changed,
                at=now,
            )
            uow.commit()
        forget(caller, cmd.plan_id)
        return changed

    def remove(self, cmd: RemovePlanMember, caller: Caller) -> PlanMember:
        """Remove a member (an owner may leave, unless it is the last); answers the membership as it was."""
        principal = principal_of(caller)
        user_id = clean_user_id(cmd.user_id, "input", "userId")
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            self._managed(uow, principal, cmd.plan_id)
            member = self._member(uow, cmd.plan_id, user_id)
            if member.role is PlanRole.OWNER:
                self._keep_an_owner(uow, cmd.plan_id, ("input", "userId"))
            uow.members.remove(cmd.plan_id, user_id)
            self._record(
                uow,
                principal,
                cmd.plan_id,
                ActivityKind.MEMBER_REMOVED,
                subject=user_id,
                before=member,
                after=None,
                at=now,
            )
            uow.commit()
        forget(caller, cmd.plan_id)
        return member

    @staticmethod
    def _managed(uow: UnitOfWork, principal: Principal, plan_id: str) -> None:
        """Lock the plan (membership changes of one plan take turns, so that two owners removing
        each other cannot leave it without one) once the caller may manage it."""
        missing = not_found("plan", plan_id, "input", "planId")
        require_in(uow, principal, plan_id, Permission.MANAGE, missing)
        if uow.plans.lock(plan_id) is None:
            raise missing

    @staticmethod
    def _member(uow: UnitOfWork, plan_id: str, user_id: str) -> PlanMember:
        member = uow.members.get(plan_id, user_id)
        if member is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"{user_id} is not a member of the plan", ("input", "userId"))
        return member

    @staticmethod
    def _keep_an_owner(uow: UnitOfWork, plan_id: str, field: tuple[str, ...]) -> None:
        if uow.members.count_role(plan_id, PlanRole.OWNER) <= 1:
            raise invalid(LAST_OWNER, *field)

    def _record(
        self,
        uow: UnitOfWork,
        principal: Principal,
        plan_id: str,
        kind: ActivityKind,
        *,
        subject: str,
        before: PlanMember | None,
        after: PlanMember | None,
        at: datetime,
    ) -> None:
        record(
            uow,
            self._deps.ids,
            plan_id=plan_id,
            actor=principal.user_id,
            kind=kind,
            subject=subject,
            before=before.snapshot() if before else None,
            after=after.snapshot() if after else None,
            at=at,
        )

    # Reads

    def for_plans(self, caller: Caller, plan_ids: Sequence[str]) -> list[list[PlanMember]]:
        """Each plan's members, in the order they were added; none for a plan the caller may not read."""
        access = access_of(caller, self._deps.uow)
        readable = access.readable(plan_ids)
        if not readable:
            return [[] for _ in plan_ids]
        with self._deps.uow() as uow:
            found = uow.members.for_plans(sorted(readable))
        by_plan: dict[str, list[PlanMember]] = defaultdict(list)
        for member in found:
            by_plan[member.plan_id].append(member)
        return [by_plan.get(p, []) for p in plan_ids]

    def roles(self, caller: Caller, plan_ids: Sequence[str]) -> list[PlanRole | None]:
        """The caller's own role on each plan (None where it is no member, admins included)."""
        roles = access_of(caller, self._deps.uow).roles(plan_ids)
        return [roles[p] for p in plan_ids]

    def activity(self, caller: Caller, plan_id: str, after: str | None, limit: int) -> Page[ActivityEntry]:
        """The plan's record of access, newest first; for its owners and admins only."""
        self._require_manage(caller, plan_id)
        with self._deps.uow() as uow:
            return Page.of(uow.activity.page(plan_id, after, limit + 1), limit)

    def activity_count(self, caller: Caller, plan_id: str) -> int:
        self._require_manage(caller, plan_id)
        with self._deps.uow() as uow:
            return uow.activity.count(plan_id)

    def _require_manage(self, caller: Caller, plan_id: str) -> None:
        access_of(caller, self._deps.uow).require(plan_id, Permission.MANAGE, not_found("plan", plan_id))

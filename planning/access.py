"""Who may see and change what: the one access rule, which every service read and write asks.

Groups (``planning.principal.Role``) say what a caller may do outside any plan:

- ``admin`` reads and changes every plan, and manages any plan's members;
- ``planner`` may create plans, and owns each plan it creates;
- ``viewer`` (or no group) may create nothing.

Roles (``PlanRole``) say what a member may do on one plan:

- ``VIEWER`` reads the plan and everything in it (``READ``);
- ``EDITOR`` also changes its tasks, dependencies, external events and simulations (``EDIT``);
- ``OWNER`` also manages its members, reads its record of access, and changes or deletes the
  plan itself (``MANAGE``).

A caller who may not read a plan gets the answer a missing id gets (``NOT_FOUND``, or null):
nothing tells it that the plan, or anything in it, exists. A caller who may read a plan but not
do what it asked gets ``FORBIDDEN``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from planning.errors import DomainError, ErrorCode
from planning.model.membership import PlanRole
from planning.principal import Principal, Role

if TYPE_CHECKING:
    from planning.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "Access",
    "Caller",
    "Permission",
    "PlanRole",
    "RoleLookup",
    "access_in",
    "access_of",
    "allows",
    "forget",
    "is_admin",
    "listing_scope",
    "may_create_plans",
    "principal_of",
    "require",
    "require_create",
    "require_in",
]


class Permission(StrEnum):
    READ = "READ"
    EDIT = "EDIT"
    MANAGE = "MANAGE"


#: What each role may do on its plan.
GRANTS: Mapping[PlanRole, frozenset[Permission]] = {
    PlanRole.VIEWER: frozenset({Permission.READ}),
    PlanRole.EDITOR: frozenset({Permission.READ, Permission.EDIT}),
    PlanRole.OWNER: frozenset({Permission.READ, Permission.EDIT, Permission.MANAGE}),
}

_NEEDS = {
    Permission.READ: "a member of the plan",
    Permission.EDIT: "an EDITOR or OWNER of the plan",
    Permission.MANAGE: "an OWNER of the plan",
}
_DOES = {
    Permission.READ: "read",
    Permission.EDIT: "change",
    Permission.MANAGE: "manage",
}


def is_admin(principal: Principal) -> bool:
    return Role.ADMIN.value in principal.groups


def may_create_plans(principal: Principal) -> bool:
    """Group ``admin`` or ``planner``; ``viewer``, no group and anonymous callers may not."""
    return bool(principal.groups & {Role.ADMIN.value, Role.PLANNER.value})


def allows(principal: Principal, role: PlanRole | None, permission: Permission) -> bool:
    """Whether ``principal``, whose role on a plan is ``role`` (None: not a member), may."""
    if is_admin(principal):
        return True
    return role is not None and permission in GRANTS[role]


def require(principal: Principal, role: PlanRole | None, permission: Permission, missing: DomainError) -> None:
    """Let ``principal`` (of ``role`` on the plan) do what needs ``permission``, or refuse:
    ``missing`` — the very error of an id that does not exist — when it may not even read the
    plan, ``FORBIDDEN`` when it may read it but not this."""
    if allows(principal, role, permission):
        return
    if not allows(principal, role, Permission.READ):
        raise missing
    raise DomainError(
        ErrorCode.FORBIDDEN,
        f"{principal.user_id} may read this plan but not {_DOES[permission]} it "
        f"(that needs {_NEEDS[permission]}, or group admin)",
    )


def require_in(
    uow: UnitOfWork, principal: Principal, plan_id: str, permission: Permission, missing: DomainError
) -> None:
    """``require`` with the caller's role read in the unit of work of the change it guards."""
    role = None if is_admin(principal) else uow.members.role_of(plan_id, principal.user_id)
    require(principal, role, permission, missing)


def require_create(principal: Principal) -> None:
    if not may_create_plans(principal):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            f"{principal.user_id} may not create plans (that needs group admin or planner)",
        )


#: Reads a user's roles on some plans: only the plans it is a member of are in the answer.
RoleLookup = Callable[[str, Sequence[str]], Mapping[str, PlanRole]]

T = TypeVar("T")


class Access:
    """What one caller may do, its role on each plan read at most once: one per request.

    The services take a caller as a ``Principal`` or as an ``Access``; a request hands every
    service the same ``Access``, so that deciding which of a thousand tasks it may see costs one
    read of its memberships. Reads decide with it; writes decide again in their own transaction
    (``require_in``) and tell it what they changed (``forget``).
    """

    def __init__(self, principal: Principal, lookup: RoleLookup) -> None:
        self.principal = principal
        self._lookup = lookup
        self._roles: dict[str, PlanRole | None] = {}

    @property
    def is_admin(self) -> bool:
        return is_admin(self.principal)

    def roles(self, plan_ids: Iterable[str]) -> dict[str, PlanRole | None]:
        """The caller's role on each plan (None where it is no member)."""
        wanted = list(dict.fromkeys(plan_ids))
        unknown = [p for p in wanted if p not in self._roles]
        if unknown:
            found = self._lookup(self.principal.user_id, unknown)
            for plan_id in unknown:
                self._roles[plan_id] = found.get(plan_id)
        return {p: self._roles[p] for p in wanted}

    def role(self, plan_id: str) -> PlanRole | None:
        return self.roles([plan_id])[plan_id]

    def can(self, plan_id: str, permission: Permission = Permission.READ) -> bool:
        if self.is_admin:
            return True
        return allows(self.principal, self.role(plan_id), permission)

    def readable(self, plan_ids: Iterable[str]) -> set[str]:
        """Those of ``plan_ids`` the caller may read."""
        ids = list(plan_ids)
        if self.is_admin:
            return set(ids)
        return {p for p, role in self.roles(ids).items() if allows(self.principal, role, Permission.READ)}

    def visible(self, found: Sequence[T | None], plan_of: Callable[[T], str]) -> list[T | None]:
        """``found`` with None in place of what lies in a plan the caller may not read."""
        readable = self.readable(plan_of(item) for item in found if item is not None)
        return [item if item is not None and plan_of(item) in readable else None for item in found]

    def require(self, plan_id: str, permission: Permission, missing: DomainError) -> None:
        require(self.principal, None if self.is_admin else self.role(plan_id), permission, missing)

    def forget(self, plan_id: str) -> None:
        """The caller's role on the plan changed (or the plan is new or gone): read it again."""
        self._roles.pop(plan_id, None)


#: Who a service acts for: a principal, or a request's ``Access`` of one.
Caller = Principal | Access


def principal_of(caller: Caller) -> Principal:
    return caller.principal if isinstance(caller, Access) else caller


def access_of(caller: Caller, uow: UnitOfWorkFactory) -> Access:
    """The caller's ``Access``: its own when it is one, else a new one reading the store."""
    if isinstance(caller, Access):
        return caller
    return Access(caller, store_lookup(uow))


def forget(caller: Caller, plan_id: str) -> None:
    """Tell the caller's ``Access`` (if it is one) that its role on the plan may have changed."""
    if isinstance(caller, Access):
        caller.forget(plan_id)


def listing_scope(principal: Principal) -> str | None:
    """Whose memberships bound a list of plans: None for admins (every plan), else the caller's
    user id. Every role grants ``READ``, so a plan the caller is a member of is one it may read."""
    return None if is_admin(principal) else principal.user_id


def access_in(uow: UnitOfWork, principal: Principal) -> Access:
    """An ``Access`` that reads the caller's roles in ``uow``: the transaction of a change."""
    return Access(principal, uow.members.roles_of)


def store_lookup(uow: UnitOfWorkFactory) -> RoleLookup:
    def lookup(user_id: str, plan_ids: Sequence[str]) -> Mapping[str, PlanRole]:
        with uow() as work:
            return work.members.roles_of(user_id, plan_ids)

    return lookup

"""The access rule (planning.access) on its own: groups, roles, permissions, and the per-request Access."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from planning.access import (
    GRANTS,
    Access,
    Permission,
    access_of,
    allows,
    forget,
    listing_scope,
    may_create_plans,
    principal_of,
    require,
    require_create,
)
from planning.errors import DomainError, ErrorCode, not_found
from planning.model.membership import PlanRole
from planning.principal import ANONYMOUS, Principal

ADMIN = Principal("ada@example.com", frozenset({"admin"}))
PLANNER = Principal("pat@example.com", frozenset({"planner"}))
VIEWER = Principal("vera@example.com", frozenset({"viewer"}))
NOBODY = Principal("nina@example.com", frozenset())


class FakeMemberships:
    """Roles by (plan, user), counting the lookups the Access makes."""

    def __init__(self, roles: Mapping[tuple[str, str], PlanRole]) -> None:
        self.roles = dict(roles)
        self.lookups: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, user_id: str, plan_ids: Sequence[str]) -> Mapping[str, PlanRole]:
        self.lookups.append((user_id, tuple(plan_ids)))
        return {p: self.roles[(p, user_id)] for p in plan_ids if (p, user_id) in self.roles}


# What each role may do


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, set()),
        (PlanRole.VIEWER, {Permission.READ}),
        (PlanRole.EDITOR, {Permission.READ, Permission.EDIT}),
        (PlanRole.OWNER, {Permission.READ, Permission.EDIT, Permission.MANAGE}),
    ],
)
@pytest.mark.parametrize("principal", [PLANNER, VIEWER, NOBODY, ANONYMOUS])
def test_a_member_may_what_its_role_grants_whatever_its_groups(
    principal: Principal, role: PlanRole | None, expected: set[Permission]
) -> None:
    assert {p for p in Permission if allows(principal, role, p)} == expected


@pytest.mark.parametrize("role", [None, PlanRole.VIEWER, PlanRole.EDITOR, PlanRole.OWNER])
def test_admins_may_everything_on_every_plan(role: PlanRole | None) -> None:
    assert all(allows(ADMIN, role, p) for p in Permission)


def test_every_role_may_read_so_a_members_plans_are_the_plans_it_may_read() -> None:
    assert all(Permission.READ in granted for granted in GRANTS.values())
    assert set(GRANTS) == set(PlanRole)
    assert listing_scope(ADMIN) is None
    assert listing_scope(PLANNER) == PLANNER.user_id
    assert listing_scope(ANONYMOUS) == ANONYMOUS.user_id


# Refusals: NOT_FOUND where the plan may not be read, FORBIDDEN where it may


def test_a_caller_who_may_not_read_gets_the_error_of_a_missing_id() -> None:
    missing = not_found("task", "t1", "input", "id")
    with pytest.raises(DomainError) as exc:
        require(PLANNER, None, Permission.EDIT, missing)
    assert exc.value is missing


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        (PlanRole.VIEWER, Permission.EDIT),
        (PlanRole.VIEWER, Permission.MANAGE),
        (PlanRole.EDITOR, Permission.MANAGE),
    ],
)
def test_a_reader_who_may_not_do_gets_forbidden_naming_who_and_what(role: PlanRole, permission: Permission) -> None:
    with pytest.raises(DomainError) as exc:
        require(VIEWER, role, permission, not_found("plan", "p1"))
    assert exc.value.code is ErrorCode.FORBIDDEN
    assert VIEWER.user_id in exc.value.message
    assert "OWNER" in exc.value.message
    assert "admin" in exc.value.message


def test_what_the_role_grants_passes() -> None:
    assert require(VIEWER, PlanRole.EDITOR, Permission.EDIT, not_found("plan", "p1")) is None
    assert require(ADMIN, None, Permission.MANAGE, not_found("plan", "p1")) is None


def test_only_admins_and_planners_may_create_plans() -> None:
    assert may_create_plans(ADMIN)
    assert may_create_plans(PLANNER)
    for principal in (VIEWER, NOBODY, ANONYMOUS):
        assert not may_create_plans(principal)
        with pytest.raises(DomainError) as exc:
            require_create(principal)
        assert exc.value.code is ErrorCode.FORBIDDEN
        assert principal.user_id in exc.value.message
    assert require_create(PLANNER) is None


# The per-request Access


def test_access_reads_each_plans_role_once() -> None:
    memberships = FakeMemberships({("p1", PLANNER.user_id): PlanRole.OWNER, ("p2", PLANNER.user_id): PlanRole.VIEWER})
    access = Access(PLANNER, memberships)
    assert access.roles(["p1", "p2", "p3", "p1"]) == {"p1": PlanRole.OWNER, "p2": PlanRole.VIEWER, "p3": None}
    assert access.can("p1", Permission.MANAGE)
    assert access.can("p2")
    assert not access.can("p2", Permission.EDIT)
    assert not access.can("p3")
    assert access.readable(["p3", "p2", "p1"]) == {"p1", "p2"}
    assert memberships.lookups == [(PLANNER.user_id, ("p1", "p2", "p3"))]
    access.roles(["p2", "p4"])
    assert memberships.lookups[-1] == (PLANNER.user_id, ("p4",))


def test_access_forgets_a_plan_whose_membership_changed() -> None:
    memberships = FakeMemberships({})
    access = Access(PLANNER, memberships)
    assert not access.can("p1")
    memberships.roles[("p1", PLANNER.user_id)] = PlanRole.EDITOR
    assert not access.can("p1")  # read once a request
    forget(access, "p1")
    assert access.can("p1", Permission.EDIT)
    forget(PLANNER, "p1")  # a bare principal keeps nothing to forget


def test_admins_need_no_lookup_to_read_and_change() -> None:
    memberships = FakeMemberships({})
    access = Access(ADMIN, memberships)
    assert access.can("p1", Permission.MANAGE)
    assert access.readable(["p1", "p2"]) == {"p1", "p2"}
    assert memberships.lookups == []
    assert access.role("p1") is None  # an admin who is no member has no role


def test_visible_drops_what_lies_in_plans_the_caller_may_not_read() -> None:
    access = Access(VIEWER, FakeMemberships({("mine", VIEWER.user_id): PlanRole.VIEWER}))
    found = [("a", "mine"), None, ("b", "theirs"), ("c", "mine")]
    assert access.visible(found, lambda item: item[1]) == [("a", "mine"), None, None, ("c", "mine")]


def test_access_require_refuses_as_the_rule_does() -> None:
    access = Access(VIEWER, FakeMemberships({("mine", VIEWER.user_id): PlanRole.VIEWER}))
    missing = not_found("plan", "theirs")
    with pytest.raises(DomainError) as exc:
        access.require("theirs", Permission.READ, missing)
    assert exc.value is missing
    with pytest.raises(DomainError) as exc:
        access.require("mine", Permission.EDIT, not_found("plan", "mine"))
    assert exc.value.code is ErrorCode.FORBIDDEN
    assert access.require("mine", Permission.READ, not_found("plan", "mine")) is None


def test_a_caller_is_a_principal_or_its_access() -> None:
    access = Access(PLANNER, FakeMemberships({}))
    assert principal_of(access) is PLANNER
    assert principal_of(PLANNER) is PLANNER
    assert access_of(access, uow=lambda: None) is access  # type: ignore[arg-type,return-value]
    made = access_of(PLANNER, uow=lambda: None)  # type: ignore[arg-type,return-value]
    assert made.principal is PLANNER
    assert made is not access


def test_anonymous_may_see_and_change_nothing() -> None:
    access = Access(ANONYMOUS, FakeMemberships({}))
    assert not access.can("p1")
    assert access.readable(["p1"]) == set()
    assert not may_create_plans(ANONYMOUS)

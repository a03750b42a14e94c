"""Development identity headers: ``X-Planner-User`` and ``X-Planner-Groups``, trusted only where
the settings allow it (never in production)."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.identity.tokens import MAX_GROUPS, MAX_USER_CHARS
from planning.ports.identity import Unauthenticated
from planning.principal import Principal

USER_HEADER = "x-planner-user"
GROUPS_HEADER = "x-planner-groups"


def header_principal(headers: Mapping[str, str]) -> Principal | None:
    """The caller the headers name, or None when they name nobody.

    A user without ``X-Planner-Groups`` is in no group (not ``admin``); groups without a user
    name nobody and are refused rather than ignored.
    """
    user = headers.get(USER_HEADER, "").strip()
    groups_value = headers.get(GROUPS_HEADER)
    if not user:
        if groups_value is not None and groups_value.strip():
            raise Unauthenticated(f"{GROUPS_HEADER} needs {USER_HEADER}: say who is in those groups")
        return None
    if len(user) > MAX_USER_CHARS:
        raise Unauthenticated(f"{USER_HEADER} is over {MAX_USER_CHARS} characters")
    groups = frozenset(g.strip().lower() for g in (groups_value or "").split(",") if g.strip())
    if len(groups) > MAX_GROUPS:
        raise Unauthenticated(f"{GROUPS_HEADER} names over {MAX_GROUPS} groups")
    return Principal(user, groups)

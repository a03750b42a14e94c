from __future__ import annotations

from collections.abc import Mapping

from planning.principal import Principal

USER_HEADER = "x-planner-user"
GROUPS_HEADER = "x-planner-groups"


class HeaderIdentity:
    """The local server's identity source: a development default, or request headers.

    Headers are trusted only where the setting allows it (never in production): they let a
    developer act as a ``viewer`` or ``planner`` without an identity provider.
    """

    def __init__(self, default: Principal, *, trust_headers: bool) -> None:
        self._default = default
        self._trust_headers = trust_headers

    def principal(self, claims: Mapping[str, str]) -> Principal:
        if not self._trust_headers:
            return self._default
        user = claims.get(USER_HEADER, "").strip() or self._default.user_id
        groups_value = claims.get(GROUPS_HEADER)
        if groups_value is None:
            return Principal(user, self._default.groups)
        groups = frozenset(g.strip().lower() for g in groups_value.split(",") if g.strip())
        return Principal(user, groups)

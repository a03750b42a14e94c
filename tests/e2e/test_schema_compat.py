"""The committed schema against the last released one: a break must be acknowledged."""

from __future__ import annotations

from pathlib import Path

from graphql import BreakingChange, build_schema, find_breaking_changes

from schema.export import SCHEMA_DIR

RELEASED = SCHEMA_DIR / "released" / "schema.graphql"
ALLOWED = SCHEMA_DIR / "released" / "allowed_breaks.txt"


def described(change: BreakingChange) -> str:
    return f"{change.type.name}: {change.description}"


def acknowledged(path: Path) -> set[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def breaks(old_sdl: str, new_sdl: str) -> list[str]:
    return sorted(described(c) for c in find_breaking_changes(build_schema(old_sdl), build_schema(new_sdl)))


def test_committed_schema_breaks_nothing_the_release_had_unless_acknowledged() -> None:
    found = breaks(RELEASED.read_text(encoding="utf-8"), (SCHEMA_DIR / "schema.graphql").read_text(encoding="utf-8"))
    unacknowledged = [b for b in found if b not in acknowledged(ALLOWED)]
    assert unacknowledged == [], "breaking changes: acknowledge them in schema/released/allowed_breaks.txt"


def test_allow_list_names_only_breaks_that_exist() -> None:
    """An acknowledgement outlives its break otherwise, and would let a new one of the same text by."""
    released = RELEASED.read_text(encoding="utf-8")
    found = set(breaks(released, (SCHEMA_DIR / "schema.graphql").read_text(encoding="utf-8")))
    assert acknowledged(ALLOWED) <= found


def test_the_finder_sees_a_removed_field_and_a_narrowed_argument() -> None:
    old = "type Query { plan(id: ID): Plan  plans: [Plan] }\ntype Plan { id: ID!  name: String }"
    new = "type Query { plan(id: ID!): Plan }\ntype Plan { id: ID! }"
    found = breaks(old, new)
    assert found == [
        "ARG_CHANGED_KIND: Argument Query.plan(id:) has changed type from ID to ID!.",
        "FIELD_REMOVED: Field Plan.name was removed.",
        "FIELD_REMOVED: Field Query.plans was removed.",
    ]

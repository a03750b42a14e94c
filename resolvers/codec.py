"""Parents as JSON: the hidden half of the one codec between domain objects and resolver JSON.

On AppSync, a child field's resolver gets the JSON that its parent's resolver answered (the
event's ``source``), not a Python object. That JSON is the GraphQL shape of the parent
(``schema.json_codec`` writes it) plus one hidden key, ``_domain``: the parent object itself, by
its class name and its fields, so that a resolver reads its parent as the domain object it was
(``plan_id``, ``affected_task_ids``, a simulation's raw result…) whichever runtime calls it.

Only the types that are parents of a resolver carry it (``PARENT_TYPES``); other values are
plain GraphQL JSON. Values are written the way JSON can hold them and read back by the
dataclass's type hints: dates and datetimes in ISO 8601, enums by member name, tuples and
frozensets as lists (frozensets sorted), nested dataclasses as objects.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any

from planning.model import Dependency, ExternalEvent, Plan, Task
from planning.model.action import ProposedAction
from planning.model.membership import ActivityEntry
from planning.model.simulation import Simulation
from resolvers.members import Me
from resolvers.simulations import TaskShare

#: The key of a parent's JSON that holds the domain object; AppSync never shows it to clients.
HIDDEN_KEY = "_domain"

#: Every class whose instances are parents of a field resolver, by the name their JSON carries.
PARENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Plan, Task, Dependency, ExternalEvent, Simulation, ProposedAction, ActivityEntry, Me, TaskShare)
}


def hidden(value: object) -> dict[str, Any] | None:
    """The hidden part of ``value``'s JSON: None for a value that is no resolver's parent."""
    name = type(value).__name__
    if PARENT_TYPES.get(name) is not type(value):
        return None
    return {"type": name, "fields": _plain(value)}


def parent_of(source: Any) -> Any:
    """The domain object behind a parent's JSON; any other source (None, an object) as it is."""
    if not isinstance(source, dict) or HIDDEN_KEY not in source:
        return source
    data = source[HIDDEN_KEY]
    if not isinstance(data, dict) or data.get("type") not in PARENT_TYPES:
        raise ValueError("the parent's JSON does not name a known type")
    return _read(PARENT_TYPES[data["type"]], data.get("fields"))


def round_trip(value: Any) -> Any:
    """``value`` written as its JSON and read back: what a resolver's parent is on AppSync."""
    data = hidden(value)
    return value if data is None else parent_of({HIDDEN_KEY: data})


def _plain(value: Any) -> Any:
    simple = _SIMPLE.get(type(value))
    if simple is not None:
        return simple(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # A field typed Any holds JSON already (an event's payload, checked by the model): kept
        # as it is, not walked (it may nest deeper than the interpreter's recursion limit).
        return {
            name: getattr(value, name) if as_is else _plain(getattr(value, name))
            for name, as_is in _fields_of(type(value))
        }
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _same(value: Any) -> Any:
    return value


def _iso(value: date) -> str:
    return value.isoformat()


#: Exact types written without the checks below (a subclass, such as a StrEnum, takes them).
_SIMPLE: dict[type, Any] = {
    str: _same,
    int: _same,
    float: _same,
    bool: _same,
    type(None): _same,
    date: _iso,
    datetime: _iso,
}


@cache
def _fields_of(cls: type) -> tuple[tuple[str, bool], ...]:
    """A dataclass's fields, each with whether it is typed Any (written as it is)."""
    hints = _hints(cls)
    return tuple((f.name, hints[f.name] is Any) for f in dataclasses.fields(cls))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _read(hint: Any, value: Any) -> Any:
    """``value`` (from ``_plain``) as the type ``hint`` says."""
    if value is None:
        return value
    return _reader(hint)(value)


@cache
def _reader(hint: Any) -> Callable[[Any], Any]:
    """How ``_read`` reads a value that is not None as ``hint``: worked out once per type hint."""
    if hint is Any:
        return _same
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _reader(options[0]) if len(options) == 1 else _same
    if origin in (tuple, list, frozenset, set):
        item = typing.get_args(hint)[0] if typing.get_args(hint) else Any
        return lambda value: origin(_read(item, v) for v in value)
    if origin is dict:
        return dict
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return lambda value: hint[value]
        if issubclass(hint, datetime):
            return datetime.fromisoformat
        if issubclass(hint, date):
            return date.fromisoformat
        if hint is float:
            return float
        if dataclasses.is_dataclass(hint):
            return _dataclass_reader(hint)
    return _same


def _dataclass_reader(cls: type) -> Callable[[Any], Any]:
    # Its fields' hints are read on first use: a dataclass may refer to itself.
    known: list[tuple[tuple[str, Callable[[Any], Any]], ...]] = []

    def read(value: Any) -> Any:
        if not known:
            hints = _hints(cls)
            known.append(tuple((f.name, _reader(hints[f.name])) for f in dataclasses.fields(cls)))
        fields = {}
        for name, reader in known[0]:
            if name in value:
                item = value[name]
                fields[name] = None if item is None else reader(item)
        return cls(**fields)

    return read

"""``column IN (values)`` whose SQL text does not change with the number of values, on PostgreSQL.

SQLAlchemy renders ``in_()`` with one bound parameter per value, so a list of 100 ids and a list
of 101 are two statements: each compiled again, converted again by psycopg and planned again by
the server. Profiled under `make load`, that was about a tenth of a request's CPU. On PostgreSQL
``one_of`` sends the values as one array parameter (``column = ANY(:values)``), the same statement
for any number of them, which SQLAlchemy's compiled cache, psycopg's query cache and the server's
prepared statements then serve; elsewhere (SQLite) it is ``in_()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement


def one_of(conn: Connection, column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (each once: duplicates are dropped)."""
    distinct = list(dict.fromkeys(values))
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, distinct, type_=ARRAY(column.type)))
    return column.in_(distinct)

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from adapters.sql import create_store_engine, upgrade
from adapters.sql.tables import metadata


def test_migrations_build_exactly_the_declared_tables(database_url: str) -> None:
    """A table changed without a migration (or the reverse) fails here, on both stores."""
    engine = create_store_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert differences == []

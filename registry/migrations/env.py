"""Alembic environment: the engine comes from ``registry.db.alembic_config``.

On SQLite, foreign keys are switched off while the schema changes and checked
in full before the migration commits: batch mode rebuilds a table by copying
it, and SQLite would otherwise refuse to drop a table that others point at
(its documented procedure for schema changes). Any dangling reference left
behind rolls the whole migration back.
"""

from __future__ import annotations

from alembic import context

from registry.schema import metadata

config = context.config
engine = config.attributes["engine"]


def _pragma(connection, statement: str) -> list:  # type: ignore[no-untyped-def]
    """Outside any transaction: SQLite ignores ``PRAGMA foreign_keys`` inside one."""
    return connection.connection.driver_connection.execute(statement).fetchall()


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _pragma(connection, "PRAGMA foreign_keys = OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if dangling:
                    raise RuntimeError(f"the migration leaves dangling references: {dangling[:5]}")
        if connection.in_transaction():  # Alembic's last look at its version table
            connection.commit()
    finally:
        if sqlite:
            if connection.in_transaction():
                connection.rollback()
            _pragma(connection, "PRAGMA foreign_keys = ON")

"""Alembic owns the schema: it round-trips, matches the models, and guards versions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from registry import db
from registry.schema import metadata
from registry.search.models import SEARCH_INDEX_OBJECTS

from ..conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, make_database_url: Callable[[str], str]):
    engine = db.make_engine(make_database_url(request.param))
    yield engine
    engine.dispose()


def index_object(name: str | None) -> bool:
    """The backend's own search structures (FTS5 tables, trigram index): not in the models."""
    return bool(name) and name.startswith(SEARCH_INDEX_OBJECTS)


def tables(engine) -> set[str]:
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    return {n for n in names if not index_object(n)}


def test_upgrade_downgrade_upgrade(fresh_engine):
    db.upgrade(fresh_engine)
    assert db.current_revision(fresh_engine) == db.head_revision(fresh_engine)
    assert tables(fresh_engine) == set(metadata.tables)
    db.downgrade(fresh_engine, "base")
    assert tables(fresh_engine) == set()
    assert db.current_revision(fresh_engine) is None
    db.upgrade(fresh_engine)
    assert tables(fresh_engine) == set(metadata.tables)


def test_migrations_match_the_models(fresh_engine):
    db.upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, parents: not index_object(name),
            },
        )
        assert compare_metadata(context, metadata) == []


def test_upgrade_is_idempotent(fresh_engine):
    db.upgrade(fresh_engine)
    db.upgrade(fresh_engine)
    assert db.current_revision(fresh_engine) == db.head_revision(fresh_engine)


def test_a_database_newer_than_the_code_is_refused(fresh_engine):
    db.upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(db.SchemaTooNew, match=r"9999_future.*newer software"):
        db.upgrade(fresh_engine)
    assert db.current_revision(fresh_engine) == "9999_future"

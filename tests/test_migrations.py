"""The models and the Alembic migration heads agree, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from bot import migrate
from bot.db import Base
from bot.model_registry import load_all_models
from tests.conftest import fresh_pg_database


def _diff(url: str) -> list:
    load_all_models()
    migrate.upgrade(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return diff


def test_sqlite_models_match_migrations(tmp_path):
    assert _diff(f"sqlite:///{tmp_path / 'm.db'}") == []


@pytest.mark.postgres
def test_postgres_models_match_migrations():
    assert _diff(fresh_pg_database("advisor_migrations_test")) == []


def test_every_revision_is_reachable_and_heads_are_known(tmp_path):
    script = ScriptDirectory.from_config(migrate.alembic_config(f"sqlite:///{tmp_path / 'x.db'}"))
    revisions = list(script.walk_revisions())
    assert any(r.revision == "0001_foundation" for r in revisions)
    for rev in revisions:
        assert rev.down_revision is None or rev.revision != "0001_foundation"

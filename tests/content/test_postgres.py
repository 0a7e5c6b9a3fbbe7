"""The library and the embedding store on real PostgreSQL (database advisor_content_test)."""

import numpy as np
import pytest

from bot.clock import ManualClock
from bot.db import make_engine, make_session_factory
from bot.migrate import upgrade
from content.importer import import_path
from content.matcher import Matcher
from content.service import ContentService
from content.settings import ContentSettings
from content.sources import DatabaseSource

from .conftest import START

pytestmark = pytest.mark.postgres
SERVER = "postgresql://postgres@127.0.0.1:5432/"
NAME = "advisor_content_test"


@pytest.fixture
def pg_factory():
    psycopg = pytest.importorskip("psycopg")
    try:
        with psycopg.connect(SERVER + "postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {NAME}")
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    upgrade(SERVER + NAME)
    engine = make_engine(SERVER + NAME)
    yield make_session_factory(engine)
    engine.dispose()


class FakeEmbedder:
    kind, key, dim = "use", "fake:hash", 8

    def encode(self, texts, *, query=False):
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(self.dim) for t in texts]
        matrix = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


def test_import_workflow_and_vector_store_on_postgres(pg_factory, tmp_path):
    clock = ManualClock(START)
    library = ContentService(pg_factory, clock)
    (tmp_path / "a.md").write_text("---\nid: faq-a\nkind: faq\ntitle: 怎么开户\nquestions: [手机开户]\n"
                                   "status: approved\n---\n在App开户。\n", encoding="utf-8")
    assert import_path(library, tmp_path, progress=False).created == 1
    assert import_path(library, tmp_path, progress=False).unchanged == 1
    generation = library.generation()
    v2 = library.edit_item("faq-a", "alice", body="在官方App开户。")
    library.submit(v2.id, "alice")
    library.approve(v2.id, "bob")
    assert library.generation() > generation
    source = DatabaseSource(library, pg_factory, clock)
    matcher = Matcher(source, ContentSettings(), clock, embedder=FakeEmbedder())
    assert matcher.refresh()["embedded"] == 1
    stored = source.load_vectors([v2.id], FakeEmbedder.key)
    assert stored[v2.id][1].shape == (2, 8)
    source.save_vectors([(v2.id, stored[v2.id][0], stored[v2.id][1])], FakeEmbedder.key)  # idempotent
    again = Matcher(source, ContentSettings(), clock, embedder=FakeEmbedder())
    assert again.refresh()["embedded"] == 0
    assert again.match("手机开户", k=1).candidates[0].version_id == v2.id

"""Where the matcher gets live content and stored vectors: the database, or memory (eval)."""

from __future__ import annotations

import logging
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from content.index import Document
from content.models import ContentEmbedding, ContentItem, ContentVersion

log = logging.getLogger(__name__)
StoredVectors = dict[int, tuple[str, np.ndarray]]  # version id -> (passage hash, vectors)


def document_from(item: ContentItem, version: ContentVersion) -> Document:
    return Document(version_id=version.id, item_id=item.id, slug=item.slug, kind=item.kind, title=version.title,
                    body=version.body, questions=tuple(version.questions or ()), valid_from=version.valid_from,
                    valid_until=version.valid_until, auto_reply_allowed=bool(version.auto_reply_allowed),
                    risk_level=version.risk_level)


class MemorySource:
    """A fixed library held in memory; nothing is persisted (``content eval``)."""

    def __init__(self, documents: list[Document]):
        self._documents = list(documents)
        self._generation = 1
        self._vectors: dict[tuple[int, str], tuple[str, np.ndarray]] = {}

    def generation(self) -> int:
        return self._generation

    def replace(self, documents: list[Document]) -> None:
        """A new set of live documents (as after an approval); matchers notice on their next search."""
        self._documents = list(documents)
        self._generation += 1

    def documents(self) -> list[Document]:
        return list(self._documents)

    def load_vectors(self, version_ids: list[int], backend: str) -> StoredVectors:
        return {vid: self._vectors[(vid, backend)] for vid in version_ids if (vid, backend) in self._vectors}

    def save_vectors(self, rows: list[tuple[int, str, np.ndarray]], backend: str) -> None:
        for vid, text_hash, vectors in rows:
            self._vectors[(vid, backend)] = (text_hash, vectors)


class DatabaseSource:
    """Live versions from the library; vectors in ``content_embedding`` keyed by (version, backend)."""

    def __init__(self, library, session_factory, clock, *, chunk: int = 500):
        self._library = library
        self._sessions = session_factory
        self._clock = clock
        self._chunk = chunk

    def generation(self) -> int:
        return self._library.generation()

    def documents(self) -> list[Document]:
        return [document_from(item, version) for item, version in self._library.live_versions()]

    def load_vectors(self, version_ids: list[int], backend: str) -> StoredVectors:
        out: StoredVectors = {}
        with self._sessions() as session:
            for start in range(0, len(version_ids), self._chunk):
                ids = version_ids[start:start + self._chunk]
                rows = session.execute(select(ContentEmbedding.version_id, ContentEmbedding.text_hash,
                                              ContentEmbedding.rows, ContentEmbedding.dim, ContentEmbedding.vectors)
                                       .where(ContentEmbedding.backend == backend,
                                              ContentEmbedding.version_id.in_(ids)))
                for vid, text_hash, n, dim, blob in rows:
                    out[vid] = (text_hash, np.frombuffer(blob, dtype=np.float32).reshape(n, dim))
        return out

    def save_vectors(self, rows: list[tuple[int, str, np.ndarray]], backend: str) -> None:
        """Store vectors; another process may have stored the same rows first, which is fine."""
        now = self._clock.now()
        for start in range(0, len(rows), self._chunk):
            batch = rows[start:start + self._chunk]
            try:
                with self._sessions.begin() as session:
                    existing = {r.version_id: r for r in session.scalars(
                        select(ContentEmbedding).where(ContentEmbedding.backend == backend,
                                                       ContentEmbedding.version_id.in_([b[0] for b in batch])))}
                    for vid, text_hash, vectors in batch:
                        if vid in existing:
                            session.delete(existing[vid])  # passages changed (code or model upgrade)
                            session.flush()
                        session.add(self._row(vid, text_hash, vectors, backend, now))
            except IntegrityError:
                log.info("content: embeddings stored concurrently by another process; skipped")

    @staticmethod
    def _row(version_id: int, text_hash: str, vectors: np.ndarray, backend: str, now: datetime) -> ContentEmbedding:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        return ContentEmbedding(version_id=version_id, backend=backend, text_hash=text_hash, rows=vectors.shape[0],
                                dim=vectors.shape[1], vectors=vectors.tobytes(), created_at=now)

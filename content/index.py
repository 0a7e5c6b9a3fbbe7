"""The in-memory search index over live content: BM25 over passages plus exact dense search.

A document (one live version) contributes passages: its title and each question phrasing. Search is
two-stage so it stays fast at 100k items: candidates come from the BM25 top passages and from the
dense top items by centroid (mean of the item's passage vectors); every candidate is then scored
exactly (best passage, lexically and densely) and the two scores are fused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from content.bm25 import BM25Index
from content.tokenize import fuzz, sound, syllables

_HAN_WORD = re.compile(r"[\u4e00-\u9fff]+")
_TITLE_PREFIX = re.compile(r"^[^｜|]{1,6}[｜|]\s*")


@dataclass(frozen=True)
class Document:
    version_id: int
    item_id: int
    slug: str
    kind: str
    title: str
    body: str = ""
    questions: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    auto_reply_allowed: bool = False
    risk_level: str | None = None

    def passages(self) -> list[str]:
        out = [_TITLE_PREFIX.sub("", self.title).strip() or self.title]
        for question in self.questions:
            if question not in out:
                out.append(question)
        return out

    def passage_hash(self) -> str:
        return hashlib.sha256("\n".join(self.passages()).encode()).hexdigest()


@dataclass
class Scored:
    doc: int
    lexical: float
    dense: float | None
    body: float
    lexical_passage: int
    dense_passage: int
    fused: float = 0.0
    terms: tuple[str, ...] = field(default_factory=tuple)


def _timestamps(values, default: float) -> np.ndarray:
    return np.array([v.timestamp() if v is not None else default for v in values], dtype=np.float64)


class SearchIndex:
    def __init__(self, docs: list[Document], tokens: list[list[tuple[str, ...]]],
                 vectors: list[np.ndarray] | None = None, body_tokens: list[tuple[str, ...]] | None = None,
                 *, bigrams: list[list[tuple[str, ...]]] | None = None, bigram_weight: float = 0.0,
                 reduce_above: int = 0, reduce_dims: int = 128):
        """``tokens[i]`` and ``vectors[i]`` hold the passages of ``docs[i]`` in order;
        ``body_tokens[i]`` the tokens of its body (a second, document-level lexical field);
        ``bigrams[i]`` the character bigrams of its passages (a second passage channel, blended into
        each passage's lexical score with ``bigram_weight``; used for rescoring, not the first stage)."""
        self.docs = docs
        counts = np.array([len(t) for t in tokens], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.owner = np.repeat(np.arange(len(docs), dtype=np.int32), counts)
        self.passage_tokens = [t for doc_tokens in tokens for t in doc_tokens]
        self.bm25 = BM25Index(self.passage_tokens)
        self.body_bm25 = BM25Index(body_tokens) if body_tokens is not None else None
        self.bigram_weight = bigram_weight if bigrams is not None else 0.0
        self.bigram_bm25 = BM25Index([b for doc in bigrams for b in doc]) if self.bigram_weight else None
        self.kinds = np.array([d.kind for d in docs], dtype=object)
        self.valid_from = _timestamps([d.valid_from for d in docs], -np.inf)
        self.valid_until = _timestamps([d.valid_until for d in docs], np.inf)
        self._kind_masks: dict[tuple[str, ...], np.ndarray] = {}
        self._sounds: dict[str, tuple[str, ...]] | None = None
        self._fuzzy_sounds: set[str] = set()
        self._pairs: set[str] | None = None
        self.passage_vectors = self.centroids = self.projection = None
        if vectors is not None and docs:
            # Passage vectors stay float16 (rescoring only gathers a few rows); centroids are float32.
            self.passage_vectors = np.vstack(vectors).astype(np.float16, copy=False)
            sums = np.add.reduceat(self.passage_vectors, self.starts[:-1], axis=0, dtype=np.float32)
            self.centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
            self.projection = None
            if reduce_above and len(docs) > reduce_above and reduce_dims < self.centroids.shape[1]:
                self._reduce(reduce_dims)

    def _reduce(self, dims: int) -> None:
        """First-stage dense search on a PCA projection of the centroids (fitted on a sample):
        a large library is scanned at a fraction of the cost; candidates are rescored exactly."""
        size = min(10_000, len(self.centroids))
        sample = self.centroids[np.random.default_rng(0).choice(len(self.centroids), size, replace=False)]
        _, _, vt = np.linalg.svd(sample - sample.mean(axis=0), full_matrices=False)
        self.projection = np.ascontiguousarray(vt[:dims].T, dtype=np.float32)
        self.reduced = np.ascontiguousarray(self.centroids @ self.projection)

    def first_stage_scores(self, query_vector: np.ndarray) -> np.ndarray:
        if self.projection is not None:
            return self.reduced @ (query_vector @ self.projection)
        return self.centroids @ query_vector

    def knows(self, token: str) -> bool:
        """Whether any passage or body of the library holds this token."""
        return token in self.bm25.idf or (self.body_bm25 is not None and token in self.body_bm25.idf)

    def knows_sound(self, token: str) -> bool:
        """Whether the library holds a word that sounds like this one (「陪股」「市营率」 for 配股, 市盈率):
        clients type by pinyin, so a homophone is a typo, not a new term. Sounds are fuzzy (see ``sound``)."""
        self._build_sounds()
        return sound(token) in self._fuzzy_sounds

    def words_for_sound(self, spoken: str) -> tuple[str, ...]:
        """The library's Chinese words of two to four characters with this exact toneless pinyin, commonest first."""
        self._build_sounds()
        return self._sounds.get(spoken, ())

    def _build_sounds(self) -> None:
        if self._sounds is not None:  # built on first use only
            return
        idf: dict[str, float] = {}
        for index in (self.bm25, self.body_bm25):
            for word, value in (index.idf.items() if index is not None else ()):
                if 2 <= len(word) <= 4 and _HAN_WORD.fullmatch(word):
                    idf[word] = min(value, idf.get(word, value))
        sounds: dict[str, list[str]] = {}
        fuzzy: set[str] = set()
        for word in sorted(idf, key=lambda w: (idf[w], w)):
            exact = syllables(word, fuzzy=False)
            fuzzy.add(" ".join(fuzz(s) for s in exact))
            if word in self.bm25.idf:  # respelling targets: words of titles and phrasings, not of bodies
                sounds.setdefault(" ".join(exact), []).append(word)
        self._fuzzy_sounds = fuzzy
        self._sounds = {k: tuple(v) for k, v in sounds.items()}

    def seen_pair(self, pair: str) -> bool:
        """Whether these two characters occur side by side anywhere in the library's text (titles, phrasings, bodies)."""
        if self._pairs is None:  # built on first use only
            pairs: set[str] = set()
            for doc in self.docs:
                for text in (*doc.passages(), doc.body):
                    pairs.update(text[i:i + 2] for i in range(len(text) - 1))
            self._pairs = pairs
        return pair in self._pairs

    @property
    def dense_ready(self) -> bool:
        return self.centroids is not None

    def eligible(self, now: datetime, kinds: tuple[str, ...] | None) -> np.ndarray:
        ts = now.timestamp()
        mask = (self.valid_from <= ts) & (ts < self.valid_until)
        if kinds:
            kind_mask = self._kind_masks.get(kinds)
            if kind_mask is None:
                kind_mask = self._kind_masks[kinds] = np.isin(self.kinds, list(kinds))
            mask &= kind_mask
        return mask

    def candidates(self, query_tokens: tuple[str, ...], query_vector: np.ndarray | None, mask: np.ndarray,
                   pool: int, query_bigrams: tuple[str, ...] = ()) -> list[Scored]:
        """Exact lexical and dense scores for the union of both first stages, eligible docs only."""
        docs: dict[int, None] = {}
        if query_tokens:
            pids, _ = self.bm25.search(query_tokens, pool * 4)
            for doc in self.owner[pids]:
                if mask[doc]:
                    docs.setdefault(int(doc))
                    if len(docs) >= pool:
                        break
        if query_tokens and self.body_bm25 is not None:
            found = 0
            for doc in self.body_bm25.search(query_tokens, pool * 2)[0]:
                if mask[doc]:
                    docs.setdefault(int(doc))
                    found += 1
                    if found >= pool:
                        break
        if query_vector is not None and self.dense_ready:
            scores = self.first_stage_scores(query_vector)
            scores[~mask] = -np.inf
            pool = pool * 2 if self.projection is not None else pool  # approximate stage: wider net
            limit = min(pool, int(mask.sum()))
            if limit > 0:
                top = np.argpartition(-scores, limit - 1)[:limit] if len(scores) > limit else np.arange(len(scores))
                for doc in top[np.isfinite(scores[top])]:
                    docs.setdefault(int(doc))
        return self._rescore(list(docs), query_tokens, query_vector, query_bigrams)

    def _rescore(self, docs: list[int], query_tokens, query_vector, query_bigrams=()) -> list[Scored]:
        """Best passage per doc, lexically and densely, vectorised over the candidates' passages."""
        if not docs:
            return []
        doc_arr = np.asarray(docs, dtype=np.int64)
        counts = self.starts[doc_arr + 1] - self.starts[doc_arr]
        seg = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pids = np.repeat(self.starts[doc_arr] - seg, counts) + np.arange(int(counts.sum()))
        lex = self.bm25.score_passages(query_tokens, pids) if query_tokens else np.zeros(len(pids), np.float32)
        if self.bigram_bm25 is not None and query_bigrams:
            g = self.bigram_weight
            lex = (1 - g) * lex + g * self.bigram_bm25.score_passages(query_bigrams, pids)
        body = np.zeros(len(docs), np.float32)
        if query_tokens and self.body_bm25 is not None:
            body = self.body_bm25.score_passages(query_tokens, doc_arr)
        lex_best, lex_at = _segment_max(lex, seg, counts)
        if query_vector is not None and self.dense_ready:
            dense = self.passage_vectors[pids].astype(np.float32) @ query_vector
            dense_best, dense_at = _segment_max(dense, seg, counts)
        else:
            dense_best, dense_at = [None] * len(docs), lex_at
        return [Scored(int(d), float(lex_best[i]), None if dense_best[i] is None else float(dense_best[i]),
                       float(body[i]), int(pids[lex_at[i]]), int(pids[dense_at[i]])) for i, d in enumerate(docs)]

    def passage_text(self, pid: int) -> str:
        doc = self.docs[int(self.owner[pid])]
        return doc.passages()[pid - int(self.starts[int(self.owner[pid])])]

    def memory_bytes(self) -> int:
        total = self.starts.nbytes + self.owner.nbytes + self.valid_from.nbytes * 2
        for index in (self.bm25, self.body_bm25, self.bigram_bm25):
            for ids, weights in (index.postings.values() if index is not None else ()):
                total += ids.nbytes + weights.nbytes
        if self.dense_ready:
            total += self.centroids.nbytes + self.passage_vectors.nbytes
            total += self.reduced.nbytes if self.projection is not None else 0
        return total


def _segment_max(values: np.ndarray, seg: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max of each contiguous segment and the index (into ``values``) where it occurs."""
    best = np.maximum.reduceat(values, seg)
    owner = np.repeat(np.arange(len(seg)), counts)
    hits = np.flatnonzero(values == best[owner])
    first = np.full(len(seg), -1, dtype=np.int64)
    first[owner[hits[::-1]]] = hits[::-1]  # the earliest hit wins
    return best, first

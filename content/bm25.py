"""A BM25 index over short passages, in numpy: per-term postings with precomputed weights.

Scores are normalised by the query's self-score (the BM25 a passage identical to the query would
get), so ~1.0 means "every informative query term matched" and the threshold is a setting.
Query terms the library has never seen count at the highest idf: they lower the score, which is
what makes out-of-library questions abstain.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np


class BM25Index:
    def __init__(self, passages: list[tuple[str, ...]], *, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.size = len(passages)
        lengths = np.fromiter((len(p) for p in passages), dtype=np.float32, count=self.size)
        self.avgdl = float(lengths.mean()) if self.size else 1.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for pid, tokens in enumerate(passages):
            for term, tf in Counter(tokens).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(pid)
                tfs.append(tf)
        self.max_idf = self._idf(0)
        self.idf: dict[str, float] = {}
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        norm = k1 * (1 - b + b * lengths / max(self.avgdl, 1e-9))
        for term, (ids, tfs) in postings.items():
            id_arr = np.asarray(ids, dtype=np.int32)
            tf_arr = np.asarray(tfs, dtype=np.float32)
            idf = self._idf(len(ids))
            self.idf[term] = idf
            self.postings[term] = (id_arr, (idf * tf_arr * (k1 + 1) / (tf_arr + norm[id_arr])).astype(np.float32))

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def self_score(self, query: tuple[str, ...]) -> float:
        counts = Counter(query)
        norm = self.k1 * (1 - self.b + self.b * len(query) / max(self.avgdl, 1e-9))
        return sum(self.idf.get(t, self.max_idf) * tf * (self.k1 + 1) / (tf + norm) for t, tf in counts.items())

    def search(self, query: tuple[str, ...], limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``limit`` passages as (passage ids, normalised scores in [0, 1]), best first."""
        query = tuple(dict.fromkeys(query))  # each distinct term once, here and in the self-score
        hits = [self.postings[t] for t in query if t in self.postings]
        if not hits or self.size == 0:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
        if len(hits) == 1:
            ids, scores = hits[0][0], hits[0][1].copy()
        elif sum(len(h[0]) for h in hits) * 8 < self.size:  # few postings: merge them
            ids = np.concatenate([h[0] for h in hits])
            weights = np.concatenate([h[1] for h in hits])
            ids, inverse = np.unique(ids, return_inverse=True)
            scores = np.bincount(inverse, weights=weights).astype(np.float32)
        else:  # many postings: scatter into a dense array (ids are unique within a posting list)
            dense = np.zeros(self.size, dtype=np.float32)
            for ids_, weights_ in hits:
                dense[ids_] += weights_
            ids = np.flatnonzero(dense)
            scores = dense[ids]
        top = _top(scores, limit)
        denom = max(self.self_score(query), 1e-9)
        return ids[top], np.minimum(scores[top] / denom, 1.0)

    def score_passages(self, query: tuple[str, ...], pids: np.ndarray) -> np.ndarray:
        """Normalised scores of the given passages (postings are sorted by passage id)."""
        query = tuple(dict.fromkeys(query))
        scores = np.zeros(len(pids), dtype=np.float32)
        for term in query:
            posting = self.postings.get(term)
            if posting is None:
                continue
            ids, weights = posting
            pos = np.minimum(np.searchsorted(ids, pids), len(ids) - 1)
            hit = ids[pos] == pids
            scores[hit] += weights[pos[hit]]
        return np.minimum(scores / max(self.self_score(query), 1e-9), 1.0)


def _top(scores: np.ndarray, limit: int) -> np.ndarray:
    if len(scores) > limit:
        part = np.argpartition(-scores, limit - 1)[:limit]
        return part[np.argsort(-scores[part], kind="stable")]
    return np.argsort(-scores, kind="stable")


"""Features shared by the two small text classifiers (compliance's semantic stage, content's scope check).

A text becomes: the offline USE multilingual embedding (``content.embeddings.USEEmbedder``, numpy only,
never downloads anything), character 1–3-gram TF-IDF and jieba word 1–2-gram TF-IDF. Training uses
scikit-learn's ``TfidfVectorizer``; at run time ``Tfidf`` reproduces its transform from the stored vocabulary
and idf, so a shipped model needs numpy only (plus the encoder).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)

NGRAMS = (1, 3)
WORD_NGRAMS = (1, 2)  # on CV (sem-3911) words added ~1 point of recall at the same precision
_WHITE = re.compile(r"\s\s+")


@lru_cache(maxsize=1)
def shared_embedder():
    """One USE encoder per process (about 0.5 s to load); the content package's offline loader."""
    from content.embeddings import USEEmbedder

    return USEEmbedder(threads=1)


def char_ngrams(text: str, lo: int = NGRAMS[0], hi: int = NGRAMS[1]) -> Counter:
    """The same character n-grams as sklearn's TfidfVectorizer(analyzer="char") (lowercased)."""
    text = _WHITE.sub(" ", text.lower())
    grams: Counter = Counter()
    for n in range(lo, hi + 1):
        for i in range(len(text) - n + 1):
            grams[text[i:i + n]] += 1
    return grams


@lru_cache(maxsize=1)
def _word_tokenizer():
    """A jieba tokenizer of our own, with the default dictionary only: the content package adds a finance
    dictionary to its tokenizer, and a classifier must cut words the same way in every process."""
    import jieba

    return jieba.Tokenizer()


def word_ngrams(text: str) -> list[str]:
    """jieba words and word bigrams (lowercased); the analyzer of the word TF-IDF in training and use."""
    words = [w for w in _word_tokenizer().lcut(text.lower()) if w.strip()]
    lo, hi = WORD_NGRAMS
    return [" ".join(words[i:i + n]) for n in range(lo, hi + 1) for i in range(len(words) - n + 1)]


@dataclass(frozen=True)
class Tfidf:
    index: dict[str, int]
    idf: np.ndarray
    analyzer: Callable = char_ngrams

    def transform(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.idf)), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram, count in Counter(self.analyzer(text)).items():
                col = self.index.get(gram)
                if col is not None:
                    out[row, col] = (1.0 + math.log(count)) * self.idf[col]
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out


def stored_tfidf(arrays: dict[str, np.ndarray]) -> tuple[Tfidf, Tfidf | None]:
    """The character and (when stored) word TF-IDF of a model's npz arrays."""
    chars = Tfidf({str(g): i for i, g in enumerate(arrays["vocab"])}, arrays["idf"].astype(np.float32))
    words = None
    if "word_vocab" in arrays:
        words = Tfidf({str(g): i for i, g in enumerate(arrays["word_vocab"])},
                      arrays["word_idf"].astype(np.float32), word_ngrams)
    return chars, words


def fit_vectorizers(texts: list[str]):
    """sklearn TF-IDF vectorizers (characters, words) fitted on `texts`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    chars = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=2, dtype=np.float32)
    words = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, min_df=2, dtype=np.float32)
    chars.fit(texts)
    words.fit(texts)
    return chars, words


def sklearn_features(vectorizers, texts: list[str], X_emb: np.ndarray) -> np.ndarray:
    return np.hstack([X_emb] + [v.transform(texts).toarray() for v in vectorizers])


def vectorizer_arrays(vectorizers) -> dict[str, np.ndarray]:
    """What a model's npz stores of its vectorizers (read back by ``stored_tfidf``)."""
    chars, words = vectorizers
    return {"vocab": np.array(sorted(chars.vocabulary_, key=chars.vocabulary_.get)),
            "idf": chars.idf_.astype(np.float32),
            "word_vocab": np.array(sorted(words.vocabulary_, key=words.vocabulary_.get)),
            "word_idf": words.idf_.astype(np.float32)}


def save_model(out, vectorizers, texts: list[str], meta: dict, **weights: np.ndarray) -> None:
    """Write a model's npz: the vectorizers (checked to reproduce sklearn's features), weights and meta."""
    arrays = vectorizer_arrays(vectorizers)
    np.savez_compressed(out, **arrays, **weights, meta=np.array(json.dumps(meta, ensure_ascii=False)))
    check_stored(vectorizers, arrays, texts[:20])


def check_stored(vectorizers, arrays: dict[str, np.ndarray], texts: list[str]) -> None:
    """The shipped transform must reproduce sklearn's features exactly."""
    chars, words = stored_tfidf(arrays)
    assert np.allclose(chars.transform(texts), vectorizers[0].transform(texts).toarray(), atol=1e-5)
    assert np.allclose(words.transform(texts), vectorizers[1].transform(texts).toarray(), atol=1e-5)


def threshold_for_precision(p: np.ndarray, y: np.ndarray, target: float) -> float:
    """The lowest threshold t whose prediction set {p ≥ t} has precision ≥ target."""
    order = np.argsort(-p)
    tp = np.cumsum(y[order])
    precision = tp / np.arange(1, len(p) + 1)
    ok = np.nonzero(precision >= target)[0]
    if len(ok) == 0:
        return 1.0
    return float(p[order][ok.max()])


class StoredTextModel:
    """A classifier shipped as an npz (vectorizers' vocabulary and idf, weights, `meta` JSON), with the
    shared USE encoder loaded on first use. Thread-safe; load once. Subclasses read their own weights."""

    def __init__(self, arrays: dict[str, np.ndarray], *, embedder=None, threshold: float | None = None,
                 source: str = "<memory>"):
        self._tfidf, self._word_tfidf = stored_tfidf(arrays)
        self.meta = json.loads(str(arrays["meta"]))
        self.threshold = float(threshold if threshold is not None else self.meta["threshold"])
        self.version = self.meta.get("version", "")
        self.source = source
        self._embedder = embedder
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path, *, embedder=None, threshold: float | None = None):
        with np.load(Path(path), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        return cls(arrays, embedder=embedder, threshold=threshold, source=str(path))

    @property
    def embedder(self):
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = shared_embedder()
                    key = getattr(self._embedder, "key", "")
                    if self.meta.get("embedder") and key != self.meta["embedder"]:
                        log.warning("%s was trained with %s, encoding with %s",
                                    self.version, self.meta["embedder"], key)
        return self._embedder

    def features(self, texts: list[str]) -> np.ndarray:
        parts = [self.embedder.encode(list(texts)), self._tfidf.transform(list(texts))]
        if self._word_tfidf is not None:
            parts.append(self._word_tfidf.transform(list(texts)))
        return np.hstack(parts)

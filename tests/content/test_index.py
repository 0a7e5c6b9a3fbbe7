from datetime import datetime, timezone

import numpy as np

from content.index import Document, SearchIndex

NOW = datetime(2026, 3, 2, tzinfo=timezone.utc)


def _library(n=3000, dim=96, seed=0):
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((40, dim))  # clustered, like real embeddings
    docs, tokens, vectors = [], [], []
    for i in range(n):
        base = topics[i % 40] + 0.6 * rng.standard_normal(dim)
        rows = base + 0.2 * rng.standard_normal((2, dim))
        vectors.append((rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32))
        docs.append(Document(i + 1, i + 1, f"d{i}", "faq", f"t{i}"))
        tokens.append([(f"w{i % 97}", f"v{i % 13}"), (f"w{i % 89}",)])
    return docs, tokens, vectors


def test_reduced_first_stage_finds_the_same_best_document_as_exact_search():
    docs, tokens, vectors = _library()
    exact = SearchIndex(docs, tokens, vectors)
    reduced = SearchIndex(docs, tokens, vectors, reduce_above=1000, reduce_dims=24)
    assert reduced.projection is not None and exact.projection is None
    mask = exact.eligible(NOW, ("faq",))
    rng = np.random.default_rng(1)
    agree = 0
    for target in rng.choice(len(docs), 50, replace=False):
        query = vectors[target][0] + 0.1 * rng.standard_normal(vectors[target].shape[1]).astype(np.float32)
        query /= np.linalg.norm(query)
        best = [max(ix.candidates((), query, mask, 50), key=lambda s: s.dense).doc for ix in (exact, reduced)]
        agree += best[0] == best[1]
    assert agree >= 49


def test_validity_and_kind_masks():
    docs = [Document(1, 1, "a", "faq", "t", valid_until=NOW), Document(2, 2, "b", "script", "t"),
            Document(3, 3, "c", "faq", "t")]
    index = SearchIndex(docs, [[("x",)], [("x",)], [("x",)]])
    assert index.eligible(NOW, ("faq",)).tolist() == [False, False, True]
    scored = index.candidates(("x",), None, index.eligible(NOW, None), 10)
    assert sorted(s.doc for s in scored) == [1, 2]


def test_bigram_channel_blends_into_the_passage_lexical_score():
    docs = [Document(1, 1, "a", "faq", "t"), Document(2, 2, "b", "faq", "t")]
    words = [[("销户",)], [("开户",)]]
    grams = [[("销户", "户怎")], [("开户", "户怎")]]
    mask = np.ones(2, dtype=bool)
    plain = SearchIndex(docs, words)
    blended = SearchIndex(docs, words, bigrams=grams, bigram_weight=0.5)
    # the query's word is unknown to the library; its bigrams still match the first document
    assert {s.doc: s.lexical for s in plain._rescore([0, 1], ("销掉户",), None)} == {0: 0.0, 1: 0.0}
    scores = {s.doc: s.lexical for s in blended._rescore([0, 1], ("销掉户",), None, ("销户", "户怎"))}
    assert scores[0] > scores[1] > 0

"""The semantic second stage of the pre-send check: a classifier over sentence embeddings.

The lexicon catches the wording it knows; this catches paraphrases of the same violations
(「…差额由我来兜」 with none of the lexicon's anchors). Features per sentence: the offline USE
multilingual embedding (``content.embeddings.USEEmbedder``, numpy only, never downloads anything)
concatenated with character 1–3-gram TF-IDF and (since sem-3911) jieba word 1–2-gram TF-IDF (``bot.textclf``). Two logistic regressions:

* binary: P(violation) per sentence; a message's probability is the maximum over its sentences;
* category: which of the seven lexicon categories a violating sentence belongs to.

A sentence with P ≥ ``threshold`` becomes a ``Hit`` with rule ``semantic.<category>`` and its
probability. The threshold is the lowest one at which the out-of-fold precision of repeated
5-fold cross-validation on the training data is ≥ TARGET_PRECISION (0.98 since sem-1817; see ``build``).

Training data: ``TRAINING_FILES`` in ``tests/compliance/data/`` — our labelled sets, the blind sets that became
development data after they were scored, five new writers' sets (``lexicon_trainA``–``E``) and the sentences of
the approved starter-pack items (``lexicon_pack_approved.jsonl``, compliant by review); never the holdout or the
blind sets kept as records (blind6, 8, 9, 11–14). Texts are
normalised by the lexicon's speller first (bao本 → 保本), as ``Lexicon.check`` does before classifying.
The trained weights ship as ``bot/compliance/rules/semantic_model.npz``; rebuild it with

    python -m bot.compliance.semantic build          # re-embeds the training files, CV, writes the npz

Use: ``Lexicon.default().with_semantic(SemanticClassifier.default())`` (``Lexicon.check`` then
reports both kinds of hit); ``[compliance].semantic_enabled`` turns it on for the service.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.compliance.lexicon import CATEGORIES, Hit
from bot.textclf import (NGRAMS, WORD_NGRAMS, StoredTextModel, char_ngrams, fit_vectorizers,  # noqa: F401
                         save_model, shared_embedder, sklearn_features, threshold_for_precision, word_ngrams)

log = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "rules" / "semantic_model.npz"
_DATA = Path(__file__).resolve().parents[2] / "tests" / "compliance" / "data"
TRAINING_FILES = (_DATA / "lexicon_labelled.jsonl", _DATA / "lexicon_extra.jsonl", _DATA / "lexicon_blind.jsonl",
                  _DATA / "lexicon_dev.jsonl", _DATA / "lexicon_blind2.jsonl", _DATA / "lexicon_dev2.jsonl",
                  _DATA / "lexicon_blind3.jsonl", _DATA / "lexicon_dev3.jsonl",
                  _DATA / "lexicon_blind4.jsonl", _DATA / "lexicon_dev4.jsonl", _DATA / "lexicon_blind5.jsonl",
                  _DATA / "lexicon_trainA.jsonl", _DATA / "lexicon_trainB.jsonl",
                  _DATA / "lexicon_trainC.jsonl", _DATA / "lexicon_blind7.jsonl",
                  _DATA / "lexicon_trainD.jsonl", _DATA / "lexicon_blind10.jsonl", _DATA / "lexicon_trainE.jsonl",
                  _DATA / "lexicon_trainG.jsonl", _DATA / "lexicon_trainH.jsonl",
                  _DATA / "lexicon_trainI.jsonl", _DATA / "lexicon_trainJ.jsonl",
                  _DATA / "lexicon_pack_approved.jsonl", _DATA / "lexicon_templates_approved.jsonl")  # never lexicon_holdout.jsonl: that one measures
TARGET_PRECISION = 0.98  # raised from 0.97 for sem-1817: on CV, 0.97 -> 0.98 saved 8 of 26 combined false positives for 1 of 862 true positives

_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?\n]*")
_MIN_SENTENCE = 6  # shorter fragments (「1.」「好的。」) are joined to the previous sentence
_LEAD_IN = ("：", ":")  # a sentence ending in a colon is joined to the next one


# ------------------------------------------------------------------------------------ sentences
def sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences of `text`; tiny fragments join the previous sentence, a
    lead-in ending in a colon joins the next one."""
    spans: list[list[int]] = []
    for m in _SENTENCE.finditer(text):
        lo, hi = m.span()
        if not text[lo:hi].strip():
            continue
        previous = text[spans[-1][0]:spans[-1][1]].strip() if spans else ""
        if spans and len(text[lo:hi].strip()) < _MIN_SENTENCE:
            spans[-1][1] = hi
        elif spans and (len(previous) < _MIN_SENTENCE or previous.endswith(_LEAD_IN)):
            spans[-1][1] = hi  # a lead-in (「关键点有这几个：」) is judged with what it introduces
        else:
            spans.append([lo, hi])
    return [(lo, hi) for lo, hi in spans]



# ------------------------------------------------------------------------------------ model
class SemanticClassifier(StoredTextModel):
    """Trained weights (from the npz) plus the shared USE encoder. Thread-safe; build once."""

    def __init__(self, arrays: dict[str, np.ndarray], **kwargs):
        super().__init__(arrays, **kwargs)  # no word features before sem-3911
        self._coef = arrays["coef"].astype(np.float32)
        self._intercept = float(arrays["intercept"][0])
        self._cat_coef = arrays["cat_coef"].astype(np.float32)
        self._cat_intercept = arrays["cat_intercept"].astype(np.float32)
        self.categories = tuple(str(c) for c in arrays["categories"])

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH, **kwargs) -> "SemanticClassifier":
        return super().load(path, **kwargs)

    @classmethod
    def default(cls) -> "SemanticClassifier":
        return _default_classifier()

    def predict(self, texts: list[str]) -> list[tuple[float, str]]:
        """(probability of a violation, most likely category) per text, each taken as one sentence."""
        if not texts:
            return []
        feats = self.features(texts)
        probs = 1.0 / (1.0 + np.exp(-(feats @ self._coef + self._intercept)))
        cats = np.argmax(feats @ self._cat_coef.T + self._cat_intercept, axis=1)
        return [(float(p), self.categories[int(c)]) for p, c in zip(probs, cats)]

    def probability(self, text: str) -> float:
        """The highest sentence probability in `text` (0.0 for empty text)."""
        spans = sentences(text)
        return max((p for p, _ in self.predict([text[a:b] for a, b in spans])), default=0.0)

    def hits(self, text: str) -> list[Hit]:
        """One Hit per sentence at or above the threshold: rule ``semantic.<category>``."""
        if not isinstance(text, str) or not text.strip():
            return []
        spans = sentences(text)
        found = []
        for (lo, hi), (p, cat) in zip(spans, self.predict([text[a:b] for a, b in spans])):
            if p >= self.threshold:
                while hi > lo and text[hi - 1] in "。！？!?\n ":
                    hi -= 1
                found.append(Hit(f"semantic.{cat}", cat, "medium", (lo, hi), text[lo:hi], round(p, 4)))
        return found


@lru_cache(maxsize=1)
def _default_classifier() -> SemanticClassifier:
    return SemanticClassifier.load(DEFAULT_MODEL_PATH)


# ------------------------------------------------------------------------------------ training
def load_training(paths=TRAINING_FILES) -> list[dict]:
    from bot.compliance.lexicon import load_labelled

    rows, seen = [], set()
    for path in paths:
        for row in load_labelled(path):
            if row["text"] not in seen:
                seen.add(row["text"])
                rows.append(row)
    return rows


def _fit(texts: list[str], X_emb: np.ndarray, y: np.ndarray, cats: np.ndarray, C: float, *, with_category=True):
    from sklearn.linear_model import LogisticRegression

    vecs = fit_vectorizers(texts)
    feats = sklearn_features(vecs, texts, X_emb)
    binary = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(feats, y)
    category = None
    if with_category:
        category = LogisticRegression(C=C, max_iter=5000).fit(feats[y], cats[y])
    return vecs, binary, category


def cross_validate(texts, X_emb, y, cats, *, C: float, folds: int = 5, repeats: int = 3) -> np.ndarray:
    """Out-of-fold P(violation), averaged over `repeats` stratified (by category) k-fold splits."""
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros((repeats, len(y)))
    for rep in range(repeats):
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=rep).split(texts, cats):
            vecs, binary, _ = _fit([texts[i] for i in train], X_emb[train], y[train], cats[train], C,
                                   with_category=False)
            feats = sklearn_features(vecs, [texts[i] for i in test], X_emb[test])
            out[rep, test] = binary.predict_proba(feats)[:, 1]
    return out.mean(axis=0)


def build(out: Path = DEFAULT_MODEL_PATH, *, C: float = 16.0, paths=TRAINING_FILES, embedder=None,
          target: float = TARGET_PRECISION) -> dict:
    """Embed the training files, cross-validate the threshold, fit on everything, write the npz."""
    from sklearn.metrics import roc_auc_score

    from bot.compliance.lexicon import Lexicon

    lexicon = Lexicon.default()
    rows = load_training(paths)
    texts = [lexicon.normalize(r["text"]).text for r in rows]
    y = np.array([r["violation"] for r in rows])
    cats = np.array([r.get("category") or "none" for r in rows])
    embedder = embedder or shared_embedder()
    X_emb = embedder.encode(texts)

    oof = cross_validate(texts, X_emb, y, cats, C=C)
    threshold = threshold_for_precision(oof, y, target)
    lex = np.array([not lexicon.check(t).allowed for t in texts])

    def scores(pred):
        tp = int((pred & y).sum())
        return {"precision": round(tp / max(int(pred.sum()), 1), 4), "recall": round(tp / int(y.sum()), 4),
                "tp": tp, "fp": int((pred & ~y).sum()), "fn": int((~pred & y).sum())}

    vecs, binary, category = _fit(texts, X_emb, y, cats, C)
    cv = {"folds": 5, "repeats": 3, "auc": round(float(roc_auc_score(y, oof)), 4),
          "classifier": scores(oof >= threshold), "lexicon": scores(lex), "combined": scores(lex | (oof >= threshold))}
    # What other CV precision targets would give (to choose the target on CV data, not on a blind set).
    cv["targets"] = {}
    for other in (0.95, 0.97, 0.98, 0.99):
        t = threshold_for_precision(oof, y, other)
        cv["targets"][f"{other:g}"] = {"threshold": round(t, 4), "classifier": scores(oof >= t),
                                       "combined": scores(lex | (oof >= t))}
    meta = {"version": f"sem-{len(rows)}-C{C:g}", "threshold": round(threshold, 4), "C": C,
            "target_precision": target, "embedder": getattr(embedder, "key", ""),
            "training": [Path(p).name for p in paths], "sentences": len(rows), "violations": int(y.sum()),
            "ngrams": list(NGRAMS), "word_ngrams": list(WORD_NGRAMS), "cv": cv}
    save_model(out, vecs, texts, meta, coef=binary.coef_[0].astype(np.float32),
               intercept=binary.intercept_.astype(np.float32), cat_coef=category.coef_.astype(np.float32),
               cat_intercept=category.intercept_.astype(np.float32), categories=np.array(category.classes_))
    model = SemanticClassifier.load(out, embedder=embedder)
    assert set(model.categories) <= set(CATEGORIES)
    return meta


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bot.compliance.semantic")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="train on the labelled files and write the model artifact")
    b.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    b.add_argument("-C", type=float, default=16.0)
    b.add_argument("--target", type=float, default=TARGET_PRECISION, help="CV precision the threshold must reach")
    args = parser.parse_args(argv)
    meta = build(args.out, C=args.C, target=args.target)
    print(json.dumps(meta, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

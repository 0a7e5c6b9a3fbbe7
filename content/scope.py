"""The scope check: is a client's question one a brokerage library answers, or out of scope?

The intent rules (``content.intents``) name the forms they know; the score threshold stops questions far from
every item. What gets through both is a question close to an item in words but asking something no item
answers: 「港股通的红利税以后会不会降到10%」 (a policy prediction next to the 红利税 item), 「这次配股参加了能赚
多少」. This is a logistic regression over ``bot.textclf`` features (USE embedding + character and word TF-IDF)
that learns the difference from examples:

* in scope: every title and question phrasing of the starter pack, and the labelled client questions of the
  development eval files (questions the library answers, in clients' own words);
* out of scope: the out-of-scope queries of the development eval files (``content/eval/*_dev.json``, written
  by several people: predictions, picks, requests to act, complaints, chit-chat, other finance, life
  questions) — never ``starter_eval.json``, the check set.

Texts are normalised like the matcher's (``content.tokenize.normalise``). A question whose probability is at
least the threshold is not answered from the library (reason ``out_of_scope``). The threshold is the lowest
one whose out-of-fold precision on the out-of-scope class, over repeated 5-fold cross-validation, is
≥ TARGET_PRECISION; never chosen on a held-out set. The weights ship as ``content/resources/scope_model.npz``;
rebuild after large changes to the pack's phrasings or the dev files with

    python -m content.scope build
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.textclf import (StoredTextModel, fit_vectorizers, save_model, shared_embedder, sklearn_features,
                         threshold_for_precision)
from content.tokenize import normalise

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "resources" / "scope_model.npz"
EVAL_DIR = Path(__file__).resolve().parent / "eval"
CHECK_SET = "starter_eval.json"  # measures; never trains
TARGET_PRECISION = 0.97
C = 16.0


class ScopeClassifier(StoredTextModel):
    """Trained weights plus the shared USE encoder. Thread-safe; load once."""

    def __init__(self, arrays: dict[str, np.ndarray], **kwargs):
        super().__init__(arrays, **kwargs)
        self._coef = arrays["coef"].astype(np.float32)
        self._intercept = float(arrays["intercept"][0])

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH, **kwargs) -> "ScopeClassifier":
        return super().load(path, **kwargs)

    @classmethod
    def default(cls) -> "ScopeClassifier":
        return _default_classifier()

    def probabilities(self, questions: list[str]) -> np.ndarray:
        """P(out of scope) per question. The question is embedded here, normalised as in training (the
        matcher's own query vector comes from the raw text and possibly another encoder)."""
        texts = [normalise(q or "").strip() for q in questions]
        out = np.zeros(len(texts))
        keep = [i for i, t in enumerate(texts) if t]  # an empty question has nothing to judge
        if keep:
            feats = self.features([texts[i] for i in keep])
            out[keep] = 1.0 / (1.0 + np.exp(-(feats @ self._coef + self._intercept)))
        return out

    def probability(self, question: str) -> float:
        return float(self.probabilities([question])[0])


@lru_cache(maxsize=1)
def _default_classifier() -> ScopeClassifier:
    return ScopeClassifier.load(DEFAULT_MODEL_PATH)


# ------------------------------------------------------------------------------------ training
def training_data(pack_dir=None, eval_dir: Path = EVAL_DIR) -> tuple[list[str], np.ndarray, list[str]]:
    """(texts, labels: 1 = out of scope, eval files used). Duplicates after normalising are dropped; a text
    that is both an in-scope phrasing and an out-of-scope query counts as in scope."""
    from content.evaluation import load_eval, pack_faq
    from content.settings import ContentSettings

    settings = ContentSettings()
    faq = pack_faq(pack_dir or settings.starter_pack_dir, settings.match_kinds)
    files = sorted(p for p in eval_dir.glob("*.json") if p.name != CHECK_SET)
    # In scope: the pack's titles and phrasings, and the dev files' labelled client questions (real clients'
    # style: 「佣金太高了 能不能给我降一点」 is a library question, not a complaint).
    queries = [q for p in files for q in load_eval(p)[1]]
    inside = dict.fromkeys([normalise(q) for item in faq for q in [item["q"], *item["questions"]]]
                           + [normalise(q["q"]) for q in queries if q.get("id") is not None])
    outside = dict.fromkeys(normalise(q["q"]) for q in queries if q.get("id") is None)
    inside_texts = [t for t in inside if t]
    outside_texts = [t for t in outside if t and t not in inside]
    return inside_texts + outside_texts, np.array([0] * len(inside_texts) + [1] * len(outside_texts)), \
        [p.name for p in files]


def _fit(texts, X_emb, y):
    from sklearn.linear_model import LogisticRegression

    vecs = fit_vectorizers(texts)
    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(sklearn_features(vecs, texts, X_emb), y)
    return vecs, model


def cross_validate(texts, X_emb, y, *, folds: int = 5, repeats: int = 3) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros((repeats, len(y)))
    for rep in range(repeats):
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=rep).split(texts, y):
            vecs, model = _fit([texts[i] for i in train], X_emb[train], y[train])
            feats = sklearn_features(vecs, [texts[i] for i in test], X_emb[test])
            out[rep, test] = model.predict_proba(feats)[:, 1]
    return out.mean(axis=0)


def build(out: Path = DEFAULT_MODEL_PATH, *, target: float = TARGET_PRECISION, embedder=None) -> dict:
    """Embed the training texts, cross-validate the threshold, fit on everything, write the npz."""
    texts, y, files = training_data()
    embedder = embedder or shared_embedder()
    X_emb = embedder.encode(texts)
    oof = cross_validate(texts, X_emb, y)
    threshold = threshold_for_precision(oof, y.astype(bool), target)

    def at(t):
        flagged = oof >= t
        return {"threshold": round(float(t), 4), "out_of_scope_caught": round(float(flagged[y == 1].mean()), 4),
                "in_scope_flagged": round(float(flagged[y == 0].mean()), 4)}

    vecs, model = _fit(texts, X_emb, y)
    meta = {"version": f"scope-{len(texts)}", "threshold": round(threshold, 4), "C": C, "target_precision": target,
            "embedder": getattr(embedder, "key", ""), "eval_files": files, "in_scope": int((y == 0).sum()),
            "out_of_scope": int(y.sum()),
            "cv": {"folds": 5, "repeats": 3, "chosen": at(threshold),
                   "targets": {f"{p:g}": at(threshold_for_precision(oof, y.astype(bool), p))
                               for p in (0.9, 0.95, 0.97, 0.98, 0.99)}}}
    save_model(out, vecs, texts, meta, coef=model.coef_[0].astype(np.float32),
               intercept=model.intercept_.astype(np.float32))
    return meta


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m content.scope")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="train on the pack's phrasings and the dev files' out-of-scope queries")
    b.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    b.add_argument("--target", type=float, default=TARGET_PRECISION,
                   help="CV precision of the out-of-scope class the threshold must reach")
    args = parser.parse_args(argv)
    print(json.dumps(build(args.out, target=args.target), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`content eval` and `content calibrate`: run labelled queries through the production matcher
against an isolated, in-memory library built from the file (nothing touches the database).

File format: {"faq": [{"id", "q", "a", optional "questions": [...], optional "kind"}],
              "queries": [{"q", "id": expected faq id or null when the library must abstain}]}
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from bot.clock import SystemClock
from content.index import Document
from content.matcher import Matcher
from content.sources import MemorySource


class EvalFileError(ValueError):
    pass


def load_eval(path: str | Path) -> tuple[list[dict], list[dict]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    faq, queries = data.get("faq"), data.get("queries")
    if not isinstance(faq, list) or not isinstance(queries, list):
        raise EvalFileError('expected {"faq": [...], "queries": [...]}')
    ids = set()
    for n, entry in enumerate(faq):
        if not entry.get("id") or not entry.get("q"):
            raise EvalFileError(f"faq[{n}] needs an id and a q")
        ids.add(str(entry["id"]))
    for n, query in enumerate(queries):
        if not query.get("q"):
            raise EvalFileError(f"queries[{n}] needs a q")
        if query.get("id") is not None and str(query["id"]) not in ids:
            raise EvalFileError(f"queries[{n}] expects unknown faq id {query['id']}")
    return faq, queries


def pack_faq(pack_dir: str | Path, kinds) -> list[dict]:
    """The ``faq`` section of an eval file, built from the starter pack (approved items of ``kinds``,
    by slug): the library the labelled queries are matched against."""
    from content.importer import read_records

    records, problems = read_records(Path(pack_dir))
    if problems:
        raise EvalFileError(f"the starter pack has bad records: {problems[0]}")
    items = sorted((r for _, r in records if r.kind in kinds and r.status == "approved"), key=lambda r: r.slug)
    return [{"id": r.slug, "q": r.title, "a": r.body, "questions": list(r.questions), "kind": r.kind} for r in items]


def sync_faq(path: str | Path, pack_dir: str | Path, kinds) -> bool:
    """Rewrite the ``faq`` section of an eval file from the pack (queries untouched); True if it changed."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    faq = pack_faq(pack_dir, kinds)
    if data.get("faq") == faq:
        return False
    data["faq"] = faq
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return True


def build_matcher(faq: list[dict], settings, *, embedder=None, tokenizer=None) -> Matcher:
    docs = [Document(version_id=n + 1, item_id=n + 1, slug=str(e["id"]), kind=e.get("kind", "faq"), title=e["q"],
                     body=e.get("a", ""), questions=tuple(e.get("questions", ())), auto_reply_allowed=True)
            for n, e in enumerate(faq)]
    settings = settings.model_copy(update={"match_kinds": sorted({d.kind for d in docs})})
    matcher = Matcher(MemorySource(docs), settings, SystemClock(), embedder=embedder, tokenizer=tokenizer)
    matcher.refresh(force=True)
    return matcher


def run_queries(matcher: Matcher, queries: list[dict]) -> list[dict]:
    rows = []
    for query in queries:
        started = time.perf_counter()
        result = matcher.match(query["q"], k=10)
        elapsed = (time.perf_counter() - started) * 1e3
        ranked = [c.slug for c in result.candidates]
        rows.append({"q": query["q"], "expected": query.get("id"), "answer": result.best.slug if result.best else None,
                     "ranked": ranked, "score": result.candidates[0].score if result.candidates else None,
                     "reason": result.reason, "ms": elapsed})
    return rows


def metrics(rows: list[dict]) -> dict:
    labelled = [r for r in rows if r["expected"] is not None]
    nulls = [r for r in rows if r["expected"] is None]
    abstained = [r for r in rows if r["answer"] is None]

    def rank(r):
        return r["ranked"].index(r["expected"]) + 1 if r["expected"] in r["ranked"] else None

    ranks = [rank(r) for r in labelled]
    ms = np.array([r["ms"] for r in rows]) if rows else np.zeros(1)
    share = (lambda a, b: round(a / b, 4) if b else None)
    return {
        "queries": len(rows), "labelled": len(labelled), "out_of_scope": len(nulls),
        "top1": share(sum(r["answer"] == r["expected"] for r in labelled), len(labelled)),
        "top3": share(sum(1 for x in ranks if x and x <= 3), len(labelled)),
        "mrr": share(sum(1 / x for x in ranks if x), len(labelled)),
        "answer_rate": share(sum(r["answer"] is not None for r in labelled), len(labelled)),
        "wrong_answer_rate": share(sum(r["answer"] not in (None, r["expected"]) for r in labelled), len(labelled)),
        "ranked_top1": share(sum(1 for x in ranks if x == 1), len(labelled)),
        "abstain_precision": share(sum(r["expected"] is None for r in abstained), len(abstained)),
        "abstain_recall": share(sum(r["answer"] is None for r in nulls), len(nulls)),
        "p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def evaluate_file(path: str | Path, settings, *, details: bool = False, embedder=None) -> dict:
    faq, queries = load_eval(path)
    matcher = build_matcher(faq, settings, embedder=embedder)
    if queries:
        matcher.match(queries[0]["q"])  # warm-up: model and caches, not measured
    rows = run_queries(matcher, queries)
    out = metrics(rows)
    out.update({"backend": matcher.backend, "mode": settings.mode, "fusion": settings.fusion,
                "threshold": matcher.threshold()})
    if details:
        out["misses"] = [r for r in rows if r["answer"] != r["expected"]]
    return out


def calibrate_file(path: str | Path, settings, *, embedder=None) -> dict:
    """The lowest threshold that abstains on every out-of-scope query the intent rules let
    through, and what it costs in answered in-scope queries; plus a sweep."""
    faq, queries = load_eval(path)
    matcher = build_matcher(faq, settings.model_copy(update={"thresholds": {}}), embedder=embedder)
    rows = run_queries(matcher, queries)
    null_scores = [r["score"] for r in rows if r["expected"] is None and r["score"] is not None]
    labelled = [r for r in rows if r["expected"] is not None]
    floor = round(max(null_scores) + 0.005, 3) if null_scores else 0.0
    sweep = []
    for t in sorted({floor, *np.round(np.arange(0.3, 1.0, 0.05), 2).tolist()}):
        answered = [r for r in labelled if r["score"] is not None and r["score"] >= t]
        correct = sum(1 for r in answered if r["ranked"] and r["ranked"][0] == r["expected"])
        oos = sum(1 for s in null_scores if s >= t)
        sweep.append({"threshold": t, "top1": round(correct / max(len(labelled), 1), 4),
                      "answer_rate": round(len(answered) / max(len(labelled), 1), 4), "oos_answered": oos})
    return {"backend": matcher.backend, "mode": settings.mode, "suggested_threshold": floor,
            "max_out_of_scope_score": max(null_scores) if null_scores else None, "sweep": sweep}

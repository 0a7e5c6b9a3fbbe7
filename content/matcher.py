"""Question matching: tokenise, retrieve (BM25 + dense), fuse, and abstain unless confident.

``Matcher.match(question)`` never answers a message that must go to a person (see
``content.intents``), small talk, or anything whose best score is under the calibrated threshold
for the retrieval mode and embedding backend in use. The index is rebuilt (without re-embedding
unchanged versions) whenever the library's generation counter moves; the counter is checked
before searches, so every worker process sees approvals and retirements.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from content.index import Document, Scored, SearchIndex
from content.intents import classify_intent as _classify_intent
from content.intents import is_small_talk
from content.settings import Thresholds
from content.tokenize import Tokenizer, normalise

log = logging.getLogger(__name__)

# A clause that only asks what a term means: 「可转债下修转股价是什么意思」. The term holds no pronoun or
# function word, which keeps out 「这是啥」「我算是什么身份」「带个Y是什么份额」.
_DEFINITION_QUESTION = re.compile(
    r"(请问|问下|问一下|想问下?|请教一下|那个)?(?P<term>[^我你您他她它这那个会了在吗呢么]{2,14}?)(到底|究竟)?"
    r"(是什么意思|是啥意思|什么意思|啥意思|是什么东西|是什么|是啥|指什么|是指什么|是个啥|是干嘛的|怎么理解)"
    r"[啊呀呢哦嘛呗哈]*")
_CLAUSE_SPLIT = re.compile(r"[，,。？?！!；;\s]+")
EMBED_BATCH = 256


@dataclass(frozen=True)
class Candidate:
    version_id: int
    item_id: int
    title: str
    score: float
    lexical_score: float
    dense_score: float | None
    reason: str
    slug: str = ""
    kind: str = ""
    auto_reply_allowed: bool = False
    risk_level: str | None = None


@dataclass(frozen=True)
class MatchResult:
    """``reason``: "confident", "below_threshold", "intent:<name>", "small_talk", "empty_query",
    "out_of_scope" (the scope check, ``content.scope``), "unknown_term" (asks what a term no item contains
    means) or "empty_library". Only a confident result may be
    used as an answer."""

    confident: bool
    best: Candidate | None
    candidates: list[Candidate]
    reason: str
    intent: str | None = None
    backend: str = ""
    mode: str = ""
    threshold: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    read_as: str | None = None  # the question as searched, when words typed by sound were respelled

    def as_dict(self) -> dict:
        return asdict(self)


class Matcher:
    def __init__(self, source, settings, clock, *, embedder=None, tokenizer: Tokenizer | None = None):
        self._source = source
        self._settings = settings
        self._clock = clock
        self._embedder = embedder
        self._tokenizer = tokenizer or Tokenizer(settings.user_dict, settings.index_dir)
        self._index: SearchIndex | None = None
        self._generation: int | None = None
        self._checked_at = 0.0
        self._lock = threading.RLock()
        self._vectors: dict[int, tuple[str, np.ndarray]] = {}
        self._token_cache: dict[int, tuple[list, tuple, list | None]] = {}
        self._scope = None

    # ---- public --------------------------------------------------------------------------
    @property
    def settings(self):
        return self._settings

    @property
    def uses_dense(self) -> bool:
        return self._settings.mode != "lexical"

    @property
    def embedder(self):
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from content.embeddings import load_embedder

                    self._embedder = load_embedder(self._settings)
        return self._embedder

    @property
    def backend(self) -> str:
        return self.embedder.key if self.uses_dense else "none"

    def _thresholds(self) -> Thresholds:
        if self.uses_dense:
            return self._settings.thresholds_for(self.embedder.key, self.embedder.kind)
        # lexical thresholds do not depend on an encoder; keep them under "lexical"
        return self._settings.thresholds_for("lexical", "use")

    def threshold(self) -> float:
        return getattr(self._thresholds(), self._settings.mode)

    def _clear_lead(self, ranked: list[Scored], found: Thresholds) -> bool:
        """The margin rule: under the threshold, but at least `fused_low` and ahead of the next item
        by `fused_margin` (fused mode, when the backend's thresholds set one)."""
        if self._settings.mode != "fused" or not ranked or found.fused_low is None:
            return False
        best = ranked[0].fused
        runner_up = max((x.fused for x in ranked[1:]), default=0.0)
        return best >= found.fused_low and best - runner_up >= found.fused_margin

    @property
    def scope(self):
        """The scope classifier (None when `scope_check` is off); loaded on first use."""
        if self._scope is None and self._settings.scope_check:
            with self._lock:
                if self._scope is None:
                    from content.scope import ScopeClassifier

                    shipped = ScopeClassifier.default()
                    self._scope = shipped if self._settings.scope_threshold is None else ScopeClassifier.load(
                        shipped.source, embedder=shipped.embedder, threshold=self._settings.scope_threshold)
        return self._scope

    def out_of_scope(self, question: str) -> bool:
        scope = self.scope
        return scope is not None and scope.probability(question) >= scope.threshold

    def classify_intent(self, text: str) -> str | None:
        return _classify_intent(text)

    def match(self, question: str, k: int = 3, *, kinds: tuple[str, ...] | None = None) -> MatchResult:
        started = time.perf_counter()
        intent = _classify_intent(question)
        if intent is not None and intent in self._settings.abstain_intents:
            return self._abstain(f"intent:{intent}", intent=intent)
        if is_small_talk(question):
            return self._abstain("small_talk")
        tokens = self._tokenizer.tokens(question or "")
        if not tokens:
            return self._abstain("empty_query")
        self._maybe_refresh()
        index = self._index
        empty = index is None or not index.docs
        read_as = self._tokenizer.respell(question, index) if self._settings.respell and not empty else question
        if read_as != question:  # every check from here on reads the question as respelled
            question, tokens = read_as, self._tokenizer.tokens(read_as)
        else:
            read_as = None
        if self.out_of_scope(question):  # said even of an empty library: the advisor learns why
            return self._abstain("out_of_scope")
        if empty:
            return self._abstain("empty_library")
        if self._settings.unknown_term_check and self._asks_unknown_term(question, index):
            return self._abstain("unknown_term")
        vector, embedded_at = None, time.perf_counter()
        if self.uses_dense:
            vector = self.embedder.encode([question], query=True)[0]
            embedded_at = time.perf_counter()
        mask = index.eligible(self._clock.now(), tuple(kinds or self._settings.match_kinds))
        bigrams = self._tokenizer.bigrams(question) if self._settings.bigram_weight else ()
        scored = index.candidates(tokens, vector, mask, self._settings.candidate_pool, bigrams)
        full = self._rank(scored)
        ranked = full[:max(k, 1)]
        candidates = [self._candidate(index, s, tokens, read_as) for s in ranked]
        found = self._thresholds()
        threshold = getattr(found, self._settings.mode)
        confident = bool(candidates) and (candidates[0].score >= threshold or self._clear_lead(full, found))
        done = time.perf_counter()
        timings = {"embed": (embedded_at - started) * 1e3 if vector is not None else 0.0,
                   "search": (done - embedded_at) * 1e3, "total": (done - started) * 1e3}
        return MatchResult(confident, candidates[0] if confident else None, candidates,
                           "confident" if confident else "below_threshold", backend=self.backend,
                           mode=self._settings.mode, threshold=threshold, timings_ms=timings, read_as=read_as)

    def refresh(self, force: bool = False) -> dict:
        """Rebuild the index if the library changed; embeds only versions with no stored vectors."""
        generation = self._source.generation()
        if not force and self._index is not None and generation == self._generation:
            return {"generation": generation, "rebuilt": False}
        with self._lock:
            started = time.perf_counter()
            docs = self._source.documents()
            tokens, body_tokens, bigrams = self._tokens_for(docs)
            stats: dict = {"generation": generation, "rebuilt": True, "documents": len(docs)}
            vectors = self._vectors_for(docs, stats) if self.uses_dense else None
            self._index = SearchIndex(docs, tokens, vectors, body_tokens, bigrams=bigrams,
                                      bigram_weight=self._settings.bigram_weight,
                                      reduce_above=self._settings.dense_reduce_above,
                                      reduce_dims=self._settings.dense_reduce_dims)
            self._generation = generation
            stats["seconds"] = round(time.perf_counter() - started, 3)
            log.info("content index rebuilt: generation %s, %s documents, %s embedded",
                     generation, len(docs), stats.get("embedded", 0))
            return stats

    # ---- internals -----------------------------------------------------------------------
    def _maybe_refresh(self) -> None:
        interval = self._settings.refresh_interval_seconds
        now = time.monotonic()
        if self._index is not None and interval and now - self._checked_at < interval:
            return
        self._checked_at = now
        self.refresh()

    def _tokens_for(self, docs: list[Document]):
        """Passage tokens, body tokens and passage bigrams per version, cached: a rebuild tokenises
        only new versions."""
        cache, fresh, tk = self._token_cache, {}, self._tokenizer
        use_bigrams = bool(self._settings.bigram_weight)
        for d in docs:
            entry = cache.get(d.version_id)
            if entry is None or (use_bigrams and entry[2] is None):
                passages = d.passages()
                entry = ([tk.tokens(p) for p in passages], tk.tokens(d.body),
                         [tk.bigrams(p) for p in passages] if use_bigrams else None)
            fresh[d.version_id] = entry
        self._token_cache = fresh
        body = [fresh[d.version_id][1] for d in docs] if self._settings.body_weight else None
        bigrams = [fresh[d.version_id][2] for d in docs] if use_bigrams else None
        return [fresh[d.version_id][0] for d in docs], body, bigrams

    def _vectors_for(self, docs: list[Document], stats: dict) -> list[np.ndarray]:
        embedder = self.embedder
        wanted = {d.version_id: d.passage_hash() for d in docs}
        missing = [vid for vid, h in wanted.items() if self._vectors.get(vid, ("",))[0] != h]
        if missing:
            for vid, (text_hash, vectors) in self._source.load_vectors(missing, embedder.key).items():
                if text_hash == wanted[vid]:
                    self._vectors[vid] = (text_hash, vectors.astype(np.float16))
        stats["loaded"] = sum(1 for vid in missing if vid in self._vectors and self._vectors[vid][0] == wanted[vid])
        todo = [d for d in docs if self._vectors.get(d.version_id, ("",))[0] != wanted[d.version_id]]
        stats["embedded"] = len(todo)
        for start in range(0, len(todo), EMBED_BATCH * 4):
            batch = todo[start:start + EMBED_BATCH * 4]
            texts = [p for d in batch for p in d.passages()]
            matrix = np.vstack([embedder.encode(texts[i:i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)])
            rows, offset = [], 0
            for d in batch:
                n = len(d.passages())
                rows.append((d.version_id, wanted[d.version_id], matrix[offset:offset + n]))
                offset += n
            self._source.save_vectors(rows, embedder.key)
            for vid, text_hash, vectors in rows:
                self._vectors[vid] = (text_hash, vectors.astype(np.float16))  # halves the cache
        for vid in set(self._vectors) - set(wanted):  # versions no longer live
            del self._vectors[vid]
        return [self._vectors[d.version_id][1] for d in docs]

    def _rank(self, scored: list[Scored]) -> list[Scored]:
        s = self._settings
        for item in scored:
            item.lexical = (1 - s.body_weight) * item.lexical + s.body_weight * item.body
            dense = item.dense if item.dense is not None else 0.0
            if s.mode == "lexical":
                item.fused = item.lexical
            elif s.mode == "dense":
                item.fused = dense
            else:
                item.fused = s.lexical_weight * item.lexical + s.dense_weight * dense
        if s.mode == "fused" and s.fusion == "rrf" and scored:
            lex_rank = {id(x): r for r, x in enumerate(sorted(scored, key=lambda x: -x.lexical))}
            den_rank = {id(x): r for r, x in enumerate(sorted(scored, key=lambda x: -(x.dense or 0.0)))}
            key = {id(x): 1 / (s.rrf_k + lex_rank[id(x)]) + 1 / (s.rrf_k + den_rank[id(x)]) for x in scored}
            return sorted(scored, key=lambda x: (-key[id(x)], -x.fused))
        return sorted(scored, key=lambda x: -x.fused)

    def _candidate(self, index: SearchIndex, s: Scored, tokens: tuple[str, ...], read_as: str | None) -> Candidate:
        doc = index.docs[s.doc]
        passage_tokens = set(index.passage_tokens[s.lexical_passage])
        terms = [t for t in dict.fromkeys(tokens) if t in passage_tokens]
        parts = [f"相似问法「{index.passage_text(s.dense_passage if s.dense is not None else s.lexical_passage)}」"]
        if read_as is not None:  # the advisor sees how a mistyped question was read
            parts.insert(0, f"按「{read_as}」理解")
        if terms:
            parts.append("命中词：" + "、".join(terms[:6]))
        parts.append(f"词面{s.lexical:.2f}" + (f" 语义{s.dense:.2f}" if s.dense is not None else ""))
        return Candidate(doc.version_id, doc.item_id, doc.title, round(s.fused, 4), round(s.lexical, 4),
                         None if s.dense is None else round(s.dense, 4), "；".join(parts), doc.slug, doc.kind,
                         doc.auto_reply_allowed, doc.risk_level)

    def _asks_unknown_term(self, question: str, index: SearchIndex) -> bool:
        """「做市商制度是什么」「ETF的IOPV是啥」: a question asking what a term means, where the term holds a word
        no item of the library contains. No item can define it, however close the rest of it lands."""
        for clause in _CLAUSE_SPLIT.split(normalise(question or "")):
            m = _DEFINITION_QUESTION.fullmatch(clause)
            if m and any(len(t) >= 2 and not t.isdigit() and not index.knows(t) and not index.knows_sound(t)
                         for t in self._tokenizer.tokens(m.group("term"))):
                return True
        return False

    def _abstain(self, reason: str, intent: str | None = None) -> MatchResult:
        return MatchResult(False, None, [], reason, intent=intent, mode=self._settings.mode)

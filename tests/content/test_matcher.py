"""The production matcher over a real (SQLite) library: answers, abstentions, freshness, persistence."""

import multiprocessing as mp
from datetime import timedelta

import numpy as np
import pytest

from content.embeddings import USEEmbedder
from content.importer import import_path
from content.matcher import Matcher
from content.service import ContentService
from content.settings import STARTER_PACK_DIR, ContentSettings
from content.sources import DatabaseSource
from content.tokenize import Tokenizer


class CachingEmbedder:
    """The real USE encoder, memoised per text so the module embeds the pack once."""

    def __init__(self):
        self._inner = USEEmbedder()
        self.kind, self.key, self.dim = self._inner.kind, self._inner.key, self._inner.dim
        self._cache = {}

    def encode(self, texts, *, query=False):
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self._inner.encode(missing)))
        return np.stack([self._cache[t] for t in texts]) if texts else self._inner.encode([])


@pytest.fixture(scope="module")
def use_embedder():
    return CachingEmbedder()


@pytest.fixture(scope="module")
def shared(tmp_path_factory, use_embedder, tokenizer):
    """A read-only stocked library and its matcher, shared by the tests that only search."""
    from bot.clock import ManualClock
    from bot.db import make_engine, make_session_factory
    from bot.migrate import upgrade

    from .conftest import START

    url = f"sqlite:///{tmp_path_factory.mktemp('shared') / 'content.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory, clock = make_session_factory(engine), ManualClock(START)
    library = ContentService(factory, clock)
    import_path(library, STARTER_PACK_DIR, progress=False)
    yield library, clock, _matcher(library, factory, clock, use_embedder, tokenizer)
    engine.dispose()


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer()


@pytest.fixture
def stocked(library):
    report = import_path(library, STARTER_PACK_DIR, progress=False)
    assert not report.problems
    return library


def _matcher(library, session_factory, clock, embedder, tokenizer, **settings):
    config = ContentSettings(embedding_backend="use", **settings)
    return Matcher(DatabaseSource(library, session_factory, clock), config, clock, embedder=embedder,
                   tokenizer=tokenizer)


def test_answers_a_paraphrase_with_scores_and_reason(shared):
    stocked, clock, matcher = shared
    result = matcher.match("我想开通创业板需要满足什么要求", k=3)
    assert result.confident and result.reason == "confident"
    assert result.best.slug == "faq-perm-chinext"
    best = result.best
    assert best.version_id == stocked.get_item("faq-perm-chinext").live_version_id
    assert 0 < best.lexical_score <= 1 and 0 < best.dense_score <= 1 and best.score >= result.threshold
    assert "创业板" in best.reason and len(result.candidates) == 3
    assert stocked.is_sendable(stocked.get_version(best.version_id), clock.now())


@pytest.mark.parametrize("question, reason", [
    ("明天大盘会涨吗", "intent:market_prediction"), ("推荐一只股票", "intent:stock_pick"),
    ("帮我把茅台卖了", "intent:account_operation"), ("我要投诉", "intent:complaint"), ("转人工", "intent:human"),
    ("你好", "small_talk"), ("？？", "small_talk"), ("公积金怎么提取", "intent:other_finance"),
    ("今晚吃什么", "small_talk"), ("比亚迪怎么样", "out_of_scope"),
])
def test_abstains_outside_the_library(shared, question, reason):
    result = shared[2].match(question)
    assert not result.confident and result.best is None and result.reason == reason


def test_scripts_are_not_client_answers_unless_asked_for(stocked, session_factory, clock, use_embedder, tokenizer):
    matcher = _matcher(stocked, session_factory, clock, use_embedder, tokenizer, mode="lexical")
    assert all(c.kind != "script" for c in matcher.match("新股申购提醒", k=10).candidates)
    scripts = matcher.match("新股申购提醒话术", k=3, kinds=("script",))
    assert scripts.candidates and scripts.candidates[0].kind == "script"


def test_retire_and_approve_are_seen_before_the_next_search(stocked, session_factory, clock, use_embedder, tokenizer):
    matcher = _matcher(stocked, session_factory, clock, use_embedder, tokenizer)
    assert matcher.match("逆回购最低买多少钱").best.slug == "faq-repo-how"
    stocked.retire("faq-repo-how", "officer")
    assert all(c.slug != "faq-repo-how" for c in matcher.match("逆回购最低买多少钱", k=10).candidates)
    # An edit goes live only once approved; the new version's id is what a match returns.
    item = stocked.get_item("faq-fee-commission")
    draft = stocked.edit_item(item.id, "alice", questions=["手续费怎么收", "交易要交什么钱", "佣金费率是多少",
                                                             "卖出收印花税吗"])
    assert matcher.match("卖出收印花税吗").best.version_id == item.live_version_id
    stocked.submit(draft.id, "alice")
    stocked.approve(draft.id, "bob")
    assert matcher.match("卖出收印花税吗").best.version_id == draft.id


def test_validity_window_applies_at_query_time(library, session_factory, clock, use_embedder, tokenizer):
    version = library.create_item(slug="faq-holiday-2026", kind="faq", title="2026年春节休市安排",
                                  body="春节休市安排以交易所通知为准。", questions=["春节休市几天", "过年股市放假安排"],
                                  valid_until="2026-03-03", status="approved", author="import")
    matcher = _matcher(library, session_factory, clock, use_embedder, tokenizer, mode="lexical")
    assert matcher.match("春节休市几天").best.version_id == version.id
    clock.advance(timedelta(days=2))
    assert matcher.match("春节休市几天").candidates == []


def test_vectors_persist_and_only_changed_versions_are_embedded(stocked, session_factory, clock, use_embedder,
                                                                tokenizer):
    first = _matcher(stocked, session_factory, clock, use_embedder, tokenizer)
    stats = first.refresh()
    assert stats["embedded"] == stats["documents"] > 140
    restarted = _matcher(stocked, session_factory, clock, use_embedder, tokenizer)  # a new process
    stats = restarted.refresh()
    assert stats["embedded"] == 0 and stats["loaded"] == stats["documents"]
    draft = stocked.edit_item("faq-ipo-time", "alice", body="申购时间见交易所规则。")
    stocked.submit(draft.id, "alice")
    stocked.approve(draft.id, "bob")
    assert restarted.refresh()["embedded"] == 1


def _worker(db_url, question, inbox, outbox):
    from bot.clock import SystemClock
    from bot.db import make_engine, make_session_factory

    factory = make_session_factory(make_engine(db_url))
    clock = SystemClock()
    library = ContentService(factory, clock)
    matcher = Matcher(DatabaseSource(library, factory, clock), ContentSettings(mode="lexical"), clock)
    outbox.put([c.slug for c in matcher.match(question, k=5).candidates])
    inbox.get(timeout=60)  # wait until the parent changed the library
    outbox.put([c.slug for c in matcher.match(question, k=5).candidates])


def test_another_worker_process_sees_a_retirement(stocked, db_url):
    ctx = mp.get_context("spawn")
    inbox, outbox = ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=_worker, args=(db_url, "休眠账户怎么激活", inbox, outbox))
    proc.start()
    try:
        assert "faq-dormant-reactivate" in outbox.get(timeout=60)
        stocked.retire("faq-dormant-reactivate", "officer")
        inbox.put("go")
        assert "faq-dormant-reactivate" not in outbox.get(timeout=60)
    finally:
        proc.join(timeout=30)


def test_margin_rule_answers_a_clear_lead_under_the_threshold(shared, use_embedder, tokenizer):
    """"老听人说鸡蛋别放一个篮子里 普通人具体怎么分散" scores under the plain threshold but leads the next
    item clearly."""
    stocked, clock, matcher = shared
    question = "老听人说鸡蛋别放一个篮子里 普通人具体怎么分散"
    result = matcher.match(question, k=1)  # k=1: the lead is still taken over all items
    assert result.confident and result.best.slug == "edu-diversification" and result.best.score < result.threshold
    from content.settings import Thresholds
    plain = ContentSettings(embedding_backend="use", thresholds={"use": Thresholds(fused=0.531)})
    strict = Matcher(matcher._source, plain, clock, embedder=use_embedder, tokenizer=tokenizer)
    assert strict.match(question).reason == "below_threshold"

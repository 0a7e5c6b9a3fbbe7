"""The pre-send check: lexicon blocks, suitability (R vs C), fail-closed cases, and recorded blocks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import migrate
from bot.clock import ManualClock
from bot.compliance.lexicon import Lexicon
from bot.compliance.models import OutboundBlock
from bot.compliance.presend import OutboundDecision, OutboundRequest, PresendGuard, check_outbound
from bot.compliance.settings import ComplianceSettings
from bot.compliance.suitability import InvalidRiskLevel, assess, client_rating, product_level
from bot.db import make_engine, make_session_factory
from tests.conftest import utc

CLEAN = "您好，今天收盘后的市场简评已经发在群里了，欢迎查看。"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.default()


def req(text: str = CLEAN, **kw) -> OutboundRequest:
    values = {"channel": "kf", "recipient": "wmAbc123", "origin": "auto_reply"} | kw
    return OutboundRequest(text=text, **values)


def test_clean_text_is_allowed(lexicon):
    decision = check_outbound(req(), lexicon=lexicon)
    assert isinstance(decision, OutboundDecision)
    assert decision.allowed and decision.reasons == () and decision.hits == ()
    assert decision.lexicon_version == lexicon.version


@pytest.mark.parametrize("channel,origin", [("kf", "auto_reply"), ("sidebar", "suggestion:123"),
                                            ("mass", "campaign:7"), ("welcome", "welcome"), ("app", "push:9")])
def test_violation_blocks_on_every_channel_and_says_why(lexicon, channel, origin):
    text = "这款理财保本保收益，年化6%，放心买。"
    decision = check_outbound(req(text, channel=channel, origin=origin), lexicon=lexicon)
    assert not decision.allowed
    assert decision.rule_ids == ("guarantee.principal",)
    assert decision.categories == ("guarantee",)
    assert [text[s:e] for s, e in decision.spans] == ["保本", "保收益"]
    assert decision.reasons_json()[0] == {"kind": "lexicon", "rule": "guarantee.principal", "category": "guarantee",
                                          "severity": "high", "span": [4, 6], "text": "保本"}


def test_risk_warning_with_negation_is_allowed(lexicon):
    decision = check_outbound(req("市场有风险，不保证收益。本产品不保本，不承诺收益。"), lexicon=lexicon)
    assert decision.allowed


@pytest.mark.parametrize("product,rating,allowed", [
    ("R1", "C1", True), ("R2", "C1", False), ("R3", "C3", True), ("R4", "C3", False),
    ("R5", "C5", True), ("R5", "C4", False), ("R1", None, True), ("R2", None, False), (None, None, True),
])
def test_suitability_matrix(lexicon, product, rating, allowed):
    decision = check_outbound(req(product_risk_level=product, client_risk_rating=rating), lexicon=lexicon)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reasons == ({"kind": "suitability", "product_risk_level": product,
                                     "client_risk_rating": rating, "max_allowed": f"R{rating[1] if rating else 1}"},)


def test_rating_is_looked_up_by_external_userid_when_not_given(lexicon):
    asked = []

    def lookup(external_userid):
        asked.append(external_userid)
        return "C4"

    assert check_outbound(req(product_risk_level="R4"), lexicon=lexicon, suitability_lookup=lookup).allowed
    assert not check_outbound(req(product_risk_level="R5"), lexicon=lexicon, suitability_lookup=lookup).allowed
    # R1 is suitable for everyone, and content without a level is not a product: no lookup
    check_outbound(req(product_risk_level="R1"), lexicon=lexicon, suitability_lookup=lookup)
    check_outbound(req(), lexicon=lexicon, suitability_lookup=lookup)
    assert asked == ["wmAbc123", "wmAbc123"]


def test_unrated_client_and_groups_get_only_the_configured_ceiling(lexicon):
    unrated = check_outbound(req(product_risk_level="R2"), lexicon=lexicon, suitability_lookup=lambda _: None)
    assert not unrated.allowed and unrated.reasons[0]["max_allowed"] == "R1"
    assert check_outbound(req(product_risk_level="R2"), lexicon=lexicon, suitability_lookup=lambda _: None,
                          unrated_max_risk="R2").allowed
    group = req(channel="mass", recipient=None, product_risk_level="R3", client_risk_rating="C5")
    assert not check_outbound(group, lexicon=lexicon).allowed  # a group has no single rating
    assert check_outbound(group, lexicon=lexicon, group_max_risk="R3").allowed


def test_fails_closed(lexicon):
    def broken(_):
        raise RuntimeError("crm down")

    failed = check_outbound(req(product_risk_level="R3"), lexicon=lexicon, suitability_lookup=broken)
    assert not failed.allowed and failed.reasons[0]["kind"] == "suitability_lookup_failed"
    bad_level = check_outbound(req(product_risk_level="R9", client_risk_rating="C5"), lexicon=lexicon)
    assert not bad_level.allowed and bad_level.reasons[0]["kind"] == "invalid_risk_level"
    bad_rating = check_outbound(req(product_risk_level="R2", client_risk_rating="R2"), lexicon=lexicon)
    assert not bad_rating.allowed and bad_rating.reasons[0]["kind"] == "invalid_risk_level"
    bad_channel = check_outbound(req(channel="sms"), lexicon=lexicon)
    assert not bad_channel.allowed and bad_channel.reasons[0]["kind"] == "invalid_request"


def test_suitability_parsing():
    assert product_level("r3") == 3 and client_rating(" C5 ") == 5
    for bad in ("R0", "R6", "C3", "", "3", None):
        with pytest.raises(InvalidRiskLevel):
            product_level(bad)
    assert assess("R3", "c3").client_rating == "C3"


# ----------------------------------------------------------------------------- PresendGuard + table
@pytest.fixture
def session_factory(tmp_path):
    url = f"sqlite:///{tmp_path / 'presend.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


def test_guard_records_every_block_and_nothing_else(session_factory, lexicon):
    clock = ManualClock(utc(2026, 11, 21, 7, 0))
    guard = PresendGuard(session_factory, lexicon, clock, suitability_lookup=lambda _: "C2",
                         settings=ComplianceSettings())
    assert guard.check(req()).allowed
    blocked = guard.check(req("把收到的验证码告诉我一下，我帮你登录看看。", channel="sidebar", origin="suggestion:123",
                              content_version_id=42))
    clock.advance(60)
    unsuitable = guard.check(req(channel="mass", origin="campaign:7", product_risk_level="R4"))
    assert not blocked.allowed and not unsuitable.allowed

    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboundBlock)) == 2
    newest, first = guard.recent_blocks()
    assert first["channel"] == "sidebar" and first["origin"] == "suggestion:123"
    assert first["recipient"] == "wmAbc123" and first["content_version_id"] == "42"
    assert first["at"] == "2026-11-21T07:00:00+00:00"
    assert first["lexicon_version"] == lexicon.version and len(first["text_sha256"]) == 64
    assert {r["category"] for r in first["reasons"]} == {"account_operation"}
    assert newest["reasons"] == [{"kind": "suitability", "product_risk_level": "R4", "client_risk_rating": "C2",
                                  "max_allowed": "R2"}]
    assert [b["origin"] for b in guard.recent_blocks(origin="campaign:7")] == ["campaign:7"]
    assert guard.recent_blocks(since=utc(2026, 11, 21, 7, 0, 30))[0]["origin"] == "campaign:7"


def test_guard_from_settings_uses_the_configured_lexicon_and_ceiling(session_factory, tmp_path):
    path = tmp_path / "lexicon.toml"
    path.write_text('version = "officer-7"\n[[rule]]\nid = "x.word"\ncategory = "guarantee"\nterms = ["包赚"]\n',
                    encoding="utf-8")
    settings = ComplianceSettings(lexicon_path=str(path), unrated_client_max_risk="R3")
    guard = PresendGuard.from_settings(session_factory, ManualClock(utc(2026, 1, 1)), settings)
    assert guard.lexicon.version == "officer-7"
    assert guard.check(req(product_risk_level="R3")).allowed
    assert guard.check(req("包赚")).reasons[0]["rule"] == "x.word"


def test_migration_matches_the_model(session_factory):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.db import Base

    engine = session_factory.kw["bind"]
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diffs if "outbound_block" in repr(d)]
    assert mine == []


@pytest.mark.postgres
def test_guard_on_postgresql(lexicon):
    from tests.conftest import fresh_pg_database

    url = fresh_pg_database("advisor_compliance_test")
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        guard = PresendGuard(make_session_factory(engine), lexicon, ManualClock(utc(2026, 11, 21)))
        assert not guard.check(req("600519明天可以买入，目标价2000。")).allowed
        (row,) = guard.recent_blocks()
        assert row["reasons"][0]["rule"] == "stock_tip.call"
        assert row["at"] == "2026-11-21T00:00:00+00:00"
    finally:
        engine.dispose()

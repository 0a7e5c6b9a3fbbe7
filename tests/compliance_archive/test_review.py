"""Surveillance alerts with the real lexicon, the review workflow and its audit trail, case export."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest

from bot.compliance.archive_audit import ActorRequired
from bot.compliance.export import ExportError, verify_export
from bot.compliance.review import ReviewError


def _archive_day(rt):
    archive, now = rt.services.archive, rt.clock.now()
    archive.record("chat", "inbound", "wmClient01", "zhangsan", "这个产品会亏吗？", now, msgid="c1",
                   external_userid="wmClient01", userid="zhangsan")
    archive.record("chat", "outbound", "zhangsan", "wmClient01", "放心，这款产品保本保收益，稳赚不赔", now + timedelta(minutes=1),
                   msgid="c2", external_userid="wmClient01", userid="zhangsan")
    archive.record("kf", "outbound", "bot", "wmClient02", "投资有风险，入市需谨慎。", now + timedelta(minutes=2),
                   msgid="k1", external_userid="wmClient02", suggestion_id=12, content_version_id=3, origin="suggestion")
    archive.record("chat", "outbound", "lisi", "wmClient03", "把账户密码发给我，我帮你操作", now + timedelta(minutes=3),
                   msgid="c3", external_userid="wmClient03", userid="lisi")
    archive.record("chat", "outbound", "zhangsan", "wmClient09", "保本保收益", now + timedelta(days=30),
                   msgid="c4", external_userid="wmClient09", userid="zhangsan")


def test_screening_creates_alerts_once_per_message_and_rule(runtime):
    _archive_day(runtime)
    first = runtime.services.surveillance.screen_new()
    assert first["screened"] == 5 and first["alerts"] >= 3
    alerts = runtime.services.review.queue(limit=100)
    by_msgid = {runtime.services.archive.get(a["message_id"])["msgid"] for a in alerts}
    assert by_msgid == {"c2", "c3", "c4"}  # the client's question and the compliant reply raise nothing
    assert {a["severity"] for a in alerts} <= {"high", "medium", "low"}
    assert alerts[0]["severity"] == "high"
    # re-screening (cursor reset by a new screener) creates nothing new
    from sqlalchemy import text

    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE archive_screen_cursor SET last_seq = 0"))
    assert runtime.services.surveillance.screen_new()["alerts"] == 0
    assert len(runtime.services.review.queue(limit=100)) == len(alerts)


def test_review_workflow_is_enforced_and_audited(runtime, clock):
    _archive_day(runtime)
    runtime.services.surveillance.screen_new()
    review = runtime.services.review
    alert = review.queue()[0]["id"]
    with pytest.raises(ReviewError, match="不能结案"):
        review.close(alert, "violation", by="officer1")  # must be claimed first
    review.claim(alert, by="officer1")
    with pytest.raises(ReviewError, match="已被 officer1 认领"):
        review.claim(alert, by="officer2")
    clock.advance(60)
    review.comment(alert, "已调取录音，核实中", by="officer1")
    with pytest.raises(ReviewError, match="只有认领人"):
        review.close(alert, "violation", by="officer2")
    review.escalate(alert, by="officer1", note="涉及承诺收益，提交合规负责人")
    review.claim(alert, by="chief")
    with pytest.raises(ReviewError, match="结论必须是"):
        review.close(alert, "guilty", by="chief")
    review.close(alert, "violation", by="chief", note="已约谈投顾")
    with pytest.raises(ActorRequired):
        review.reopen(alert, by=" ", reason="x")
    review.reopen(alert, by="chief", reason="客户补充投诉材料")
    review.claim(alert, by="officer2")
    review.close(alert, "violation", by="officer2")
    case = review.get(alert)
    assert case["alert"]["status"] == "closed" and case["alert"]["disposition"] == "violation"
    assert case["alert"]["escalation_level"] == 1
    trail = [(t["action"], t["actor"]) for t in case["trail"]]
    assert trail == [("claim", "officer1"), ("comment", "officer1"), ("escalate", "officer1"), ("claim", "chief"),
                     ("close", "chief"), ("reopen", "chief"), ("claim", "officer2"), ("close", "officer2")]
    assert case["trail"][1]["detail"]["text"] == "已调取录音，核实中"
    assert case["trail"][1]["at"] == clock.now()
    with pytest.raises(ReviewError, match="不存在"):
        review.claim(99999, by="officer1")


def test_search_by_text_advisor_client_channel_dates_and_alert_status(runtime):
    _archive_day(runtime)
    runtime.services.surveillance.screen_new()
    search = runtime.services.archive_search
    ids = lambda **kw: sorted(r["msgid"] for r in search.search(**kw))  # noqa: E731
    assert ids(text="保本") == ["c2", "c4"]
    assert ids(text="保本", advisor="zhangsan", date_to=runtime.clock.now() + timedelta(days=1)) == ["c2"]
    assert ids(text="产品") == ["c1", "c2"]
    assert ids(text="投资 风险") == ["k1"]
    assert ids(client="wmClient03") == ["c3"]
    assert ids(channel="kf") == ["k1"]
    assert ids(alert_status="open") == ["c2", "c3", "c4"]
    assert ids(text="不存在的词语组合") == []
    from bot.compliance.search import SearchError

    with pytest.raises(SearchError):
        search.search(channel="sms")
    with pytest.raises(SearchError):
        search.search(text="，。！")


def test_case_export_writes_hashed_files_and_is_audited(runtime, tmp_path):
    _archive_day(runtime)
    runtime.services.surveillance.screen_new()
    review = runtime.services.review
    alert = next(a for a in review.queue(limit=100) if a["userid"] == "zhangsan" and a["external_userid"] == "wmClient01")
    review.claim(alert["id"], by="officer1")
    review.comment(alert["id"], "导出给法务", by="officer1")
    out = tmp_path / "case"
    result = runtime.services.case_export.export(by="officer1", case=alert["id"], out_dir=out)
    assert result["messages"] == 2  # the alerted reply and the client's question before it, not day 30
    names = sorted(p.name for p in out.iterdir())
    assert names == ["alerts.csv", "alerts.jsonl", "audit.csv", "audit.jsonl", "manifest.json", "manifest.sha256",
                     "messages.csv", "messages.jsonl"]
    assert verify_export(out) == []
    messages = [json.loads(line) for line in (out / "messages.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [m["msgid"] for m in messages] == ["c1", "c2"] and messages[1]["hash"]
    with open(out / "audit.csv", encoding="utf-8-sig") as fh:
        assert [r["action"] for r in csv.DictReader(fh)] == ["claim", "comment"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["chain_head"]["seq"] == 5 and manifest["created_by"] == "officer1"
    (out / "messages.csv").write_text("tampered", encoding="utf-8")
    assert verify_export(out) == ["messages.csv 被修改"]
    # by criteria: everything of one advisor in a date range
    result = runtime.services.case_export.export(by="officer1", advisor="zhangsan", out_dir=tmp_path / "q",
                                                 date_from=runtime.clock.now() - timedelta(days=1),
                                                 date_to=runtime.clock.now() + timedelta(days=60))
    assert result["messages"] == 3
    with pytest.raises(ExportError, match="已存在"):
        runtime.services.case_export.export(by="officer1", case=alert["id"], out_dir=out)
    with pytest.raises(ExportError, match="--case"):
        runtime.services.case_export.export(by="officer1")
    from sqlalchemy import select

    from bot.compliance.archive_models import ArchiveAudit

    with runtime.session() as s:
        assert len(s.scalars(select(ArchiveAudit).where(ArchiveAudit.subject == "export")).all()) == 2


@pytest.mark.postgres
def test_postgres_search_and_screening(pg_runtime):
    _archive_day(pg_runtime)
    pg_runtime.services.surveillance.screen_new()
    search = pg_runtime.services.archive_search
    ids = lambda **kw: sorted(r["msgid"] for r in search.search(**kw))  # noqa: E731
    assert ids(text="保本") == ["c2", "c4"]
    assert ids(text="投资 风险") == ["k1"]
    assert ids(text="产品", alert_status="open") == ["c2"]
    assert ids(text="密码", advisor="lisi") == ["c3"]


@pytest.mark.slow
def test_semantic_screening_uses_the_configured_pre_send_checker(sqlite_url, clock):
    from tests.compliance_archive.conftest import make_runtime

    rt = make_runtime(sqlite_url, clock, {"screen_semantic": True})
    _archive_day(rt)
    assert rt.services.surveillance.screen_new()["alerts"] >= 3
    rt.close()

"""Retention purges and legal holds: held records survive, the chain stays verifiable, deletion goes
through the controlled path only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text

from bot.compliance.archive_models import ArchiveAudit, ArchivePurge, ArchiveTombstone
from bot.compliance.holds import HoldError
from bot.compliance.retention import PurgeError

OLD = datetime(2004, 5, 1, tzinfo=timezone.utc)


def _history(rt):
    archive = rt.services.archive
    for i, (client, advisor) in enumerate([("wmA", "zhangsan"), ("wmB", "lisi"), ("wmC", "zhangsan"),
                                           ("wmA", "wangwu"), ("wmD", "wangwu")]):
        archive.record("chat", "outbound", advisor, client, f"旧消息{i}", OLD + timedelta(days=i), msgid=f"old{i}",
                       external_userid=client, userid=advisor)
    archive.record("chat", "outbound", "zhangsan", "wmA", "新消息", rt.clock.now(), msgid="new0",
                   external_userid="wmA", userid="zhangsan")


def test_holds_are_placed_released_and_audited(runtime):
    holds = runtime.services.holds
    hold = holds.place(external_userid="wmA", reason="客户投诉调查", by="officer1")
    assert holds.is_on_hold(external_userid="wmA") and not holds.is_on_hold(external_userid="wmB")
    assert not holds.is_on_hold()
    with pytest.raises(HoldError, match="二者选一"):
        holds.place(external_userid="wmA", userid="lisi", reason="x", by="officer1")
    with pytest.raises(HoldError, match="原因"):
        holds.place(userid="lisi", reason=" ", by="officer1")
    holds.release(hold, reason="调查结束", by="officer2")
    assert not holds.is_on_hold(external_userid="wmA")
    with pytest.raises(HoldError, match="已解除"):
        holds.release(hold, reason="again", by="officer2")
    assert holds.list() == [] and len(holds.list(active_only=False)) == 1
    with runtime.session() as s:
        actions = [(a.action, a.actor) for a in s.scalars(select(ArchiveAudit).order_by(ArchiveAudit.id))]
    assert actions == [("place", "officer1"), ("release", "officer2")]


def test_purge_refuses_records_within_retention(runtime):
    _history(runtime)
    with pytest.raises(PurgeError, match="保留期"):
        runtime.services.retention.purge(before=runtime.clock.now() - timedelta(days=365), by="officer1",
                                         reason="clean-up")
    with pytest.raises(PurgeError, match="原因"):
        runtime.services.retention.purge(by="officer1", reason="")
    assert runtime.services.archive.head()["last_seq"] == 6


def _purge_and_check(rt):
    holds, retention = rt.services.holds, rt.services.retention
    holds.place(external_userid="wmC", reason="诉讼保全", by="legal1")
    holds.place(userid="wangwu", reason="监管调查", by="legal1")
    rt.services.surveillance.screen_new()  # nothing alarming in these messages
    preview = retention.purge(by="officer1", reason="超过保留期", dry_run=True)
    assert (preview["would_purge"], preview["held"]) == (2, 3)
    result = retention.purge(by="officer1", reason="超过保留期")
    assert (result["purged"], result["first_seq"], result["last_seq"], result["held"]) == (2, 1, 2, 3)
    left = sorted(r["msgid"] for r in rt.services.archive_search.search(limit=50))
    assert left == ["new0", "old2", "old3", "old4"]
    verified = rt.services.archive_verifier.verify()
    assert (verified.status, verified.checked) == ("ok", 6)
    # the chain continues after the purge
    rt.services.archive.record("kf", "inbound", "wmZ", "kf", "你好", rt.clock.now(), msgid="after")
    assert rt.services.archive_verifier.verify().status == "ok"
    with rt.session() as s:
        purge = s.scalars(select(ArchivePurge)).one()
        assert (purge.status, purge.purged_count, purge.actor) == ("done", 2, "officer1")
        assert purge.checkpoint_hash and len(s.scalars(select(ArchiveTombstone)).all()) == 2
    # a second purge finds nothing more; releasing a hold makes its old records purgeable
    assert retention.purge(by="officer1", reason="again")["purged"] == 0
    hold_id = [h["id"] for h in rt.services.holds.list() if h["userid"] == "wangwu"][0]
    rt.services.holds.release(hold_id, reason="调查结束", by="legal1")
    assert retention.purge(by="officer1", reason="again")["purged"] == 2  # old3 and old4 were held via wangwu
    assert rt.services.archive_verifier.verify().status == "ok"


def test_purge_keeps_held_records_and_the_chain_verifiable_sqlite(runtime):
    _history(runtime)
    _purge_and_check(runtime)


def test_purge_keeps_records_with_open_alerts(runtime):
    runtime.services.archive.record("chat", "outbound", "zhangsan", "wmA", "保本保收益，稳赚不赔", OLD, msgid="bad",
                                    external_userid="wmA", userid="zhangsan")
    runtime.services.surveillance.screen_new()
    result = runtime.services.retention.purge(by="officer1", reason="超过保留期")
    assert (result["purged"], result["open_alerts"]) == (0, 1)
    alert = runtime.services.review.queue()[0]["id"]
    runtime.services.review.claim(alert, by="officer1")
    runtime.services.review.close(alert, "violation", by="officer1")
    assert runtime.services.retention.purge(by="officer1", reason="超过保留期")["purged"] == 1


def test_sqlite_delete_outside_a_purge_is_refused_and_tombstones_are_immutable(runtime):
    _history(runtime)
    runtime.services.retention.purge(by="officer1", reason="超过保留期")
    for statement in ("DELETE FROM archive_message WHERE chain_seq = 6", "DELETE FROM archive_tombstone",
                      "UPDATE archive_tombstone SET hash = 'x'"):
        with pytest.raises(Exception, match="append-only"):
            with runtime.engine.begin() as conn:
                conn.execute(text(statement))


@pytest.mark.postgres
def test_purge_on_postgres_uses_the_controlled_path(pg_runtime, pg_url):
    _history(pg_runtime)
    _purge_and_check(pg_runtime)
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM archive_message"))
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM archive_tombstone"))
    engine.dispose()


def test_channel_retention_and_settings_validation(sqlite_url, clock):
    from bot.config import ConfigError
    from bot.compliance.archive_settings import archive_settings
    from bot.config import load_settings
    from tests.compliance_archive.conftest import make_runtime

    rt = make_runtime(sqlite_url, clock, {"channel_retention_years": {"mass": 5, "chat": 30}})
    archive = rt.services.archive
    ten_years_ago = clock.now().replace(year=clock.now().year - 10)
    for channel in ("mass", "chat", "kf"):
        archive.record(channel, "outbound", "zhangsan", "wmA", "消息", ten_years_ago, msgid=f"{channel}-10y")
        archive.record(channel, "outbound", "zhangsan", "wmA", "消息", OLD, msgid=f"{channel}-old")
    result = rt.services.retention.purge(by="officer1", reason="到期")
    left = sorted(r["msgid"] for r in rt.services.archive_search.search(limit=50))
    assert left == ["chat-10y", "chat-old", "kf-10y"]  # mass: 5 y; kf: 20 y; chat: 30 y
    assert result["purged"] == 3
    assert rt.services.archive_verifier.verify().status == "ok"
    rt.close()
    with pytest.raises(ConfigError, match="compliance.archive.channel_retention_years"):
        archive_settings(load_settings(overrides={"compliance": {"archive": {"channel_retention_years": {"sms": 3}}}},
                                       environ={}))
    with pytest.raises(ConfigError, match="pull_limit"):
        archive_settings(load_settings(overrides={"compliance": {"archive": {"pull_limit": 5000}}}, environ={}))
    cfg = archive_settings(load_settings(overrides={"compliance": {"retention_years": 30}}, environ={}))
    assert cfg.retention_years == 30


@pytest.mark.postgres
def test_postgres_switch_alone_does_not_open_the_archive(pg_runtime, pg_url):
    _history(pg_runtime)
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:  # the switch without a purge record is refused
            conn.execute(text("SET LOCAL advisor.purge = 'on'"))
            conn.execute(text("DELETE FROM archive_message WHERE chain_seq = 1"))
    engine.dispose()
    assert pg_runtime.services.archive.head()["last_seq"] == 6

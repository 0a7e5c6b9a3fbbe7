"""Archive recording, idempotency, append-only enforcement and tamper detection (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from bot.compliance.archive import ArchiveError

TAMPERS = ("alter_content", "alter_sender", "delete_middle", "delete_first", "delete_last", "rechain_one")


def _fill(runtime, n=6):
    archive = runtime.services.archive
    now = runtime.clock.now()
    ids = []
    for i in range(n):
        ids.append(archive.record("kf" if i % 2 else "chat", "outbound" if i % 2 else "inbound",
                                  "zhangsan" if i % 2 else "wmClient01", "wmClient01" if i % 2 else "zhangsan",
                                  f"第{i}条消息：请注意投资风险", now + timedelta(seconds=i), msgid=f"m{i}",
                                  external_userid="wmClient01", userid="zhangsan",
                                  suggestion_id=f"S{i}" if i % 2 else None, content_version_id=i if i % 2 else None,
                                  origin="suggestion" if i % 2 else None))
    return ids


def test_record_assigns_gap_free_chain_and_is_idempotent(runtime):
    ids = _fill(runtime)
    archive = runtime.services.archive
    again = archive.record("chat", "inbound", "wmClient01", "zhangsan", "重复投递", runtime.clock.now(), msgid="m0")
    assert again == ids[0]
    assert archive.get(ids[0])["content"] == "第0条消息：请注意投资风险"  # the first version stays
    rows = [archive.get(i) for i in ids]
    assert [r["chain_seq"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["prev_hash"] == "0" * 64
    assert all(rows[k]["prev_hash"] == rows[k - 1]["hash"] for k in range(1, 6))
    assert rows[1]["suggestion_id"] == "S1" and rows[1]["content_version_id"] == "1"
    assert archive.head()["last_seq"] == 6
    # the same msgid on another channel is another message
    assert archive.record("app", "outbound", "bot", "zhangsan", "x", runtime.clock.now(), msgid="m0") not in ids
    result = runtime.services.archive_verifier.verify()
    assert (result.status, result.checked) == ("ok", 7)


def test_bad_input_is_refused_and_records_nothing(runtime):
    archive = runtime.services.archive
    now = runtime.clock.now()
    with pytest.raises(ArchiveError, match="channel"):
        archive.record("sms", "outbound", "a", "b", "x", now)
    with pytest.raises(ArchiveError, match="direction"):
        archive.record("kf", "sideways", "a", "b", "x", now)
    with pytest.raises(ArchiveError, match="timezone"):
        archive.record("kf", "inbound", "a", "b", "x", now.replace(tzinfo=None))
    with pytest.raises(ArchiveError, match="content"):
        archive.record("kf", "inbound", "a", "b", None, now)
    assert archive.head()["last_seq"] == 0


def test_duplicate_msgid_within_one_batch_is_stored_once(runtime):
    from bot.compliance.archive import ArchiveEntry

    now = runtime.clock.now()
    e = ArchiveEntry.build("chat", "inbound", "wmA", "u1", "你好", now, msgid="dup")
    ids = runtime.services.archive.record_entries([e, e])
    assert ids[0] == ids[1]
    assert runtime.services.archive.head()["last_seq"] == 1


def test_sqlite_triggers_refuse_update_and_delete(runtime):
    _fill(runtime, 2)
    runtime.services.holds.place(external_userid="wmClient01", reason="调查", by="officer1")  # an audit row
    for statement in ("UPDATE archive_message SET content = 'x' WHERE id = 1", "DELETE FROM archive_message",
                      "UPDATE archive_audit SET actor = 'x'", "DELETE FROM archive_audit"):
        with pytest.raises(Exception, match="append-only"):
            with runtime.engine.begin() as conn:
                conn.execute(text(statement))
    assert runtime.services.archive_verifier.verify().status == "ok"


def _tamper_sqlite(conn, how):
    conn.execute(text("DROP TRIGGER IF EXISTS archive_message_no_update"))
    conn.execute(text("DROP TRIGGER IF EXISTS archive_message_no_delete"))
    _tamper(conn, how)


def _tamper(conn, how):
    if how == "alter_content":
        conn.execute(text("UPDATE archive_message SET content = '保证收益翻倍' WHERE chain_seq = 3"))
    elif how == "alter_sender":
        conn.execute(text("UPDATE archive_message SET sender = 'lisi' WHERE chain_seq = 4"))
    elif how == "delete_middle":
        conn.execute(text("DELETE FROM archive_message WHERE chain_seq = 3"))
    elif how == "delete_first":
        conn.execute(text("DELETE FROM archive_message WHERE chain_seq = 1"))
    elif how == "delete_last":
        conn.execute(text("DELETE FROM archive_message WHERE chain_seq = 6"))
    elif how == "rechain_one":  # change a row and recompute its own hash: the next link breaks
        from bot.compliance.archive import CANONICAL_FIELDS, record_hash

        row = conn.execute(text("SELECT * FROM archive_message WHERE chain_seq = 3")).mappings().one()
        fields = dict(row)
        fields["content"] = "改写"
        from bot.db import UTCDateTime

        for key in ("sent_at", "recorded_at"):
            fields[key] = UTCDateTime().process_result_value(
                fields[key] if not isinstance(fields[key], str) else __import__("datetime").datetime.fromisoformat(
                    fields[key]), None)
        new_hash = record_hash({k: fields[k] for k in CANONICAL_FIELDS}, fields["prev_hash"])
        conn.execute(text("UPDATE archive_message SET content = '改写', hash = :h WHERE chain_seq = 3"), {"h": new_hash})


EXPECTED = {"alter_content": (3, "altered"), "alter_sender": (4, "altered"), "delete_middle": (3, "missing"),
            "delete_first": (1, "missing"), "delete_last": (6, "missing"), "rechain_one": (4, "link")}


@pytest.mark.parametrize("how", TAMPERS)
def test_sqlite_tampering_is_detected(runtime, how):
    _fill(runtime)
    with runtime.engine.begin() as conn:
        _tamper_sqlite(conn, how)
    result = runtime.services.archive_verifier.verify()
    assert result.status == "broken"
    assert (result.first_broken_seq, result.reason) == EXPECTED[how]
    stored = runtime.services.archive_verifier.last_result()
    assert stored["status"] == "broken" and stored["first_broken_seq"] == EXPECTED[how][0]


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_delete_truncate(pg_runtime):
    _fill(pg_runtime, 2)
    pg_runtime.services.holds.place(external_userid="wmClient01", reason="调查", by="officer1")
    for statement in ("UPDATE archive_message SET content = 'x'", "DELETE FROM archive_message",
                      "TRUNCATE archive_message", "DELETE FROM archive_audit", "TRUNCATE archive_tombstone"):
        with pytest.raises(Exception, match="append-only"):
            with pg_runtime.engine.begin() as conn:
                conn.execute(text(statement))


@pytest.mark.postgres
@pytest.mark.parametrize("how", TAMPERS)
def test_postgres_tampering_by_superuser_is_detected(pg_runtime, pg_url, how):
    _fill(pg_runtime)
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # a superuser switches the triggers off
        conn.execute(text("ALTER TABLE archive_message DISABLE TRIGGER USER"))
        _tamper(conn, how)
        conn.execute(text("ALTER TABLE archive_message ENABLE TRIGGER USER"))
    engine.dispose()
    result = pg_runtime.services.archive_verifier.verify()
    assert result.status == "broken"
    assert (result.first_broken_seq, result.reason) == EXPECTED[how]


@pytest.mark.postgres
def test_postgres_concurrent_writers_keep_one_gap_free_chain(pg_runtime):
    archive = pg_runtime.services.archive
    now = pg_runtime.clock.now()
    errors = []

    def write(worker):
        try:
            for i in range(25):
                archive.record("kf", "inbound", f"wm{worker}", "kf", f"消息{i}", now, msgid=f"w{worker}-{i}")
                archive.record("kf", "inbound", f"wm{worker}", "kf", f"消息{i}", now, msgid=f"w{worker}-{i}")
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert archive.head()["last_seq"] == 100
    result = pg_runtime.services.archive_verifier.verify()
    assert (result.status, result.checked) == ("ok", 100)


def test_first_client_message_after(runtime):
    archive, now = runtime.services.archive, runtime.clock.now()
    archive.record("mass", "outbound", "zhangsan", "wmA", "今日资讯", now, external_userid="wmA", userid="zhangsan")
    archive.record("kf", "inbound", "wmA", "kf", "谢谢", now + timedelta(hours=2), msgid="r1", external_userid="wmA")
    archive.record("kf", "inbound", "wmA", "kf", "还有问题", now + timedelta(hours=5), msgid="r2", external_userid="wmA")
    assert archive.first_client_message_after("wmA", now) == now + timedelta(hours=2)
    assert archive.first_client_message_after("wmA", now + timedelta(hours=6)) is None
    assert archive.first_client_message_after("wmB", now) is None


def test_a_committed_running_purge_record_is_reported(runtime):
    _fill(runtime, 2)
    with runtime.engine.begin() as conn:
        conn.execute(text("INSERT INTO archive_purge (status, actor, reason, cutoff, started_at, purged_count, "
                          "held_count, open_alert_count) VALUES ('running', 'x', 'x', '2000-01-01 00:00:00.000000', "
                          "'2000-01-01 00:00:00.000000', 0, 0, 0)"))
    result = runtime.services.archive_verifier.verify()
    assert (result.status, result.reason) == ("broken", "purge_open")

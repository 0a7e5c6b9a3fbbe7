"""The session-archive pull: real RSA/AES decrypt path, key rotation, resume without gaps or
duplicates, and end to end from the simulator's msgaudit_notify callback through the worker."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from bot.compliance.archive_source import ArchiveKeyError, KeyRing, message_to_entry
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.wecom.simulator.msgaudit import SimulatedChatArchive
from tests.compliance_archive.conftest import REDIS_DB, make_runtime
from tests.conftest import real_redis

CORP_ID = "wwarchivecorp01"
APPS = {"archive": {"kind": "archive", "secret": "archive-secret-01", "token": "archtoken",
                    "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"},
        "advisor": {"kind": "app", "agent_id": 1000002, "secret": "advisor-secret-01", "token": "apptoken",
                    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}}


@pytest.fixture
def chats(clock):
    return SimulatedChatArchive(clock=clock)


def _runtime(url, clock, chats, **extra):
    rt = make_runtime(url, clock, {"private_keys": chats.private_keys(), **extra})
    rt.services.register("archive_source", chats)
    return rt


def _conversation(chats, n=5):
    for i in range(n):
        if i % 2:
            chats.text("wmClient01", ["zhangsan"], f"请问第{i}只基金怎么样？")
        else:
            chats.text("zhangsan", ["wmClient01"], f"第{i}条：本产品保本保收益，稳赚不赔")


def test_pull_decrypts_and_archives_advisors_chats(sqlite_url, clock, chats):
    _conversation(chats, 3)
    chats.image("zhangsan", ["wmClient01"])
    chats.switch("zhangsan")
    rt = _runtime(sqlite_url, clock, chats)
    result = rt.services.archive_puller.pull()
    assert result == {"archived": 5, "batches": 1, "cursor": 5}
    rows = rt.services.archive_search.search(client="wmClient01", limit=10)
    first = min(rows, key=lambda r: r["chain_seq"])
    assert (first["channel"], first["direction"], first["sender"], first["receiver"]) == \
        ("chat", "outbound", "zhangsan", "wmClient01")
    assert first["userid"] == "zhangsan" and first["content"] == "第0条：本产品保本保收益，稳赚不赔"
    inbound = [r for r in rows if r["direction"] == "inbound"]
    assert inbound and inbound[0]["sender"] == "wmClient01"
    assert any(r["msgtype"] == "image" and "sdkfileid" in r["content"] for r in rows)
    assert rt.services.archive.head()["last_seq"] == 5  # the switch record is archived too
    assert rt.services.archive_puller.pull()["archived"] == 0  # nothing new: a no-op
    rt.close()


def test_pull_resumes_exactly_after_failures_without_gaps_or_duplicates(sqlite_url, clock, chats):
    rt = _runtime(sqlite_url, clock, chats, pull_limit=3)
    _conversation(chats, 7)
    assert rt.services.archive_puller.pull()["cursor"] == 7  # batches of 3, 3, 1
    assert [c[0] for c in chats.calls] == [0, 3, 6]
    _conversation(chats, 5)
    chats.fail_next = 1
    with pytest.raises(ConnectionError):
        rt.services.archive_puller.pull()
    assert rt.services.archive_puller.cursor() == 7
    old_version = chats.current_version
    chats.rotate_key()  # new messages use the new key; the old key stays configured
    _conversation(chats, 2)
    rt2 = _runtime(sqlite_url, clock, chats, pull_limit=3)  # the rotated key is now configured
    result = rt2.services.archive_puller.pull()
    assert result["cursor"] == chats.last_seq == 14
    assert rt2.services.archive.head()["last_seq"] == 14
    msgids = [r["msgid"] for r in rt2.services.archive_search.search(limit=100)]
    assert len(msgids) == len(set(msgids)) == 14
    assert old_version == 1 and chats.current_version == 2
    assert rt2.services.archive_verifier.verify().status == "ok"
    rt.close()
    rt2.close()


def test_unknown_key_version_stops_the_pull_before_the_message(sqlite_url, clock, chats):
    rt = _runtime(sqlite_url, clock, chats)
    _conversation(chats, 2)
    rt.services.archive_puller.pull()
    chats.rotate_key()  # not configured in this runtime
    _conversation(chats, 2)
    with pytest.raises(ArchiveKeyError, match="publickey_ver 2"):
        rt.services.archive_puller.pull()
    assert rt.services.archive_puller.cursor() == 2
    assert rt.services.archive.head()["last_seq"] == 2
    rt.close()


def test_keyring_reads_pem_files_and_refuses_wrong_keys(tmp_path, chats):
    path = tmp_path / "v1.pem"
    path.write_text(chats.private_key_pem(1))
    other = SimulatedChatArchive(key_bits=1024)
    ring = KeyRing({"1": str(path), "2": other.private_key_pem(1)})
    record = chats.get_chat_data(0, 1) if chats.text("zhangsan", ["wmA"], "hi") else None
    key = ring.decrypt_random_key(1, record[0]["encrypt_random_key"])
    assert chats.decrypt(key, record[0]["encrypt_chat_msg"])["text"]["content"] == "hi"
    with pytest.raises(ArchiveKeyError):
        ring.decrypt_random_key(2, record[0]["encrypt_random_key"])


def test_group_chat_and_recall_are_mapped():
    entry = message_to_entry({"msgid": "g1", "action": "send", "from": "wmX", "tolist": ["lisi", "wmY"],
                              "roomid": "wrRoom1", "msgtime": 1700000000000, "msgtype": "text",
                              "text": {"content": "群里问一下"}}, ("wo", "wm"))
    assert (entry.direction, entry.receiver, entry.userid, entry.external_userid) == ("inbound", "wrRoom1", "lisi", "wmX")
    recall = message_to_entry({"msgid": "r1", "action": "recall", "from": "lisi", "tolist": ["wmY"],
                               "msgtime": 1700000000000, "msgtype": "revoke", "revoke": {"pre_msgid": "g1"}}, ("wm",))
    assert recall.msgtype == "revoke" and "g1" in recall.content and recall.origin == "msgaudit:recall"


def test_archived_messages_are_handed_to_conversations(sqlite_url, clock, chats):
    received = []

    class Conversations:  # stands in for the conversations service's one entry point
        def accept_archived_message(self, msg):
            received.append(msg)
            if len(received) == 1:
                raise RuntimeError("conversation side failure must not lose the archive")

    rt = _runtime(sqlite_url, clock, chats)
    rt.services.register("conversations", Conversations())
    _conversation(chats, 2)
    assert rt.services.archive_puller.pull()["archived"] == 2
    assert [m["seq"] for m in received] == [1, 2] and all(m["archive_id"] for m in received)
    assert received[0]["text"]["content"].startswith("第0条")
    rt.close()


def test_end_to_end_msgaudit_notify_from_the_simulator(sqlite_url, clock, chats):
    from bot.app import create_app
    from bot.wecom.simulator import Simulator
    from bot.worker import Worker

    settings = load_settings(overrides={
        "database": {"url": sqlite_url}, "wecom": {"corp_id": CORP_ID, "apps": APPS},
        "compliance": {"archive": {"private_keys": chats.private_keys()}}}, environ={})
    runtime = build_runtime(settings, clock=clock, redis=real_redis(REDIS_DB), sleep=lambda s: None)
    runtime.services.register("archive_source", chats)
    server = make_server("127.0.0.1", 0, create_app(runtime=runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sim = Simulator.from_settings(runtime.settings, clock=clock)
    sim.start()
    try:
        sim.connect_product(f"http://127.0.0.1:{server.server_port}/wecom/{{app}}/callback")
        _conversation(chats, 4)
        delivery = sim.callbacks.msgaudit_notify(repeat=3)  # WeCom's retries: stored once
        assert delivery.statuses == [200, 200, 200]
        Worker(runtime).run_until_idle()
        assert runtime.services.archive.head()["last_seq"] == 4
        _conversation(chats, 2)
        clock.advance(30)  # a later notify (same second and content would be a WeCom retry)
        sim.callbacks.msgaudit_notify()
        Worker(runtime).run_until_idle()
        assert runtime.services.archive.head()["last_seq"] == 6
        assert runtime.services.archive_puller.cursor() == 6
        # the handler screened what the advisor typed: one alert per message and rule
        alerts = runtime.services.review.queue(limit=100)
        assert alerts and all(a["channel"] == "chat" and a["userid"] == "zhangsan" for a in alerts)
        assert len({(a["message_id"], a["rule"]) for a in alerts}) == len(alerts)
        assert runtime.services.archive_verifier.verify().status == "ok"
    finally:
        sim.stop()
        server.shutdown()
        runtime.close()


@pytest.mark.postgres
def test_two_pullers_at_once_on_postgres_neither_skip_nor_duplicate(pg_url, clock, chats):
    for i in range(60):
        chats.text("zhangsan" if i % 2 else "wmClient01", ["wmClient01" if i % 2 else "zhangsan"], f"消息{i}")
    rt = _runtime(pg_url, clock, chats, pull_limit=7)
    errors = []

    def pull():
        try:
            rt.services.archive_puller.pull()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=pull) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert rt.services.archive_puller.cursor() == 60
    assert rt.services.archive.head()["last_seq"] == 60
    assert rt.services.archive_verifier.verify().status == "ok"
    rt.close()


def test_jobs(sqlite_url, clock, chats):
    from bot.compliance import jobs

    rt = make_runtime(sqlite_url, clock)
    assert "skipped" in jobs.pull_archive(rt)  # no archive app, no source: nothing to pull
    rt.close()
    rt = _runtime(sqlite_url, clock, chats)
    _conversation(chats, 3)
    assert jobs.pull_archive(rt)["archived"] == 3
    assert jobs.screen_archive(rt)["screened"] == 3
    result = jobs.verify_archive(rt)
    assert result["status"] == "ok" and result["checked"] == 3
    assert rt.services.archive_verifier.last_result()["status"] == "ok"
    rt.close()

"""kf intake: cursor per account, has_more followed, duplicates dropped, the callback token used (and
dropped once expired), nothing assumed beyond what WeCom returns."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from bot.conversations.models import ConversationMessage, KfCursor, Suggestion
from tests.conversations.harness import OPEN_KFID, SERVICER


def _count(env, model, *where):
    with env.runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_has_more_is_followed_and_the_cursor_kept_per_account(make_env):
    env = make_env(kf_sync_limit=2)
    sim = env.sim
    sim.kf_add_account("wkKFOTHER002", "第二个客服号", servicers=[SERVICER])
    with sim.lock:  # five messages land before WeCom's first callback is handled
        for i in range(5):
            sim.kf.user_says(OPEN_KFID, f"wmHM{i}", f"第{i}个问题")
        sim.kf.user_says("wkKFOTHER002", "wmOTHER", "另一个账号的问题")
    sim.flush()
    env.drain()
    pulls = [c.body for c in sim.calls("kf/sync_msg") if c.body["open_kfid"] == OPEN_KFID]
    assert [p["cursor"] for p in pulls[:3]] == ["", "kfc2", "kfc4"] and all(p["limit"] == 2 for p in pulls)
    assert all(p.get("token") for p in pulls[:3])  # the callback's token
    assert _count(env, ConversationMessage, ConversationMessage.direction == "in") == 6
    assert _count(env, Suggestion) == 6
    with env.runtime.session_factory() as session:
        cursors = {c.open_kfid: c.cursor for c in session.scalars(select(KfCursor))}
    assert set(cursors) == {OPEN_KFID, "wkKFOTHER002"}


def test_a_lost_cursor_or_a_repeated_callback_stores_nothing_twice(make_env):
    env = make_env()
    sim = env.sim
    sim.kf_user_says(OPEN_KFID, "wmDUP1", "第一个问题")
    sim.kf_user_says(OPEN_KFID, "wmDUP1", "第二个问题")
    env.drain()
    assert _count(env, ConversationMessage, ConversationMessage.direction == "in") == 2
    with env.runtime.session() as session:
        session.execute(delete(KfCursor))
    sim.callbacks.kf_msg_or_event(OPEN_KFID, "ENCunknown-token", repeat=3)  # replays everything readable
    sim.kf_user_says(OPEN_KFID, "wmDUP1", "第三个问题")
    env.drain()
    assert _count(env, ConversationMessage, ConversationMessage.direction == "in") == 3
    assert _count(env, Suggestion) == 3


def test_an_expired_callback_token_is_dropped(make_env):
    env = make_env()
    env.sim.kf_user_says(OPEN_KFID, "wmTOK1", "你好，想问个问题")
    env.sim.advance(timedelta(minutes=11))  # the worker was down: the 10-minute token is dead
    env.drain()
    codes = [(bool(c.body.get("token")), c.errcode) for c in env.sim.calls("kf/sync_msg")]
    assert codes == [(True, 95007), (False, 0)]
    assert _count(env, Suggestion) == 1


def test_old_messages_are_never_assumed_and_stale_ones_never_auto_answered(make_env):
    env = make_env()
    sim = env.sim
    sim.kf_user_says(OPEN_KFID, "wmOLD1", "四天前的问题")
    sim.advance(timedelta(days=4))  # WeCom only returns the last 3 days
    sim.kf_user_says(OPEN_KFID, "wmOLD2", "一天多以前的问题")
    sim.advance(timedelta(hours=25))
    env.drain()
    assert _count(env, ConversationMessage, ConversationMessage.external_userid == "wmOLD1") == 0
    with env.runtime.session_factory() as session:
        row = session.scalar(select(Suggestion).where(Suggestion.external_userid == "wmOLD2"))
    assert row.state == "pending" and "stale_question" in row.reasons

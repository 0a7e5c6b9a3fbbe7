"""Delivery tracking for campaign tasks: WeCom sends nothing until the advisor confirms.

For every task with a msgid: `get_groupmsg_task` tells whether the sender confirmed (status 2 = sent);
then `get_groupmsg_send_result` gives each client's status (1 sent, 2 not a friend, 3 already received
another mass message). Unconfirmed tasks get `remind_groupmsg_send` after [campaigns]
remind_after_minutes, at most remind_max_per_day times per 24 h (WeCom's limit is 3), spaced evenly;
after unconfirmed_after_hours the task is cancelled and its clients are marked `unconfirmed`.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from bot.db import session_scope
from jobs.models import (ALREADY_RECEIVED, FAILED, NOT_FRIEND, QUEUED, SENT, UNCONFIRMED, CampaignMember,
                         CampaignPush, CampaignTask)
from jobs.settings import campaign_settings

logger = logging.getLogger(__name__)
SEND_STATUS = {1: SENT, 2: NOT_FRIEND, 3: ALREADY_RECEIVED}
OPEN_TASKS = ("created",)
STALE_PENDING = timedelta(hours=1)


def _pages(call, key: str):
    cursor = ""
    while True:
        page = call(cursor)
        yield from page.get(key) or []
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return


def track_deliveries(context) -> None:
    counts = track(context.runtime)
    if +counts:
        logger.info("delivery tracking: %s", dict(+counts))


def track(runtime) -> Counter:
    settings = campaign_settings(runtime.settings)
    api = runtime.wecom.client(settings.wecom_app).group_message
    counts: Counter = Counter(stale=_fail_stale_pending(runtime))
    with runtime.session_factory() as session:
        tasks = list(session.execute(select(CampaignTask.id, CampaignTask.msgid, CampaignTask.sender,
                                            CampaignTask.created_at, CampaignTask.remind_count,
                                            CampaignTask.reminded_at, CampaignTask.campaign_id, CampaignTask.chat_type)
                                     .where(CampaignTask.status.in_(OPEN_TASKS), CampaignTask.msgid.is_not(None))))
    for task in tasks:
        try:
            counts[_track_task(runtime, settings, api, task)] += 1
        except Exception as exc:  # one task's failure must not stop the others; retried next poll
            logger.warning("tracking task=%s failed: %s", task.id, type(exc).__name__)
            counts["error"] += 1
    return counts


def _fail_stale_pending(runtime) -> int:
    """A task row written but never answered by WeCom (the process died in between) is failed after an
    hour rather than retried: WeCom may have created it, and a second task would push twice."""
    cutoff = runtime.clock.now() - STALE_PENDING
    p = CampaignPush.__table__
    with session_scope(runtime.session_factory) as session:
        ids = list(session.scalars(select(CampaignTask.id).where(CampaignTask.status == "pending",
                                                                 CampaignTask.created_at < cutoff)))
        if ids:
            session.execute(update(p).where(p.c.task_id.in_(ids), p.c.status == QUEUED).values(status=FAILED))
            session.execute(update(CampaignTask).where(CampaignTask.id.in_(ids)).values(
                status=FAILED, error="no answer from WeCom recorded"))
    return len(ids)


def _track_task(runtime, settings, api, task) -> str:
    now = runtime.clock.now()
    senders = list(_pages(lambda c: api.get_groupmsg_task(task.msgid, cursor=c), "task_list"))
    mine = next((s for s in senders if s.get("userid") == task.sender), None)
    if mine is not None and mine.get("status") == 2:
        results = list(_pages(lambda c: api.get_groupmsg_send_result(task.msgid, task.sender, cursor=c), "send_list"))
        _record_results(runtime, task, results, now)
        return "sent"
    age = now - task.created_at
    if age >= timedelta(hours=settings.unconfirmed_after_hours):
        try:
            api.cancel_groupmsg_send(task.msgid)
        except Exception as exc:
            logger.info("cancel task=%s: %s", task.id, type(exc).__name__)
        _close(runtime, task, UNCONFIRMED, now)
        return "unconfirmed"
    if _may_remind(settings, task, now, age):
        api.remind_groupmsg_send(task.msgid)
        with session_scope(runtime.session_factory) as session:
            session.execute(update(CampaignTask).where(CampaignTask.id == task.id).values(
                remind_count=CampaignTask.remind_count + 1, reminded_at=now, checked_at=now))
        return "reminded"
    with session_scope(runtime.session_factory) as session:
        session.execute(update(CampaignTask).where(CampaignTask.id == task.id).values(checked_at=now))
    return "waiting"


def _may_remind(settings, task, now, age) -> bool:
    if settings.remind_max_per_day == 0 or age < timedelta(minutes=settings.remind_after_minutes):
        return False
    spacing = timedelta(hours=24) / settings.remind_max_per_day
    return task.reminded_at is None or now - task.reminded_at >= spacing


def _record_results(runtime, task, results, now) -> None:
    p, m = CampaignPush.__table__, CampaignMember.__table__
    by_status: dict[str, list[str]] = {}
    for row in results:
        status = SEND_STATUS.get(row.get("status"))
        uid = row.get("external_userid")
        if status and uid:
            by_status.setdefault(status, []).append(uid)
    with session_scope(runtime.session_factory) as session:
        for status, uids in by_status.items():
            for i in range(0, len(uids), 1000):
                part = uids[i:i + 1000]
                session.execute(update(p).where(p.c.task_id == task.id, p.c.external_userid.in_(part))
                                .values(status=status))
                session.execute(update(m).where(m.c.campaign_id == task.campaign_id, m.c.external_userid.in_(part),
                                                m.c.status == QUEUED).values(status=status))
        session.execute(update(CampaignTask).where(CampaignTask.id == task.id).values(status=SENT, checked_at=now))


def _close(runtime, task, status, now) -> None:
    p, m = CampaignPush.__table__, CampaignMember.__table__
    with session_scope(runtime.session_factory) as session:
        uids = select(p.c.external_userid).where(p.c.task_id == task.id, p.c.status == QUEUED)
        session.execute(update(m).where(m.c.campaign_id == task.campaign_id, m.c.external_userid.in_(uids),
                                        m.c.status == QUEUED).values(status=status))
        session.execute(update(p).where(p.c.task_id == task.id, p.c.status == QUEUED).values(status=status))
        session.execute(update(CampaignTask).where(CampaignTask.id == task.id).values(status=status, checked_at=now))

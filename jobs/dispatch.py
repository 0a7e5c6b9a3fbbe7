"""Firing a campaign: guards (status, dates, trading day, quiet hours, content), audience ->
members, budget, per-client courtesy and compliance checks, then WeCom tasks (one per sender,
≤10,000 ids), written to the database first and sent to WeCom outside any transaction."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import session_scope
from jobs import events as feed
from jobs.budget import in_quiet_hours, quiet_end, window_for
from jobs.calendar import CalendarNotCovered, get_calendar
from jobs.deps import Collaborators
from jobs.models import (ACTIVE, FAILED, PLANNED, QUEUED, SKIPPED, Campaign, CampaignMember, CampaignPush,
                         CampaignRun, CampaignTask)
from jobs.planning import assign_members, eligible, stream_batches

logger = logging.getLogger(__name__)
TRADING_TIMINGS = ("trading_daily", "event", "pre_holiday", "series")


def fire_campaign(runtime, settings, campaign_id: int, scheduled_time: datetime, *, fire_key: str | None = None,
                  queue=None) -> dict:
    now = runtime.clock.now()
    fire_key = fire_key or scheduled_time.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%dT%H:%M")
    with runtime.session_factory() as session:
        campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != ACTIVE:
        return {"status": "skipped", "note": "not active"}
    local_day = scheduled_time.astimezone(ZoneInfo(settings.timezone)).date()
    if (campaign.starts_on and local_day < campaign.starts_on) or (campaign.ends_on and local_day > campaign.ends_on):
        return {"status": "skipped", "note": "outside campaign dates"}
    timing = campaign.timing
    if timing["kind"] in TRADING_TIMINGS:
        try:
            if not get_calendar().is_trading_day(local_day):
                return {"status": "skipped", "note": "not a trading day"}
        except CalendarNotCovered as exc:
            logger.error("campaign %s not fired: %s", campaign_id, exc)
            return {"status": "skipped", "note": "calendar not covered"}
    if in_quiet_hours(now, settings.quiet_start, settings.quiet_end, settings.timezone):
        resume = quiet_end(now, settings.quiet_start, settings.quiet_end, settings.timezone)
        if queue is not None:
            from jobs.campaigns import fire_campaign_job

            queue.run_once(fire_campaign_job, resume, name=f"campaign:{campaign.slug}:deferred:{fire_key}",
                           kind="campaign", kwargs={"campaign_id": campaign_id, "fire_key": fire_key})
        return {"status": "deferred", "until": resume.isoformat()}
    facts = _facts(settings, campaign, local_day)
    if facts is None:
        return {"status": "skipped", "note": "no calendar event today"}
    try:
        with session_scope(runtime.session_factory) as session:
            run = CampaignRun(campaign_id=campaign_id, fire_key=fire_key, scheduled_for=scheduled_time,
                              started_at=now, status="running", counts={})
            session.add(run)
            session.flush()
            run_id = run.id
    except IntegrityError:
        return {"status": "skipped", "note": f"already fired for {fire_key}"}
    try:
        counts = _run(runtime, settings, campaign, run_id, now, local_day, facts)
        status, note = "done", None
    except Exception as exc:
        counts, status, note = {}, "failed", type(exc).__name__
        raise
    finally:
        with session_scope(runtime.session_factory) as session:
            session.execute(update(CampaignRun).where(CampaignRun.id == run_id).values(
                status=status, counts=counts, finished_at=runtime.clock.now(), note=note))
    return {"status": status, "run_id": run_id, **counts}


def _facts(settings, campaign, day) -> dict | None:
    cal = get_calendar()
    facts = {"{date}": f"{day.month}月{day.day}日"}
    kind = campaign.timing["kind"]
    if kind == "event":
        todays = feed.events_on(settings.event_feed, campaign.timing["event"], day)
        if not todays:
            return None
        facts["{events}"] = "；".join(feed.describe(e) for e in todays)
    if kind == "pre_holiday":
        nxt = cal.next_trading_day(day, inclusive=False)
        first = day + timedelta(days=1)
        facts["{holiday}"] = f"{first.month}月{first.day}日至{(nxt - timedelta(days=1)).month}月{(nxt - timedelta(days=1)).day}日"
        facts["{reopen}"] = f"{nxt.month}月{nxt.day}日"
    return facts


def _render(body: str, facts: dict) -> str:
    for key, value in facts.items():
        body = body.replace(key, value)
    return body


def _attachments(version) -> dict:
    """Form: text, plus a link card when the approved version carries a URL."""
    if not getattr(version, "url", None):
        return {}
    return {"attachments": [{"msgtype": "link", "link": {"title": version.title[:128], "url": version.url}}]}


def _extra_filter(runtime, settings, campaign, now, day):
    m = CampaignMember.__table__
    kind = campaign.timing["kind"]
    if kind == "once":
        return m.c.status == PLANNED
    if kind == "series":
        steps = len(campaign.timing.get("steps") or [campaign.content_ref])
        cal = get_calendar()
        cutoff_day = day
        for _ in range(int(campaign.timing.get("every_sessions", 5))):
            cutoff_day = cal.previous_trading_day(cutoff_day)
        cutoff = datetime.combine(cutoff_day, datetime.min.time(), tzinfo=ZoneInfo(settings.timezone))
        return and_(m.c.step < steps, or_(m.c.last_push_at.is_(None), m.c.last_push_at < cutoff + timedelta(days=1)))
    if kind == "birthday":
        from bot.contacts.models import CrmClient

        if not hasattr(CrmClient, "birth_date"):
            return None  # the CRM gives a birth year only: no birthday greetings
        return m.c.external_userid.in_(select(CrmClient.external_userid).where(
            CrmClient.birth_date.is_not(None), _month_day(runtime, CrmClient.birth_date, day)))
    return True


def _month_day(runtime, column, day):
    from sqlalchemy import extract

    return and_(extract("month", column) == day.month, extract("day", column) == day.day)


def _run(runtime, settings, campaign, run_id, now, day, facts) -> dict:
    deps = Collaborators(runtime, settings)
    counts: Counter = Counter()
    steps = campaign.timing.get("steps") or [campaign.content_ref]
    contents = {}
    for i, ref in enumerate(steps):
        version, sendable = deps.resolve_content(ref if i else campaign.content_ref, now)
        if not sendable:
            logger.warning("campaign %s: content %s is not approved or not valid now; step skipped", campaign.id, ref)
        contents[i] = (version, sendable)
    if not any(ok for _, ok in contents.values()):
        return {"note": "content not sendable"}
    if campaign.channel == "group":
        return _send_group(runtime, settings, deps, campaign, run_id, now, contents[0], facts)
    extra = _extra_filter(runtime, settings, campaign, now, day)
    if extra is None:
        return {"note": "no birth dates in the CRM"}
    with session_scope(runtime.session_factory) as session:
        counts["assigned"] = assign_members(session, campaign_id=campaign.id, key=campaign.slug,
                                            holdout_share=campaign.holdout_share,
                                            audience=deps.segment(campaign.segment_expr), now=now)
    stmt = deps.with_owner_and_risk(eligible(campaign.id, window_for(now, settings), extra=extra),
                                    dialect=runtime.engine.dialect.name)
    with runtime.session_factory() as reader:
        for batch in stream_batches(reader, stmt, max_ids=settings.max_ids_per_task):
            version, sendable = contents.get(batch.step, (None, False))
            if not sendable:
                counts["content_not_sendable"] += len(batch.rows)
                continue
            _send_batch(runtime, settings, deps, campaign, run_id, now, batch, version, facts, counts)
    return dict(counts)


def _send_batch(runtime, settings, deps, campaign, run_id, now, batch, version, facts, counts) -> None:
    text = _render(version.body, facts)
    ok, skipped = [], []
    sender_held = batch.sender is not None and deps.sender_on_hold(batch.sender)
    for uid, risk in batch.rows:
        reason = None
        if batch.sender is None:
            reason = "no_owner"
        elif sender_held:
            reason = "sender_hold"
        elif deps.on_hold(uid):
            reason = "hold"
        elif deps.in_human_conversation(uid):
            reason = "conversation"
        elif not deps.check_outbound(text=text, recipient=uid, campaign_id=campaign.id, content_version_id=version.id,
                                     product_risk_level=campaign.product_risk_level,
                                     client_risk_level=risk).allowed:
            reason = "compliance"
        if reason:
            skipped.append((uid, reason))
            counts[f"skipped_{reason}"] += 1
        else:
            ok.append(uid)
    m = CampaignMember.__table__
    with session_scope(runtime.session_factory) as session:
        for uid, reason in skipped:
            session.execute(update(m).where(m.c.campaign_id == campaign.id, m.c.external_userid == uid)
                            .values(status=SKIPPED, skip_reason=reason))
        if not ok:
            return
        task = CampaignTask(campaign_id=campaign.id, run_id=run_id, sender=batch.sender, chat_type="single",
                            content_version_id=version.id, recipient_count=len(ok), status="pending", created_at=now)
        session.add(task)
        session.flush()
        task_id = task.id
        session.execute(CampaignPush.__table__.insert(), [
            {"campaign_id": campaign.id, "run_id": run_id, "task_id": task_id, "external_userid": uid,
             "status": QUEUED, "pushed_at": now} for uid in ok])
        advance = {"step": m.c.step + 1} if campaign.timing["kind"] == "series" else {}
        session.execute(update(m).where(m.c.campaign_id == campaign.id, m.c.external_userid.in_(ok))
                        .values(status=QUEUED, skip_reason=None, last_push_at=now, **advance))
    _call_wecom(runtime, settings, task_id, {"chat_type": "single", "external_userid": ok, "sender": batch.sender,
                                             "text": {"content": text}, **_attachments(version)}, counts, len(ok))


def _call_wecom(runtime, settings, task_id, data, counts, n) -> None:
    """Outside any transaction: a rollback could not undo a task WeCom already created."""
    p = CampaignPush.__table__
    try:
        result = runtime.wecom.client(settings.wecom_app).group_message.add_msg_template(data)
    except Exception as exc:
        logger.warning("add_msg_template failed task=%s: %s", task_id, type(exc).__name__)
        with session_scope(runtime.session_factory) as session:
            session.execute(update(CampaignTask).where(CampaignTask.id == task_id).values(
                status=FAILED, error=type(exc).__name__))
            session.execute(update(p).where(p.c.task_id == task_id).values(status=FAILED))
        counts["failed"] += n
        return
    failed = [f for f in result.get("fail_list") or []]
    with session_scope(runtime.session_factory) as session:
        session.execute(update(CampaignTask).where(CampaignTask.id == task_id).values(
            status="created", msgid=result.get("msgid")))
        if failed:
            session.execute(update(p).where(p.c.task_id == task_id, p.c.external_userid.in_(failed))
                            .values(status=FAILED))
    counts["queued"] += n - len(failed)
    counts["failed"] += len(failed)
    counts["tasks"] += 1
    _archive_task(runtime, task_id, data, result.get("msgid"), set(failed))


def _archive_task(runtime, task_id, data, msgid, failed: set) -> None:
    """Every outbound message is archived for compliance: the task's text, sender and recipients."""
    if not runtime.services.available("archive"):
        return
    receivers = [r for r in (data.get("external_userid") or data.get("chat_id_list") or []) if r not in failed]
    if not receivers:
        return
    with session_scope(runtime.session_factory) as session:
        task = session.get(CampaignTask, task_id)
        version_id, campaign_id = task.content_version_id, task.campaign_id
    try:
        runtime.services.archive.record(
            "mass", "outbound", data["sender"], receivers, (data.get("text") or {}).get("content", ""),
            runtime.clock.now(), msgid=msgid, userid=data["sender"], content_version_id=version_id,
            origin=f"campaign:{campaign_id}")
    except Exception:  # WeCom already has the task; the failure is loud, the task stands
        logger.exception("archiving mass-message task=%s failed", task_id)


def _send_group(runtime, settings, deps, campaign, run_id, now, content, facts) -> dict:
    version, _ = content
    text = _render(version.body, facts)
    verdict = deps.check_outbound(text=text, recipient=None, campaign_id=campaign.id, content_version_id=version.id,
                                  product_risk_level=campaign.product_risk_level, client_risk_level=None)
    if not verdict.allowed:
        return {"skipped_compliance": len(campaign.chat_ids)}
    with session_scope(runtime.session_factory) as session:
        task = CampaignTask(campaign_id=campaign.id, run_id=run_id, sender=campaign.group_sender, chat_type="group",
                            content_version_id=version.id, recipient_count=len(campaign.chat_ids), status="pending",
                            created_at=now)
        session.add(task)
        session.flush()
        task_id = task.id
    counts: Counter = Counter()
    _call_wecom(runtime, settings, task_id, {"chat_type": "group", "chat_id_list": list(campaign.chat_ids),
                                             "sender": campaign.group_sender, "text": {"content": text},
                                             **_attachments(version)},
                counts, len(campaign.chat_ids))
    return dict(counts)

"""A month on the simulator's clock around 国庆 2026 (XSHG closed Oct 1–7, 中秋 Sep 25): three
campaigns fired from their scheduler triggers, advisors confirming in the simulator, delivery tracked.
Pushes happen only on trading days, no client goes over budget, no control client is ever contacted."""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from jobs import delivery
from jobs.calendar import get_calendar
from jobs.campaigns import CampaignSpec, sync_jobs
from jobs.models import CONTROL, HELD_OUT, CampaignMember, CampaignPush, CampaignTask
from jobs.planning import bucket
from jobs.scheduler import build_scheduler
from jobs.templates import TEMPLATES
from jobs.triggers import fire_times
from tests.jobs.conftest import approve, seed_clients

SH = ZoneInfo("Asia/Shanghai")
MONTH_START = datetime(2026, 9, 21, 0, 0, tzinfo=SH)
MONTH_END = datetime(2026, 10, 21, 0, 0, tzinfo=SH)


def _campaigns(runtime):
    svc = runtime.services.campaigns
    for key in ("after_close", "ipo_reminder", "pre_holiday_repo"):
        approve(runtime, TEMPLATES[key].slug, TEMPLATES[key].body, title=TEMPLATES[key].title)
    specs = [CampaignSpec(slug="close-daily", name="收盘点评", template="after_close", holdout_share=0.2,
                          status="active"),
             CampaignSpec(slug="ipo", name="新股提醒", template="ipo_reminder", segment="长尾", holdout_share=0.2,
                          status="active"),
             CampaignSpec(slug="repo", name="节前逆回购", template="pre_holiday_repo", holdout_share=0.2,
                          status="active")]
    return [svc.save(spec, "test") for spec in specs]


def _drive(runtime, sim, clock):
    scheduler, queue = build_scheduler(runtime)
    names = sync_jobs(queue, runtime)
    firings = sorted((t, name) for name in names
                     for t in fire_times(queue.get(name).trigger, MONTH_START, MONTH_END))
    results = []
    for when, name in firings:
        clock.set(when)
        results.append((when, name, queue.fire(name, when)))
        clock.set(when + timedelta(minutes=20))  # advisors confirm most tasks in the WeCom client
        with runtime.session_factory() as s:
            tasks = s.execute(select(CampaignTask.msgid, CampaignTask.sender).where(
                CampaignTask.status == "created")).all()
        for msgid, sender in tasks:
            if zlib.crc32(f"{sender}:{when.date()}".encode()) % 5:  # some stay unconfirmed (reminded, closed)
                sim.confirm_groupmsg(msgid, sender)
        clock.set(when + timedelta(hours=3))
        delivery.track(runtime)
    return names, firings, results


def test_month_around_national_day(runtime, sim, clock):
    ids = seed_clients(runtime, sim, 90)
    campaigns = _campaigns(runtime)
    names, firings, results = _drive(runtime, sim, clock)
    cal = get_calendar()
    settings = runtime.services.campaigns.settings

    # 1. every add_msg_template call happened on a trading day, during the allowed hours
    calls = [c for c in sim.calls("externalcontact/add_msg_template") if c.errcode == 0]
    assert calls, "no pushes at all"
    for call in calls:
        local = call.at.astimezone(SH)
        assert cal.is_trading_day(local.date()), local
        assert 8 <= local.hour < 21
    days = {c.at.astimezone(SH).date() for c in calls}
    assert not any(datetime(2026, 10, d).date() in days for d in range(1, 8))

    # 2. no control client ever appears in a WeCom payload; control members stay held out
    with runtime.session_factory() as s:
        members = s.execute(select(CampaignMember.campaign_id, CampaignMember.external_userid,
                                   CampaignMember.arm, CampaignMember.status)).all()
    control = {(cid, uid) for cid, uid, arm, _ in members if arm == CONTROL}
    assert control and all(st == HELD_OUT for _, _, arm, st in members if arm == CONTROL)
    slug_of = {c.id: c.slug for c in campaigns}
    for cid, uid in control:  # the arm is the stable sha256 bucket
        assert bucket(slug_of[cid], uid) < 2000
    contacted = Counter()
    for call in calls:
        for uid in call.body.get("external_userid", []):
            contacted[uid] += 1
    with runtime.session_factory() as s:
        pushes = s.execute(select(CampaignPush.campaign_id, CampaignPush.external_userid, CampaignPush.status,
                                  CampaignPush.pushed_at)).all()
    assert not [p for p in pushes if (p.campaign_id, p.external_userid) in control]
    assert sum(contacted.values()) == len(pushes)

    # 3. no client over budget: per day / Monday week / month, all campaigns together
    per_day, per_week, per_month = Counter(), Counter(), Counter()
    for p in pushes:
        if p.status not in ("queued", "sent"):
            continue
        d = p.pushed_at.astimezone(SH).date()
        per_day[(p.external_userid, d)] += 1
        per_week[(p.external_userid, d.isocalendar()[:2])] += 1
        per_month[(p.external_userid, d.month)] += 1
    assert max(per_day.values()) <= settings.max_per_day
    assert max(per_week.values()) <= settings.max_per_week
    assert max(per_month.values()) <= settings.max_per_month
    assert max(per_week.values()) == settings.max_per_week  # the budget actually binds

    # 4. the IPO campaign fired only on the feed's days; the repo reminder on 9-24 and 9-30
    ipo_days = {r[0].astimezone(SH).date() for r in results if r[1] == "campaign:ipo"}
    assert datetime(2026, 10, 1).date() not in ipo_days
    with runtime.session_factory() as s:
        task_days = Counter((t.campaign_id, t.created_at.astimezone(SH).date())
                            for t in s.scalars(select(CampaignTask)))
    ipo_id = next(c.id for c in campaigns if c.slug == "ipo")
    repo_id = next(c.id for c in campaigns if c.slug == "repo")
    assert {d for (cid, d) in task_days if cid == ipo_id} <= {datetime(2026, 10, 9).date(), datetime(2026, 10, 13).date()}
    assert {d for (cid, d) in task_days if cid == repo_id} <= {datetime(2026, 9, 24).date(), datetime(2026, 9, 30).date()}

    # 5. delivery statuses were tracked from WeCom
    statuses = Counter(p.status for p in pushes)
    assert statuses["sent"] > 0
    reminders = [c for c in sim.calls("externalcontact/remind_groupmsg_send") if c.errcode == 0]
    assert reminders, "unconfirmed tasks were never reminded"
    by_msg: dict[str, list] = {}
    for c in reminders:
        by_msg.setdefault(c.body["msgid"], []).append(c.at)
    for times in by_msg.values():  # WeCom allows 3 per 24 h; we spread at most 3 over 24 h
        assert all(len([t for t in times if timedelta(0) <= t - s < timedelta(hours=24)]) <= 3 for s in times)
    assert not [c for c in sim.calls("externalcontact/remind_groupmsg_send") if c.errcode not in (0, None)]
    text = next(c.body["text"]["content"] for c in calls)
    assert "{" not in text
    print(f"\nmonth: {len(firings)} firings, {len(calls)} add_msg_template calls on {len(days)} trading days, "
          f"{len(pushes)} pushes {dict(statuses)}, {len(control)} control members never contacted, "
          f"max per week {max(per_week.values())}, per month {max(per_month.values())}, {len(reminders)} reminders")

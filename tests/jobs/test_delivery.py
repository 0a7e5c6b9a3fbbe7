"""Delivery tracking details: WeCom failures, stale tasks, reminders within WeCom's limit."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from jobs import delivery
from jobs.campaigns import CampaignSpec
from jobs.models import CampaignPush, CampaignTask
from jobs.templates import TEMPLATES
from tests.jobs.conftest import approve, seed_clients

SH = ZoneInfo("Asia/Shanghai")
FIRE = datetime(2026, 10, 12, 15, 30, tzinfo=SH)


def _campaign(runtime, sim, n=9):
    seed_clients(runtime, sim, n)
    approve(runtime, TEMPLATES["after_close"].slug, TEMPLATES["after_close"].body)
    return runtime.services.campaigns.save(CampaignSpec(slug="d", name="收盘点评", template="after_close",
                                                        holdout_share=0.0, status="active"), "ops")


def test_wecom_error_fails_the_task_and_frees_the_budget(runtime, sim, clock):
    c = _campaign(runtime, sim)
    sim.fail_next("externalcontact/add_msg_template", errcode=40096, times=1)
    clock.set(FIRE)
    result = runtime.services.campaigns.fire(c.id, FIRE)
    assert result["failed"] == 3 and result["queued"] == 6
    with runtime.session_factory() as s:
        statuses = sorted(s.scalars(select(CampaignTask.status)))
        failed_pushes = s.scalars(select(CampaignPush).where(CampaignPush.status == "failed")).all()
    assert statuses == ["created", "created", "failed"] and len(failed_pushes) == 3
    nxt = FIRE + timedelta(days=1)
    clock.set(nxt)  # a failed push did not count: those clients are pushed again the next day
    assert runtime.services.campaigns.fire(c.id, nxt)["queued"] == 9


def test_stale_pending_and_reminder_limit(runtime, sim, clock):
    c = _campaign(runtime, sim, n=3)
    clock.set(FIRE)
    runtime.services.campaigns.fire(c.id, FIRE)
    with runtime.session() as s:
        run_id = s.scalar(select(CampaignTask.run_id))
        s.add(CampaignTask(campaign_id=c.id, run_id=run_id, sender="adv1", chat_type="single", recipient_count=1,
                           status="pending", created_at=FIRE))
    reminded = 0
    for hour in range(1, 60):  # nobody confirms for 59 hours
        clock.set(FIRE + timedelta(hours=hour))
        reminded += delivery.track(runtime)["reminded"]
    with runtime.session_factory() as s:
        tasks = {t.status for t in s.scalars(select(CampaignTask))}
    assert "pending" not in tasks and "failed" in tasks
    remind_calls = sim.calls("externalcontact/remind_groupmsg_send")
    assert all(call.errcode == 0 for call in remind_calls)  # never over WeCom's 3 per 24 h
    assert reminded == len(remind_calls) and 3 * 6 <= reminded <= 3 * 8  # 3 tasks, ~3 per 24 h each
    clock.set(FIRE + timedelta(hours=73))
    assert delivery.track(runtime)["unconfirmed"] == 3
    with runtime.session_factory() as s:
        assert {p.status for p in s.scalars(select(CampaignPush))} == {"unconfirmed"}

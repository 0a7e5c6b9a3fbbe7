"""Campaign definitions and the per-client guards, end to end on the simulator with the real content,
contacts, compliance (pre-send, holds, archive) and conversations services."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from jobs.campaigns import CampaignError, CampaignSpec, parse_file
from jobs.models import CONTROL, TREATED, CampaignMember
from jobs.templates import TEMPLATES
from tests.jobs.conftest import approve, seed_clients

SH = ZoneInfo("Asia/Shanghai")
MON_1530 = datetime(2026, 10, 12, 15, 30, tzinfo=SH)

GOOD = """
[[campaign]]
slug = "close-a"
name = "收盘点评 A"
template = "after_close"
holdout_share = 0.25
status = "active"

[[campaign]]
slug = "custom-b"
name = "自定义"
content = "custom-body"
segment = "长尾 AND NOT 休眠"
timing = { kind = "trading_daily", time = "10:30" }
"""
BAD = GOOD + """
[[campaign]]
slug = "Bad Slug"
name = "x"
timing = { kind = "event" }
content = "x"
"""


def test_file_all_or_nothing(runtime, tmp_path):
    seed_clients(runtime, None, 3)
    (tmp_path / "bad.toml").write_text(BAD, encoding="utf-8")
    with pytest.raises(CampaignError) as err:
        parse_file(str(tmp_path / "bad.toml"))
    assert "campaign[2].slug" in str(err.value) and "event timing needs" in str(err.value)
    svc = runtime.services.campaigns
    assert svc.list() == []
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    rows = svc.load_file(str(tmp_path / "good.toml"), "ops")
    assert [(r.slug, r.status, r.holdout_share) for r in rows] == [("close-a", "active", 0.25),
                                                                   ("custom-b", "draft", 0.1)]
    assert rows[0].content_ref == TEMPLATES["after_close"].slug
    with pytest.raises(Exception, match="未知|unknown|Unknown"):
        svc.save(CampaignSpec(slug="c", name="c", content="x", segment="没有这个标签",
                              timing={"kind": "trading_daily"}), "ops")


def _setup(runtime, sim, n=60, **spec):
    ids = seed_clients(runtime, sim, n)
    approve(runtime, TEMPLATES["after_close"].slug, TEMPLATES["after_close"].body)
    campaign = runtime.services.campaigns.save(
        CampaignSpec(slug="close", name="收盘点评", template="after_close", holdout_share=0.3, status="active", **spec),
        "ops")
    return ids, campaign


def _members(runtime, campaign_id):
    with runtime.session_factory() as s:
        return {m.external_userid: m for m in s.scalars(select(CampaignMember).where(
            CampaignMember.campaign_id == campaign_id))}


def test_guards_hold_conversation_compliance_and_holdout(runtime, sim, clock):
    from bot.conversations.models import HUMAN, KfSession

    ids, campaign = _setup(runtime, sim)
    svc = runtime.services.campaigns
    clock.set(MON_1530)
    svc.fire(campaign.id, MON_1530)  # assigns members
    members = _members(runtime, campaign.id)
    treated = sorted(u for u, m in members.items() if m.arm == TREATED)
    control = sorted(u for u, m in members.items() if m.arm == CONTROL)
    assert 0.15 < len(control) / len(ids) < 0.45
    runtime.services.holds.place(external_userid=treated[0], reason="监管问询", by="officer1")
    with runtime.session() as s:
        s.add(KfSession(open_kfid="kf1", external_userid=treated[1], mode=HUMAN, updated_at=clock.now()))
    next_day = MON_1530 + timedelta(days=1)
    clock.set(next_day)
    result = svc.fire(campaign.id, next_day)
    assert result["skipped_hold"] == 1 and result["skipped_conversation"] == 1
    members = _members(runtime, campaign.id)
    assert (members[treated[0]].skip_reason, members[treated[1]].skip_reason) == ("hold", "conversation")
    runtime.services.holds.place(userid="adv2", reason="投顾合规检查", by="officer1")
    third = MON_1530 + timedelta(days=2)
    clock.set(third)
    result = svc.fire(campaign.id, third)
    assert result["skipped_sender_hold"] == sum(1 for u in treated if sim.follow_users(u) == ["adv2"])
    last_senders = {c.body["sender"] for c in sim.calls("externalcontact/add_msg_template")
                    if c.at >= third.astimezone(c.at.tzinfo)}
    assert last_senders and "adv2" not in last_senders
    sent_ids = {u for c in sim.calls("externalcontact/add_msg_template") if c.errcode == 0
                for u in c.body.get("external_userid", [])}
    assert not sent_ids & set(control)
    for call in sim.calls("externalcontact/add_msg_template"):
        assert len(call.body["external_userid"]) <= 10000
        owners = {sim.follow_users(u)[0] for u in call.body["external_userid"]}
        assert owners == {call.body["sender"]}  # one task per sender, the client's owner


def test_compliance_blocks_promises(runtime, sim, clock):
    seed_clients(runtime, sim, 20)
    approve(runtime, "promise", "本产品保本保收益，稳赚不赔，错过再等一年！")
    svc = runtime.services.campaigns
    c = svc.save(CampaignSpec(slug="bad-text", name="x", content="promise", holdout_share=0.0, status="active",
                              timing={"kind": "trading_daily", "time": "15:30"}), "ops")
    clock.set(MON_1530)
    result = svc.fire(c.id, MON_1530)
    assert result.get("skipped_compliance") == 20 and not result.get("queued")
    assert sim.calls("externalcontact/add_msg_template") == []


def test_unapproved_content_is_never_sent(runtime, sim, clock):
    seed_clients(runtime, sim, 5)
    runtime.services.content.create_item(slug="draft-only", kind="article", title="t", body="草稿内容", author="e")
    svc = runtime.services.campaigns
    c = svc.save(CampaignSpec(slug="draft", name="x", content="draft-only", status="active",
                              timing={"kind": "trading_daily"}), "ops")
    clock.set(MON_1530)
    assert svc.fire(c.id, MON_1530)["note"] == "content not sendable"


def test_quiet_hours_defer_and_holiday_skip(runtime, sim, clock):
    _, campaign = _setup(runtime, sim, n=6)
    svc = runtime.services.campaigns
    late = datetime(2026, 10, 12, 22, 0, tzinfo=SH)
    clock.set(late)
    result = svc.fire(campaign.id, MON_1530)
    assert result["status"] == "deferred" and result["until"].startswith("2026-10-13T08:00")
    holiday = datetime(2026, 10, 5, 15, 30, tzinfo=SH)
    clock.set(holiday)
    assert svc.fire(campaign.id, holiday)["note"] == "not a trading day"
    clock.set(MON_1530)
    assert svc.fire(campaign.id, MON_1530)["status"] == "done"
    assert svc.fire(campaign.id, MON_1530)["note"].startswith("already fired")


def test_group_channel(runtime, sim, clock):
    seed_clients(runtime, sim, 3)
    sim.add_group_chat("wrGroup1", "adv1", "长尾客户交流群", callback=False)
    library = runtime.services.content
    v = library.create_item(slug=TEMPLATES["after_close"].slug, kind="article", title="收盘点评",
                            body=TEMPLATES["after_close"].body, author="editor", url="https://example.com/close")
    library.submit(v.id, by="editor")
    library.approve(v.id, approver="officer")
    svc = runtime.services.campaigns
    c = svc.save(CampaignSpec(slug="grp", name="群发", template="after_close", channel="group",
                              chat_ids=["wrGroup1"], group_sender="adv1", status="active"), "ops")
    clock.set(MON_1530)
    assert svc.fire(c.id, MON_1530)["queued"] == 1
    call = sim.calls("externalcontact/add_msg_template")[-1]
    assert call.body["chat_type"] == "group" and call.body["chat_id_list"] == ["wrGroup1"]
    assert call.body["attachments"] == [{"msgtype": "link", "link": {"title": "收盘点评",
                                                                     "url": "https://example.com/close"}}]


def test_dormant_series_steps_and_birthday_skip(runtime, sim, clock):
    seed_clients(runtime, sim, 6, assets=50)  # 休眠 needs no trade for 3 years: use the long-tail segment
    for key in ("dormant_wakeup", "dormant_wakeup_2", "dormant_wakeup_3", "birthday"):
        approve(runtime, TEMPLATES[key].slug, TEMPLATES[key].body)
    svc = runtime.services.campaigns
    c = svc.save(CampaignSpec(slug="wake", name="唤醒", template="dormant_wakeup", segment="长尾",
                              holdout_share=0.0, status="active",
                              timing={"kind": "series", "time": "10:00", "every_sessions": 2,
                                      "steps": [TEMPLATES[k].slug for k in
                                                ("dormant_wakeup", "dormant_wakeup_2", "dormant_wakeup_3")]}),
                 "ops")
    days = [datetime(2026, 10, d, 10, 0, tzinfo=SH) for d in (12, 13, 14, 15, 16, 19, 20, 21)]
    queued = []
    for day in days:
        clock.set(day)
        queued.append(svc.fire(c.id, day).get("queued", 0))
    assert queued == [6, 0, 6, 0, 6, 0, 0, 0]  # three steps, every second session, then done
    texts = [call.body["text"]["content"] for call in sim.calls("externalcontact/add_msg_template")]
    assert any("好久没有联系" in t for t in texts) and any("休眠账户" in t for t in texts)
    b = svc.save(CampaignSpec(slug="bday", name="生日", template="birthday", status="active"), "ops")
    assert svc.fire(b.id, days[-1])["note"] == "no birth dates in the CRM"


@pytest.mark.postgres
def test_fire_on_postgres(pg_url, sim, clock):
    """The PostgreSQL path: SQL sha256 holdout, temporary plan table, server-side cursor."""
    from jobs.planning import bucket
    from tests.jobs.conftest import make_runtime

    runtime = make_runtime(pg_url, clock, sim)
    try:
        seed_clients(runtime, sim, 40, prefix="pg")
        approve(runtime, "pg-close", TEMPLATES["after_close"].body)
        svc = runtime.services.campaigns
        c = svc.save(CampaignSpec(slug="pg-close", name="收盘点评", content="pg-close", holdout_share=0.25,
                                  status="active", timing={"kind": "trading_daily", "time": "15:30"}), "ops")
        clock.set(MON_1530)
        result = svc.fire(c.id, MON_1530)
        members = _members(runtime, c.id)
        assert all((m.arm == CONTROL) == (bucket("pg-close", u) < 2500) for u, m in members.items())
        treated = {u for u, m in members.items() if m.arm == TREATED}
        assert result["queued"] == len(treated) and result["tasks"] == 3
        sent = {u for call in sim.calls("externalcontact/add_msg_template") for u in call.body["external_userid"]}
        assert sent == treated
    finally:
        runtime.close()


def test_sender_matches_contacts_owner_of(runtime, sim, clock):
    """The set-based sender equals contacts' owner_of for every client (CRM owner still following,
    CRM owner gone, several follows added at different times)."""
    from bot.contacts.models import FOLLOW_ACTIVE, FOLLOW_ENDED, Contact, CrmClient, Follow
    from jobs.budget import window_for
    from jobs.deps import Collaborators
    from jobs.planning import eligible

    ids = seed_clients(runtime, None, 12)
    later = clock.now() + timedelta(hours=1)
    with runtime.session() as s:
        contacts = {c.external_userid: c.id for c in s.scalars(select(Contact))}
        for i, uid in enumerate(ids):
            if i % 3 == 0:  # a second, newer follow; the CRM owner still follows
                s.add(Follow(contact_id=contacts[uid], userid="adv9", status=FOLLOW_ACTIVE, added_at=later))
            if i % 4 == 1:  # the CRM names someone who does not follow: the newest follow wins
                s.add(Follow(contact_id=contacts[uid], userid="adv8", status=FOLLOW_ACTIVE, added_at=later))
                s.get(CrmClient, f"Cwm{i:05d}").owner_userid = "adv7"
            if i == 5:
                s.add(Follow(contact_id=contacts[uid], userid="adv6", status=FOLLOW_ENDED, added_at=later))
    svc = runtime.services.campaigns
    c = svc.save(CampaignSpec(slug="own", name="x", content="x", holdout_share=0.0,
                              timing={"kind": "trading_daily"}), "ops")
    from jobs.planning import assign_members

    with runtime.session() as s:
        assign_members(s, campaign_id=c.id, key="own", holdout_share=0.0,
                       audience=runtime.services.contacts.select_segment("长尾"), now=clock.now())
    deps = Collaborators(runtime, svc.settings)
    stmt = deps.with_owner_and_risk(eligible(c.id, window_for(clock.now(), svc.settings)), dialect="sqlite")
    with runtime.session_factory() as s:
        rows = s.execute(stmt).all()
    assert len(rows) == len(ids)
    assert {uid: owner for uid, _, owner, _ in rows} == {u: runtime.services.contacts.owner_of(u) for u in ids}


def test_every_created_task_is_archived(runtime, sim, clock):
    from bot.compliance.archive_models import ArchiveMessage

    ids, campaign = _setup(runtime, sim)
    clock.set(MON_1530)
    runtime.services.campaigns.fire(campaign.id, MON_1530)
    calls = [c for c in sim.calls("externalcontact/add_msg_template") if c.errcode == 0]
    assert calls
    with runtime.session_factory() as s:
        rows = s.scalars(select(ArchiveMessage).where(ArchiveMessage.channel == "mass")).all()
    assert len(rows) == len(calls)
    assert {r.origin for r in rows} == {f"campaign:{campaign.id}"}
    assert {r.sender for r in rows} == {c.body["sender"] for c in calls}
    assert all(r.content and r.content_version_id for r in rows)

"""Test data for the consoles, written through the domains' own code where it exists (contacts
directory and tags, the compliance archive and surveillance, the content library, campaigns)."""

from __future__ import annotations

from datetime import timedelta

from bot.contacts import directory
from bot.contacts.tags import replace_group_tags
from bot.conversations.models import ARCHIVE, IN, ConversationMessage, Suggestion


def add_contact(runtime, external_userid: str, owner: str, *, name: str = "", tier: str = "长尾",
                stage: str = "活跃", inherited_from: str | None = None) -> None:
    now = runtime.clock.now()
    with runtime.session() as session:
        directory.upsert_member(session, owner, now)
        if inherited_from:
            directory.upsert_member(session, inherited_from, now)
            directory.follow_added(session, external_userid, inherited_from, now - timedelta(days=200))
            directory.follow_ended(session, external_userid, inherited_from, now - timedelta(days=2), "transfer")
            directory.follow_added(session, external_userid, owner, now - timedelta(days=2), reason="resigned_transfer",
                                   from_userid=inherited_from)
        else:
            directory.follow_added(session, external_userid, owner, now - timedelta(days=30))
        cid = directory.contact_id(session, external_userid, now)
        replace_group_tags(session, cid, "资产层级", [tier], "rule", kind="rule")
        replace_group_tags(session, cid, "生命周期", [stage], "rule", kind="rule")
        if name:
            from bot.contacts.models import Contact

            session.get(Contact, cid).name = name


def add_suggestion(runtime, advisor: str, external_userid: str, question: str, proposed: str | None,
                   *, msgid: str) -> int:
    """A client's question in an advisor's one-to-one chat (session archive) with a pending suggestion."""
    now = runtime.clock.now()
    with runtime.session() as session:
        msg = ConversationMessage(channel=ARCHIVE, msgid=msgid, direction=IN, external_userid=external_userid,
                                  userid=advisor, msgtype="text", text=question, sent_at=now, recorded_at=now,
                                  processed_at=now)
        session.add(msg)
        session.flush()
        row = Suggestion(channel=ARCHIVE, source_message_id=msg.id, external_userid=external_userid,
                         advisor_userid=advisor, question=question, candidates=[], confident=proposed is not None,
                         proposed_text=proposed, decision="route", reasons=["below_threshold"] if not proposed else [],
                         state="pending", created_at=now, updated_at=now, score=0.71 if proposed else None)
        session.add(row)
        session.flush()
        msg.suggestion_id = row.id
        return row.id


def archive_chat(runtime, advisor: str, external_userid: str, lines: list[tuple[str, str]]) -> None:
    """Archive a one-to-one chat (direction, text) and run surveillance over it (creates alerts)."""
    archive = runtime.services.archive
    at = runtime.clock.now() - timedelta(minutes=len(lines))
    for n, (direction, text) in enumerate(lines):
        inbound = direction == "in"
        archive.record("chat", "inbound" if inbound else "outbound",
                       external_userid if inbound else advisor, advisor if inbound else external_userid, text,
                       at + timedelta(minutes=n), msgid=f"{advisor}-{external_userid}-{n}", external_userid=external_userid,
                       userid=advisor)
    runtime.services.surveillance.screen_new()


def add_campaign(runtime, slug: str, name: str, *, treated: int, control: int, treated_replied: int,
                 control_replied: int, treated_reactivated: int, control_reactivated: int) -> None:
    """A campaign that has run: its members with their arms, push states and outcomes."""
    from jobs.models import Campaign, CampaignMember

    now = runtime.clock.now()
    assigned = now - timedelta(days=10)
    with runtime.session() as session:
        row = Campaign(slug=slug, name=name, template="close_commentary", segment_expr="长尾", content_ref="faq-1",
                       channel="single", chat_ids=[], timing={"kind": "trading_daily", "at": "15:30"},
                       holdout_share=round(control / (treated + control), 2), status="active",
                       created_by="test", created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        for arm, n, replied, reactivated in (("treated", treated, treated_replied, treated_reactivated),
                                             ("control", control, control_replied, control_reactivated)):
            for i in range(n):
                status = "held_out" if arm == "control" else ("sent" if i < n - 3 else "not_friend")
                session.add(CampaignMember(
                    campaign_id=row.id, external_userid=f"{slug}-{arm}-{i}", arm=arm, status=status,
                    assigned_at=assigned, replied_at=assigned + timedelta(days=1) if i < replied else None,
                    reactivated_at=assigned + timedelta(days=2) if i < reactivated else None))


def add_transfer(runtime, external_userid: str, handover: str, takeover: str, *, resigned: bool) -> None:
    """An inheritance WeCom accepted and the client has not yet taken over (status waiting)."""
    from bot.contacts.models import Transfer

    with runtime.session() as session:
        session.add(Transfer(external_userid=external_userid, handover_userid=handover, takeover_userid=takeover,
                             resigned=resigned, status="waiting", rule="long_tail",
                             requested_at=runtime.clock.now() - timedelta(hours=3)))

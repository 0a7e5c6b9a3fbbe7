"""Each change_external_contact ChangeType and change_external_tag, through the inbox and dispatcher."""

from __future__ import annotations

from sqlalchemy import select

from bot.contacts.models import Contact, Tag, Transfer
from bot.contacts.tags import ensure_tag
from bot.worker import Worker


def _event(runtime, change: str, userid: str, eu: str, **extra) -> None:
    fields = {"ToUserName": "corp", "FromUserName": "sys", "CreateTime": str(int(runtime.clock.now().timestamp())),
              "MsgType": "event", "Event": "change_external_contact", "ChangeType": change, "UserID": userid,
              "ExternalUserID": eu, **extra}
    xml = "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>"
    runtime.inbox.add("contacts", "event:change_external_contact", f"{change}:{userid}:{eu}:{len(extra)}", xml)
    Worker(runtime).run_until_idle()
    assert runtime.inbox.counts().get("dead", 0) == 0 and runtime.inbox.counts().get("pending", 0) == 0


def test_add_half_edit_and_deletions(runtime):
    show = runtime.services.contacts.show
    _event(runtime, "add_half_external_contact", "adv1", "wm1", State="qr-7", WelcomeCode="WC")
    assert show("wm1")["owners"][0]["status"] == "half"
    _event(runtime, "add_external_contact", "adv1", "wm1", State="qr-7")
    assert show("wm1")["owners"][0]["status"] == "active"
    _event(runtime, "edit_external_contact", "adv1", "wm1")
    with runtime.session() as s:
        assert s.scalar(select(Contact.refresh_needed).where(Contact.external_userid == "wm1"))
    _event(runtime, "add_external_contact", "adv2", "wm1")
    _event(runtime, "del_follow_user", "adv2", "wm1")
    assert show("wm1")["status"] == "active"  # adv1 still owns the client
    _event(runtime, "del_external_contact", "adv1", "wm1")
    assert show("wm1")["status"] == "lost"
    reasons = [h["reason"] for h in show("wm1")["owner_history"]]
    assert reasons == ["add_half", "add", "add", "del_follow_user", "del_external_contact"]


def test_delete_by_transfer_is_not_churn(runtime):
    _event(runtime, "add_external_contact", "adv1", "wm2")
    _event(runtime, "del_external_contact", "adv1", "wm2", Source="DELETE_BY_TRANSFER")
    shown = runtime.services.contacts.show("wm2")
    assert shown["owners"][0]["end_reason"] == "transfer" and shown["status"] != "lost"


def test_transfer_fail_event_marks_the_transfer(runtime):
    _event(runtime, "add_external_contact", "adv1", "wm3")
    with runtime.session() as s:
        s.add(Transfer(external_userid="wm3", handover_userid="adv1", takeover_userid="adv2", resigned=False,
                       status="waiting", rule="manual", requested_at=runtime.clock.now(), rerouted=False))
    _event(runtime, "transfer_fail", "adv2", "wm3", FailReason="customer_limit_exceed")
    with runtime.session() as s:
        assert s.scalar(select(Transfer.status)) == "limit"


def test_tag_deleted_in_wecom_loses_its_id(runtime):
    with runtime.session() as s:
        tag_id = ensure_tag(s, "资产层级", "长尾")
        s.get(Tag, tag_id).wecom_tag_id = "etTAIL"
    xml = ("<xml><ToUserName>corp</ToUserName><FromUserName>sys</FromUserName><CreateTime>1</CreateTime>"
           "<MsgType>event</MsgType><Event>change_external_tag</Event><Id>etTAIL</Id><TagType>tag</TagType>"
           "<ChangeType>delete</ChangeType></xml>")
    runtime.inbox.add("contacts", "event:change_external_tag", "tag-del", xml)
    Worker(runtime).run_until_idle()
    with runtime.session() as s:
        assert s.get(Tag, tag_id).wecom_tag_id is None

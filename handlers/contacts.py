"""客户联系 callbacks: change_external_contact (each ChangeType) and change_external_tag.

Each callback records the event's facts through the contacts domain, inside the dispatcher's transaction
(so they commit with the exactly-once ledger). None calls WeCom: details that need an API call (the
client's name, a renamed tag) are fetched later by the contacts jobs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from bot.contacts import directory
from bot.contacts.tag_sync import forget_wecom_tag

logger = logging.getLogger(__name__)


def _facts(update, ctx):
    data = update.data
    try:
        at = datetime.fromtimestamp(int(data.get("CreateTime")), timezone.utc)
    except (TypeError, ValueError):
        at = ctx.clock.now()
    return data.get("UserID") or "", data.get("ExternalUserID") or "", at


def on_contact_added(update, ctx) -> None:
    userid, eu, at = _facts(update, ctx)
    half = update.data.get("ChangeType") == "add_half_external_contact"
    directory.upsert_member(ctx.session, userid, at)
    directory.follow_added(ctx.session, eu, userid, at, half=half, state=update.data.get("State") or None)


def on_welcome(update, ctx) -> None:
    """A client added a member: send the welcome message (its own handler, so the DB facts above are
    committed whatever WeCom answers)."""
    userid, eu, _ = _facts(update, ctx)
    ctx.services.contacts.welcome.send(userid, eu, update.data.get("WelcomeCode") or "")


def on_contact_edited(update, ctx) -> None:
    _, eu, at = _facts(update, ctx)
    directory.mark_refresh(ctx.session, eu, at)


def on_contact_deleted(update, ctx) -> None:
    """The member deleted the client — or, with Source DELETE_BY_TRANSFER, a transfer moved it (not churn)."""
    userid, eu, at = _facts(update, ctx)
    by_transfer = update.data.get("Source") == "DELETE_BY_TRANSFER"
    reason = directory.END_TRANSFER if by_transfer else directory.END_MEMBER_DELETED
    directory.follow_ended(ctx.session, eu, userid, at, reason)


def on_follow_user_deleted(update, ctx) -> None:
    userid, eu, at = _facts(update, ctx)
    directory.follow_ended(ctx.session, eu, userid, at, directory.END_CLIENT_DELETED)


def on_transfer_fail(update, ctx) -> None:
    userid, eu, _ = _facts(update, ctx)
    reason = update.data.get("FailReason") or ""
    if not ctx.services.contacts.inheritance.transfer_failed(ctx.session, eu, userid, reason):
        logger.info("transfer_fail without an open transfer inbox id=%s", update.id)


def on_external_tag(update, ctx) -> None:
    """Deleted tags lose their ids now; created/renamed/reordered ones are reconciled by the next tag sync
    (which reads get_corp_tag_list first)."""
    data = update.data
    if data.get("ChangeType") == "delete":
        forget_wecom_tag(ctx.session, data.get("Id") or "", data.get("TagType") or "tag")

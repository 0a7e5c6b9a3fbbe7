"""Sending: the one door every outbound client message goes through, and sending a suggestion once.

`Outbox.deliver()` is the only call point: the compliance pre-send check (recorded), then 微信客服
`send_msg` with a deterministic `msgid` (WeCom drops a repeat of the same msgid), or, for a chat
of the advisor's own, nothing (the advisor's sidebar sends it).

`SuggestionSender.send()` sends a suggestion at most once: a conditional UPDATE approved -> sending
claims it (double clicks, repeated callbacks, two workers: one winner). A claim whose worker died is
taken over after `send_lease_seconds`, and the retried call carries the same msgid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import requests
from sqlalchemy import and_, or_, update
from wechatpy.exceptions import WeChatClientException

from bot.conversations import store
from bot.conversations.deps import Collaborators
from bot.conversations.models import (APPROVED, ARCHIVE, HUMAN, KF, OUT, READY_FOR_SIDEBAR, SENDING, SENT, FAILED,
                                      KfSession, Suggestion)
from bot.db import session_scope

logger = logging.getLogger(__name__)

# kf/send_msg answers that will not change on retry: the send failed for good.
NOTICE = "kf_notice"
DEFINITE_ERRORS = {40096, 44004, 45002, 95000, 95001, 95002, 95018, 40058}


class SendRetryable(RuntimeError):
    """WeCom did not confirm (timeout, busy); the same msgid is retried later."""


@dataclass(frozen=True)
class Outbound:
    channel: str  # kf | archive (the advisor's sidebar)
    external_userid: str
    text: str
    msgid: str
    origin: str  # presend's origin: "auto_reply", "suggestion:<id>", "kf_notice"
    open_kfid: str | None = None
    content_version_id: int | None = None
    product_risk_level: str | None = None
    client_risk_level: str | None = None


@dataclass(frozen=True)
class Delivery:
    status: str  # sent | ready | blocked | failed
    wecom_msgid: str | None = None
    reasons: tuple[str, ...] = ()


class Outbox:
    def __init__(self, session_factory, clock, collaborators: Collaborators, kf_client: Callable[[], Any],
                 on_recorded: Callable[[Any, dict], None] | None = None, duplicate_errcodes=()):
        self._duplicate = set(duplicate_errcodes)
        self._sessions = session_factory
        self._clock = clock
        self._deps = collaborators
        self._kf_client = kf_client
        self._on_recorded = on_recorded

    def deliver(self, out: Outbound, *, actor: str | None = None, suggestion_id: int | None = None) -> Delivery:
        """Check, send, record. The record is keyed by msgid, so a repeated delivery counts once."""
        verdict = self._deps.check(channel="kf" if out.channel == KF else "sidebar", text=out.text,
                                   recipient=out.external_userid, origin=out.origin,
                                   content_version_id=out.content_version_id,
                                   product_risk_level=out.product_risk_level,
                                   client_risk_rating=out.client_risk_level)
        if not verdict.allowed:
            logger.info("outbound blocked by compliance msgid=%s", out.msgid)
            return Delivery("blocked", reasons=("compliance_blocked", *verdict.reasons))
        if out.channel == ARCHIVE:
            return Delivery("ready")
        try:
            result = self._kf_client().kf_message.send_text(out.external_userid, out.open_kfid, out.text,
                                                            msgid=out.msgid)
        except WeChatClientException as exc:
            if exc.errcode in self._duplicate:  # this msgid went out before (a retry after a lost answer)
                result = {"msgid": out.msgid}
            elif exc.errcode in DEFINITE_ERRORS:
                return Delivery("failed", reasons=(f"wecom_{exc.errcode}",))
            else:
                raise SendRetryable(f"kf send_msg errcode {exc.errcode}") from exc
        except requests.RequestException as exc:
            raise SendRetryable(f"kf send_msg {type(exc).__name__}") from exc
        delivery = Delivery("sent", wecom_msgid=str(result.get("msgid") or out.msgid))
        self._record(out, actor, suggestion_id)
        return delivery

    def _record(self, out: Outbound, actor: str | None, suggestion_id: int | None) -> None:
        self._deps.archive_service()  # built outside the transaction below
        now = self._clock.now()
        record = dict(channel=KF, msgid=out.msgid, direction=OUT, origin=None, open_kfid=out.open_kfid,
                      external_userid=out.external_userid, userid=actor or "bot", msgtype="text", text=out.text,
                      sent_at=now, recorded_at=now, processed_at=now, suggestion_id=suggestion_id)
        with session_scope(self._sessions) as session:
            if store.record_message(session, **record) is None:
                return  # this msgid was delivered and counted before
            count_reply(session, out.open_kfid, out.external_userid, now, clear_notice=out.origin != NOTICE)
            if self._on_recorded is not None:  # archived in the same transaction as our own record
                self._on_recorded(session, {**record, "content_version_id": out.content_version_id,
                                            "presend_origin": out.origin})


class SuggestionSender:
    def __init__(self, session_factory, clock, outbox: Outbox, collaborators: Collaborators, settings):
        self._sessions = session_factory
        self._clock = clock
        self._outbox = outbox
        self._deps = collaborators
        self._settings = settings

    def send(self, suggestion_id: int) -> str:
        """Send (kf) or hand to the sidebar (archive) an approved suggestion; returns its state after."""
        now = self._clock.now()
        lease_edge = now - timedelta(seconds=self._settings.send_lease_seconds)
        with session_scope(self._sessions) as session:
            claimed = store.transition(
                session, suggestion_id, from_states=[APPROVED, SENDING], to_state=SENDING, event="sending",
                actor="system", at=now, sending_since=now, send_attempts=Suggestion.send_attempts + 1,
                where=or_(Suggestion.state == APPROVED,
                          and_(Suggestion.state == SENDING, Suggestion.sending_since < lease_edge)))
            row = store.load(session, suggestion_id)
            if not claimed:
                return row.state
            out, problem = self._outbound(session, row)
            out_actor = row.decided_by
        if problem:
            return self._finish(suggestion_id, Delivery("failed", reasons=(problem,)))
        try:
            delivery = self._outbox.deliver(out, actor=out_actor, suggestion_id=suggestion_id)
        except SendRetryable as exc:
            with session_scope(self._sessions) as session:  # release the claim; the same msgid is reused
                store.transition(session, suggestion_id, from_states=[SENDING], to_state=APPROVED, event="failed",
                                 actor="system", at=self._clock.now(), detail={"retryable": True,
                                                                               "error": str(exc)[:200]},
                                 sending_since=None, last_error=str(exc)[:255])
            raise
        return self._finish(suggestion_id, delivery)

    def _outbound(self, session, row: Suggestion) -> tuple[Outbound | None, str | None]:
        text = row.final_text
        if not text:
            return None, "empty_text"
        product_risk = None
        if row.content_version_id and row.edited_text is None:
            version = self._deps.content.library.get_version(row.content_version_id)
            product_risk = getattr(version, "risk_level", None)
        origin = "auto_reply" if row.decided_by == "bot" else f"suggestion:{row.id}"
        out = Outbound(channel=row.channel, external_userid=row.external_userid, text=text, msgid=row.send_msgid,
                       origin=origin, open_kfid=row.open_kfid, content_version_id=row.content_version_id,
                       product_risk_level=product_risk, client_risk_level=self._deps.risk_level(row.external_userid))
        if row.channel != KF:
            return out, None
        kf = session.get(KfSession, (row.open_kfid, row.external_userid))
        return out, kf_budget_problem(kf, self._clock.now(), self._settings)

    def _finish(self, suggestion_id: int, delivery: Delivery) -> str:
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            row = store.load(session, suggestion_id)
            actor = row.decided_by or "system"
            if delivery.status == "sent":
                store.transition(session, suggestion_id, from_states=[SENDING], to_state=SENT, event="sent",
                                 actor=actor, at=now, detail={"wecom_msgid": delivery.wecom_msgid}, sent_at=now,
                                 wecom_msgid=delivery.wecom_msgid, sending_since=None, last_error=None)
            elif delivery.status == "ready":
                store.transition(session, suggestion_id, from_states=[SENDING], to_state=READY_FOR_SIDEBAR,
                                 event="ready_for_sidebar", actor=actor, at=now, sending_since=None)
            else:
                store.transition(session, suggestion_id, from_states=[SENDING], to_state=FAILED, event="failed",
                                 actor="system", at=now, detail={"reasons": list(delivery.reasons)},
                                 sending_since=None, last_error=",".join(delivery.reasons)[:255])
            state = store.load(session, suggestion_id).state
        logger.info("suggestion id=%s send outcome=%s", suggestion_id, delivery.status)
        return state


def kf_budget_problem(kf: KfSession | None, now, settings, reserve: int = 0) -> str | None:
    """Why WeCom would refuse a kf reply right now, judged from what we know (conservatively).
    `reserve` keeps that many replies free (a notice must not use the slot the answer needs)."""
    if kf is None or kf.last_client_msg_at is None:
        return "kf_window_closed"
    if kf.mode == HUMAN:
        return "human_session"
    if now - kf.last_client_msg_at > timedelta(hours=settings.kf_reply_window_hours):
        return "kf_window_closed"
    if kf.replies_since_client_msg + reserve >= settings.kf_max_replies:
        return "kf_reply_limit"
    return None


def count_reply(session, open_kfid: str | None, external_userid: str, now, clear_notice: bool = False) -> None:
    """One more reply against WeCom's per-client-message budget (an SQL increment: no lost updates)."""
    if not open_kfid:
        return
    values = {"replies_since_client_msg": KfSession.replies_since_client_msg + 1, "updated_at": now}
    if clear_notice:
        values["holding_notice_at"] = None
    session.execute(update(KfSession).where(KfSession.open_kfid == open_kfid,
                                            KfSession.external_userid == external_userid)
                    .values(**values).execution_options(synchronize_session=False))

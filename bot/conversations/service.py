"""The conversation service: client questions -> suggestions -> advisor approval -> sent once.

Built by `build_conversation_service(runtime)` (registered as `runtime.services.conversations`).
Each step commits its own short unit of work and never holds a transaction across a WeCom call;
every step is idempotent, so a redelivered callback, a double click or a restarted worker resumes
where the last attempt stopped (messages keep `processed_at`, suggestions their state).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update

from bot.conversations import store
from bot.conversations.approval import ApprovalService
from bot.conversations.deps import Collaborators
from bot.conversations.handoff import HandoffService
from bot.conversations.kf_intake import CLIENT, SYSTEM, KfIntake
from bot.conversations.models import (APPROVED, ARCHIVE, HUMAN, IN, KF, OUT, PENDING, READY_FOR_SIDEBAR,
                                      SENDING, SENT, ConversationMessage, KfSession, Suggestion)
from bot.conversations.pipeline import Question, SuggestionPipeline
from bot.conversations.policy import asks_for_human
from bot.conversations.sending import NOTICE, Outbound, Outbox, SendRetryable, SuggestionSender, kf_budget_problem
from bot.conversations.settings import ConversationsSettings
from bot.db import session_scope
from bot.wecom.client import WeComRateLimited

logger = logging.getLogger(__name__)


class ArchivedMessageError(ValueError):
    """The archived message is not in the finance-SDK shape; nothing was stored."""


class ConversationService:
    def __init__(self, *, session_factory, clock, redis, redis_prefix: str, wecom, services: Any,
                 settings: ConversationsSettings):
        self.settings = settings
        self._sessions = session_factory
        self._clock = clock
        kf_app = settings.kf_app or wecom.app_of_kind("kf")
        card_app = settings.card_app or wecom.app_of_kind("app")
        self._kf_client = lambda: wecom.client(_require(kf_app, "kf"))
        app_client = lambda: wecom.client(_require(card_app, "app"))  # noqa: E731
        self.deps = Collaborators(services)
        self.outbox = Outbox(session_factory, clock, self.deps, self._kf_client, on_recorded=self._archive,
                             duplicate_errcodes=settings.duplicate_msgid_errcodes)
        self.sender = SuggestionSender(session_factory, clock, self.outbox, self.deps, settings)
        self.approval = ApprovalService(session_factory, clock, app_client, self.sender, settings, redis=redis,
                                        redis_prefix=redis_prefix, archive=self.deps.archive)
        self.handoff = HandoffService(session_factory, clock, redis, redis_prefix, self._kf_client, self.outbox,
                                      self.deps, settings)
        self.pipeline = SuggestionPipeline(session_factory, clock, redis, redis_prefix, self.deps, settings)
        self.intake = KfIntake(session_factory, clock, redis, redis_prefix, self._kf_client,
                               limit=settings.kf_sync_limit, on_stored=self._archive)

    # ---- intake ----------------------------------------------------------------------------
    def on_kf_event(self, open_kfid: str, token: str | None) -> int:
        """`kf_msg_or_event`: pull what is new, answer or route it, finish anything left half-done."""
        self.deps.archive_service()  # built before any transaction (it may run DDL)
        self.approval.expire_stale()
        new = self.intake.pull(open_kfid, token)
        self.process_pending()  # a failure here fails the event: the inbox retries it
        try:
            self.resume()
        except Exception as exc:  # older work is retried by tick(); it must not dead-letter this event
            logger.warning("resuming earlier suggestions failed (left to tick): %s", type(exc).__name__)
        return new

    def accept_archived_message(self, msg: dict) -> dict:
        """One message of an advisor's one-to-one chat from the session archive (finance-SDK JSON).

        Raises ArchivedMessageError for a malformed message (nothing stored). Once stored, a failure
        while suggesting (WeCom busy) does not raise: the message stays unprocessed and `tick()`
        finishes it (`"deferred": True`)."""
        fields = self._archived_fields(msg)
        if fields is None:
            return {"recorded": False, "suggestion_id": None}
        with session_scope(self._sessions) as session:
            message_id = store.record_message(session, **fields)
        if message_id is None:
            return {"recorded": False, "suggestion_id": None}
        if fields["direction"] == OUT:
            self._match_sidebar_send(fields)
            return {"recorded": True, "suggestion_id": None}
        try:
            return {"recorded": True, "suggestion_id": self._process_one(message_id)}
        except Exception as exc:  # stored and unprocessed: tick() retries it
            logger.warning("archived message id=%s stored, suggestion deferred: %s", message_id, type(exc).__name__)
            return {"recorded": True, "suggestion_id": None, "deferred": True}

    def tick(self) -> dict:
        """The periodic sweep (scheduler or `advisor-bot conversations tick`): expire, process, resume."""
        self.deps.archive_service()
        return {"expired": self.approval.expire_stale(), "processed": self.process_pending(),
                "resumed": self.resume()}

    def process_pending(self, limit: int = 200) -> int:
        with self._sessions() as session:
            ids = list(session.scalars(select(ConversationMessage.id).where(ConversationMessage.processed_at.is_(None))
                                       .order_by(ConversationMessage.id).limit(limit)))
        _each(ids, self._process_one)
        return len(ids)

    def _process_one(self, message_id: int) -> int | None:
        with self._sessions() as session:
            msg = session.get(ConversationMessage, message_id)
            if msg is None or msg.processed_at is not None:
                return msg.suggestion_id if msg else None
            session.expunge(msg)
        suggestion_id = None
        if msg.direction == IN and msg.origin in (CLIENT, None) and msg.msgtype == "text" and msg.text:
            suggestion_id = self._question(msg)
        elif msg.origin == SYSTEM and (msg.event or {}).get("event_type") == "session_status_change":
            if self._mode(msg.open_kfid, msg.external_userid) == HUMAN:
                self.handoff.refresh(msg.open_kfid, msg.external_userid)
        with session_scope(self._sessions) as session:
            session.execute(update(ConversationMessage).where(ConversationMessage.id == message_id)
                            .values(processed_at=self._clock.now(), suggestion_id=suggestion_id)
                            .execution_options(synchronize_session=False))
        return suggestion_id

    def _question(self, msg: ConversationMessage) -> int | None:
        with self._sessions() as session:
            existing = session.scalar(select(Suggestion.id).where(Suggestion.source_message_id == msg.id))
        if existing is not None:
            self.advance(existing)
            return existing
        q = Question(channel=msg.channel, message_id=msg.id, msgid=msg.msgid, external_userid=msg.external_userid,
                     text=msg.text, sent_at=msg.sent_at, open_kfid=msg.open_kfid,
                     advisor_userid=msg.userid if msg.channel == ARCHIVE else None)
        if q.channel == KF and self._mode(q.open_kfid, q.external_userid) == HUMAN:
            if self.handoff.refresh(q.open_kfid, q.external_userid):
                return None  # a person is answering this session; the bot stays silent
        intent = self.pipeline.classify(q.text)
        wants_human = asks_for_human(q.text, self.settings) or intent in self.settings.handoff_intents
        if wants_human and q.channel == KF:
            servicer = self.handoff.hand_over(q.open_kfid, q.external_userid, reason="client_request", ref=q.msgid)
            if servicer is not None:
                return self.pipeline.handed_off(q, intent, servicer)
        window_open, replies_left = self._kf_budget(q)
        suggestion_id = self.pipeline.suggest(q, intent=intent, handoff_failed=wants_human,
                                              kf_window_open=window_open, kf_replies_left=replies_left)
        self.advance(suggestion_id)
        return suggestion_id

    # ---- moving suggestions forward -------------------------------------------------------
    def advance(self, suggestion_id: int) -> str:
        """Do the next step a suggestion is waiting for: send it, or ask an advisor (card + notice)."""
        with self._sessions() as session:
            row = store.load(session, suggestion_id)
            state, channel = row.state, row.channel
        if state in (APPROVED, SENDING):
            return self.sender.send(suggestion_id)
        if state == PENDING:
            if channel == KF:
                self._holding_notice(suggestion_id)
            try:
                self.approval.send_card(suggestion_id)
            except WeComRateLimited:  # 30 app messages/min per member: resume()/tick() sends it later
                logger.warning("approval card for suggestion id=%s deferred: app message rate limit", suggestion_id)
        return state

    def resume(self, limit: int = 100) -> int:
        """Finish sends and cards a crash or a WeCom error left behind (same msgid/task_id reused)."""
        lease_edge = self._clock.now() - timedelta(seconds=self.settings.send_lease_seconds)
        with self._sessions() as session:
            ids = list(session.scalars(select(Suggestion.id).where(or_(
                Suggestion.state == APPROVED,
                (Suggestion.state == SENDING) & (Suggestion.sending_since < lease_edge),
                (Suggestion.state == PENDING) & Suggestion.card_sent_at.is_(None) & Suggestion.advisor_userid.is_not(None)
                & Suggestion.last_error.is_(None),
            )).order_by(Suggestion.id).limit(limit)))
        def step(suggestion_id: int) -> None:
            self.advance(suggestion_id)
            self.approval.close_card(suggestion_id)

        _each(ids, step)
        return len(ids)

    def _holding_notice(self, suggestion_id: int) -> None:
        """Tell the client once (until a reply is sent) that a person will answer."""
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            row = store.load(session, suggestion_id)
            kf = session.get(KfSession, (row.open_kfid, row.external_userid))
            if kf is None or kf.holding_notice_at is not None or kf_budget_problem(kf, now, self.settings, reserve=1):
                return
            claimed = session.execute(
                update(KfSession).where(KfSession.open_kfid == kf.open_kfid,
                                        KfSession.external_userid == kf.external_userid,
                                        KfSession.holding_notice_at.is_(None))
                .values(holding_notice_at=now, notices_sent=KfSession.notices_sent + 1)
                .execution_options(synchronize_session=False)).rowcount == 1
            out = Outbound(channel=KF, external_userid=row.external_userid, text=self.settings.holding_notice,
                           msgid=store.stable_id("hn", row.send_msgid), origin=NOTICE, open_kfid=row.open_kfid)
        if not claimed:
            return
        try:
            delivery = self.outbox.deliver(out)
        except SendRetryable:
            with session_scope(self._sessions) as session:  # un-claim so the retry tells the client
                session.execute(update(KfSession).where(KfSession.open_kfid == out.open_kfid,
                                                        KfSession.external_userid == out.external_userid)
                                .values(holding_notice_at=None).execution_options(synchronize_session=False))
            raise
        if delivery.status != "sent":
            logger.info("holding notice not sent suggestion id=%s: %s", suggestion_id, ",".join(delivery.reasons))

    # ---- the advisor's actions (card handler and console API) -------------------------------
    def on_card_click(self, *, event_key: str, task_id: str, response_code: str | None, from_user: str):
        return self.approval.on_click(event_key=event_key, task_id=task_id, response_code=response_code,
                                      from_user=from_user)

    def on_advisor_text(self, advisor: str, text: str) -> str | None:
        return self.approval.on_advisor_text(advisor, text)

    def approve(self, suggestion_id: int, actor: str) -> dict:
        self.approval.approve(suggestion_id, actor)
        return self.get(suggestion_id)

    def edit(self, suggestion_id: int, text: str, actor: str) -> dict:
        self.approval.edit(suggestion_id, text, actor)
        return self.get(suggestion_id)

    def ignore(self, suggestion_id: int, actor: str) -> dict:
        self.approval.ignore(suggestion_id, actor)
        return self.get(suggestion_id)

    def get(self, suggestion_id: int) -> dict:
        with self._sessions() as session:
            row = store.load(session, suggestion_id)
            return store.suggestion_dict(row, store.events_of(session, suggestion_id))

    def list_for(self, advisor: str | None, state: str | None = PENDING, limit: int = 50) -> list[dict]:
        with self._sessions() as session:
            stmt = select(Suggestion).order_by(Suggestion.id.desc()).limit(max(1, min(limit, 200)))
            if advisor:
                stmt = stmt.where(Suggestion.advisor_userid == advisor)
            if state:
                stmt = stmt.where(Suggestion.state == state)
            return [store.suggestion_dict(row) for row in session.scalars(stmt)]

    def in_human_conversation(self, external_userid: str) -> bool:
        return self.handoff.in_human_conversation(external_userid)

    # ---- helpers -----------------------------------------------------------------------------
    def _mode(self, open_kfid: str | None, external_userid: str) -> str | None:
        with self._sessions() as session:
            kf = session.get(KfSession, (open_kfid, external_userid)) if open_kfid else None
            return kf.mode if kf else None

    def _kf_budget(self, q: Question) -> tuple[bool, int]:
        if q.channel != KF:
            return True, self.settings.kf_max_replies
        with self._sessions() as session:
            kf = session.get(KfSession, (q.open_kfid, q.external_userid))
            problem = kf_budget_problem(kf, self._clock.now(), self.settings)
            used = kf.replies_since_client_msg if kf else 0
        return problem != "kf_window_closed", self.settings.kf_max_replies - used

    def _archived_fields(self, msg: dict) -> dict | None:
        if not isinstance(msg, dict) or not msg.get("msgid") or not msg.get("from"):
            raise ArchivedMessageError("archived message needs msgid and from")
        if msg.get("roomid"):
            return None  # group chats are not one-to-one conversations
        tolist = msg.get("tolist") or []
        if not isinstance(tolist, list) or len(tolist) != 1:
            raise ArchivedMessageError("a one-to-one archived message has exactly one recipient in tolist")
        sender, recipient = str(msg["from"]), str(tolist[0])
        from_client = sender.startswith(tuple(self.settings.external_id_prefixes))
        if from_client == recipient.startswith(tuple(self.settings.external_id_prefixes)):
            return None  # member-to-member or client-to-client: not an advisor/client chat
        try:
            sent_at = datetime.fromtimestamp(int(msg.get("msgtime")) / 1000, tz=timezone.utc)
        except (TypeError, ValueError):
            raise ArchivedMessageError("msgtime must be milliseconds since the epoch") from None
        msgtype = str(msg.get("msgtype") or "unknown")
        text = (msg.get("text") or {}).get("content") if msgtype == "text" else None
        now = self._clock.now()
        return {"channel": ARCHIVE, "msgid": str(msg["msgid"]), "direction": IN if from_client else OUT,
                "origin": None, "open_kfid": None, "external_userid": sender if from_client else recipient,
                "userid": recipient if from_client else sender, "msgtype": msgtype, "text": text,
                "sent_at": sent_at, "recorded_at": now, "processed_at": None if from_client and text else now}

    def _match_sidebar_send(self, fields: dict) -> None:
        """The advisor sent a ready_for_sidebar reply: the archive shows it, so it is sent."""
        if not fields.get("text"):
            return
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            rows = session.scalars(select(Suggestion).where(
                Suggestion.channel == ARCHIVE, Suggestion.state == READY_FOR_SIDEBAR,
                Suggestion.external_userid == fields["external_userid"])).all()
            for row in rows:
                if (row.final_text or "").strip() == fields["text"].strip():
                    store.transition(session, row.id, from_states=[READY_FOR_SIDEBAR], to_state=SENT, event="sent",
                                     actor=fields["userid"], at=now, sent_at=now, wecom_msgid=fields["msgid"],
                                     detail={"via": "sidebar"})
                    break

    def _archive(self, session, record: dict) -> None:
        """Every kf message in and out goes to the compliance archive when that service exists
        (archived one-to-one chats come from the archive, so they are not recorded again)."""
        if record.get("channel") != KF or self.deps.archive_service() is None:
            return
        inbound = record["direction"] == IN
        staff = record.get("userid") or "bot"
        kf_account = record.get("open_kfid") or "kf"
        content = record.get("text")
        if content is None:
            content = json.dumps(record.get("event"), ensure_ascii=False) if record.get("event") else ""
        origin = {3: "client", 4: "system", 5: "servicer"}.get(record.get("origin")) or \
            record.get("presend_origin") or "bot"
        self.deps.archive(channel=KF, direction="inbound" if inbound else "outbound",
                          sender=record["external_userid"] if inbound else (staff if origin == "servicer" else kf_account),
                          receiver=kf_account if inbound else record["external_userid"], content=content,
                          sent_at=record["sent_at"], msgid=record["msgid"], msgtype=record["msgtype"],
                          external_userid=record["external_userid"], userid=record.get("userid"),
                          suggestion_id=record.get("suggestion_id"),
                          content_version_id=record.get("content_version_id"), origin=origin, session=session)


def _each(ids: list[int], step) -> None:
    """Run `step` for every id; one failing id (WeCom busy) does not hold up the others. The first
    error is raised at the end, so the inbox retries the event and the failed step resumes."""
    first: Exception | None = None
    for item in ids:
        try:
            step(item)
        except Exception as exc:  # re-raised below, after the other items had their turn
            logger.warning("conversation step failed for id=%s: %s", item, type(exc).__name__)
            first = first or exc
    if first is not None:
        raise first


def _require(app_name: str | None, kind: str) -> str:
    if not app_name:
        raise LookupError(f"no WeCom app of kind {kind!r} configured for conversations")
    return app_name


def build_conversation_service(runtime) -> ConversationService:
    settings = runtime.settings.domain("conversations", ConversationsSettings)
    return ConversationService(session_factory=runtime.session_factory, clock=runtime.clock, redis=runtime.redis,
                               redis_prefix=runtime.settings.redis.prefix, wecom=runtime.wecom,
                               services=runtime.services, settings=settings)

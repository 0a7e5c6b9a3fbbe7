"""Advisor approval: the WeCom interactive card, its clicks, and the same actions for the console.

The card (button_interaction: 发送 / 修改 / 忽略) carries the suggestion in its task_id. A click
arrives as `template_card_event`; its ResponseCode is kept, and used once, when the suggestion reaches
an outcome, to replace the buttons with that outcome. "修改" answers with a link to the console edit
page and leaves the card open until the edited reply is sent or ignored there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Callable

from sqlalchemy import select, update
from wechatpy.exceptions import WeChatClientException

from bot.conversations import store
from bot.conversations.models import (APPROVED, EXPIRED, FAILED, PENDING, READY_FOR_SIDEBAR, REJECTED, SENDING, SENT,
                                      Suggestion)
from bot.conversations.policy import MAX_KF_TEXT_BYTES, reason_label
from bot.conversations.sending import SuggestionSender
from bot.db import session_scope

logger = logging.getLogger(__name__)

SEND, EDIT, IGNORE = "sug_send", "sug_edit", "sug_ignore"
BUTTONS = [{"text": "发送", "style": 1, "key": SEND}, {"text": "修改", "style": 2, "key": EDIT},
           {"text": "忽略", "style": 3, "key": IGNORE}]
EDIT_WINDOW_SECONDS = 1800
CARD_REFUSED = {40003, 40056, 60111, 81013}  # bad/unknown/inactive userid, wrong agent: retrying will not help
DUPLICATE_TASK_ID = 40058  # WeCom's "invalid parameter" for a task_id already used (simulator: same)
OUTCOME_LABELS = {SENT: "已发送", READY_FOR_SIDEBAR: "已转侧边栏发送", REJECTED: "已忽略", EXPIRED: "已过期",
                  FAILED: "发送失败"}


class NotAllowed(PermissionError):
    """The actor is not the advisor responsible for this suggestion."""


class InvalidEdit(ValueError):
    pass


class ApprovalService:
    def __init__(self, session_factory, clock, app_client: Callable[[], Any], sender: SuggestionSender, settings,
                 redis=None, redis_prefix: str = "advisor-bot", archive: Callable[..., None] | None = None):
        self._archive = archive
        self._redis = redis
        self._prefix = redis_prefix
        self._sessions = session_factory
        self._clock = clock
        self._app_client = app_client
        self._sender = sender
        self._settings = settings

    # ---- the card ------------------------------------------------------------------------
    def send_card(self, suggestion_id: int) -> bool:
        with self._sessions() as session:
            row = store.load(session, suggestion_id)
            if (row.state != PENDING or row.card_sent_at is not None or not row.advisor_userid
                    or (row.last_error or "").startswith("card_refused")):
                return False
            title, description, quote = _card_text(row)
            task_id, advisor = row.card_task_id, row.advisor_userid
        client = self._app_client()
        values = {"card_sent_at": self._clock.now()}
        try:
            result = client.template_card.send_button_card(client.agent_id, advisor, task_id, title, description,
                                                           BUTTONS, quote=quote)
            if result.get("response_code"):  # lets the card be closed even if nobody clicks (expiry)
                values["card_response_code"] = result["response_code"]
        except WeChatClientException as exc:
            if exc.errcode in CARD_REFUSED:  # the advisor cannot receive it: visible in the console instead
                logger.warning("approval card refused suggestion id=%s errcode=%s", suggestion_id, exc.errcode)
                with session_scope(self._sessions) as session:
                    session.execute(update(Suggestion).where(Suggestion.id == suggestion_id)
                                    .values(last_error=f"card_refused:{exc.errcode}")
                                    .execution_options(synchronize_session=False))
                return False
            if exc.errcode != DUPLICATE_TASK_ID:
                raise
            # The task_id is ours and deterministic: an earlier attempt got through before a crash.
            logger.warning("approval card for suggestion id=%s was already sent (errcode %s)", suggestion_id,
                           exc.errcode)
        with session_scope(self._sessions) as session:
            session.execute(update(Suggestion).where(Suggestion.id == suggestion_id)
                            .values(**values).execution_options(synchronize_session=False))
        self._archive_app(advisor, f"{title}\n{description}", msgid=task_id, msgtype="template_card",
                          suggestion_id=suggestion_id, origin="approval_card")
        logger.info("approval card sent suggestion id=%s", suggestion_id)
        return True

    def _archive_app(self, advisor: str, content: str, *, direction: str = "outbound", msgid: str | None = None,
                     msgtype: str = "text", suggestion_id: int | None = None, origin: str) -> None:
        """App messages between the bot and advisors are archived like every other channel."""
        if self._archive is None:
            return
        agent = f"app:{self._app_client().agent_id}"
        sender, receiver = (agent, advisor) if direction == "outbound" else (advisor, agent)
        try:
            self._archive(channel="app", direction=direction, sender=sender, receiver=receiver, content=content,
                          sent_at=self._clock.now(), msgid=msgid, msgtype=msgtype, userid=advisor,
                          suggestion_id=suggestion_id, origin=origin)
        except Exception:  # the message went out already; the gap is logged loudly
            logger.exception("archiving an app message failed (origin=%s)", origin)

    def on_click(self, *, event_key: str, task_id: str, response_code: str | None, from_user: str) -> str | None:
        """Handle one card click; returns the suggestion state after it (None for an unknown card)."""
        with session_scope(self._sessions) as session:
            row = store.by_task_id(session, task_id or "")
            if row is None:
                logger.warning("card click for an unknown task id ignored")
                return None
            suggestion_id = row.id
            if response_code:
                session.execute(update(Suggestion).where(Suggestion.id == row.id, Suggestion.card_closed_at.is_(None))
                                .values(card_response_code=response_code).execution_options(synchronize_session=False))
        try:
            if event_key == SEND:
                state = self.approve(suggestion_id, from_user)
            elif event_key == IGNORE:
                state = self.ignore(suggestion_id, from_user)
            elif event_key == EDIT:
                self._check_actor(suggestion_id, from_user)
                self._send_edit_link(suggestion_id, from_user)
                return self.state(suggestion_id)
            else:
                logger.warning("card click with unknown key for suggestion id=%s", suggestion_id)
                return self.state(suggestion_id)
        except InvalidEdit:
            self._send_edit_link(suggestion_id, from_user)
            return self.state(suggestion_id)
        except (NotAllowed, store.InvalidState) as exc:
            logger.info("card click not applied suggestion id=%s: %s", suggestion_id, type(exc).__name__)
            state = self.state(suggestion_id)
        self.close_card(suggestion_id)
        return state

    def close_card(self, suggestion_id: int) -> None:
        """Replace the buttons with the outcome, once (a response_code works once)."""
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            row = store.load(session, suggestion_id)
            label = OUTCOME_LABELS.get(row.state)
            if label is None or not row.card_response_code or row.card_closed_at is not None:
                return
            if row.state == SENT and row.edited_text is not None:
                label = "已修改并发送"
            claimed = session.execute(
                update(Suggestion).where(Suggestion.id == suggestion_id, Suggestion.card_closed_at.is_(None))
                .values(card_closed_at=now).execution_options(synchronize_session=False)).rowcount == 1
            code, advisor = row.card_response_code, row.advisor_userid
        if not claimed:
            return
        client = self._app_client()
        try:
            client.template_card.update_template_card(client.agent_id, [advisor], code, label)
        except WeChatClientException as exc:  # cosmetic: the outcome itself is recorded already
            logger.warning("card update failed suggestion id=%s errcode=%s", suggestion_id, exc.errcode)

    def _send_edit_link(self, suggestion_id: int, advisor: str) -> None:
        if self._redis is not None:  # the advisor may also just type the new reply in the app chat
            self._redis.set(self._editing_key(advisor), str(suggestion_id), ex=EDIT_WINDOW_SECONDS)
        url = self._settings.console_base_url.rstrip("/") + self._settings.edit_path.format(id=suggestion_id)
        client = self._app_client()
        text = self._settings.edit_link_message.format(url=url)
        client.message.send_text(client.agent_id, advisor, text)
        self._archive_app(advisor, text, suggestion_id=suggestion_id, origin="approval_edit_link")

    def _editing_key(self, advisor: str) -> str:
        return f"{self._prefix}:conversations:editing:{advisor}"

    def on_advisor_text(self, advisor: str, text: str) -> str | None:
        """An advisor's text in the app chat after "修改" is the edited reply; returns the state after."""
        if advisor and text:
            self._archive_app(advisor, text, direction="inbound", origin="advisor_app_text")
        if self._redis is None or not advisor:
            return None
        raw = self._redis.get(self._editing_key(advisor))
        if raw is None:
            return None
        suggestion_id = int(raw)
        try:
            state = self.edit(suggestion_id, text, advisor)
        except (NotAllowed, InvalidEdit, store.InvalidState) as exc:
            logger.info("advisor text not applied to suggestion id=%s: %s", suggestion_id, type(exc).__name__)
            return None
        self._redis.delete(self._editing_key(advisor))
        client = self._app_client()
        reply = f"已按您的修改处理：{OUTCOME_LABELS.get(state, state)}"
        client.message.send_text(client.agent_id, advisor, reply)
        self._archive_app(advisor, reply, suggestion_id=suggestion_id, origin="approval_edit_ack")
        return state

    # ---- actions (card and console) --------------------------------------------------------
    def state(self, suggestion_id: int) -> str:
        with self._sessions() as session:
            return store.load(session, suggestion_id).state

    def _check_actor(self, suggestion_id: int, actor: str) -> Suggestion:
        if not actor:
            raise NotAllowed("no actor")
        with self._sessions() as session:
            row = store.load(session, suggestion_id)
        allowed = {row.advisor_userid, *self._settings.pool_advisors} - {None}
        if allowed and actor not in allowed:
            raise NotAllowed(f"{actor} may not act on suggestion {suggestion_id}")
        return row

    def approve(self, suggestion_id: int, actor: str) -> str:
        """Approve as proposed and send (kf) or hand to the sidebar (archive). Idempotent."""
        row = self._check_actor(suggestion_id, actor)
        if row.state == PENDING:
            if not row.final_text:
                raise InvalidEdit("there is no proposed reply; write one with edit")
            self._expire_if_stale(row)
            with session_scope(self._sessions) as session:
                store.transition(session, suggestion_id, from_states=[PENDING], to_state=APPROVED, event="approved",
                                 actor=actor, at=self._clock.now(), decided_by=actor)
        state = self.state(suggestion_id)
        if state in (APPROVED, SENDING):
            state = self._sender.send(suggestion_id)
        elif state not in (SENT, READY_FOR_SIDEBAR):
            raise store.InvalidState(suggestion_id, state, "approve")
        self.close_card(suggestion_id)
        return state

    def edit(self, suggestion_id: int, text: str, actor: str) -> str:
        """Replace the reply (the original is kept), approve it and send it."""
        text = (text or "").strip()
        if not text:
            raise InvalidEdit("text is empty")
        if len(text.encode()) > MAX_KF_TEXT_BYTES:
            raise InvalidEdit(f"text is longer than {MAX_KF_TEXT_BYTES} bytes")
        row = self._check_actor(suggestion_id, actor)
        if row.state != PENDING:
            raise store.InvalidState(suggestion_id, row.state, "edit")
        self._expire_if_stale(row)
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            edited = store.transition(session, suggestion_id, from_states=[PENDING], to_state=PENDING, event="edited",
                                      actor=actor, at=now, detail={"text": text}, edited_text=text)
            if not edited:
                raise store.InvalidState(suggestion_id, store.load(session, suggestion_id).state, "edit")
            store.transition(session, suggestion_id, from_states=[PENDING], to_state=APPROVED, event="approved",
                             actor=actor, at=now, decided_by=actor)
        state = self._sender.send(suggestion_id)
        self.close_card(suggestion_id)
        return state

    def ignore(self, suggestion_id: int, actor: str) -> str:
        row = self._check_actor(suggestion_id, actor)
        with session_scope(self._sessions) as session:
            done = store.transition(session, suggestion_id, from_states=[PENDING], to_state=REJECTED,
                                    event="rejected", actor=actor, at=self._clock.now(), decided_by=actor)
        if not done and row.state != REJECTED:
            raise store.InvalidState(suggestion_id, self.state(suggestion_id), "ignore")
        self.close_card(suggestion_id)
        return REJECTED

    def _expire_if_stale(self, row: Suggestion) -> None:
        if row.created_at < self._clock.now() - timedelta(hours=self._settings.pending_expiry_hours):
            self.expire_stale()
            raise store.InvalidState(row.id, EXPIRED, "act on")

    def expire_stale(self) -> int:
        now = self._clock.now()
        edge = now - timedelta(hours=self._settings.pending_expiry_hours)
        with session_scope(self._sessions) as session:
            ids = list(session.scalars(select(Suggestion.id).where(Suggestion.state == PENDING,
                                                                   Suggestion.created_at < edge).limit(500)))
            expired = [i for i in ids if store.transition(session, i, from_states=[PENDING], to_state=EXPIRED,
                                                          event="expired", actor="system", at=now)]
        for suggestion_id in expired:
            self.close_card(suggestion_id)
        return len(expired)


def _card_text(row: Suggestion) -> tuple[str, str, dict]:
    reasons = "、".join(dict.fromkeys(reason_label(r) for r in (row.reasons or [])))
    title = "客户提问待审核" if row.channel == "kf" else "客户私聊待回复"
    description = f"问题：{_clip(row.question, 60)}"
    if reasons:
        description += f"\n原因：{_clip(reasons, 40)}"
    quote = {"title": "建议回复" if row.proposed_text else "暂无建议回复",
             "text": _clip(row.proposed_text or "请在控制台撰写回复", 300)}
    return title, description, quote


def _clip(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"

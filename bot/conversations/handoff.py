"""Handing a 微信客服 session to a person, and knowing when it is back with the bot.

A servicer is chosen from the client's owner (if a servicer of the account) or the central pool
(`servicer_pool`, taken in turn). The client is told first (after state 3 WeCom refuses bot
messages), then `kf/service_state/trans` moves the session to state 3. The bot stays silent while the
session is with a person; it checks WeCom's own state when the session may have ended (an end event,
or a new message after a while), since a client's message after the end starts a new session.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from bot.conversations.models import BOT, HUMAN, KfSession
from bot.conversations.sending import NOTICE, Outbound, Outbox, kf_budget_problem
from bot.conversations.store import ensure_kf_session, stable_id
from bot.db import session_scope

logger = logging.getLogger(__name__)

HUMAN_STATES = {2, 3}  # queued for a person, or with a person
BAD_TRANSITION = 95016
NO_HANDOFF_ERRORS = {95000, 95014, 40096}  # unknown account, servicer not on it, unknown client


class HandoffService:
    def __init__(self, session_factory, clock, redis, redis_prefix: str, kf_client: Callable[[], Any],
                 outbox: Outbox, collaborators, settings):
        self._sessions = session_factory
        self._clock = clock
        self._redis = redis
        self._prefix = redis_prefix
        self._kf_client = kf_client
        self._outbox = outbox
        self._deps = collaborators
        self._settings = settings

    def in_human_conversation(self, external_userid: str) -> bool:
        with self._sessions() as session:
            return session.scalar(select(KfSession.open_kfid).where(
                KfSession.external_userid == external_userid, KfSession.mode == HUMAN).limit(1)) is not None

    def choose_servicer(self, open_kfid: str, external_userid: str) -> str | None:
        servicers = {s.get("userid") for s in
                     self._kf_client().kf_service_state.servicer_list(open_kfid).get("servicer_list", [])}
        owner = self._deps.owner_of(external_userid)
        if owner and owner in servicers:
            return owner
        pool = [userid for userid in self._settings.servicer_pool if userid in servicers]
        if not pool:
            return None
        turn = int(self._redis.incr(f"{self._prefix}:conversations:servicer-turn:{open_kfid}"))
        return pool[(turn - 1) % len(pool)]

    def hand_over(self, open_kfid: str, external_userid: str, *, reason: str, ref: str) -> str | None:
        """Move the session to a person; returns the servicer, or None when nobody can take it."""
        servicer = self.choose_servicer(open_kfid, external_userid)
        if servicer is None:
            logger.warning("handoff impossible open_kfid=%s: no servicer available", open_kfid)
            return None
        self._notify(open_kfid, external_userid, ref)
        client = self._kf_client()
        try:
            client.kf_service_state.trans(open_kfid, external_userid, 3, servicer)
        except WeChatClientException as exc:
            if exc.errcode in NO_HANDOFF_ERRORS:
                logger.warning("handoff refused by WeCom open_kfid=%s errcode=%s", open_kfid, exc.errcode)
                return None
            if exc.errcode != BAD_TRANSITION:
                raise
            state = client.kf_service_state.get(open_kfid, external_userid)  # a retry after it worked?
            if int(state.get("service_state", -1)) not in HUMAN_STATES:
                raise
            servicer = state.get("servicer_userid") or servicer
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            kf = ensure_kf_session(session, open_kfid, external_userid, now)
            kf.mode, kf.servicer_userid, kf.updated_at = HUMAN, servicer, now
        logger.info("kf session handed to a person open_kfid=%s reason=%s", open_kfid, reason)
        return servicer

    def _notify(self, open_kfid: str, external_userid: str, ref: str) -> None:
        with self._sessions() as session:
            problem = kf_budget_problem(session.get(KfSession, (open_kfid, external_userid)), self._clock.now(),
                                        self._settings)  # no reserve: after the handoff the bot sends nothing
        if problem:
            return
        self._outbox.deliver(Outbound(channel="kf", external_userid=external_userid,
                                      text=self._settings.handoff_notice, origin=NOTICE, open_kfid=open_kfid,
                                      msgid=stable_id("ho", open_kfid, external_userid, ref)))

    def refresh(self, open_kfid: str, external_userid: str) -> bool:
        """Ask WeCom whether a session we think is with a person still is; returns True if human."""
        state = int(self._kf_client().kf_service_state.get(open_kfid, external_userid).get("service_state", 0))
        human = state in HUMAN_STATES
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            kf = ensure_kf_session(session, open_kfid, external_userid, now)
            if kf.mode == HUMAN and not human:
                kf.mode, kf.servicer_userid, kf.holding_notice_at, kf.updated_at = BOT, None, None, now
                logger.info("kf session back with the bot open_kfid=%s (state %s)", open_kfid, state)
        return human

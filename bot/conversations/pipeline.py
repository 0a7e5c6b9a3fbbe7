"""From a client's question to a `Suggestion`: classify, match, gather the facts, let the policy
decide, and store the result (with its `created` / `approved` events) exactly once per message."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.conversations import policy, store
from bot.conversations.deps import Collaborators, DependencyMissing
from bot.conversations.models import APPROVED, HANDED_OFF, KF, PENDING, Suggestion
from bot.db import session_scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Question:
    channel: str
    message_id: int
    msgid: str
    external_userid: str
    text: str
    sent_at: datetime
    open_kfid: str | None = None
    advisor_userid: str | None = None  # archive chats: the member whose chat it is


def candidate_dict(candidate: Any) -> dict:
    get = candidate.get if isinstance(candidate, dict) else (lambda k, d=None: getattr(candidate, k, d))
    score = get("score")
    return {"version_id": get("version_id"), "item_id": get("item_id"), "title": get("title"),
            "score": None if score is None else round(float(score), 4), "reason": get("reason")}


def compose_reply(version: Any) -> str | None:
    if version is None:
        return None
    body = (getattr(version, "body", None) or "").strip()
    url = getattr(version, "url", None)
    return f"{body}\n{url}" if body and url else (body or None)


class SuggestionPipeline:
    def __init__(self, session_factory, clock, redis, redis_prefix: str, collaborators: Collaborators, settings):
        self._sessions = session_factory
        self._clock = clock
        self._redis = redis
        self._prefix = redis_prefix
        self._deps = collaborators
        self._settings = settings

    def classify(self, text: str) -> str | None:
        try:
            return self._deps.content.matcher.classify_intent(text)
        except DependencyMissing:
            return None

    def responsible_advisor(self, external_userid: str) -> str | None:
        owner = self._deps.owner_of(external_userid) if self._settings.routing == "owner" else None
        if owner:
            return owner
        pool = self._settings.pool_advisors
        if not pool:
            return None
        turn = int(self._redis.incr(f"{self._prefix}:conversations:pool-turn"))
        return pool[(turn - 1) % len(pool)]

    def handed_off(self, q: Question, intent: str | None, servicer: str) -> int:
        return self._store(q, intent=intent, match=None, decision=policy.Decision(policy.HANDOFF, ("handoff_requested",)),
                           state=HANDED_OFF, advisor=servicer, version=None, reply=None)

    def suggest(self, q: Question, *, intent: str | None, handoff_failed: bool = False,
                kf_window_open: bool = True, kf_replies_left: int = 5) -> int:
        now = self._clock.now()
        match, version, reply, sendable = None, None, None, False
        client_risk = self._deps.risk_level(q.external_userid)
        reasons_extra: tuple[str, ...] = ("handoff_requested",) if handoff_failed else ()
        try:
            content = self._deps.content
            match = content.matcher.match(q.text, self._settings.match_k)
            best = getattr(match, "best", None)
            if getattr(match, "reason", None) in ("out_of_scope", "unknown_term"):  # say why, not just "no content"
                reasons_extra += (match.reason,)
            if best is not None:
                version = content.library.get_version(candidate_dict(best)["version_id"])
                sendable = bool(version is not None and content.library.is_sendable(version, now))
                reply = compose_reply(version)
        except DependencyMissing:
            reasons_extra += ("content_unavailable",)
        product_risk = getattr(version, "risk_level", None)
        stale = (now - q.sent_at).total_seconds() > self._settings.stale_question_hours * 3600
        facts = policy.Facts(
            channel=q.channel, intent=intent, confident=bool(getattr(match, "confident", False)),
            score=candidate_dict(match.best)["score"] if getattr(match, "best", None) is not None else None,
            has_content=version is not None, content_sendable=sendable,
            auto_reply_allowed=bool(getattr(version, "auto_reply_allowed", False)), reply_text=reply,
            compliance_ok=True, suitable=policy.suitable(product_risk, client_risk),
            kf_window_open=kf_window_open, kf_replies_left=kf_replies_left, stale=stale)
        decision = policy.decide(facts, self._settings)
        if decision.action == policy.AUTO:  # only then is the compliance preview worth its ~40 ms
            try:
                compliance_ok = self._deps.preview(
                    channel="kf" if q.channel == KF else "sidebar", text=reply, recipient=q.external_userid,
                    origin="auto_reply", content_version_id=getattr(version, "id", None),
                    product_risk_level=product_risk, client_risk_rating=client_risk).allowed
            except DependencyMissing:
                compliance_ok = None
            decision = policy.decide(replace(facts, compliance_ok=compliance_ok), self._settings)
        if reasons_extra:
            decision = policy.Decision(policy.ROUTE, tuple(dict.fromkeys(reasons_extra + decision.reasons)))
        advisor = q.advisor_userid or self.responsible_advisor(q.external_userid)
        state = APPROVED if decision.action == policy.AUTO else PENDING
        return self._store(q, intent=intent, match=match, decision=decision, state=state, advisor=advisor,
                           version=version, reply=reply)

    def _store(self, q: Question, *, intent, match, decision, state, advisor, version, reply) -> int:
        now = self._clock.now()
        candidates = [candidate_dict(c) for c in (getattr(match, "candidates", None) or [])]
        best = getattr(match, "best", None)
        with session_scope(self._sessions) as session:
            existing = session.query(Suggestion.id).filter(Suggestion.source_message_id == q.message_id).scalar()
            if existing is not None:
                return existing
            row = Suggestion(
                channel=q.channel, source_message_id=q.message_id, external_userid=q.external_userid,
                open_kfid=q.open_kfid, advisor_userid=advisor, question=q.text, intent=intent,
                candidates=candidates, content_version_id=getattr(version, "id", None),
                score=candidate_dict(best)["score"] if best is not None else None,
                confident=bool(getattr(match, "confident", False)), proposed_text=reply, decision=decision.action,
                reasons=list(decision.reasons), state=state, send_attempts=0, created_at=now, updated_at=now,
                decided_by="bot" if state == APPROVED else None)
            session.add(row)
            session.flush()
            row.card_task_id = store.stable_id("sug", row.id, now.isoformat(), length=20)
            row.send_msgid = store.stable_id("s", row.id, now.isoformat(), length=24)
            detail = {"decision": decision.action, "reasons": list(decision.reasons),
                      "content_version_id": row.content_version_id}
            store.add_event(session, row.id, "created", "bot", now, detail)
            if state == APPROVED:
                store.add_event(session, row.id, "approved", "bot", now, {"auto": True})
            suggestion_id = row.id
        logger.info("suggestion id=%s created decision=%s reasons=%s", suggestion_id, decision.action,
                    ",".join(decision.reasons))
        return suggestion_id

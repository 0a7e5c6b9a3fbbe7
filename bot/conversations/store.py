"""Database steps shared by the conversation modules: idempotent message recording, guarded state
transitions that write their `suggestion_event` row, and the JSON view of a suggestion.

Every function takes the session of a short unit of work; callers never hold it across a WeCom call.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.conversations.models import ConversationMessage, KfSession, Suggestion, SuggestionEvent


class SuggestionNotFound(LookupError):
    pass


class InvalidState(Exception):
    """The action does not apply to the suggestion in its current state; nothing was changed."""

    def __init__(self, suggestion_id: int, state: str, action: str):
        super().__init__(f"suggestion {suggestion_id} is {state}; cannot {action}")
        self.suggestion_id, self.state, self.action = suggestion_id, state, action


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def record_message(session: Session, **fields: Any) -> int | None:
    """Insert one message unless (channel, msgid) is already stored; returns the new id or None."""
    stmt = (_insert(session)(ConversationMessage).values(**fields)
            .on_conflict_do_nothing(index_elements=["channel", "msgid"])
            .returning(ConversationMessage.id))
    return session.execute(stmt).scalar()


def ensure_kf_session(session: Session, open_kfid: str, external_userid: str, now: datetime) -> KfSession:
    row = session.get(KfSession, (open_kfid, external_userid))
    if row is None:
        stmt = (_insert(session)(KfSession).values(open_kfid=open_kfid, external_userid=external_userid, mode="bot",
                                                   replies_since_client_msg=0, notices_sent=0, updated_at=now)
                .on_conflict_do_nothing(index_elements=["open_kfid", "external_userid"]))
        session.execute(stmt)
        row = session.get(KfSession, (open_kfid, external_userid))
    return row


def add_event(session: Session, suggestion_id: int, event: str, actor: str, at: datetime,
              detail: dict | None = None) -> None:
    session.add(SuggestionEvent(suggestion_id=suggestion_id, event=event, actor=actor, at=at, detail=detail))


def transition(session: Session, suggestion_id: int, *, from_states: Iterable[str], to_state: str, event: str,
               actor: str, at: datetime, detail: dict | None = None, where: Any = None, **values: Any) -> bool:
    """Move a suggestion to `to_state` only if it is in one of `from_states` (a conditional UPDATE, so
    two workers or two clicks cannot both win); the winner also writes the event row."""
    stmt = (update(Suggestion).where(Suggestion.id == suggestion_id, Suggestion.state.in_(list(from_states)))
            .values(state=to_state, updated_at=at, **values).execution_options(synchronize_session=False))
    if where is not None:
        stmt = stmt.where(where)
    if session.execute(stmt).rowcount != 1:
        return False
    add_event(session, suggestion_id, event, actor, at, detail)
    return True


def load(session: Session, suggestion_id: int) -> Suggestion:
    row = session.get(Suggestion, suggestion_id, populate_existing=True)
    if row is None:
        raise SuggestionNotFound(f"no suggestion {suggestion_id}")
    return row


def by_task_id(session: Session, task_id: str) -> Suggestion | None:
    return session.scalar(select(Suggestion).where(Suggestion.card_task_id == task_id))


def stable_id(prefix: str, *parts: Any, length: int = 24) -> str:
    """A deterministic id WeCom accepts as msgid/task_id ([0-9a-zA-Z_-], msgid ≤ 32 bytes)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:length]
    return f"{prefix}-{digest}"


def suggestion_dict(row: Suggestion, events: list[SuggestionEvent] | None = None) -> dict:
    out = {
        "id": row.id, "channel": row.channel, "state": row.state, "external_userid": row.external_userid,
        "open_kfid": row.open_kfid, "advisor_userid": row.advisor_userid, "question": row.question,
        "intent": row.intent, "candidates": row.candidates, "content_version_id": row.content_version_id,
        "score": row.score, "confident": row.confident, "proposed_text": row.proposed_text,
        "edited_text": row.edited_text, "final_text": row.final_text, "decision": row.decision,
        "reasons": row.reasons, "decided_by": row.decided_by, "last_error": row.last_error,
        "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }
    if events is not None:
        out["events"] = [{"event": e.event, "actor": e.actor, "at": e.at.isoformat(), "detail": e.detail}
                         for e in events]
    return out


def events_of(session: Session, suggestion_id: int) -> list[SuggestionEvent]:
    return list(session.scalars(select(SuggestionEvent).where(SuggestionEvent.suggestion_id == suggestion_id)
                                .order_by(SuggestionEvent.id)))

"""Members, contacts and their owners: the database side of 客户联系 events, resync and transfers.

Every function takes the caller's session (a handler's transaction, or a service's unit of work) and
never calls WeCom.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.contacts.models import (FOLLOW_ACTIVE, FOLLOW_ENDED, FOLLOW_HALF, ROLE_ADVISOR, ROLES, ClientActivity,
                                 Contact, CrmClient, Follow, Member, OwnerHistory, Transfer)
from bot.contacts.sqlutil import insert
from bot.contacts.tags import contact_tags

# Reasons a follow relation ends; only the first two are churn (客户流失).
END_MEMBER_DELETED, END_CLIENT_DELETED = "del_external_contact", "del_follow_user"
END_TRANSFER, END_RESYNC = "transfer", "resync"
CHURN_REASONS = (END_MEMBER_DELETED, END_CLIENT_DELETED)


class UnknownContact(LookupError):
    pass


def upsert_member(session: Session, userid: str, now: datetime, *, name: str | None = None,
                  role: str | None = None, active: bool | None = None, capacity: int | None = None) -> Member:
    if role is not None and role not in ROLES:
        raise ValueError(f"未知角色 {role!r}，可选: {', '.join(ROLES)}")
    member = session.get(Member, userid)
    if member is None:
        member = Member(userid=userid, name=name or "", role=role or ROLE_ADVISOR, active=True, updated_at=now)
        session.add(member)
    if name is not None:
        member.name = name
    if role is not None:
        member.role = role
    if capacity is not None:
        member.capacity = capacity
    if active is not None and active != member.active:
        member.active = active
        member.resigned_at = None if active else now
    member.updated_at = now
    session.flush()
    return member


def contact_id(session: Session, external_userid: str, now: datetime, *, seen: bool = True) -> int:
    """The contact's id, creating the row if needed (race-safe)."""
    session.execute(insert(session, Contact).values(
        external_userid=external_userid, seen_in_wecom=seen, inherited=False, refresh_needed=seen,
        created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["external_userid"]))
    contact = session.scalar(select(Contact).where(Contact.external_userid == external_userid))
    if seen and not contact.seen_in_wecom:
        contact.seen_in_wecom, contact.refresh_needed, contact.updated_at = True, True, now
    return contact.id


def follow_added(session: Session, external_userid: str, userid: str, now: datetime, *, half: bool = False,
                 state: str | None = None, reason: str = "add", transfer_id: int | None = None,
                 from_userid: str | None = None) -> bool:
    """A member now owns the contact. Returns False when that was already recorded (idempotent)."""
    cid = contact_id(session, external_userid, now)
    follow = session.get(Follow, (cid, userid))
    status = FOLLOW_HALF if half else FOLLOW_ACTIVE
    if follow is not None and follow.status in (status, FOLLOW_ACTIVE):
        return False
    if follow is None:
        session.add(Follow(contact_id=cid, userid=userid, status=status, added_at=now, state=state))
    else:
        follow.status, follow.added_at, follow.ended_at, follow.end_reason = status, now, None, None
        follow.state = state or follow.state
    session.add(OwnerHistory(contact_id=cid, from_userid=from_userid, to_userid=userid,
                             reason="add_half" if half else reason, transfer_id=transfer_id, at=now))
    session.flush()
    return True


def follow_ended(session: Session, external_userid: str, userid: str, now: datetime, reason: str) -> bool:
    cid = contact_id(session, external_userid, now)
    follow = session.get(Follow, (cid, userid))
    if follow is None or follow.status == FOLLOW_ENDED:
        return False
    follow.status, follow.ended_at, follow.end_reason = FOLLOW_ENDED, now, reason
    session.add(OwnerHistory(contact_id=cid, from_userid=userid, to_userid=None, reason=reason, at=now))
    session.flush()
    return True


def mark_refresh(session: Session, external_userid: str, now: datetime) -> None:
    contact = session.get(Contact, contact_id(session, external_userid, now))
    contact.refresh_needed, contact.updated_at = True, now


def active_owners(session: Session, external_userid: str) -> list[str]:
    return list(session.scalars(select(Follow.userid).join(Contact, Contact.id == Follow.contact_id).where(
        Contact.external_userid == external_userid, Follow.status == FOLLOW_ACTIVE).order_by(Follow.added_at)))


def client_counts(session: Session, userids: list[str] | None = None) -> dict[str, int]:
    """Active clients per member (for capacity)."""
    query = select(Follow.userid, func.count()).where(Follow.status == FOLLOW_ACTIVE).group_by(Follow.userid)
    if userids is not None:
        query = query.where(Follow.userid.in_(userids))
    return dict(session.execute(query).all())


def contact_status(follows: list[Follow], seen: bool) -> str:
    if not seen:
        return "crm_only"
    if any(f.status == FOLLOW_ACTIVE for f in follows):
        return "active"
    if follows and all(f.end_reason in CHURN_REASONS for f in follows if f.status == FOLLOW_ENDED):
        return "lost"
    return "pending"


def show(session: Session, external_userid: str) -> dict:
    """The contact with owners, owner history, tags (group and name), CRM data and transfers."""
    contact = session.scalar(select(Contact).where(Contact.external_userid == external_userid))
    if contact is None:
        raise UnknownContact(f"没有这个客户: {external_userid}")
    follows = list(session.scalars(select(Follow).where(Follow.contact_id == contact.id).order_by(Follow.added_at)))
    history = session.scalars(select(OwnerHistory).where(OwnerHistory.contact_id == contact.id)
                              .order_by(OwnerHistory.at, OwnerHistory.id))
    transfers = session.scalars(select(Transfer).where(Transfer.external_userid == external_userid)
                                .order_by(Transfer.requested_at, Transfer.id))
    crm = session.scalar(select(CrmClient).where(CrmClient.external_userid == external_userid))
    activity = session.scalars(select(ClientActivity.trade_date).where(
        ClientActivity.external_userid == external_userid).order_by(ClientActivity.trade_date))
    iso = (lambda d: d.isoformat() if d else None)
    return {
        "external_userid": contact.external_userid, "name": contact.name, "inherited": contact.inherited,
        "status": contact_status(follows, contact.seen_in_wecom),
        "owners": [{"userid": f.userid, "status": f.status, "added_at": iso(f.added_at), "ended_at": iso(f.ended_at),
                    "end_reason": f.end_reason} for f in follows],
        "owner_history": [{"from": h.from_userid, "to": h.to_userid, "reason": h.reason, "at": iso(h.at),
                           "transfer_id": h.transfer_id} for h in history],
        "tags": contact_tags(session, contact.id),
        "crm": None if crm is None else {c: (iso(v) if hasattr(v, "isoformat") else (str(v) if v is not None else None))
                                         for c, v in ((c.key, getattr(crm, c.key)) for c in CrmClient.__table__.c)},
        "trades_seen": [iso(d) for d in activity],
        "transfers": [{"id": t.id, "from": t.handover_userid, "to": t.takeover_userid, "resigned": t.resigned,
                       "status": t.status, "rule": t.rule, "requested_at": iso(t.requested_at),
                       "finished_at": iso(t.finished_at)} for t in transfers],
    }

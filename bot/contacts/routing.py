"""Who takes over a client (customer inheritance rules) and whether WeCom's limits allow a transfer.

Rules, in order:
  1. long-tail clients (total assets < long_tail_max_assets, or unknown to the CRM) → the central
     operations account (`central_ops_userid`), the 集约化运营 pool;
  2. larger clients → the active advisor with the most free capacity (clients + incoming transfers below
     `advisor_capacity`, or the member's own capacity), never the handover member nor one who already
     failed for this client;
  3. nobody with capacity → the central pool; no central account configured → left unassigned (reported).
Limits counted from our own transfer records: at most `transfers_per_client_90d` transfers started by
WeCom per client in 90 days, and never while one is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.contacts.models import (FOLLOW_ACTIVE, ROLE_ADVISOR, T_OPEN, T_REJECTED, CrmClient, Follow, Member,
                                 Transfer)
from bot.contacts.settings import ContactsSettings

RULE_CENTRAL, RULE_ADVISOR, RULE_FALLBACK_CENTRAL = "central_pool", "advisor_capacity", "central_fallback"
WINDOW = timedelta(days=90)


@dataclass
class Blocked:
    external_userid: str
    reason: str  # in_transfer | limit_90d


def blocked_clients(session: Session, eus: list[str], now: datetime, settings: ContactsSettings) -> dict[str, str]:
    """Clients that must not be transferred now, with the reason."""
    out: dict[str, str] = {}
    for i in range(0, len(eus), 500):
        part = eus[i:i + 500]
        for eu, status, requested_at in session.execute(
                select(Transfer.external_userid, Transfer.status, Transfer.requested_at)
                .where(Transfer.external_userid.in_(part), Transfer.requested_at > now - WINDOW)):
            if status in T_OPEN:
                out[eu] = "in_transfer"
        counts = session.execute(select(Transfer.external_userid, func.count())
                                 .where(Transfer.external_userid.in_(part), Transfer.requested_at > now - WINDOW,
                                        Transfer.status != T_REJECTED).group_by(Transfer.external_userid)).all()
        for eu, n in counts:
            if n >= settings.transfers_per_client_90d:
                out.setdefault(eu, "limit_90d")
    return out


class Router:
    """Chooses takeover members for a batch of clients, tracking load as it assigns."""

    def __init__(self, session: Session, settings: ContactsSettings):
        self.settings = settings
        advisors = session.execute(select(Member.userid, Member.capacity).where(
            Member.role == ROLE_ADVISOR, Member.active.is_(True))).all()
        self.capacity = {u: (c or settings.advisor_capacity) for u, c in advisors}
        self.load = {u: 0 for u in self.capacity}
        for userid, n in session.execute(select(Follow.userid, func.count()).where(
                Follow.status == FOLLOW_ACTIVE, Follow.userid.in_(list(self.capacity))).group_by(Follow.userid)):
            self.load[userid] += n
        for userid, n in session.execute(select(Transfer.takeover_userid, func.count()).where(
                Transfer.status.in_(T_OPEN), Transfer.takeover_userid.in_(list(self.capacity)))
                .group_by(Transfer.takeover_userid)):
            self.load[userid] += n
        self._session = session

    def assets(self, eus: list[str]) -> dict[str, float | None]:
        out: dict[str, float | None] = {eu: None for eu in eus}
        for i in range(0, len(eus), 500):
            for eu, assets in self._session.execute(select(CrmClient.external_userid, CrmClient.total_assets)
                                                    .where(CrmClient.external_userid.in_(eus[i:i + 500]))):
                out[eu] = None if assets is None else float(assets)
        return out

    def tried(self, eu: str) -> set[str]:
        return set(self._session.scalars(select(Transfer.takeover_userid).where(Transfer.external_userid == eu)))

    def choose(self, assets: float | None, exclude: set[str]) -> tuple[str | None, str]:
        central = self.settings.central_ops_userid or None
        if central in exclude:
            central = None
        if assets is None or assets < self.settings.long_tail_max_assets:
            if central:
                return central, RULE_CENTRAL
        free = [(self.capacity[u] - self.load[u], u) for u in self.capacity
                if u not in exclude and u != central and self.load[u] < self.capacity[u]]
        if free:
            userid = min(free, key=lambda x: (-x[0], x[1]))[1]  # most free capacity, then userid
            self.load[userid] += 1
            return userid, RULE_ADVISOR
        return (central, RULE_FALLBACK_CENTRAL) if central else (None, "no_capacity")

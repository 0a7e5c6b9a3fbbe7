"""Campaign outcome: reply rate and reactivation, treated vs control, with the lift and 95% CIs.

Intention-to-treat: every member counts from `assigned_at` (the firing that assigned them), whether
or not their push was delivered, so the comparison with the never-contacted control arm is unbiased.
- reply: a client message within [campaigns] outcome_window_days after assigned_at — from the
  archive service (`first_client_message_after(external_userid, since)`) if present, else the
  conversations service (same method); without either the reply metric is reported as unavailable.
- reactivation: a `client_activity` row (contacts: last_trade_date advanced in a CRM import) with a
  trade date after the assignment day (on it when assigned before the 15:00 close) within the window.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.db import session_scope
from jobs.models import CONTROL, TREATED, Campaign, CampaignMember

logger = logging.getLogger(__name__)
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def diff_ci(k1: int, n1: int, k0: int, n0: int, z: float = Z95) -> dict:
    """Lift p1 - p0 with the Wald and the Newcombe (hybrid Wilson score, method 10) 95% intervals."""
    if n1 == 0 or n0 == 0:
        return {"lift": None, "wald": None, "newcombe": None}
    p1, p0 = k1 / n1, k0 / n0
    d = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    l1, u1 = wilson(k1, n1, z)
    l0, u0 = wilson(k0, n0, z)
    lower = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return {"lift": d, "wald": (d - z * se, d + z * se), "newcombe": (lower, upper)}


def _reply_source(runtime):
    for name in ("archive", "conversations"):
        if runtime.services.available(name):
            try:
                svc = getattr(runtime.services, name)
            except (ImportError, AttributeError):
                continue
            if hasattr(svc, "first_client_message_after"):
                return svc
    return None


def refresh_outcomes(runtime, settings, campaign_id: int) -> dict:
    """Fill replied_at / reactivated_at for members whose window is still open or unseen."""
    window = timedelta(days=settings.outcome_window_days)
    zone = ZoneInfo(settings.timezone)
    m = CampaignMember.__table__
    source = _reply_source(runtime)
    reactivations = _reactivations(runtime, campaign_id, window, zone)
    updated = 0
    with runtime.session_factory() as session:
        members = list(session.execute(select(m.c.external_userid, m.c.assigned_at).where(
            m.c.campaign_id == campaign_id, m.c.replied_at.is_(None))))
    with session_scope(runtime.session_factory) as session:
        for uid, at in members:
            values = {}
            if uid in reactivations:
                values["reactivated_at"] = reactivations[uid]
            if source is not None:
                when = source.first_client_message_after(uid, at)
                if when is not None and when - at <= window:
                    values["replied_at"] = when
            if values:
                session.execute(update(m).where(m.c.campaign_id == campaign_id, m.c.external_userid == uid)
                                .values(**values))
                updated += 1
    return {"updated": updated, "reply_source": type(source).__name__ if source else None}


def _reactivations(runtime, campaign_id, window, zone) -> dict:
    try:
        from bot.contacts.models import ClientActivity
    except ImportError:
        return {}
    m = CampaignMember.__table__
    with runtime.session_factory() as session:
        rows = session.execute(select(m.c.external_userid, m.c.assigned_at, func.min(ClientActivity.trade_date))
                               .join(ClientActivity, ClientActivity.external_userid == m.c.external_userid)
                               .where(m.c.campaign_id == campaign_id, m.c.reactivated_at.is_(None),
                                      ClientActivity.trade_date >= func.date(m.c.assigned_at))
                               .group_by(m.c.external_userid, m.c.assigned_at))
        out = {}
        for uid, at, _first in rows:
            local = at.astimezone(zone)
            start = local.date() if local.time() < time(15, 0) else local.date() + timedelta(days=1)
            day = session.scalar(select(func.min(ClientActivity.trade_date)).where(
                ClientActivity.external_userid == uid, ClientActivity.trade_date >= start,
                ClientActivity.trade_date <= (local + window).date()))
            if day is not None:
                out[uid] = datetime.combine(day, time(15, 0), tzinfo=zone)
    return out


def campaign_report(runtime, settings, campaign_id: int, *, chart_path: str | None = None) -> dict:
    refreshed = refresh_outcomes(runtime, settings, campaign_id)
    m = CampaignMember.__table__
    with runtime.session_factory() as session:
        campaign = session.get(Campaign, campaign_id)
        rows = session.execute(select(m.c.arm, func.count(), func.count(m.c.replied_at), func.count(m.c.reactivated_at))
                               .where(m.c.campaign_id == campaign_id).group_by(m.c.arm)).all()
        by_status = dict(session.execute(select(m.c.status, func.count()).where(m.c.campaign_id == campaign_id)
                                         .group_by(m.c.status)).all())
    arms = {arm: {"n": n, "replied": r, "reactivated": a} for arm, n, r, a in rows}
    t = arms.get(TREATED, {"n": 0, "replied": 0, "reactivated": 0})
    c = arms.get(CONTROL, {"n": 0, "replied": 0, "reactivated": 0})
    report = {"campaign": campaign.slug, "name": campaign.name, "treated": t, "control": c, "status": by_status,
              "reply_source": refreshed["reply_source"],
              "reply": diff_ci(t["replied"], t["n"], c["replied"], c["n"]),
              "reactivation": diff_ci(t["reactivated"], t["n"], c["reactivated"], c["n"])}
    if chart_path:
        from jobs.chart import write_chart

        report["chart"] = write_chart(runtime, settings, campaign_id, campaign.slug, Path(chart_path))
    return report

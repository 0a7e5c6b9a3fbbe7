"""Customer inheritance (客户继承): start transfers, poll their results, apply and re-route.

Each WeCom call runs outside any database transaction: transfer rows are written first (`requested`),
the call is made, then its per-client answers are recorded (`waiting` or `rejected`). A crash between the
two leaves `requested` rows, which `poll` resolves from transfer_result. Success (status 1) moves the
owner, records owner history and tags the client with its provenance (客户继承: 继承客户, 原顾问:<userid>,
继承于:<YYYY-MM>); refusal (3), takeover limit (4) and `transfer_fail` events send the client on to the
next rule (see routing.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select, update
from wechatpy.exceptions import WeChatClientException

from bot.contacts import directory
from bot.contacts.models import (FOLLOW_ACTIVE, T_FAILED, T_LIMIT, T_NO_RECORD, T_OPEN, T_REFUSED, T_REJECTED,
                                 T_REQUESTED, T_SUCCEEDED, T_WAITING, Contact, ContactTagSynced, Follow, Transfer)
from bot.contacts.routing import Router, blocked_clients
from bot.contacts.segments import compile_segment
from bot.contacts.sqlutil import insert
from bot.contacts.tags import BEIJING, replace_group_tags

logger = logging.getLogger(__name__)
RESULT_STATUS = {1: T_SUCCEEDED, 2: T_WAITING, 3: T_REFUSED, 4: T_LIMIT, 5: T_NO_RECORD}
FAIL_REASONS = {"customer_refused": T_REFUSED, "customer_limit_exceed": T_LIMIT}


class TransferError(ValueError):
    pass


@dataclass
class TransferReport:
    requested: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # errcode -> clients
    blocked: dict[str, int] = field(default_factory=dict)   # reason -> clients
    unassigned: int = 0
    by_takeover: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(vars(self))

    def merge(self, other: "TransferReport") -> None:
        self.requested += other.requested
        self.accepted += other.accepted
        self.unassigned += other.unassigned
        for mine, theirs in ((self.rejected, other.rejected), (self.blocked, other.blocked),
                             (self.by_takeover, other.by_takeover)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v


def provenance_tags(handover: str, moment: datetime) -> list[str]:
    """Tag names for an inherited client; each within WeCom's 30 characters."""
    userid = handover if len(handover) <= 26 else handover[:21] + "~" + hashlib.sha1(handover.encode()).hexdigest()[:4]
    return ["继承客户", f"原顾问:{userid}", f"继承于:{moment.astimezone(BEIJING):%Y-%m}"]


class Inheritance:
    def __init__(self, session_scope, wecom_factory, clock, settings):
        self._session = session_scope
        self._wecom = wecom_factory
        self.clock = clock
        self.settings = settings

    # -- starting --------------------------------------------------------------------------------
    def transfer(self, from_userid: str, to_userid: str, *, resigned: bool = False, only: str | None = None,
                 rule: str = "manual") -> TransferReport:
        """Transfer from_userid's clients (optionally only a segment) to to_userid."""
        if from_userid == to_userid:
            raise TransferError("交接人和接替人不能相同")
        now = self.clock.now()
        with self._session() as session:
            query = (select(Contact.external_userid).join(Follow, Follow.contact_id == Contact.id)
                     .where(Follow.userid == from_userid, Follow.status == FOLLOW_ACTIVE).order_by(Contact.id))
            if only:
                query = query.where(compile_segment(session, only))
            eus = list(session.scalars(query))
            if resigned:
                directory.upsert_member(session, from_userid, now, active=False)
            blocked = blocked_clients(session, eus, now, self.settings)
        report = TransferReport()
        for reason in blocked.values():
            report.blocked[reason] = report.blocked.get(reason, 0) + 1
        ready = [eu for eu in eus if eu not in blocked]
        report.merge(self._start(from_userid, to_userid, ready, resigned=resigned, rule=rule))
        return report

    def _start(self, handover: str, takeover: str, eus: list[str], *, resigned: bool, rule: str) -> TransferReport:
        report = TransferReport()
        size = self.settings.transfer_batch_size
        for i in range(0, len(eus), size):
            batch = eus[i:i + size]
            ids = self._reserve(handover, takeover, batch, resigned, rule)
            report.requested += len(batch)
            try:
                answers = self._call(handover, takeover, batch, resigned)
            except WeChatClientException as exc:  # the whole call was refused: nothing started
                answers = {eu: exc.errcode for eu in batch}
            except Exception:  # network: unknown outcome; poll() settles the requested rows
                logger.exception("transfer call failed handover=%s takeover=%s", handover, takeover)
                continue
            self._record_answers(ids, answers)
            for eu in batch:
                code = answers.get(eu, -1)
                if code == 0:
                    report.accepted += 1
                    report.by_takeover[takeover] = report.by_takeover.get(takeover, 0) + 1
                else:
                    report.rejected[str(code)] = report.rejected.get(str(code), 0) + 1
        return report

    def _reserve(self, handover, takeover, eus, resigned, rule) -> dict[str, int]:
        now = self.clock.now()
        with self._session() as session:
            rows = [Transfer(external_userid=eu, handover_userid=handover, takeover_userid=takeover,
                             resigned=resigned, status=T_REQUESTED, rule=rule, requested_at=now, rerouted=False)
                    for eu in eus]
            session.add_all(rows)
            session.flush()
            return {r.external_userid: r.id for r in rows}

    def _call(self, handover, takeover, eus, resigned) -> dict[str, int]:
        api = self._wecom().customer_transfer
        if resigned:
            result = api.resigned_transfer_customer(handover, takeover, eus)
        else:
            result = api.transfer_customer(handover, takeover, eus, self.settings.transfer_success_msg)
        return {c["external_userid"]: int(c.get("errcode", 0)) for c in result.get("customer", [])}

    def _record_answers(self, ids: dict[str, int], answers: dict[str, int]) -> None:
        now = self.clock.now()
        with self._session() as session:
            for eu, tid in ids.items():
                code = answers.get(eu, -1)
                values = {"status": T_WAITING} if code == 0 else {"status": T_REJECTED, "errcode": code,
                                                                   "finished_at": now}
                session.execute(update(Transfer).where(Transfer.id == tid).values(**values))

    # -- resigned members' unassigned clients --------------------------------------------------------
    def unassigned(self) -> list[dict]:
        api, cursor, rows = self._wecom().customer_transfer, "", []
        while True:
            page = api.get_unassigned_list(cursor=cursor, page_size=1000)
            rows.extend(page.get("info", []))
            cursor = page.get("next_cursor") or ""
            if page.get("is_last", True) or not cursor:
                return rows

    def assign_unassigned(self) -> TransferReport:
        """Route every unassigned client of resigned members by rule and start resigned transfers."""
        rows = self.unassigned()
        now = self.clock.now()
        plan: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        report = TransferReport()
        with self._session() as session:
            for handover in {r["handover_userid"] for r in rows}:
                directory.upsert_member(session, handover, now, active=False)
            for r in rows:  # make sure the relation is known locally (owner history starts here)
                directory.follow_added(session, r["external_userid"], r["handover_userid"], now, reason="resync")
            eus = [r["external_userid"] for r in rows]
            blocked = blocked_clients(session, eus, now, self.settings)
            router = Router(session, self.settings)
            assets = router.assets(eus)
            for r in rows:
                eu, handover = r["external_userid"], r["handover_userid"]
                if eu in blocked:
                    report.blocked[blocked[eu]] = report.blocked.get(blocked[eu], 0) + 1
                    continue
                takeover, rule = router.choose(assets[eu], {handover} | router.tried(eu))
                if takeover is None:
                    report.unassigned += 1
                    continue
                plan[(handover, takeover, rule)].append(eu)
        for (handover, takeover, rule), batch in plan.items():
            report.merge(self._start(handover, takeover, batch, resigned=True, rule=rule))
        logger.info("assign_unassigned: %d unassigned seen, %d accepted", len(rows), report.accepted)
        return report

    # -- results -----------------------------------------------------------------------------
    def poll(self) -> dict:
        """Ask WeCom for every open transfer's state; apply what is final; re-route failures."""
        with self._session() as session:
            triples = session.execute(select(Transfer.handover_userid, Transfer.takeover_userid, Transfer.resigned)
                                      .where(Transfer.status.in_(T_OPEN)).distinct()).all()
        counts: dict[str, int] = defaultdict(int)
        for handover, takeover, resigned in triples:
            try:
                results = self._results(handover, takeover, resigned)
            except WeChatClientException as exc:  # one pair failing must not stop the others
                logger.warning("transfer_result failed errcode=%s handover=%s takeover=%s", exc.errcode, handover,
                               takeover)
                counts["errors"] += 1
                continue
            for status, n in self._apply(handover, takeover, resigned, results).items():
                counts[status] += n
        rerouted = self.reroute_failed()
        return {"checked": dict(counts), "rerouted": rerouted.as_dict()}

    def _results(self, handover, takeover, resigned) -> dict[str, tuple[int, int]]:
        api = self._wecom().customer_transfer
        fetch = api.resigned_transfer_result if resigned else api.transfer_result
        cursor, out = "", {}
        while True:
            page = fetch(handover, takeover, cursor=cursor)
            for c in page.get("customer", []):
                out[c["external_userid"]] = (int(c["status"]), int(c.get("takeover_time") or 0))
            cursor = page.get("next_cursor") or ""
            if not cursor:
                return out

    def _apply(self, handover, takeover, resigned, results) -> dict[str, int]:
        now, counts = self.clock.now(), defaultdict(int)
        with self._session() as session:
            rows = session.scalars(select(Transfer).where(
                Transfer.handover_userid == handover, Transfer.takeover_userid == takeover,
                Transfer.resigned.is_(resigned), Transfer.status.in_(T_OPEN)).order_by(Transfer.id))
            for t in rows:
                code, ts = results.get(t.external_userid, (None, 0))
                if code is None:  # WeCom has no such transfer: the start never reached it
                    if t.status == T_REQUESTED:
                        t.status, t.finished_at, t.note = T_REJECTED, now, "WeCom 无此转接记录"
                        counts[T_REJECTED] += 1
                    continue
                status = RESULT_STATUS.get(code, T_WAITING)
                counts[status] += 1
                if status == T_WAITING:
                    t.status = T_WAITING
                    continue
                t.status, t.finished_at = status, now
                if status == T_SUCCEEDED:
                    at = datetime.fromtimestamp(ts, timezone.utc) if ts else now
                    t.takeover_at = at
                    self._inherit(session, t, at)
        return dict(counts)

    def _inherit(self, session, t: Transfer, at: datetime) -> None:
        eu = t.external_userid
        directory.follow_ended(session, eu, t.handover_userid, at, directory.END_TRANSFER)
        reason = "resigned_transfer" if t.resigned else "transfer"
        directory.follow_added(session, eu, t.takeover_userid, at, reason=reason, transfer_id=t.id,
                               from_userid=t.handover_userid)
        contact = session.scalar(select(Contact).where(Contact.external_userid == eu))
        contact.inherited, contact.updated_at = True, at
        replace_group_tags(session, contact.id, self.settings.inherited_group,
                           provenance_tags(t.handover_userid, at), source="inheritance")
        # WeCom carries the relation's tags over to the new owner: so does our record of what is synced.
        for tag_id in list(session.scalars(select(ContactTagSynced.tag_id).where(
                ContactTagSynced.contact_id == contact.id, ContactTagSynced.userid == t.handover_userid))):
            session.execute(insert(session, ContactTagSynced).values(
                contact_id=contact.id, userid=t.takeover_userid, tag_id=tag_id).on_conflict_do_nothing())

    def transfer_failed(self, session, external_userid: str, takeover: str, reason: str) -> bool:
        """A transfer_fail event (DB only; runs in the handler's transaction)."""
        t = session.scalar(select(Transfer).where(
            Transfer.external_userid == external_userid, Transfer.takeover_userid == takeover)
            .order_by(Transfer.id.desc()).limit(1))
        if t is None or t.status in T_FAILED:
            return False
        t.status, t.finished_at = FAIL_REASONS.get(reason, T_REFUSED), self.clock.now()
        t.note = reason
        return True

    def reroute_failed(self) -> TransferReport:
        """Send refused / over-limit clients on to the next rule (once per failed transfer)."""
        now = self.clock.now()
        plan: dict[tuple[str, str, str, bool], list[str]] = defaultdict(list)
        report = TransferReport()
        with self._session() as session:
            failed = list(session.scalars(select(Transfer).where(Transfer.status.in_(T_FAILED),
                                                                 Transfer.rerouted.is_(False)).order_by(Transfer.id)))
            blocked = blocked_clients(session, [t.external_userid for t in failed], now, self.settings)
            router = Router(session, self.settings)
            assets = router.assets([t.external_userid for t in failed])
            for t in failed:
                t.rerouted = True
                if t.external_userid in blocked:
                    reason = blocked[t.external_userid]
                    report.blocked[reason] = report.blocked.get(reason, 0) + 1
                    t.note = f"{t.note or ''} 未能再次分配: {reason}".strip()
                    continue
                exclude = {t.handover_userid} | router.tried(t.external_userid)
                takeover, rule = router.choose(assets[t.external_userid], exclude)
                if takeover is None:
                    report.unassigned += 1
                    continue
                plan[(t.handover_userid, takeover, f"reroute:{rule}", t.resigned)].append(t.external_userid)
        for (handover, takeover, rule, resigned), batch in plan.items():
            report.merge(self._start(handover, takeover, batch, resigned=resigned, rule=rule))
        return report

    def list_transfers(self, status: str | None = None, limit: int = 100) -> list[dict]:
        with self._session() as session:
            query = select(Transfer).order_by(Transfer.id.desc()).limit(limit)
            if status:
                query = query.where(Transfer.status == status)
            return [{"id": t.id, "external_userid": t.external_userid, "from": t.handover_userid,
                     "to": t.takeover_userid, "resigned": t.resigned, "status": t.status, "rule": t.rule,
                     "errcode": t.errcode, "requested_at": t.requested_at.isoformat()}
                    for t in session.scalars(query)]

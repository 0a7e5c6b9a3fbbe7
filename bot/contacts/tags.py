"""Local tags: groups and tags, tags held on contacts, and the set-based recompute of the rule tags."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.contacts.models import ContactTag, Tag, TagGroup
from bot.contacts.settings import ContactsSettings
from bot.contacts.sqlutil import dialect, drop_temp, insert, sql
from bot.contacts.tag_rules import RULE_GROUPS, RuleGroup, rule_params

logger = logging.getLogger(__name__)
BEIJING = timezone(timedelta(hours=8))
MAX_TAG_NAME = 30
SOURCE_RULE, SOURCE_INHERITANCE, SOURCE_MANUAL = "rule", "inheritance", "manual"


class TagNameError(ValueError):
    pass


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise TagNameError("标签名不能为空 (empty tag name)")
    if len(name) > MAX_TAG_NAME:
        raise TagNameError(f"标签名超过 {MAX_TAG_NAME} 个字符: {name!r}")
    return name


def ensure_tag(session: Session, group: str, name: str, kind: str = "rule") -> int:
    """The id of tag group:name, created (locally) if missing. Race-safe (ON CONFLICT DO NOTHING)."""
    group, name = check_name(group), check_name(name)
    session.execute(insert(session, TagGroup).values(name=group, kind=kind, sync=True)
                    .on_conflict_do_nothing(index_elements=["name"]))
    group_id = session.scalar(select(TagGroup.id).where(TagGroup.name == group))
    session.execute(insert(session, Tag).values(group_id=group_id, name=name)
                    .on_conflict_do_nothing(index_elements=["group_id", "name"]))
    return session.scalar(select(Tag.id).where(Tag.group_id == group_id, Tag.name == name))


def tag_labels(session: Session, tag_ids) -> dict[int, str]:
    rows = session.execute(select(Tag.id, TagGroup.name, Tag.name).join(TagGroup, Tag.group_id == TagGroup.id)
                           .where(Tag.id.in_(list(tag_ids)))).all()
    return {tid: f"{g}:{n}" for tid, g, n in rows}


def contact_tags(session: Session, contact_id: int) -> list[dict]:
    rows = session.execute(
        select(TagGroup.name, Tag.name, ContactTag.source, Tag.wecom_tag_id)
        .join(Tag, Tag.id == ContactTag.tag_id).join(TagGroup, TagGroup.id == Tag.group_id)
        .where(ContactTag.contact_id == contact_id).order_by(TagGroup.name, Tag.name)).all()
    return [{"group": g, "name": n, "source": s, "wecom_tag_id": w} for g, n, s, w in rows]


def replace_group_tags(session: Session, contact_id: int, group: str, names: list[str], source: str,
                       kind: str = "inheritance") -> None:
    """Set exactly `names` as the contact's tags of `group` (other groups untouched)."""
    wanted = {ensure_tag(session, group, n, kind=kind) for n in names}
    group_tag_ids = select(Tag.id).join(TagGroup, Tag.group_id == TagGroup.id).where(TagGroup.name == group)
    session.execute(delete(ContactTag).where(ContactTag.contact_id == contact_id,
                                             ContactTag.tag_id.in_(group_tag_ids), ContactTag.tag_id.not_in(wanted)))
    for tag_id in wanted:
        session.execute(insert(session, ContactTag).values(contact_id=contact_id, tag_id=tag_id, source=source)
                        .on_conflict_do_nothing(index_elements=["contact_id", "tag_id"]))


@dataclass
class RecomputeReport:
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return sum(self.added.values()) + sum(self.removed.values())

    def as_dict(self) -> dict:
        return {"added": self.added, "removed": self.removed, "changed": self.changed,
                "seconds": round(self.seconds, 3)}


def today_beijing(now: datetime):
    return now.astimezone(BEIJING).date()


DELETE_REMOVED = ("DELETE FROM contact_tag WHERE source = 'rule' AND (contact_id, tag_id) IN "
                  "(SELECT contact_id, tag_id FROM tag_removed)")
DELETE_REMOVED_PG = ("DELETE FROM contact_tag ct USING tag_removed r WHERE ct.source = 'rule' "
                     "AND ct.contact_id = r.contact_id AND ct.tag_id = r.tag_id")


CRM_COLUMNS = ("client_no", "total_assets", "securities_value", "cash_balance", "last_trade_date", "trades_12m",
               "risk_level", "birth_year", "open_date", "first_deposit_date")
TEMP_TABLES = ("tag_base", "tag_desired", "tag_added", "tag_removed")


def _group_inserts(group: RuleGroup, ids: dict[str, int]) -> list[str]:
    """INSERT ... SELECT statements over tag_base (aliased k: contact id + its CRM columns)."""
    if group.exclusive:
        cases = " ".join(f"WHEN {r.when} THEN {ids[r.tag]}" for r in group.rules)
        return [f"INSERT INTO tag_desired (contact_id, tag_id) SELECT contact_id, tag_id FROM "
                f"(SELECT k.contact_id AS contact_id, CASE {cases} END AS tag_id FROM tag_base k) x "
                "WHERE tag_id IS NOT NULL"]
    return [f"INSERT INTO tag_desired (contact_id, tag_id) SELECT k.contact_id, {ids[r.tag]} FROM tag_base k "
            f"WHERE {r.when}" for r in group.rules]


def _build_desired(session: Session, statements: list[str], params: dict, pg: bool) -> None:
    """tag_base: every contact joined once with its CRM row; tag_desired: what the rules say."""
    columns = ", ".join(f"k.{c}" for c in CRM_COLUMNS)
    session.execute(sql(f"CREATE TEMP TABLE tag_base AS SELECT c.id AS contact_id, {columns} FROM contact c "
                        "LEFT JOIN crm_client k ON k.external_userid = c.external_userid"))
    session.execute(sql("CREATE TEMP TABLE tag_desired (contact_id BIGINT NOT NULL, tag_id BIGINT NOT NULL)"))
    for statement in statements:
        session.execute(sql(statement, params))
    session.execute(sql("CREATE INDEX ix_tag_desired ON tag_desired (contact_id, tag_id)"))
    if pg:
        session.execute(sql("ANALYZE tag_desired"))


def _diff(session: Session, pg: bool) -> tuple[dict[int, int], dict[int, int]]:
    """Apply desired vs held rule tags (anti-joins); returns (added, removed) counts per tag id."""
    session.execute(sql("CREATE TEMP TABLE tag_added AS SELECT d.contact_id, d.tag_id FROM tag_desired d "
                        "WHERE NOT EXISTS (SELECT 1 FROM contact_tag ct WHERE ct.contact_id = d.contact_id "
                        "AND ct.tag_id = d.tag_id)"))  # a tag also held manually is not added again
    session.execute(sql("CREATE TEMP TABLE tag_removed AS SELECT ct.contact_id, ct.tag_id FROM contact_tag ct "
                        "WHERE ct.source = 'rule' AND NOT EXISTS (SELECT 1 FROM tag_desired d "
                        "WHERE d.contact_id = ct.contact_id AND d.tag_id = ct.tag_id)"))
    added = dict(session.execute(sql("SELECT tag_id, count(*) FROM tag_added GROUP BY tag_id")).all())
    removed = dict(session.execute(sql("SELECT tag_id, count(*) FROM tag_removed GROUP BY tag_id")).all())
    if removed:
        if pg:
            session.execute(sql("ANALYZE tag_removed"))
        session.execute(sql(DELETE_REMOVED_PG if pg else DELETE_REMOVED))
    if added:  # sorted: the primary-key index is filled in order
        session.execute(sql("INSERT INTO contact_tag (contact_id, tag_id, source) SELECT contact_id, tag_id, 'rule' "
                            "FROM tag_added ORDER BY contact_id, tag_id"))
    return added, removed


def recompute(session: Session, settings: ContactsSettings, now: datetime,
              groups: tuple[RuleGroup, ...] = RULE_GROUPS) -> RecomputeReport:
    """Recompute every rule tag for every contact, in SQL; returns per-tag added/removed counts.

    Idempotent: a second run with unchanged data changes nothing. Runs in the caller's transaction.
    """
    started = time.perf_counter()
    params = rule_params(settings, today_beijing(now))
    statements: list[str] = []
    for group in groups:
        ids = {r.tag: ensure_tag(session, group.name, r.tag, kind="rule") for r in group.rules}
        statements.extend(_group_inserts(group, ids))
    pg = dialect(session) == "postgresql"
    if pg:  # hash joins over millions of (contact, tag) pairs stay in memory
        session.execute(sql(f"SET LOCAL work_mem = '{int(settings.recompute_work_mem_mb)}MB'"))
    drop_temp(session, *TEMP_TABLES)
    _build_desired(session, statements, params, pg)
    added, removed = _diff(session, pg)
    drop_temp(session, *TEMP_TABLES)
    labels = tag_labels(session, set(added) | set(removed))
    report = RecomputeReport(added={labels[t]: n for t, n in sorted(added.items())},
                             removed={labels[t]: n for t, n in sorted(removed.items())},
                             seconds=time.perf_counter() - started)
    logger.info("tag recompute: %d added, %d removed in %.1fs", sum(added.values()), sum(removed.values()),
                report.seconds)
    return report

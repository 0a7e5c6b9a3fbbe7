"""Search over the archive: by advisor, client, date range, channel, alert status and Chinese full text.

Text is segmented with jieba (search mode) when it is archived; the tokens column is indexed —
PostgreSQL: a GIN index over `to_tsvector('simple', tokens)`; SQLite: the FTS5 table
`archive_message_fts` (external content, kept in step by triggers). A query is segmented the same
way and every query token must match (AND). Single characters are not indexed: search words.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, literal_column, select, text
from sqlalchemy.orm import Session

from bot.compliance.archive_models import ALERT_STATUSES, CHANNELS, ArchiveAlert, ArchiveMessage
from bot.db import session_scope

_WORD = re.compile(r"[\w]", re.UNICODE)
_jieba_lock = threading.Lock()
_jieba = None


def _tokenizer():
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            _jieba = tk
        return _jieba


def segment(text_: str) -> list[str]:
    """jieba search-mode tokens, lower-cased, without punctuation and whitespace, de-duplicated."""
    if not text_:
        return []
    seen: dict[str, None] = {}
    for token in _tokenizer().cut_for_search(text_.lower()):
        token = "".join(ch for ch in token if _WORD.match(ch))
        if token:
            seen.setdefault(token, None)
    return list(seen)


def tokenize(text_: str) -> str:
    """The value of the `tokens` column: space-separated tokens."""
    return " ".join(segment(text_))


def query_tokens(query: str) -> list[str]:
    """Tokens a query must all match: jieba's precise cut (the indexed search-mode cut contains it).
    Single characters (有, 不, 保 ...) are dropped when the query has words: they add nothing to the
    match and wreck PostgreSQL's row estimates (a 3 ms plan becomes a 400 ms one)."""
    out: dict[str, None] = {}
    for token in _tokenizer().cut(query.lower()):
        token = "".join(ch for ch in token if _WORD.match(ch))
        if token:
            out.setdefault(token, None)
    words = [t for t in out if len(t) > 1]
    return words or list(out)


class SearchError(ValueError):
    """Bad search criteria; the message says which."""


@dataclass(frozen=True)
class SearchCriteria:
    text: str | None = None
    advisor: str | None = None  # userid of the member
    client: str | None = None  # external_userid
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive
    channel: str | None = None
    alert_status: str | None = None  # messages with at least one alert in this status ("any": any alert)
    limit: int = 50
    offset: int = 0

    def check(self, max_limit: int) -> None:
        if self.channel is not None and self.channel not in CHANNELS:
            raise SearchError(f"未知渠道 {self.channel!r}（可选: {', '.join(CHANNELS)}）")
        if self.alert_status is not None and self.alert_status not in (*ALERT_STATUSES, "any"):
            raise SearchError(f"未知预警状态 {self.alert_status!r}")
        for value in (self.date_from, self.date_to):
            if value is not None and value.tzinfo is None:
                raise SearchError("日期必须带时区 (dates must be timezone-aware)")
        if self.date_from and self.date_to and self.date_from >= self.date_to:
            raise SearchError("开始日期必须早于结束日期")
        if not 1 <= self.limit <= max_limit:
            raise SearchError(f"limit 必须在 1 到 {max_limit} 之间")
        if self.offset < 0:
            raise SearchError("offset 不能为负")


_M = ArchiveMessage.__table__
_A = ArchiveAlert.__table__
SEARCH_WINDOWS = (timedelta(days=7), timedelta(days=30), timedelta(days=180), timedelta(days=730))
RESULT_COLUMNS = (_M.c.id, _M.c.chain_seq, _M.c.channel, _M.c.direction, _M.c.sender, _M.c.receiver,
                  _M.c.external_userid, _M.c.userid, _M.c.sent_at, _M.c.msgid, _M.c.msgtype, _M.c.content,
                  _M.c.suggestion_id, _M.c.content_version_id, _M.c.origin, _M.c.hash, _M.c.prev_hash)


def message_filter(criteria: SearchCriteria, dialect: str) -> list:
    """WHERE clauses over archive_message for the criteria."""
    where = []
    if criteria.advisor:
        where.append(_M.c.userid == criteria.advisor)
    if criteria.client:
        where.append(_M.c.external_userid == criteria.client)
    if criteria.channel:
        where.append(_M.c.channel == criteria.channel)
    if criteria.date_from:
        where.append(_M.c.sent_at >= criteria.date_from)
    if criteria.date_to:
        where.append(_M.c.sent_at < criteria.date_to)
    if criteria.alert_status:
        cond = _A.c.message_id == _M.c.id
        if criteria.alert_status != "any":
            cond = and_(cond, _A.c.status == criteria.alert_status)
        where.append(exists().where(cond))
    if criteria.text:
        tokens = query_tokens(criteria.text)
        if not tokens:
            raise SearchError("检索词没有可检索的字词")
        if dialect == "postgresql":
            where.append(func.to_tsvector(literal_column("'simple'"), _M.c.tokens)
                         .bool_op("@@")(func.plainto_tsquery(literal_column("'simple'"), " ".join(tokens))))
        else:
            match = " ".join('"' + t.replace('"', '""') + '"' for t in tokens)
            where.append(_M.c.id.in_(text("SELECT rowid FROM archive_message_fts WHERE archive_message_fts "
                                          "MATCH :fts_query").bindparams(fts_query=match)))
    return where


class ArchiveSearch:
    def __init__(self, session_factory, *, max_limit: int = 500):
        self._session_factory = session_factory
        self._max_limit = max_limit
        ensure_sqlite_fts(session_factory.kw["bind"])

    def search(self, criteria: SearchCriteria | None = None, **kwargs) -> list[dict]:
        """Matching messages, newest first, each with the statuses of its alerts."""
        criteria = criteria or SearchCriteria(**kwargs)
        criteria.check(self._max_limit)
        with session_scope(self._session_factory) as session:
            return self._run(session, criteria)

    def _run(self, session: Session, criteria: SearchCriteria) -> list[dict]:
        dialect = session.get_bind().dialect.name
        where = message_filter(criteria, dialect)
        stmt = select(*RESULT_COLUMNS).where(*where).order_by(_M.c.sent_at.desc(), _M.c.id.desc())
        rows = None
        if criteria.text and dialect == "postgresql":
            rows = self._newest_windows(session, stmt, criteria)
        if rows is None:
            rows = [dict(r) for r in session.execute(stmt.limit(criteria.limit).offset(criteria.offset)).mappings()]
        if rows:
            alerts = session.execute(select(_A.c.message_id, _A.c.id, _A.c.status, _A.c.rule, _A.c.severity)
                                     .where(_A.c.message_id.in_([r["id"] for r in rows]))).all()
            by_msg: dict[int, list[dict]] = {}
            for a in alerts:
                by_msg.setdefault(a.message_id, []).append(
                    {"id": a.id, "status": a.status, "rule": a.rule, "severity": a.severity})
            for row in rows:
                row["alerts"] = by_msg.get(row["id"], [])
        return rows

    @staticmethod
    def _newest_windows(session: Session, stmt, criteria: SearchCriteria) -> list[dict] | None:
        """Newest-first text search over growing time windows: a frequent word finds its page among
        the last days' messages without fetching every match in the archive. Exact: a window that
        holds a full page holds the newest page overall. None: the whole range is needed."""
        need = criteria.offset + criteria.limit
        upper = criteria.date_to or session.scalar(select(func.max(_M.c.sent_at)))
        if upper is None:
            return []
        for window in SEARCH_WINDOWS:
            lower = upper - window
            if criteria.date_from is not None and lower <= criteria.date_from:
                return None
            rows = [dict(r) for r in session.execute(stmt.where(_M.c.sent_at >= lower).limit(need)).mappings()]
            if len(rows) >= need:
                return rows[criteria.offset:]
        return None


_FTS_LOCK = threading.Lock()
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS archive_message_fts USING fts5(tokens, content='archive_message', "
    "content_rowid='id', tokenize='unicode61', columnsize=0)",
    "CREATE TRIGGER IF NOT EXISTS archive_message_fts_ai AFTER INSERT ON archive_message BEGIN "
    "INSERT INTO archive_message_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS archive_message_fts_ad AFTER DELETE ON archive_message BEGIN "
    "INSERT INTO archive_message_fts(archive_message_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens); END",
)


def ensure_sqlite_fts(engine) -> None:
    """Create (and fill from the archive, once) the SQLite FTS5 index; a no-op on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    with _FTS_LOCK:
        with engine.begin() as conn:
            exists_ = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'archive_message_fts'")).first()
            if exists_ is None:
                for statement in SQLITE_FTS_DDL:
                    conn.execute(text(statement))
                conn.execute(text("INSERT INTO archive_message_fts(archive_message_fts) VALUES ('rebuild')"))


def build_search(runtime) -> ArchiveSearch:
    from bot.compliance.archive_settings import archive_settings

    return ArchiveSearch(runtime.session_factory, max_limit=archive_settings(runtime.settings).search_max_limit)

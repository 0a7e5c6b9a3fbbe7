"""CRM import: the brokerage's client CSV, streamed in chunks into crm_client (idempotent upsert).

Per chunk (one transaction): rows are validated in Python, staged into a temporary table (PostgreSQL:
COPY; SQLite: executemany), then merged set-based: rows whose external_userid belongs to another client
are reported, a `client_activity` row is written where last_trade_date advanced (a trade happened since
the previous import), crm_client is upserted (INSERT ... SELECT ... ON CONFLICT DO UPDATE), and contacts
the bot has not seen yet are created. Memory stays at one chunk whatever the file size.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, bindparam, insert as sa_insert, text, update

from bot.contacts.models import CrmImport
from bot.db import UTCDateTime
from bot.contacts.settings import ContactsSettings

logger = logging.getLogger(__name__)

COLUMNS = ("client_no", "external_userid", "owner_userid", "total_assets", "securities_value", "cash_balance",
           "last_trade_date", "trades_12m", "risk_level", "birth_year", "open_date", "first_deposit_date")
AMOUNTS = ("total_assets", "securities_value", "cash_balance")
DATES = ("last_trade_date", "open_date", "first_deposit_date")
_AMOUNT = re.compile(r"-?\d{1,15}(\.\d{1,6})?")
_ID = re.compile(r"[A-Za-z0-9_\-@.]{1,64}")
RISK_LEVELS = {"C1", "C2", "C3", "C4", "C5"}

STAGE_PG = ("CREATE TEMP TABLE IF NOT EXISTS crm_stage (line_no BIGINT, client_no VARCHAR(32), "
            "external_userid VARCHAR(64), owner_userid VARCHAR(64), total_assets NUMERIC(18,2), "
            "securities_value NUMERIC(18,2), cash_balance NUMERIC(18,2), last_trade_date DATE, trades_12m INTEGER, "
            "risk_level VARCHAR(2), birth_year INTEGER, open_date DATE, first_deposit_date DATE) "
            "ON COMMIT DELETE ROWS")
STAGE_SQLITE = STAGE_PG.replace(" ON COMMIT DELETE ROWS", "")
STAGE_COLS = ("line_no",) + COLUMNS
DATA_COLS = ", ".join(COLUMNS)
UPSERT = (f"INSERT INTO crm_client ({DATA_COLS}, import_id) SELECT {DATA_COLS}, :import_id FROM crm_stage WHERE true "
          "ON CONFLICT (client_no) DO UPDATE SET "
          + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:]) + ", import_id = excluded.import_id")
ACTIVITY = ("INSERT INTO client_activity (client_no, external_userid, trade_date, import_id) "
            "SELECT s.client_no, s.external_userid, s.last_trade_date, :import_id FROM crm_stage s "
            "JOIN crm_client c ON c.client_no = s.client_no WHERE s.last_trade_date IS NOT NULL AND "
            "(c.last_trade_date IS NULL OR s.last_trade_date > c.last_trade_date) "
            "ON CONFLICT (client_no, trade_date) DO NOTHING")
CONFLICTS = ("SELECT s.line_no FROM crm_stage s JOIN crm_client c ON c.external_userid = s.external_userid "
             "AND c.client_no <> s.client_no")
NEW_CONTACTS = ("INSERT INTO contact (external_userid, seen_in_wecom, inherited, refresh_needed, created_at, "
                "updated_at) SELECT external_userid, false, false, false, :now, :now FROM crm_stage "
                "WHERE external_userid IS NOT NULL ON CONFLICT (external_userid) DO NOTHING")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (missing columns, unreadable); nothing was changed."""


class RowError(ValueError):
    pass


@dataclass
class ImportReport:
    import_id: int = 0
    rows_ok: int = 0
    rows_bad: int = 0
    activities: int = 0
    new_contacts: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"import_id": self.import_id, "rows_ok": self.rows_ok, "rows_bad": self.rows_bad,
                "activities": self.activities, "new_contacts": self.new_contacts,
                "errors": [{"line": n, "reason": r} for n, r in self.errors], "seconds": round(self.seconds, 2)}


def _identifier(value: str, name: str, _year: int) -> str:
    if not _ID.fullmatch(value) or (name == "client_no" and len(value) > 32):
        raise RowError(f"{name} 格式不正确")
    return value


def _amount(value: str, name: str, _year: int) -> str:
    if not _AMOUNT.fullmatch(value):
        raise RowError(f"{name} 不是金额: {value[:20]!r}")
    return value


def _date(value: str, name: str, _year: int) -> str:
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise RowError(f"{name} 不是 YYYY-MM-DD 日期: {value[:20]!r}")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise RowError(f"{name} 不是有效日期: {value!r}") from None
    return value


def _count(value: str, name: str, _year: int) -> str:
    if not value.isdigit() or len(value) > 6:
        raise RowError(f"{name} 不是非负整数: {value[:20]!r}")
    return value


def _risk(value: str, name: str, _year: int) -> str:
    value = value.upper()
    if value not in RISK_LEVELS:
        raise RowError(f"{name} 应为 C1–C5: {value[:10]!r}")
    return value


def _birth_year(value: str, name: str, year: int) -> str:
    if not value.isdigit() or not 1900 <= int(value) <= year:
        raise RowError(f"{name} 不是有效年份: {value[:10]!r}")
    return value


CHECKS = {"client_no": _identifier, "external_userid": _identifier, "owner_userid": _identifier,
          "total_assets": _amount, "securities_value": _amount, "cash_balance": _amount,
          "last_trade_date": _date, "open_date": _date, "first_deposit_date": _date, "trades_12m": _count,
          "risk_level": _risk, "birth_year": _birth_year}


def parse_row(values: list[str], index: dict[str, int], this_year: int) -> list:
    """Validate one CSV row; returns the staged values (strings or None) in COLUMNS order."""
    if "\ufffd" in "".join(values):
        raise RowError("不是有效的 UTF-8 文本")
    out: list = []
    n = len(values)
    for name in COLUMNS:
        i = index[name]
        value = values[i].strip() if i < n else ""
        if value:
            out.append(CHECKS[name](value, name, this_year))
        elif name == "client_no":
            raise RowError("client_no 为空")
        else:
            out.append(None)
    return out


def header_index(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ImportFileError(f"CSV 表头缺少列: {', '.join(missing)}")
    return {c: names.index(c) for c in COLUMNS}


class CrmImporter:
    def __init__(self, engine: Engine, clock, settings: ContactsSettings):
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self._lock = threading.Lock()

    def import_file(self, path: str, *, progress: bool = False) -> ImportReport:
        if not os.path.isfile(path):
            raise ImportFileError(f"文件不存在: {path}")
        from tqdm import tqdm

        with open(path, "rb") as raw, tqdm(total=os.path.getsize(path), disable=not progress, desc="导入 CRM",
                                           unit="B", unit_scale=True) as bar:
            stream = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
            report = self.import_rows(csv.reader(stream), os.path.basename(path),
                                      on_chunk=lambda: bar.update(raw.tell() - bar.n))
            bar.update(bar.total - bar.n)
            return report

    def import_rows(self, reader: Iterable[list[str]], filename: str,
                    on_chunk: Callable[[], None] | None = None) -> ImportReport:
        started = time.perf_counter()
        rows = iter(reader)
        try:
            index = header_index(next(rows))
        except StopIteration:
            raise ImportFileError("CSV 文件为空") from None
        report = ImportReport(import_id=self._start(filename))
        try:
            # The database merges chunk N on a worker thread while this thread parses chunk N+1.
            with self.engine.connect() as conn, ThreadPoolExecutor(max_workers=1) as pool:
                self._stage_table(conn)
                pending = None
                for chunk in self._chunks(rows, index, report):
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(self._merge, conn, chunk, report)
                    if on_chunk is not None:
                        on_chunk()
                if pending is not None:
                    pending.result()
                if conn.dialect.name == "postgresql":  # fresh statistics for the tag recompute that follows
                    conn.execute(text("ANALYZE crm_client"))
                    conn.execute(text("ANALYZE contact"))
                    conn.commit()
        except BaseException:
            self._finish(report, "failed")
            raise
        report.errors.sort()
        report.seconds = time.perf_counter() - started
        self._finish(report, "done")
        logger.info("crm import id=%s ok=%d bad=%d activities=%d in %.1fs", report.import_id, report.rows_ok,
                    report.rows_bad, report.activities, report.seconds)
        return report

    def _chunks(self, rows: Iterator[list[str]], index: dict[str, int], report: ImportReport):
        this_year = self.clock.now().year
        size = self.settings.import_chunk_rows
        chunk: dict[str, list] = {}
        seen_eu: dict[str, str] = {}
        line_of = getattr(rows, "line_num", None)
        for n, values in enumerate(rows, start=2):
            line = rows.line_num if line_of is not None else n
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            try:
                parsed = parse_row(values, index, this_year)
                eu = parsed[1]
                if eu is not None and seen_eu.get(eu, parsed[0]) != parsed[0]:
                    raise RowError(f"external_userid 与同批次另一客户重复 (client_no {seen_eu[eu]})")
            except RowError as exc:
                self._bad(report, line, str(exc))
                continue
            chunk[parsed[0]] = [line, *parsed]  # a client repeated in the file: the last row wins
            if eu is not None:
                seen_eu[eu] = parsed[0]
            if len(chunk) >= size:
                yield list(chunk.values())
                chunk, seen_eu = {}, {}
        if chunk:
            yield list(chunk.values())

    def _bad(self, report: ImportReport, line: int, reason: str) -> None:
        with self._lock:
            report.rows_bad += 1
            if len(report.errors) < self.settings.import_max_reported_errors:
                report.errors.append((line, reason))

    def _stage_table(self, conn) -> None:
        pg = conn.dialect.name == "postgresql"
        conn.execute(text(STAGE_PG if pg else STAGE_SQLITE))
        conn.commit()

    def _merge(self, conn, chunk: list[list], report: ImportReport) -> None:
        pg = conn.dialect.name == "postgresql"
        params = {"import_id": report.import_id, "now": self.clock.now()}
        try:
            if pg:
                cursor = conn.connection.dbapi_connection.cursor()
                with cursor.copy(f"COPY crm_stage ({', '.join(STAGE_COLS)}) FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row(row)
            else:
                conn.execute(text("DELETE FROM crm_stage"))
                conn.execute(text(f"INSERT INTO crm_stage ({', '.join(STAGE_COLS)}) VALUES "
                                  f"({', '.join(':' + c for c in STAGE_COLS)})"),
                             [dict(zip(STAGE_COLS, row)) for row in chunk])
            conflicts = [r[0] for r in conn.execute(text(CONFLICTS))]
            for line in conflicts:
                self._bad(report, line, "external_userid 已属于另一个 client_no")
            if conflicts:
                conn.execute(text("DELETE FROM crm_stage WHERE line_no IN (" + ",".join(map(str, conflicts)) + ")"))
            report.activities += conn.execute(text(ACTIVITY), params).rowcount
            conn.execute(text(UPSERT), params)
            new = text(NEW_CONTACTS).bindparams(bindparam("now", type_=UTCDateTime()))
            report.new_contacts += conn.execute(new, params).rowcount
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        with self._lock:
            report.rows_ok += len(chunk) - len(conflicts)

    def _start(self, filename: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(sa_insert(CrmImport).values(filename=filename[:255], started_at=self.clock.now(),
                                                            rows_ok=0, rows_bad=0, activities=0, status="running")
                                .returning(CrmImport.id)).scalar_one()

    def _finish(self, report: ImportReport, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(CrmImport).where(CrmImport.id == report.import_id).values(
                finished_at=self.clock.now(), rows_ok=report.rows_ok, rows_bad=report.rows_bad,
                activities=report.activities, status=status))


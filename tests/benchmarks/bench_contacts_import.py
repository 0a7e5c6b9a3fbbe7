"""Benchmark: import N generated CRM rows into PostgreSQL, recompute the rule tags, re-import with
changes, evaluate a segment; print wall times and this process's peak RSS.

    python tests/benchmarks/bench_contacts_import.py [--rows 1000000] [--compare 100000]

Uses its own database advisor_contacts_bench (dropped and re-created; not the test database, which a
concurrent test run may drop). `--compare N` also
times the alternative merge (executemany INSERT ... ON CONFLICT straight into crm_client) on N rows.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot import migrate  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.contacts.crm_import import COLUMNS  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from tests.conftest import fresh_pg_database  # noqa: E402

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, rows: int, seed: int = 7, trade_shift: int = 0) -> None:
    """A CRM-like file: mostly long-tail clients, a few rich ones, some dormant, some never funded."""
    rnd = random.Random(seed)
    today = date(2026, 11, 19)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for i in range(rows):
            assets = round(rnd.lognormvariate(9.5, 1.8), 2)
            securities = round(assets * rnd.random(), 2)
            opened = today - timedelta(days=rnd.randint(30, 6000))
            funded = "" if rnd.random() < 0.05 else (opened + timedelta(days=rnd.randint(0, 30))).isoformat()
            last_trade = "" if not funded or rnd.random() < 0.1 else \
                (today - timedelta(days=max(0, rnd.randint(0, 2000) - trade_shift * (i % 10 == 0)))).isoformat()
            out.writerow([f"C{i:09d}", f"wm{i:012d}", f"adv{i % 3000:04d}", assets, securities,
                          round(assets - securities, 2), last_trade, rnd.randint(0, 60), f"C{rnd.randint(1, 5)}",
                          rnd.randint(1940, 2006), opened.isoformat(), funded])


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.1f} s   peak RSS {peak_rss_mb():7.0f} MB", flush=True)
    return result, seconds


def compare_executemany(runtime, path: Path) -> None:
    """The alternative: psycopg executemany of INSERT ... ON CONFLICT DO UPDATE, no staging table."""
    from bot.contacts.crm_import import UPSERT

    cols = ", ".join(COLUMNS)
    stmt = (f"INSERT INTO crm_client ({cols}, import_id) VALUES ({', '.join(['%s'] * (len(COLUMNS) + 1))}) "
            + UPSERT.split("WHERE true ", 1)[1])
    with open(path, newline="", encoding="utf-8") as fh, runtime.engine.raw_connection() as conn:
        reader = csv.reader(fh)
        next(reader)
        cur = conn.cursor()
        batch = []
        for row in reader:
            batch.append([v or None for v in row] + [0])
            if len(batch) == 20000:
                cur.executemany(stmt, batch)
                batch = []
        if batch:
            cur.executemany(stmt, batch)
        conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, default=0)
    args = parser.parse_args()
    url = fresh_pg_database("advisor_contacts_bench")
    migrate.upgrade(url)
    settings = load_settings(overrides={"database": {"url": url}, "redis": {"url": "memory://"}}, environ={})
    runtime = build_runtime(settings, clock=ManualClock(NOW))
    svc = runtime.services.contacts
    tmp = Path(tempfile.mkdtemp(prefix="bench-contacts-"))
    first, second = tmp / "crm1.csv", tmp / "crm2.csv"
    print(f"rows: {args.rows:,}  machine: {os.cpu_count()} CPUs", flush=True)
    timed("generate CSV (x2)", lambda: (generate(first, args.rows), generate(second, args.rows, trade_shift=30)))
    print(f"file size: {first.stat().st_size / 1e6:.0f} MB", flush=True)
    report, _ = timed("import #1 (COPY + merge, empty tables)", lambda: svc.importer.import_file(str(first)))
    print(f"   ok={report.rows_ok:,} bad={report.rows_bad} new_contacts={report.new_contacts:,}")
    tags, _ = timed("recompute tags #1 (all new)", svc.recompute_tags)
    print(f"   tags added={sum(tags.added.values()):,}")
    again, _ = timed("import #2 (same ids, 10% newer trades)", lambda: svc.importer.import_file(str(second)))
    print(f"   ok={again.rows_ok:,} activities={again.activities:,}")
    tags2, _ = timed("recompute tags #2 (changes only)", svc.recompute_tags)
    print(f"   tags added={sum(tags2.added.values()):,} removed={sum(tags2.removed.values()):,}")
    count, _ = timed("segment count 长尾 AND NOT 休眠 AND 银发",
                     lambda: svc.segments.count("长尾 AND NOT 休眠 AND 银发", reachable_only=False))
    print(f"   contacts={count:,}")
    if args.compare:
        sample = tmp / "sample.csv"
        generate(sample, args.compare, seed=11)
        from sqlalchemy import text

        with runtime.engine.begin() as conn:
            conn.execute(text("TRUNCATE crm_client, client_activity"))
        timed(f"COPY + merge, {args.compare:,} rows", lambda: svc.importer.import_file(str(sample)))
        with runtime.engine.begin() as conn:
            conn.execute(text("TRUNCATE crm_client, client_activity"))
        timed(f"executemany upsert, {args.compare:,} rows", lambda: compare_executemany(runtime, sample))
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    runtime.close()


if __name__ == "__main__":
    main()

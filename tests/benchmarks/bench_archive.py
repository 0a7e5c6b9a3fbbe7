"""Archive benchmark: ingest rate, and full-text search over a large archive on PostgreSQL.

    python tests/benchmarks/bench_archive.py                       # 1,000,000 messages, PostgreSQL
    python tests/benchmarks/bench_archive.py --messages 20000 --url sqlite:///var/bench-archive.db
    python tests/benchmarks/bench_archive.py --reuse               # keep an already generated archive

Messages are generated from jieba's own dictionary (words drawn by corpus frequency, plus a few
finance phrases), between 20 advisors and 20,000 clients over two years, on four channels. Prints
single-record and batch ingest rates, search latency (p50/p95/max) per query kind, and verify time.
Target: full-text search p95 <= 300 ms over 1M messages on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot import migrate  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.compliance.archive import ArchiveEntry, ArchiveService  # noqa: E402
from bot.compliance.search import ArchiveSearch, SearchCriteria  # noqa: E402
from bot.compliance.verify import ArchiveVerifier  # noqa: E402
from bot.db import make_engine, make_session_factory  # noqa: E402

PHRASES = ["保本保收益", "稳赚不赔", "投资有风险", "新股申购", "可转债", "逆回购", "分红派息", "基金定投",
           "风险测评", "两融业务", "科创板", "北交所", "国债逆回购", "资产配置", "止盈止损"]
CHANNELS = ["kf", "app", "mass", "chat"]
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def vocabulary(rng: random.Random):
    import jieba

    dict_path = Path(jieba.__file__).parent / "dict.txt"
    words, weights = [], []
    for line in dict_path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) >= 2:
            words.append(parts[0])
            weights.append(int(parts[1]))
    return words, weights


def make_messages(n: int, seed: int = 7):
    rng = random.Random(seed)
    words, weights = vocabulary(rng)
    cum = list(_accumulate(weights))
    span = timedelta(days=730).total_seconds()
    for i in range(n):
        picks = rng.choices(words, cum_weights=cum, k=rng.randint(6, 24))
        if rng.random() < 0.3:
            picks.insert(rng.randrange(len(picks) + 1), rng.choice(PHRASES))
        advisor, client = f"advisor{rng.randrange(20):02d}", f"wmClient{rng.randrange(20000):05d}"
        outbound = rng.random() < 0.5
        yield ArchiveEntry.build(
            rng.choice(CHANNELS), "outbound" if outbound else "inbound", advisor if outbound else client,
            client if outbound else advisor, "".join(picks) + rng.choice(["。", "？", "！", ""]),
            START + timedelta(seconds=span * i / n), msgid=f"bench-{i}", external_userid=client, userid=advisor)


def _accumulate(values):
    total = 0
    for v in values:
        total += v
        yield total


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/advisor_archive_bench")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--single", type=int, default=2000, help="messages recorded one transaction each")
    parser.add_argument("--reuse", action="store_true", help="keep an archive that already has enough messages")
    parser.add_argument("--runs", type=int, default=10, help="runs per search query")
    parser.add_argument("--no-verify", action="store_true", help="skip the chain verification timing")
    args = parser.parse_args()

    if args.url.startswith("postgresql") and not args.reuse:
        import psycopg

        name = args.url.rsplit("/", 1)[1]
        with psycopg.connect(args.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    migrate.upgrade(args.url)
    engine = make_engine(args.url, pool_size=4)
    factory = make_session_factory(engine)
    clock = SystemClock()
    archive = ArchiveService(factory, clock)
    have = archive.head()["last_seq"]
    print(f"database {engine.dialect.name}, {have} messages archived before the run")

    if have < args.messages:
        gen = make_messages(args.messages)
        for _ in range(have):
            next(gen)
        single = min(args.single, args.messages - have)
        started = time.perf_counter()
        for _ in range(single):
            e = next(gen)
            archive.record(e.channel, e.direction, e.sender, e.receiver, e.content, e.sent_at, msgid=e.msgid,
                           external_userid=e.external_userid, userid=e.userid)
        took = time.perf_counter() - started
        print(f"ingest, one transaction per message: {single} in {took:.1f}s = {single / took:,.0f} msg/s "
              f"(incl. jieba tokenising and chain hashing)")
        remaining = args.messages - have - single
        started, done, last_report = time.perf_counter(), 0, time.perf_counter()
        batch = []
        for e in gen:
            batch.append(e)
            if len(batch) == args.batch:
                archive.record_entries(batch)
                done += len(batch)
                batch = []
                if time.perf_counter() - last_report > 30:
                    last_report = time.perf_counter()
                    print(f"  ... {done:,}/{remaining:,} ({done / (last_report - started):,.0f} msg/s)", flush=True)
        if batch:
            archive.record_entries(batch)
            done += len(batch)
        took = time.perf_counter() - started
        if done:
            print(f"ingest, batches of {args.batch}: {done:,} in {took:.1f}s = {done / took:,.0f} msg/s")
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("ANALYZE archive_message"))
            size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('archive_message'))")).scalar()
            print(f"archive_message with indexes: {size}")

    search = ArchiveSearch(factory, max_limit=500)
    end = START + timedelta(days=730)
    queries = {
        "common word": [SearchCriteria(text=w) for w in ("基金", "风险", "我们", "市场", "公司")],
        "finance phrase": [SearchCriteria(text=p) for p in PHRASES[:5]],
        "two words": [SearchCriteria(text=t) for t in ("基金 风险", "新股申购 中国", "资产配置 建议", "可转债 时间")],
        "rare word": [SearchCriteria(text=t) for t in ("饕餮", "龃龉", "觊觎", "囹圄")],
        "text + advisor": [SearchCriteria(text="基金", advisor="advisor03"),
                           SearchCriteria(text="逆回购", advisor="advisor11")],
        "text + client": [SearchCriteria(text="风险", client="wmClient00042")],
        "text + month": [SearchCriteria(text="分红派息", date_from=START + timedelta(days=300),
                                        date_to=START + timedelta(days=330))],
        "client, no text": [SearchCriteria(client="wmClient01234")],
        "advisor + week": [SearchCriteria(advisor="advisor07", date_from=end - timedelta(days=7), date_to=end)],
    }
    all_times, cold = [], []
    print(f"search latency over {archive.head()['last_seq']:,} messages (limit 50, newest first), {args.runs} runs each:")
    for kind, criteria_list in queries.items():
        times, hits, kind_cold = [], [], []
        for criteria in criteria_list:
            started = time.perf_counter()
            search.search(criteria)  # the first run reads from disk: reported apart as "cold"
            kind_cold.append((time.perf_counter() - started) * 1000)
        cold += kind_cold
        for criteria in criteria_list:
            for _ in range(args.runs):
                started = time.perf_counter()
                rows = search.search(criteria)
                times.append((time.perf_counter() - started) * 1000)
            hits.append(len(rows))
        all_times += times if kind != "client, no text" and kind != "advisor + week" else []
        print(f"  {kind:<16} p50 {statistics.median(times):7.1f} ms  p95 {percentile(times, 0.95):7.1f} ms  "
              f"max {max(times):7.1f} ms  cold max {max(kind_cold):7.1f} ms  (results per query: {hits})")
    print(f"full-text search overall: p50 {statistics.median(all_times):.1f} ms, p95 {percentile(all_times, 0.95):.1f} ms, "
          f"max {max(all_times):.1f} ms over {len(all_times)} searches")
    print(f"first (cold) run of each query: p50 {statistics.median(cold):.1f} ms, max {max(cold):.1f} ms")
    if args.no_verify:
        engine.dispose()
        return
    started = time.perf_counter()
    result = ArchiveVerifier(factory, clock).verify(store=False)
    took = time.perf_counter() - started
    print(f"verify: {result.status}, {result.checked:,} positions in {took:.1f}s = {result.checked / max(took, 1e-9):,.0f}/s")
    engine.dispose()


if __name__ == "__main__":
    main()

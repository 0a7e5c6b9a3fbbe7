"""Benchmark: planning one campaign over 1M long-tail clients on PostgreSQL.

Fixture (not timed as planning): N contacts with one active owner each among N/500 advisors, CRM rows
(total assets under 50k for ~90%), rule tags computed by the contacts service (set-based), and a push
ledger from earlier campaigns this week (so the budget check has work: ~10% of clients are at the weekly cap).

Timed, each step on its own: (1) segment -> members with the sha256 holdout computed in SQL
(one INSERT ... SELECT); (2) budget + owner + risk join streamed through a server-side cursor and cut
into add_msg_template batches (≤10,000 ids, one sender each). Memory: peak RSS growth of the process.

    python tests/benchmarks/bench_campaign_plan.py [--clients 1000000] [--db advisor_campaigns_bench]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import redis  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.clock import ManualClock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from jobs.budget import window_for  # noqa: E402
from jobs.campaigns import CampaignSpec  # noqa: E402
from jobs.deps import Collaborators  # noqa: E402
from jobs.planning import assign_members, eligible, stream_batches  # noqa: E402
from tests.conftest import fresh_pg_database  # noqa: E402

NOW = datetime(2026, 10, 14, 7, 30, tzinfo=timezone.utc)  # Wednesday 15:30 Beijing


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(runtime, n: int) -> None:
    owners = max(1, n // 500)
    with runtime.engine.begin() as conn:
        conn.execute(text("""INSERT INTO contact_member (userid, name, role, active, updated_at)
            SELECT 'adv' || g, 'adv' || g, 'advisor', true, :now FROM generate_series(1, :o) g"""),
                     {"o": owners, "now": NOW})
        conn.execute(text("""INSERT INTO contact (id, external_userid, seen_in_wecom, inherited, refresh_needed,
                created_at, updated_at)
            SELECT g, 'wm' || lpad(g::text, 8, '0'), true, false, false, :now, :now FROM generate_series(1, :n) g"""),
                     {"n": n, "now": NOW})
        conn.execute(text("""INSERT INTO contact_follow (contact_id, userid, status, added_at)
            SELECT g, 'adv' || (1 + g % :o), 'active', :now FROM generate_series(1, :n) g"""),
                     {"n": n, "o": owners, "now": NOW})
        conn.execute(text("""INSERT INTO crm_client (client_no, external_userid, owner_userid, total_assets,
                securities_value, cash_balance, last_trade_date, trades_12m, risk_level, birth_year, import_id)
            SELECT 'C' || g, 'wm' || lpad(g::text, 8, '0'), 'adv' || (1 + g % :o),
                   CASE WHEN g % 10 = 0 THEN 80000 ELSE (g::bigint * 7919) % 50000 END, 1000, 1000,
                   DATE '2026-06-01', 2, 'C' || (1 + g % 5), 1960 + g % 45, 1
            FROM generate_series(1, :n) g"""), {"n": n, "o": owners})
        conn.execute(text("""INSERT INTO campaign (id, slug, name, template, segment_expr, content_ref, channel,
                chat_ids, timing, holdout_share, status, created_by, created_at, updated_at)
            VALUES (900000, 'earlier', 'earlier', 'custom', '长尾', '1', 'single', '[]', '{"kind":"trading_daily"}',
                    0.1, 'ended', 'bench', :now, :now)"""), {"now": NOW})
        for k in range(3):  # 10% of clients already got 3 pushes this week (three earlier runs)
            run_id = 900000 + k
            conn.execute(text("""INSERT INTO campaign_run (id, campaign_id, fire_key, scheduled_for, started_at,
                    status, counts) VALUES (:r, 900000, :k, :t, :t, 'done', '{}')"""),
                         {"r": run_id, "k": f"earlier-{k}", "t": NOW - timedelta(days=2, hours=k)})
            conn.execute(text("""INSERT INTO campaign_push (campaign_id, run_id, external_userid, status, pushed_at)
                SELECT 900000, :r, 'wm' || lpad(g::text, 8, '0'), 'sent', :t FROM generate_series(1, :n) g
                WHERE g % 10 = 3"""), {"n": n, "r": run_id, "t": NOW - timedelta(days=2, hours=k)})
        conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--db", default="advisor_campaigns_bench")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded clients of an earlier run")
    args = parser.parse_args()
    base = fresh_pg_database.__globals__["PG_ADMIN_URL"].rsplit("/", 1)[0]
    url = f"{base}/{args.db}" if args.reuse else fresh_pg_database(args.db)
    from bot import migrate

    migrate.upgrade(url)
    settings = load_settings(overrides={"database": {"url": url}}, environ={})
    runtime = build_runtime(settings, clock=ManualClock(NOW), redis=redis.Redis(host="127.0.0.1", db=7))
    if args.reuse:
        with runtime.engine.begin() as conn:
            conn.execute(text("DELETE FROM campaign_member WHERE campaign_id <> 900000"))
            conn.execute(text("DELETE FROM campaign WHERE id <> 900000"))
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE campaign_member"))
        print(f"fixture: reusing {args.db}")
    else:
        t0 = time.perf_counter()
        seed(runtime, args.clients)
        t_seed = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = runtime.services.contacts.recompute_tags()
        t_tags = time.perf_counter() - t0
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does after a bulk load
        print(f"fixture: {args.clients:,} clients seeded in {t_seed:.1f}s; contacts rule tags in {t_tags:.1f}s "
              f"({sum(report.added.values()):,} tags)")

    svc = runtime.services.campaigns
    campaign = svc.save(CampaignSpec(slug="bench-close", name="收盘点评", template="after_close", holdout_share=0.1,
                                     status="active"), "bench")
    deps = Collaborators(runtime, svc.settings)
    rss0 = rss_mb()
    total = time.perf_counter()
    t0 = time.perf_counter()
    with runtime.session() as session:
        assigned = assign_members(session, campaign_id=campaign.id, key=campaign.slug,
                                  holdout_share=campaign.holdout_share, audience=deps.segment("长尾"), now=NOW)
    t_assign = time.perf_counter() - t0
    t0 = time.perf_counter()
    stmt = deps.with_owner_and_risk(eligible(campaign.id, window_for(NOW, svc.settings)), dialect="postgresql")
    batches = clients = biggest = 0
    senders = set()
    with runtime.session_factory() as reader:
        for batch in stream_batches(reader, stmt, max_ids=svc.settings.max_ids_per_task):
            batches += 1
            clients += len(batch.rows)
            biggest = max(biggest, len(batch.rows))
            senders.add(batch.sender)
    t_batch = time.perf_counter() - t0
    elapsed = time.perf_counter() - total
    t0 = time.perf_counter()
    with runtime.session() as session:  # the next firing: only clients new to the segment are added
        again = assign_members(session, campaign_id=campaign.id, key=campaign.slug,
                               holdout_share=campaign.holdout_share, audience=deps.segment("长尾"), now=NOW)
    t_again = time.perf_counter() - t0
    with runtime.engine.connect() as conn:
        arms = dict(conn.execute(text("SELECT arm, count(*) FROM campaign_member WHERE campaign_id = :c GROUP BY arm"),
                                 {"c": campaign.id}).all())
    print(f"members: {assigned:,} assigned (treated {arms.get('treated', 0):,}, control {arms.get('control', 0):,} "
          f"= {arms.get('control', 0) / max(assigned, 1):.2%}) in {t_assign:.1f}s")
    print(f"budget+batching: {clients:,} clients under budget in {batches:,} tasks for {len(senders):,} senders "
          f"(largest {biggest:,}) in {t_batch:.1f}s")
    print(f"next firing: membership refresh (segment anti-join, {again} new) in {t_again:.1f}s")
    print(f"planning total: {elapsed:.1f}s (target <= 30s); memory: peak RSS growth {rss_mb() - rss0:.1f} MiB "
          f"(process peak RSS {rss_mb():.0f} MiB)")
    runtime.close()


if __name__ == "__main__":
    main()

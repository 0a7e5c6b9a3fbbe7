"""Latency from the kf callback to a ready suggestion (issue: conversations).

The simulator posts `kf_msg_or_event` to the running bot (Flask intake on a real port), an embedded
worker thread drains the inbox, pulls with kf/sync_msg, classifies, matches (the real content matcher
on the starter pack), applies the policy and stores the suggestion. Measured per question, wall clock:

- ack: the callback POST until WeCom (the simulator) gets its 200;
- ready: the callback POST until the suggestion row is committed (decision made);
- done: until its first action finished (the auto reply sent, or the advisor card and holding notice sent).

    python -m tests.benchmarks.bench_suggestion_latency [--questions 80] [--db sqlite|postgres] [--poll 0.05]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import select

from bot import migrate
from bot.clock import ManualClock
from bot.conversations.models import Suggestion
from bot.worker import Worker
from tests.conftest import fresh_pg_database, real_redis, utc
from tests.conversations.conftest import content_services, presend_guard
from tests.conversations.harness import OPEN_KFID, REDIS_DB, conversation_settings, start_env

POOL = ["pool1", "pool2", "pool3", "pool4"]
# Questions for a person (stock picks, predictions, complaints...), plus two ordinary ones.
OTHER = ["帮我推荐一只明天能涨停的股票", "大盘下周会涨吗", "帮我把账户里的钱转出来", "你们服务太差了我要投诉",
          "我的账户有个问题想请顾问看看", "这只基金还能不能买"]


def _questions(n: int) -> list[str]:
    import frontmatter

    from content.settings import STARTER_PACK_DIR

    faq = []
    for path in sorted(Path(STARTER_PACK_DIR).rglob("faq-*.md")):
        questions = frontmatter.load(path).get("questions") or []
        if questions:
            faq.append(questions[0])
    mixed = []
    for i in range(n):  # three FAQ questions for every routed one
        mixed.append(OTHER[i // 4 % len(OTHER)] if i % 4 == 3 else faq[i % len(faq)])
    return mixed


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"p50_ms": round(_pct(ms, 50), 1), "p95_ms": round(_pct(ms, 95), 1), "max_ms": round(max(ms), 1),
            "mean_ms": round(statistics.mean(ms), 1)}


def run(n: int, db: str, poll: float) -> dict:
    if db == "postgres":
        url = fresh_pg_database("advisor_conversations_test")  # the package's database (not during tests)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    migrate.upgrade(url)
    clock = ManualClock(utc(2026, 11, 20, 2, 0, 0))
    # Routed questions rotate over four pool advisors: WeCom allows 30 app messages a minute per member.
    settings = conversation_settings(url, pool_advisors=POOL)
    settings = settings.model_copy(update={"worker": settings.worker.model_copy(update={"poll_interval_seconds": poll})})
    env = start_env(settings, clock, real_redis(REDIS_DB))
    for userid in POOL:
        env.sim.add_member(userid, userid)
    env.runtime.services.register("presend", presend_guard(env.runtime))
    t0 = time.perf_counter()
    env.runtime.services.register("content", content_services(env.runtime))
    env.runtime.services.content.matcher.match("开户需要什么材料", 3)  # load the index once, as at start-up
    warm = time.perf_counter() - t0
    worker = Worker(env.runtime)
    thread = worker.start_thread()
    acks, ready, done, decisions = [], [], [], {}
    try:
        for i, question in enumerate(["买股票的手续费怎么收？"] + _questions(n)):  # the first one warms up, uncounted
            user = f"wmBENCH{i:04d}"
            start = time.perf_counter()
            env.sim.kf_user_says(OPEN_KFID, user, question)
            acks.append(time.perf_counter() - start)
            seen_ready = None
            while True:
                with env.runtime.session_factory() as session:
                    row = session.scalar(select(Suggestion).where(Suggestion.external_userid == user))
                now = time.perf_counter()
                if row is not None and seen_ready is None:
                    seen_ready = now - start
                if row is not None and (row.state == "sent" or row.card_sent_at is not None or row.state == "handed_off"):
                    break
                if now - start > 30:
                    raise RuntimeError(f"question {i} not ready after 30 s")
                time.sleep(0.002)
            if i == 0:
                continue
            ready.append(seen_ready)
            done.append(time.perf_counter() - start)
            decisions[row.decision] = decisions.get(row.decision, 0) + 1
    finally:
        worker.stop_event.set()
        thread.join(timeout=5)
        env.close()
    return {"questions": n, "db": db, "worker_poll_s": poll, "decisions": decisions,
            "content_load_s": round(warm, 2), "ack": _summary(acks), "ready": _summary(ready),
            "done": _summary(done)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=80)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--poll", type=float, default=0.05, help="worker poll interval when idle (s)")
    args = parser.parse_args()
    print(json.dumps(run(args.questions, args.db, args.poll), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()

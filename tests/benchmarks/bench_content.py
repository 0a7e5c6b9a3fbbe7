"""Content retrieval benchmark on a generated 100k-item library. Prints figures; not run in CI.

    python tests/benchmarks/bench_content.py [--items 100000] [--backend use|st] [--model PATH]
                                             [--embed-sample 3000] [--queries 300]

Embedding 300k passages would take most of an hour on a CPU, so by default only
``--embed-sample`` passages are embedded for real (to measure throughput, reported with the
extrapolated full time) and the rest get random unit vectors of the same dimension: exact search
costs the same whatever the vectors hold. ``--embed-sample 0`` embeds everything. Query vectors
are always real (end-to-end latency includes the real query embedding). The machine may be shared:
the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.clock import SystemClock  # noqa: E402
from content.embeddings import SentenceTransformerEmbedder, USEEmbedder  # noqa: E402
from content.index import Document  # noqa: E402
from content.matcher import Matcher  # noqa: E402
from content.settings import ContentSettings  # noqa: E402
from content.sources import MemorySource  # noqa: E402

SUBJECTS = ["创业板", "科创板", "北交所", "港股通", "可转债", "融资融券", "股票期权", "国债逆回购", "货币基金", "ETF",
            "新股申购", "银证转账", "交易密码", "资金账户", "休眠账户", "风险测评", "分红", "配股", "REITs", "债券基金",
            "指数基金", "个人养老金", "转托管", "条件单", "资产证明", "对账单", "印花税", "佣金", "要约收购", "停牌"]
ASPECTS = ["开通条件", "费用怎么收", "交易时间", "有什么风险", "资金多久到账", "怎么操作", "常见问题", "规则变化",
           "适合什么人", "到期怎么处理", "税费怎么算", "在哪里查询", "失败了怎么办", "需要什么材料", "限额是多少"]
ASKS = ["{s}{a}？", "请问{s}的{a}", "{s}{a}是怎样的", "想了解一下{s}{a}", "{s}到底{a}"]
SYLLABLES = list("安宝长诚达鼎东方丰福富光广国海汉华汇嘉建金锦京君凯康利联隆民明南鹏平浦启瑞润上申盛泰天通万信兴鑫银永裕元远兆中众")


def product_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(2)) + rng.choice(["成长", "稳健", "价值", "红利", "优选", "精选",
                                                                           "增强", "量化", "创新", "消费"])


def generate(n: int, seed: int = 7) -> list[Document]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        s, a = rng.choice(SUBJECTS), rng.choice(ASPECTS)
        name = product_name(rng)
        title = f"{name}{s}{a}（第{i}号）"
        questions = tuple(t.format(s=f"{name}{s}", a=a) for t in rng.sample(ASKS, 2))
        body = f"{name}{s}的{a}说明：请以本公司和交易所最新规则为准，办理前请完成风险测评。编号{i}。"
        docs.append(Document(version_id=i + 1, item_id=i + 1, slug=f"item-{i}", kind="faq", title=title, body=body,
                             questions=questions, auto_reply_allowed=True))
    return docs


class SampledEmbedder:
    """Real embeddings for queries and the first ``sample`` passages; random unit vectors after."""

    def __init__(self, inner, sample: int):
        self.inner, self.kind, self.key, self.dim = inner, inner.kind, inner.key, inner.dim
        self.sample, self.seen, self.embed_seconds, self.embedded = sample, 0, 0.0, 0
        self.rng = np.random.default_rng(1)

    def encode(self, texts, *, query=False):
        if query:
            return self.inner.encode(texts, query=True)
        real = len(texts) if not self.sample else max(0, min(len(texts), self.sample - self.seen))
        self.seen += len(texts)
        parts = []
        if real:
            started = time.perf_counter()
            parts.append(self.inner.encode(texts[:real]))
            self.embed_seconds += time.perf_counter() - started
            self.embedded += real
        if len(texts) > real:
            fake = self.rng.standard_normal((len(texts) - real, self.dim)).astype(np.float32)
            parts.append(fake / np.linalg.norm(fake, axis=1, keepdims=True))
        return np.vstack(parts)


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values, q):
    return round(float(np.percentile(np.array(values), q)), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--backend", choices=["use", "st"], default="use")
    parser.add_argument("--model", default=None, help="sentence-transformers model directory (with --backend st)")
    parser.add_argument("--embed-sample", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()

    inner = (SentenceTransformerEmbedder(args.model) if args.backend == "st" else USEEmbedder(threads=1))
    embedder = SampledEmbedder(inner, args.embed_sample)
    started = time.perf_counter()
    docs = generate(args.items)
    generated = time.perf_counter() - started
    rss_before = rss_mb()
    settings = ContentSettings(embedding_backend="use" if args.backend == "use" else "sentence-transformers")
    matcher = Matcher(MemorySource(docs), settings, SystemClock(), embedder=embedder)
    started = time.perf_counter()
    stats = matcher.refresh(force=True)
    build = time.perf_counter() - started
    index = matcher._index  # noqa: SLF001 - a benchmark may look inside
    passages = len(index.passage_tokens)
    per_passage = embedder.embed_seconds / max(embedder.embedded, 1)

    # Incremental update: one item edited and approved -> one version to embed, the rest reused.
    source = matcher._source  # noqa: SLF001
    changed = list(docs)
    old = changed[0]
    changed[0] = Document(version_id=len(docs) + 1, item_id=old.item_id, slug=old.slug, kind=old.kind,
                          title=old.title + "（修订）", body=old.body, questions=old.questions, auto_reply_allowed=True)
    source.replace(changed)
    started = time.perf_counter()
    incremental = matcher.refresh()
    incremental["seconds"] = round(time.perf_counter() - started, 2)

    rng = random.Random(11)
    queries = [f"{rng.choice(SUBJECTS)}{rng.choice(ASPECTS)}" + rng.choice(["", "吗", "是多少", "怎么办"])
               for _ in range(args.queries)]
    started = time.perf_counter()
    matcher.match(queries[0])  # warm-up: the first search after a rebuild also builds the respelling tables
    first_query_ms = (time.perf_counter() - started) * 1e3
    search_ms, total_ms, embed_ms, cpu_ms = [], [], [], []
    stopped_early: dict[str, int] = {}  # questions a check answered before retrieval: not in the latency figures
    for query in queries:
        cpu = time.process_time()
        result = matcher.match(query, k=3)
        if "search" not in result.timings_ms:
            stopped_early[result.reason] = stopped_early.get(result.reason, 0) + 1
            continue
        cpu_ms.append((time.process_time() - cpu) * 1e3)
        search_ms.append(result.timings_ms["search"])
        embed_ms.append(result.timings_ms["embed"])
        total_ms.append(result.timings_ms["total"])
    print(json.dumps({
        "items": args.items, "passages": passages, "queries_measured": len(search_ms), "stopped_early": stopped_early, "backend": embedder.key, "dim": embedder.dim,
        "generate_s": round(generated, 1),
        "index_build_s_excluding_embedding": round(build - embedder.embed_seconds, 1),
        "embedded_for_real": embedder.embedded, "embed_ms_per_passage": round(per_passage * 1e3, 3),
        "full_embedding_s_extrapolated": round(per_passage * passages, 0),
        "index_memory_mb": round(index.memory_bytes() / 2**20, 1),
        "process_rss_growth_mb": round(rss_mb() - rss_before, 1),
        "retrieval_p50_ms": percentile(search_ms, 50), "retrieval_p95_ms": percentile(search_ms, 95),
        "query_embed_p50_ms": percentile(embed_ms, 50),
        "first_query_after_build_ms": round(first_query_ms, 1),
        "end_to_end_p50_ms": percentile(total_ms, 50), "end_to_end_p95_ms": percentile(total_ms, 95),
        "end_to_end_cpu_p50_ms": percentile(cpu_ms, 50), "end_to_end_cpu_p95_ms": percentile(cpu_ms, 95),
        "load_average": os.getloadavg(), "cpus": os.cpu_count(), "refresh": stats,
        "incremental_refresh": incremental,
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

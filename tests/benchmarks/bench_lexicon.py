"""Lexicon benchmark: sentences per second through `Lexicon.check` on the labelled mix.

    python tests/benchmarks/bench_lexicon.py                 # 12 passes over the labelled set
    python tests/benchmarks/bench_lexicon.py --repeat 40 --lexicon path/to/lexicon.toml
    python -m tests.benchmarks.bench_lexicon --semantic --repeat 1   # rules OR the semantic classifier

Every sentence is made unique (a counter is appended) so the tokenizer cache cannot help. jieba's
dictionary is loaded before timing (`warm_up`). Prints sentences/s overall (wall clock, and per
CPU-second of this process, which other load on a shared machine does not stretch) and for compliant
and violating sentences separately. Target: >= 5,000 sentences/s on one core for the rules alone.
With ``--semantic`` the classifier judges every sentence the rules let through (USE embedding +
n-grams, loaded and warmed up before timing); it is far slower, so use a small ``--repeat``. This is a benchmark that
prints figures, not a test: run it on a quiet machine and compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.compliance.lexicon import DEFAULT_LEXICON_PATH, Lexicon, load_labelled  # noqa: E402

LABELLED = Path(__file__).resolve().parents[1] / "compliance" / "data" / "lexicon_labelled.jsonl"
TARGET = 5000


def rate(lexicon: Lexicon, texts: list[str], clock=time.perf_counter) -> float:
    start = clock()
    for text in texts:
        lexicon.check(text)
    return len(texts) / (clock() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=12, help="passes over the labelled set")
    parser.add_argument("--lexicon", default=str(DEFAULT_LEXICON_PATH))
    parser.add_argument("--labelled", default=str(LABELLED))
    parser.add_argument("--semantic", action="store_true", help="time rules OR the semantic classifier")
    args = parser.parse_args(argv)

    lexicon = Lexicon.load(args.lexicon).warm_up()
    if args.semantic:
        from bot.compliance.semantic import SemanticClassifier

        lexicon = lexicon.with_semantic(SemanticClassifier.default())
        lexicon.check("预热：加载编码器。")  # the encoder loads on first use
    rows = load_labelled(args.labelled)
    tagged = [(f"{row['text']}（{i}）", row["violation"]) for i, row in enumerate(rows * args.repeat)]
    everything = [t for t, _ in tagged]
    overall = rate(lexicon, everything)
    # The same pass timed in CPU seconds of this process: on a shared machine other processes stretch
    # wall time, not this figure, so it is the one to compare between versions.
    cpu = rate(lexicon, [f"{t}¨" for t in everything], clock=time.process_time)
    clean = rate(lexicon, [f"{t}·" for t, v in tagged if not v])
    violating = rate(lexicon, [f"{t}·" for t, v in tagged if v])
    share = sum(v for _, v in tagged) / len(tagged)
    stage = f" + semantic {lexicon.semantic.version}" if lexicon.semantic is not None else ""
    print(f"lexicon {lexicon.version}{stage}: {len(everything)} sentences ({share:.0%} violations)")
    target = "" if lexicon.semantic is not None else f"  (target >= {TARGET})"
    print(f"  overall    {overall:8.0f} sentences/s{target}")
    print(f"  overall    {cpu:8.0f} sentences per CPU-second (same mix; not stretched by other load)")
    print(f"  compliant  {clean:8.0f} sentences/s")
    print(f"  violating  {violating:8.0f} sentences/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

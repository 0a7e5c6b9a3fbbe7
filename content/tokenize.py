"""Chinese tokenisation for retrieval: jieba (search mode) with a finance user dictionary,
full-width folding, stop words and a small synonym expansion shared by queries and content."""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

RESOURCES = Path(__file__).resolve().parent / "resources"
_KEEP = re.compile(r"[\w\u4e00-\u9fff+]")
_SPACE = re.compile(r"\s+")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, collapsed white space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def _read_words(path: Path) -> set[str]:
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return words


def _read_synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    expansions: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        canonical, _, variants = line.partition("\t")
        for variant in variants.split(","):
            variant = normalise(variant)
            if variant and variant != canonical:
                expansions.setdefault(variant, []).append(normalise(canonical))
    return {k: tuple(v) for k, v in expansions.items()}


class Tokenizer:
    """A private jieba instance (the global one is shared with any other code in the process)."""

    def __init__(self, user_dict: str | Path | None = None, cache_dir: str | Path | None = None,
                 bigrams: bool = False):
        self._bigrams = bigrams
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = str(cache_dir) if cache_dir else None
        self._user_dict = Path(user_dict) if user_dict else RESOURCES / "finance_dict.txt"
        self._stop = _read_words(RESOURCES / "stopwords.txt")
        self._synonyms = _read_synonyms(RESOURCES / "synonyms.txt")
        self._lock = threading.Lock()
        self._ready = False
        self.tokens = lru_cache(maxsize=20_000)(self._tokens)  # queries; content is cached per version

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                import logging

                logging.getLogger("jieba").setLevel(logging.WARNING)
                self._jieba.initialize()
                self._jieba.load_userdict(str(self._user_dict))
                self._ready = True

    def _tokens(self, text: str) -> tuple[str, ...]:
        """Search-mode tokens without stop words, plus synonym expansions."""
        self._ensure_ready()
        out: list[str] = []
        for token in self._jieba.cut_for_search(normalise(text)):
            token = token.strip()
            if not token or token in self._stop or not _KEEP.search(token):
                continue
            out.append(sys.intern(token))  # the same words recur across 100k items
            out.extend(self._synonyms.get(token, ()))
        if self._bigrams:  # character bigrams catch colloquial variants jieba splits differently
            for run in _CJK_RUN.findall(normalise(text)):
                out.extend("~" + run[i:i + 2] for i in range(len(run) - 1) if not self._stop_pair(run[i:i + 2]))
        return tuple(out)

    def _stop_pair(self, pair: str) -> bool:
        return pair[0] in self._stop and pair[1] in self._stop

    def content_tokens(self, text: str) -> tuple[str, ...]:
        """Tokens that carry meaning (used to tell an empty or pure small-talk query)."""
        return self.tokens(text)
